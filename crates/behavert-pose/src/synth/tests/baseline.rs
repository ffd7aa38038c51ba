//! Hand-made kinematic baselines: how far simple thresholds on resident features get.

use super::features::{Kinematics, fill_gaps, kinematics, tail_base};
use crate::synth::{Behaviour, Recording};

/// Standardised per-frame feature rows.
pub(super) type Rows = Vec<Vec<f32>>;

/// Resident body length as a user would estimate it: median nose–tail-base distance.
fn estimated_length(rec: &Recording, tail: usize) -> f32 {
    let p = &rec.pose.positions;
    let mut lengths: Vec<f32> = (0..rec.pose.frames())
        .map(|f| (p[[f, 0, 0, 0]] - p[[f, 0, tail, 0]]).hypot(p[[f, 0, 0, 1]] - p[[f, 0, tail, 1]]))
        .filter(|d| d.is_finite())
        .collect();
    lengths.sort_by(f32::total_cmp);
    lengths
        .get(lengths.len() / 2)
        .copied()
        .unwrap_or(1.0)
        .max(1.0)
}

/// Kinematics from the tracked (noisy, gappy) pose, the way a user would compute them.
pub(super) fn tracked_kinematics(rec: &Recording) -> Kinematics {
    let skeleton = if rec.pose.keypoints.len() == 7 {
        crate::synth::Skeleton::Calms21
    } else {
        crate::synth::Skeleton::Mabe22
    };
    let filled = fill_gaps(&rec.pose.positions);
    let length = estimated_length(rec, tail_base(skeleton));
    kinematics(
        &filled,
        skeleton,
        rec.pose.fps.unwrap_or(30.0) as f32,
        length,
    )
}

fn log(v: f32) -> f32 {
    (v.min(20.0) + 0.05).ln()
}

/// One frame, no context: nose distance and body speed.
pub(super) fn frame_features(k: &Kinematics) -> Rows {
    (0..k.body_speed.len())
        .map(|f| vec![log(k.nose_distance[f]), log(k.body_speed[f])])
        .collect()
}

/// Features averaged over ±`half` frames: distance, speed and its variability, head motion,
/// alignment, partner speed.
pub(super) fn window_features(k: &Kinematics, half: usize) -> Rows {
    let n = k.body_speed.len();
    let per_frame: Vec<[f32; 6]> = (0..n)
        .map(|f| {
            [
                log(k.nose_distance[f]),
                log(k.body_speed[f]),
                log(k.head_motion[f]),
                k.alignment[f],
                log(k.centre_distance[f]),
                log(k.partner_speed[f]),
            ]
        })
        .collect();
    (0..n)
        .map(|f| {
            let window = &per_frame[f.saturating_sub(half)..(f + half + 1).min(n)];
            let m = window.len() as f32;
            let mut row = vec![0.0; 7];
            for v in window {
                for (r, x) in row.iter_mut().zip(v) {
                    *r += x / m;
                }
            }
            let speed_mean = row[1];
            row[6] = (window
                .iter()
                .map(|v| (v[1] - speed_mean).powi(2))
                .sum::<f32>()
                / m)
                .sqrt();
            row
        })
        .collect()
}

/// Standardise columns with the training set's mean and spread.
fn standardise(train: &mut Rows, test: &mut Rows) {
    let dims = train[0].len();
    for d in 0..dims {
        let n = train.len() as f32;
        let mean = train.iter().map(|r| r[d]).sum::<f32>() / n;
        let sd = (train.iter().map(|r| (r[d] - mean).powi(2)).sum::<f32>() / n)
            .sqrt()
            .max(1e-6);
        for r in train.iter_mut().chain(test.iter_mut()) {
            r[d] = (r[d] - mean) / sd;
        }
    }
}

/// k-nearest-neighbour vote (training subsampled every `step` frames).
pub(super) fn knn_predict(
    mut train: Rows,
    train_labels: &[Behaviour],
    mut test: Rows,
    k: usize,
    step: usize,
) -> Vec<Behaviour> {
    standardise(&mut train, &mut test);
    let train: Vec<(&Vec<f32>, Behaviour)> = train
        .iter()
        .zip(train_labels)
        .step_by(step)
        .map(|(r, b)| (r, *b))
        .collect();
    let mut nearest: Vec<(f32, Behaviour)> = Vec::with_capacity(train.len());
    test.iter()
        .map(|row| {
            nearest.clear();
            nearest.extend(train.iter().map(|(r, b)| {
                (
                    r.iter()
                        .zip(row)
                        .map(|(a, b)| (a - b) * (a - b))
                        .sum::<f32>(),
                    *b,
                )
            }));
            let k = k.min(nearest.len());
            nearest.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
            let mut votes = [0usize; 6];
            for (_, b) in &nearest[..k] {
                votes[b.id() as usize] += 1;
            }
            let best = (0..6)
                .max_by_key(|&c| (votes[c], std::cmp::Reverse(c)))
                .unwrap_or(5);
            Behaviour::ALL[best]
        })
        .collect()
}

/// Per-class F1 (NaN for classes absent from both) and their mean over present classes.
pub(super) fn macro_f1(truth: &[Behaviour], predicted: &[Behaviour]) -> (f32, [f32; 6]) {
    let mut tp = [0f32; 6];
    let mut fp = [0f32; 6];
    let mut fn_ = [0f32; 6];
    for (t, p) in truth.iter().zip(predicted) {
        if t == p {
            tp[t.id() as usize] += 1.0;
        } else {
            fp[p.id() as usize] += 1.0;
            fn_[t.id() as usize] += 1.0;
        }
    }
    let mut per_class = [f32::NAN; 6];
    let mut sum = 0.0;
    let mut present = 0.0;
    for c in 0..6 {
        if tp[c] + fn_[c] > 0.0 {
            per_class[c] = 2.0 * tp[c] / (2.0 * tp[c] + fp[c] + fn_[c]);
            sum += per_class[c];
            present += 1.0;
        }
    }
    (sum / present, per_class)
}
