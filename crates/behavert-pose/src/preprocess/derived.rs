//! Feature rows: aligned coordinates, then the derived features the config declares
//! (velocities, inter-animal distances, observation flags, confidence, speeds, body lengths,
//! angles, and rolling context of the alignment-free ones), with their names.

use ndarray::Array2;

use super::Shape;
use super::align::Frames;
use super::config::Resolved;
use super::context;
use super::layout::{PoseLayout, axis_name};
use crate::error::Result;

/// Names of the per-frame columns, before context, and which of them are alignment-free.
fn frame_columns(layout: &PoseLayout, resolved: &Resolved) -> (Vec<String>, usize) {
    let mut names = Vec::new();
    if resolved.coordinates {
        names.extend(layout.coordinate_names());
    }
    if resolved.velocities {
        for individual in &layout.individuals {
            for keypoint in &layout.keypoints {
                for d in 0..layout.space.dims() {
                    names.push(format!("{individual}.{keypoint}.v{}", axis_name(d)));
                }
            }
        }
    }
    // Everything from here on does not depend on alignment, except the two flags below,
    // which are moved behind it.
    let free_from = names.len();
    for &(i, a, j, b) in &resolved.distances {
        names.push(format!(
            "distance({}.{},{}.{})",
            layout.individuals[i], layout.keypoints[a], layout.individuals[j], layout.keypoints[b]
        ));
    }
    for individual in &layout.individuals {
        for &k in &resolved.speeds {
            names.push(format!("{individual}.{}.speed", layout.keypoints[k]));
        }
        for &(a, b) in &resolved.lengths {
            let (a, b) = (&layout.keypoints[a], &layout.keypoints[b]);
            names.push(format!("{individual}.length({a},{b})"));
        }
    }
    if resolved.angles.is_some() {
        let individuals = &layout.individuals;
        for (i, from) in individuals.iter().enumerate() {
            for (j, to) in individuals.iter().enumerate() {
                if i != j {
                    names.push(format!("bearing({from},{to})"));
                }
            }
        }
        for (i, a) in individuals.iter().enumerate() {
            for b in &individuals[i + 1..] {
                names.push(format!("relative_heading({a},{b})"));
            }
        }
    }
    (names, free_from)
}

/// Names of the observation and confidence flags, in column order.
fn flag_names(layout: &PoseLayout, resolved: &Resolved) -> Vec<String> {
    let mut names = Vec::new();
    for (wanted, suffix) in [
        (resolved.observed, "observed"),
        (resolved.confidence, "confidence"),
    ] {
        if wanted {
            for individual in &layout.individuals {
                for keypoint in &layout.keypoints {
                    names.push(format!("{individual}.{keypoint}.{suffix}"));
                }
            }
        }
    }
    names
}

/// Names of every feature column for `layout` under `resolved`, in column order: coordinates,
/// velocities, distances, speeds, lengths, angles, observation flags, confidence, context.
pub(crate) fn feature_names(layout: &PoseLayout, resolved: &Resolved) -> Vec<String> {
    let (mut names, free_from) = frame_columns(layout, resolved);
    let context = context::names(&names[free_from..], &resolved.context_seconds);
    names.extend(flag_names(layout, resolved));
    names.extend(context);
    names
}

/// `[frames, features]` from cleaned positions (and confidence, `[frames, individuals,
/// keypoints]`) and per-frame transforms; NaN where missing. `fps` turns context spans into
/// frames.
pub(crate) fn feature_rows(
    positions: &[f32],
    confidence: Option<&[f32]>,
    shape: Shape,
    frames: &Frames,
    resolved: &Resolved,
    fps: Option<f64>,
) -> Result<Array2<f32>> {
    let mut columns: Vec<Vec<f32>> = Vec::new();
    let coordinates = shape.individuals * shape.keypoints * shape.dims;
    let dims = shape.dims;
    let at = |f: usize, i: usize, k: usize| {
        let o = shape.index(f, i, k);
        &positions[o..o + dims]
    };
    if resolved.coordinates {
        let mut block = vec![vec![0.0f32; shape.frames]; coordinates];
        let mut out = [0.0f32; 3];
        for f in 0..shape.frames {
            let transform = frames.at(f);
            let here = &positions[f * coordinates..(f + 1) * coordinates];
            for (c, p) in here.chunks_exact(dims).enumerate() {
                transform.point(p, &mut out[..dims]);
                for d in 0..dims {
                    block[c * dims + d][f] = out[d];
                }
            }
        }
        columns.extend(block);
    }
    if resolved.velocities {
        let mut block = vec![vec![f32::NAN; shape.frames]; coordinates];
        let (mut step, mut out) = ([0.0f32; 3], [0.0f32; 3]);
        for f in 0..shape.frames {
            // Backward difference; the first frame borrows the second's.
            let (a, b) = match f {
                0 if shape.frames > 1 => (0, 1),
                0 => continue,
                _ => (f - 1, f),
            };
            let transform = frames.at(f);
            let before = &positions[a * coordinates..(a + 1) * coordinates];
            let after = &positions[b * coordinates..(b + 1) * coordinates];
            for (c, (p, q)) in before
                .chunks_exact(dims)
                .zip(after.chunks_exact(dims))
                .enumerate()
            {
                for d in 0..dims {
                    step[d] = q[d] - p[d];
                }
                transform.vector(&step[..dims], &mut out[..dims]);
                for d in 0..dims {
                    block[c * dims + d][f] = out[d];
                }
            }
        }
        columns.extend(block);
    }
    let free_from = columns.len();
    for &(i, a, j, b) in &resolved.distances {
        columns.push(
            (0..shape.frames)
                .map(|f| {
                    let mut diff = [0.0f32; 3];
                    for d in 0..dims {
                        diff[d] = at(f, i, a)[d] - at(f, j, b)[d];
                    }
                    frames.at(f).length(&diff[..dims])
                })
                .collect(),
        );
    }
    for i in 0..shape.individuals {
        for &k in &resolved.speeds {
            columns.push(
                (0..shape.frames)
                    .map(|f| match f {
                        // The first frame borrows the second's, as velocities do.
                        0 if shape.frames > 1 => distance(at(1, i, k), at(0, i, k)),
                        0 => f32::NAN,
                        _ => distance(at(f, i, k), at(f - 1, i, k)),
                    })
                    .collect(),
            );
        }
        for &(a, b) in &resolved.lengths {
            columns.push(
                (0..shape.frames)
                    .map(|f| distance(at(f, i, a), at(f, i, b)))
                    .collect(),
            );
        }
    }
    if let Some((tail, head)) = resolved.angles {
        let heading = |f: usize, i: usize| difference(at(f, i, head), at(f, i, tail));
        let middle = |f: usize, i: usize| {
            let (h, t) = (at(f, i, head), at(f, i, tail));
            [(h[0] + t[0]) / 2.0, (h[1] + t[1]) / 2.0]
        };
        for i in 0..shape.individuals {
            for j in 0..shape.individuals {
                if i != j {
                    columns.push(
                        (0..shape.frames)
                            .map(|f| {
                                let towards = difference(&middle(f, j), at(f, i, head));
                                angle_between(heading(f, i), towards)
                            })
                            .collect(),
                    );
                }
            }
        }
        for i in 0..shape.individuals {
            for j in i + 1..shape.individuals {
                columns.push(
                    (0..shape.frames)
                        .map(|f| angle_between(heading(f, i), heading(f, j)))
                        .collect(),
                );
            }
        }
    }
    let context = context::rolling(&columns[free_from..], &resolved.context_seconds, fps)?;
    let keypoints = shape.individuals * shape.keypoints;
    if resolved.observed {
        for point in 0..keypoints {
            columns.push(
                (0..shape.frames)
                    .map(|f| {
                        f32::from(u8::from(
                            !positions[f * coordinates + point * dims].is_nan(),
                        ))
                    })
                    .collect(),
            );
        }
    }
    if resolved.confidence {
        for point in 0..keypoints {
            columns.push(match confidence {
                Some(c) => (0..shape.frames)
                    .map(|f| c[f * keypoints + point])
                    .collect(),
                None => vec![f32::NAN; shape.frames],
            });
        }
    }
    columns.extend(context);
    let width = columns.len();
    Ok(Array2::from_shape_fn((shape.frames, width), |(f, c)| {
        columns[c][f]
    }))
}

/// Euclidean length of `v`.
fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

/// Distance between two points (NaN if either is missing).
fn distance(p: &[f32], q: &[f32]) -> f32 {
    let mut diff = [0.0f32; 3];
    for d in 0..p.len() {
        diff[d] = p[d] - q[d];
    }
    norm(&diff[..p.len()])
}

/// `p − q` in the floor plane.
fn difference(p: &[f32], q: &[f32]) -> [f32; 2] {
    [p[0] - q[0], p[1] - q[1]]
}

/// Unsigned angle between two floor-plane directions, in [0, π]; NaN if either is missing or
/// has no length.
fn angle_between(u: [f32; 2], v: [f32; 2]) -> f32 {
    let cross = u[0] * v[1] - u[1] * v[0];
    let dot = u[0] * v[0] + u[1] * v[1];
    if cross == 0.0 && dot == 0.0 {
        return f32::NAN;
    }
    cross.atan2(dot).abs()
}
