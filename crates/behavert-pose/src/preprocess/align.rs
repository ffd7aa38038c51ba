//! Alignment: one affine map per frame, `p ↦ scale ⊙ R(p − origin)`, with R a rotation in the
//! x–y plane (z, where there is one, keeps its height above the floor).

use super::Shape;
use super::config::{ArenaBounds, ResolvedAlign};
use crate::error::{PoseError, Result};

/// The map from tracked to aligned coordinates in one frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Transform {
    origin: [f32; 3],
    /// Cosine and sine of minus the heading: applying R turns the heading onto +x.
    cos: f32,
    sin: f32,
    scale: [f32; 3],
}

impl Transform {
    const IDENTITY: Self = Self {
        origin: [0.0; 3],
        cos: 1.0,
        sin: 0.0,
        scale: [1.0; 3],
    };

    /// A frame whose reference is lost: everything in it becomes missing.
    const LOST: Self = Self {
        origin: [f32::NAN; 3],
        cos: f32::NAN,
        sin: f32::NAN,
        scale: [1.0; 3],
    };

    /// Map a position.
    #[inline]
    pub(crate) fn point(&self, p: &[f32], out: &mut [f32]) {
        let mut centred = [0.0f32; 3];
        for d in 0..p.len() {
            centred[d] = p[d] - self.origin[d];
        }
        self.vector(&centred[..p.len()], out);
    }

    /// Length of a displacement in the aligned frame: rotation keeps it, scale does not, and
    /// a frame whose reference is lost still has one.
    #[inline]
    pub(crate) fn length(&self, v: &[f32]) -> f32 {
        v.iter()
            .zip(self.scale)
            .map(|(x, s)| (x * s) * (x * s))
            .sum::<f32>()
            .sqrt()
    }

    /// Map a displacement (no translation).
    #[inline]
    pub(crate) fn vector(&self, v: &[f32], out: &mut [f32]) {
        let (x, y) = (v[0], v[1]);
        out[0] = self.scale[0] * (self.cos * x - self.sin * y);
        out[1] = self.scale[1] * (self.sin * x + self.cos * y);
        if v.len() == 3 {
            out[2] = self.scale[2] * v[2];
        }
    }
}

/// Per-frame transforms of a recording.
#[derive(Clone, Debug)]
pub(crate) enum Frames {
    /// The same map in every frame.
    Constant(Transform),
    /// One map per frame.
    PerFrame(Vec<Transform>),
}

impl Frames {
    /// The map of frame `f`.
    #[inline]
    pub(crate) fn at(&self, f: usize) -> &Transform {
        match self {
            Frames::Constant(t) => t,
            Frames::PerFrame(ts) => &ts[f],
        }
    }
}

/// The transforms `align` asks for, measured on cleaned `positions`.
pub(crate) fn transforms(positions: &[f32], shape: Shape, align: &ResolvedAlign) -> Result<Frames> {
    match align {
        ResolvedAlign::None => Ok(Frames::Constant(Transform::IDENTITY)),
        ResolvedAlign::Arena { bounds } => arena(positions, shape, bounds).map(Frames::Constant),
        ResolvedAlign::Egocentric {
            individual,
            centre,
            axis,
            smoothing,
        } => Ok(Frames::PerFrame(egocentric(
            positions,
            shape,
            *individual,
            centre,
            *axis,
            *smoothing,
        ))),
    }
}

/// `(origin, size)` per axis: fixed, or the recording's robust extent.
pub(crate) fn arena_extent(
    positions: &[f32],
    shape: Shape,
    bounds: &ArenaBounds,
) -> Result<(Vec<f32>, Vec<f32>)> {
    match bounds {
        ArenaBounds::Fixed { origin, size } => Ok((origin.clone(), size.clone())),
        ArenaBounds::Quantile(q) => {
            let mut origin = Vec::with_capacity(shape.dims);
            let mut size = Vec::with_capacity(shape.dims);
            for d in 0..shape.dims {
                let mut values: Vec<f32> = positions
                    .iter()
                    .skip(d)
                    .step_by(shape.dims)
                    .copied()
                    .filter(|v| v.is_finite())
                    .collect();
                if values.is_empty() {
                    return Err(PoseError::invalid(
                        "arena normalisation (preprocess config `align`)",
                        "at least one tracked keypoint to measure the arena from",
                        "a pose with every keypoint missing",
                    ));
                }
                let low = quantile(&mut values, *q);
                let high = quantile(&mut values, 1.0 - q);
                if high.partial_cmp(&low) != Some(std::cmp::Ordering::Greater) {
                    return Err(PoseError::invalid(
                        "arena normalisation (preprocess config `align`)",
                        format!("keypoints spread along {}", super::layout::axis_name(d)),
                        format!("all between {low} and {high}; give align.size instead"),
                    ));
                }
                origin.push(low);
                size.push(high - low);
            }
            Ok((origin, size))
        }
    }
}

fn arena(positions: &[f32], shape: Shape, bounds: &ArenaBounds) -> Result<Transform> {
    let (origin, size) = arena_extent(positions, shape, bounds)?;
    let mut transform = Transform::IDENTITY;
    for d in 0..shape.dims {
        transform.origin[d] = origin[d];
        transform.scale[d] = 1.0 / size[d];
    }
    Ok(transform)
}

/// Quantile `q` of `values` by nearest rank (reorders them).
fn quantile(values: &mut [f32], q: f32) -> f32 {
    let rank = ((values.len() - 1) as f32 * q).round() as usize;
    let (_, v, _) = values.select_nth_unstable_by(rank, f32::total_cmp);
    *v
}

fn egocentric(
    positions: &[f32],
    shape: Shape,
    individual: usize,
    centre: &[usize],
    axis: (usize, usize),
    smoothing: usize,
) -> Vec<Transform> {
    let point = |f: usize, k: usize| {
        let at = shape.index(f, individual, k);
        (positions[at], positions[at + 1])
    };
    // Unit heading per frame, NaN where an axis end is missing or both coincide.
    let headings: Vec<(f32, f32)> = (0..shape.frames)
        .map(|f| {
            let (tail, head) = (point(f, axis.0), point(f, axis.1));
            let (dx, dy) = (head.0 - tail.0, head.1 - tail.1);
            let norm = (dx * dx + dy * dy).sqrt();
            if norm > 0.0 {
                (dx / norm, dy / norm)
            } else {
                (f32::NAN, f32::NAN)
            }
        })
        .collect();
    let headings = if smoothing > 1 {
        smooth_headings(&headings, smoothing)
    } else {
        headings
    };
    (0..shape.frames)
        .map(|f| {
            let (hx, hy) = headings[f];
            let (mut cx, mut cy) = (0.0, 0.0);
            for &k in centre {
                let (x, y) = point(f, k);
                cx += x;
                cy += y;
            }
            let n = centre.len() as f32;
            let transform = Transform {
                origin: [cx / n, cy / n, 0.0],
                cos: hx,
                sin: -hy,
                scale: [1.0; 3],
            };
            if transform.origin[0].is_nan() || hx.is_nan() {
                Transform::LOST
            } else {
                transform
            }
        })
        .collect()
}

/// Centred moving average of unit headings over `window` frames, renormalised; frames whose
/// window holds no heading stay NaN.
fn smooth_headings(headings: &[(f32, f32)], window: usize) -> Vec<(f32, f32)> {
    let present = headings
        .iter()
        .map(|&(x, y)| (!x.is_nan()).then_some((f64::from(x), f64::from(y))));
    let before = window / 2;
    super::context::centred_sums(present, before, window - 1 - before)
        .into_iter()
        .map(|(x, y, n)| {
            let norm = (x * x + y * y).sqrt();
            if n == 0 || norm == 0.0 {
                (f32::NAN, f32::NAN)
            } else {
                ((x / norm) as f32, (y / norm) as f32)
            }
        })
        .collect()
}
