//! Kinematic features of the resident, the kind a behaviour scorer computes by hand; used to
//! check label semantics and as a threshold baseline.

use ndarray::{Array4, ArrayView2, s};

use crate::synth::Skeleton;

/// Per-frame kinematics of the resident, in body lengths (and body lengths per second).
#[derive(Clone, Debug, Default)]
pub(super) struct Kinematics {
    /// Resident nose to the nearest keypoint of any other animal.
    pub(super) nose_distance: Vec<f32>,
    /// Speed of the resident's body centre (mid neck–tail base).
    pub(super) body_speed: Vec<f32>,
    /// Speed of the nose relative to the neck (head movement independent of the body).
    pub(super) head_motion: Vec<f32>,
    /// Resident body centre to the nearest other body centre.
    pub(super) centre_distance: Vec<f32>,
    /// Cosine of the angle between the resident's and the nearest animal's body axes.
    pub(super) alignment: Vec<f32>,
    /// Speed of the nearest other animal's body centre.
    pub(super) partner_speed: Vec<f32>,
}

pub(super) fn tail_base(skeleton: Skeleton) -> usize {
    match skeleton {
        Skeleton::Calms21 => 6,
        Skeleton::Mabe22 => 9,
    }
}

/// Replace NaN coordinates with the last seen value (the next one at the start): the simplest
/// gap filling a user would do before thresholding.
pub(super) fn fill_gaps(positions: &Array4<f32>) -> Array4<f32> {
    let mut filled = positions.clone();
    let (frames, individuals, keypoints, dims) = filled.dim();
    for i in 0..individuals {
        for k in 0..keypoints {
            for d in 0..dims {
                let first = (0..frames)
                    .map(|f| filled[[f, i, k, d]])
                    .find(|v| !v.is_nan())
                    .unwrap_or(0.0);
                let mut last = first;
                for f in 0..frames {
                    let v = &mut filled[[f, i, k, d]];
                    if v.is_nan() {
                        *v = last;
                    } else {
                        last = *v;
                    }
                }
            }
        }
    }
    filled
}

fn point(frame: ArrayView2<f32>, k: usize) -> [f32; 2] {
    [frame[[k, 0]], frame[[k, 1]]]
}

fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

fn mid(a: [f32; 2], b: [f32; 2]) -> [f32; 2] {
    [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0]
}

/// Kinematics of the resident from gap-free positions; `length` is its body length in pixels.
pub(super) fn kinematics(
    positions: &Array4<f32>,
    skeleton: Skeleton,
    fps: f32,
    length: f32,
) -> Kinematics {
    let (frames, individuals, _, _) = positions.dim();
    let tail = tail_base(skeleton);
    let centre = |f: usize, i: usize| {
        let v = positions.slice(s![f, i, .., ..]);
        mid(point(v, 3), point(v, tail))
    };
    let axis = |f: usize, i: usize| {
        let v = positions.slice(s![f, i, .., ..]);
        let (n, t) = (point(v, 3), point(v, tail));
        (n[1] - t[1]).atan2(n[0] - t[0])
    };
    let mut k = Kinematics::default();
    for f in 0..frames {
        let me = positions.slice(s![f, 0, .., ..]);
        let nose = point(me, 0);
        let neck = point(me, 3);
        let here = centre(f, 0);
        let prev = f.saturating_sub(1);
        k.body_speed
            .push(dist(here, centre(prev, 0)) * fps / length);
        let before = positions.slice(s![prev, 0, .., ..]);
        let rel_now = [nose[0] - neck[0], nose[1] - neck[1]];
        let rel_before = [
            point(before, 0)[0] - point(before, 3)[0],
            point(before, 0)[1] - point(before, 3)[1],
        ];
        k.head_motion.push(dist(rel_now, rel_before) * fps / length);
        let nearest = (1..individuals)
            .min_by(|&a, &b| dist(here, centre(f, a)).total_cmp(&dist(here, centre(f, b))));
        match nearest {
            Some(j) => {
                let other = positions.slice(s![f, j, .., ..]);
                let nose_distance = (0..other.dim().0)
                    .map(|kp| dist(nose, point(other, kp)))
                    .fold(f32::INFINITY, f32::min);
                k.nose_distance.push(nose_distance / length);
                k.centre_distance.push(dist(here, centre(f, j)) / length);
                k.alignment.push((axis(f, 0) - axis(f, j)).cos());
                k.partner_speed
                    .push(dist(centre(f, j), centre(prev, j)) * fps / length);
            }
            None => {
                k.nose_distance.push(f32::INFINITY);
                k.centre_distance.push(f32::INFINITY);
                k.alignment.push(0.0);
                k.partner_speed.push(0.0);
            }
        }
    }
    k
}

/// Median of `values` over the frames where `pick` holds.
pub(super) fn median_where(values: &[f32], pick: impl Fn(usize) -> bool) -> f32 {
    let mut picked: Vec<f32> = values
        .iter()
        .enumerate()
        .filter(|(f, _)| pick(*f))
        .map(|(_, v)| *v)
        .collect();
    if picked.is_empty() {
        return f32::NAN;
    }
    picked.sort_by(f32::total_cmp);
    picked[picked.len() / 2]
}
