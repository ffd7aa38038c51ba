//! Cleaning: low-confidence and jumping detections become missing, short gaps are filled by
//! linear interpolation. Works in place on standard-layout `[frames, individuals, keypoints,
//! space]` positions.

use super::Shape;
use super::config::SpeedUnit;
use crate::error::{PoseError, Result};

/// A keypoint counts as missing when any of its coordinates is NaN; make all of them NaN so
/// every later stage sees one answer.
pub(crate) fn unify_missing(positions: &mut [f32], dims: usize) {
    for point in positions.chunks_exact_mut(dims) {
        if point.iter().any(|v| v.is_nan()) {
            point.fill(f32::NAN);
        }
    }
}

/// Missing wherever the tracker's confidence is below `cutoff` (or NaN).
pub(crate) fn drop_low_confidence(
    positions: &mut [f32],
    confidence: &[f32],
    dims: usize,
    cutoff: f32,
) {
    for (point, &c) in positions.chunks_exact_mut(dims).zip(confidence) {
        // NaN confidence is no confidence.
        if c.is_nan() || c < cutoff {
            point.fill(f32::NAN);
        }
    }
}

/// Median head-to-tail length of each individual over the frames where both ends are seen.
pub(crate) fn body_lengths(
    positions: &[f32],
    shape: Shape,
    axis: (usize, usize),
) -> Result<Vec<f32>> {
    let mut lengths = Vec::with_capacity(shape.individuals);
    for i in 0..shape.individuals {
        let mut samples: Vec<f32> = (0..shape.frames)
            .map(|f| distance(positions, shape, (f, i, axis.0), (f, i, axis.1)))
            .filter(|d| d.is_finite() && *d > 0.0)
            .collect();
        lengths.push(median(&mut samples));
    }
    // An individual whose axis is never seen borrows the others' length.
    let mut known: Vec<f32> = lengths.iter().copied().filter(|l| l.is_finite()).collect();
    let fallback = median(&mut known);
    if fallback.is_nan() {
        return Err(PoseError::invalid(
            "body length for jump removal (preprocess config `body_axis`)",
            "at least one frame where both body-axis keypoints are tracked",
            "none in this pose",
        ));
    }
    Ok(lengths
        .into_iter()
        .map(|l| if l.is_finite() { l } else { fallback })
        .collect())
}

/// Per-individual speed limit in pixels per frame.
pub(crate) fn speed_limits(
    speed: f32,
    unit: SpeedUnit,
    positions: &[f32],
    shape: Shape,
    axis: Option<(usize, usize)>,
) -> Result<Vec<f32>> {
    match (unit, axis) {
        (SpeedUnit::Pixels, _) => Ok(vec![speed; shape.individuals]),
        (SpeedUnit::BodyLengths, Some(axis)) => Ok(body_lengths(positions, shape, axis)?
            .into_iter()
            .map(|l| speed * l)
            .collect()),
        (SpeedUnit::BodyLengths, None) => Err(PoseError::invalid(
            "preprocess config `body_axis`",
            "body-axis keypoints for speeds in body lengths",
            "none",
        )),
    }
}

/// Detections farther from the last accepted detection of the same keypoint than the speed
/// limit allows become missing. The allowance grows with the frames since that detection, so
/// a track that really moved on is picked up again instead of being lost for good.
pub(crate) fn drop_jumps(positions: &mut [f32], shape: Shape, limits: &[f32]) {
    let dims = shape.dims;
    let series = shape.individuals * shape.keypoints;
    // Frame-major with one state per keypoint track: memory is read once, in order.
    let mut last: Vec<Option<(usize, [f32; 3])>> = vec![None; series];
    for (f, frame) in positions.chunks_exact_mut(series * dims).enumerate() {
        for (s, point) in frame.chunks_exact_mut(dims).enumerate() {
            if point[0].is_nan() {
                continue;
            }
            let mut current = [0.0f32; 3];
            current[..dims].copy_from_slice(point);
            if let Some((frame, previous)) = last[s] {
                let moved = squared_distance(&current[..dims], &previous[..dims]).sqrt();
                let allowed = limits[s / shape.keypoints] * (f - frame) as f32;
                if moved > allowed {
                    point.fill(f32::NAN);
                    continue;
                }
            }
            last[s] = Some((f, current));
        }
    }
}

/// Fill runs of at most `max_gap` missing frames between two tracked frames by linear
/// interpolation; longer gaps, and gaps at either end, stay missing.
pub(crate) fn fill_gaps(positions: &mut [f32], shape: Shape, max_gap: usize) {
    if max_gap == 0 {
        return;
    }
    let dims = shape.dims;
    let series = shape.individuals * shape.keypoints;
    let stride = series * dims;
    let mut last_seen: Vec<Option<usize>> = vec![None; series];
    for f in 0..shape.frames {
        for (s, seen) in last_seen.iter_mut().enumerate() {
            let at = f * stride + s * dims;
            if positions[at].is_nan() {
                continue;
            }
            if let Some(before) = *seen {
                let gap = f - before - 1;
                if gap > 0 && gap <= max_gap {
                    let from = before * stride + s * dims;
                    for g in before + 1..f {
                        let t = (g - before) as f32 / (f - before) as f32;
                        let to = g * stride + s * dims;
                        for d in 0..dims {
                            let (a, b) = (positions[from + d], positions[at + d]);
                            positions[to + d] = a + t * (b - a);
                        }
                    }
                }
            }
            *seen = Some(f);
        }
    }
}

/// Euclidean distance between two keypoints, NaN when either is missing.
pub(crate) fn distance(
    positions: &[f32],
    shape: Shape,
    a: (usize, usize, usize),
    b: (usize, usize, usize),
) -> f32 {
    let (pa, pb) = (shape.index(a.0, a.1, a.2), shape.index(b.0, b.1, b.2));
    squared_distance(
        &positions[pa..pa + shape.dims],
        &positions[pb..pb + shape.dims],
    )
    .sqrt()
}

fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Median of finite samples (reorders them); NaN when there are none.
fn median(samples: &mut [f32]) -> f32 {
    if samples.is_empty() {
        return f32::NAN;
    }
    let mid = samples.len() / 2;
    let (_, m, _) = samples.select_nth_unstable_by(mid, f32::total_cmp);
    *m
}
