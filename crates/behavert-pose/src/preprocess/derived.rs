//! Feature rows: aligned coordinates, then the derived features the config declares
//! (velocities, inter-animal distances), with their names.

use ndarray::Array2;

use super::Shape;
use super::align::Frames;
use super::config::Resolved;
use super::layout::{PoseLayout, axis_name};

/// Names of every feature column for `layout` under `resolved`, in column order.
pub(crate) fn feature_names(layout: &PoseLayout, resolved: &Resolved) -> Vec<String> {
    let mut names = layout.coordinate_names();
    if resolved.velocities {
        for individual in &layout.individuals {
            for keypoint in &layout.keypoints {
                for d in 0..layout.space.dims() {
                    names.push(format!("{individual}.{keypoint}.v{}", axis_name(d)));
                }
            }
        }
    }
    for &(i, a, j, b) in &resolved.distances {
        names.push(format!(
            "distance({}.{},{}.{})",
            layout.individuals[i], layout.keypoints[a], layout.individuals[j], layout.keypoints[b]
        ));
    }
    names
}

/// Number of feature columns for `shape` under `resolved`.
pub(crate) fn feature_count(shape: Shape, resolved: &Resolved) -> usize {
    let coordinates = shape.individuals * shape.keypoints * shape.dims;
    coordinates * (1 + resolved.velocities as usize) + resolved.distances.len()
}

/// `[frames, features]` from cleaned positions and per-frame transforms; NaN where missing.
pub(crate) fn feature_rows(
    positions: &[f32],
    shape: Shape,
    frames: &Frames,
    resolved: &Resolved,
) -> Array2<f32> {
    let width = feature_count(shape, resolved);
    let coordinates = shape.individuals * shape.keypoints * shape.dims;
    let dims = shape.dims;
    let mut out = vec![0.0f32; shape.frames * width];
    for (f, row) in out
        .chunks_exact_mut(width.max(1))
        .enumerate()
        .take(shape.frames)
    {
        let transform = frames.at(f);
        let here = &positions[f * coordinates..(f + 1) * coordinates];
        let (coords, rest) = row.split_at_mut(coordinates);
        for (p, o) in here.chunks_exact(dims).zip(coords.chunks_exact_mut(dims)) {
            transform.point(p, o);
        }
        let rest = if resolved.velocities {
            let (velocities, rest) = rest.split_at_mut(coordinates);
            // Backward difference; the first frame borrows the second's.
            let (a, b) = match f {
                0 if shape.frames > 1 => (0, 1),
                0 => (0, usize::MAX),
                _ => (f - 1, f),
            };
            if b == usize::MAX {
                velocities.fill(f32::NAN);
            } else {
                let before = &positions[a * coordinates..(a + 1) * coordinates];
                let after = &positions[b * coordinates..(b + 1) * coordinates];
                let mut step = [0.0f32; 3];
                for ((p, q), o) in before
                    .chunks_exact(dims)
                    .zip(after.chunks_exact(dims))
                    .zip(velocities.chunks_exact_mut(dims))
                {
                    for d in 0..dims {
                        step[d] = q[d] - p[d];
                    }
                    transform.vector(&step[..dims], o);
                }
            }
            rest
        } else {
            rest
        };
        for (&(i, a, j, b), o) in resolved.distances.iter().zip(rest.iter_mut()) {
            let (pa, pb) = (shape.index(f, i, a), shape.index(f, j, b));
            let mut diff = [0.0f32; 3];
            for d in 0..dims {
                diff[d] = positions[pa + d] - positions[pb + d];
            }
            let mut mapped = [0.0f32; 3];
            transform.vector(&diff[..dims], &mut mapped[..dims]);
            *o = mapped[..dims].iter().map(|v| v * v).sum::<f32>().sqrt();
        }
    }
    Array2::from_shape_vec((shape.frames, width), out).expect("rows of `width` features")
}
