//! One batch: windows copied into flat buffers, padded, masked for pretraining, augmented,
//! with each head's targets; then uploaded as tensors on the training thread.

use behavert_pose::augment::Augmenter;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::corpus::{Corpus, WindowRef, smooth_features};
use super::derive_seed;
use super::targets::TrackTargets;
use crate::error::{Error, Result};
use crate::model::ModelInput;
use crate::train::config::MaskingSection;
use crate::train::masking::{Shown, how_shown, mask_window};

/// One head's targets in a batch.
#[derive(Clone, Debug, PartialEq)]
pub enum BatchTargets {
    /// Class ids with a 1/0 mask: `[batch × length]` for frame heads, `[batch]` for clip heads.
    Classes { ids: Vec<i64>, mask: Vec<f32> },
    /// Values with a 1/0 mask, `[batch × length × outputs]`.
    Dense {
        outputs: usize,
        values: Vec<f32>,
        mask: Vec<f32>,
    },
}

/// A batch of windows as flat host arrays.
#[derive(Clone, Debug)]
pub struct Batch {
    /// Windows in the batch.
    pub windows: Vec<WindowRef>,
    /// Frames per window (padded).
    pub length: usize,
    /// Features per frame.
    pub features: usize,
    /// `[batch × length × features]`.
    pub keypoints: Vec<f32>,
    /// `[batch × length × features]`, 1 where tracked, 0 where missing or padding.
    pub observed: Vec<f32>,
    /// `[batch × length]`, true for real frames.
    pub valid: Vec<bool>,
    /// What the batch is scored against.
    pub goal: BatchGoal,
}

/// What a batch is scored against: the frames pretraining hid, or each head's targets.
#[derive(Clone, Debug, PartialEq)]
pub enum BatchGoal {
    /// Pretraining: reconstruct the chosen frames.
    Reconstruct(MaskedFrames),
    /// Fine-tuning: one entry per head.
    Heads(Vec<BatchTargets>),
}

/// The frames of a pretraining batch chosen for reconstruction, and how they were shown.
#[derive(Clone, Debug, PartialEq)]
pub struct MaskedFrames {
    /// `[batch × length]`, frames replaced by the mask token.
    pub masked: Vec<bool>,
    /// `[batch × length]`, frames whose reconstruction is scored: the masked ones and those
    /// shown unchanged or replaced by another frame.
    pub predicted: Vec<bool>,
    /// `[batch × length × features]` reconstruction targets where they differ from the
    /// batch's `keypoints`: smoothed, or frames replaced by other frames.
    pub targets: Option<Vec<f32>>,
}

/// How pretraining batches are masked: the masking settings and the seed of this batch.
#[derive(Clone, Debug)]
pub struct MaskPlan {
    /// Fraction, spans.
    pub section: MaskingSection,
    /// Seed of the epoch; each batch derives its own from it and its index.
    pub seed: u64,
}

/// How training batches are augmented: the checked `[augment]` settings and the epoch's seed.
#[derive(Clone, Debug)]
pub struct AugmentPlan {
    /// Draws and applies augmentations.
    pub augmenter: Augmenter,
    /// Seed of the epoch; each window derives its own from it, its batch and its position.
    pub seed: u64,
}

impl Batch {
    /// Gathers `windows` of `corpus`, all of one padded length; masks frames when `mask` is
    /// given and augments windows when `augment` is (both seeded by `index`, the batch's
    /// position in its epoch).
    pub fn assemble(
        corpus: &Corpus,
        windows: &[WindowRef],
        mask: Option<(&MaskPlan, u64)>,
        augment: Option<(&AugmentPlan, u64)>,
    ) -> Result<Self> {
        let length = windows.first().map_or(0, |w| w.length);
        if let Some(other) = windows.iter().find(|w| w.length != length) {
            return Err(Error::data(
                "batch",
                format!("windows of one length ({length} frames)"),
                format!("a window of {} frames", other.length),
            ));
        }
        let (b, f) = (windows.len(), corpus.features);
        let mut keypoints = vec![0.0; b * length * f];
        let mut observed = vec![0.0; b * length * f];
        let mut valid = vec![false; b * length];
        let smoothing = mask
            .map(|(plan, _)| plan.section.target_smoothing)
            .filter(|&k| k > 1);
        let mut smoothed = smoothing.map(|_| vec![0.0; b * length * f]);
        let mut targets: Vec<BatchTargets> = corpus
            .tracks
            .first()
            .map(|t| {
                t.targets
                    .iter()
                    .map(|tt| match tt {
                        TrackTargets::Classes(_) => BatchTargets::Classes {
                            ids: vec![0; b * length],
                            mask: vec![0.0; b * length],
                        },
                        TrackTargets::Clip(_) | TrackTargets::Dominant { .. } => {
                            BatchTargets::Classes {
                                ids: vec![0; b],
                                mask: vec![0.0; b],
                            }
                        }
                        TrackTargets::Dense { outputs, .. } => BatchTargets::Dense {
                            outputs: *outputs,
                            values: vec![0.0; b * length * outputs],
                            mask: vec![0.0; b * length * outputs],
                        },
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut valid_frames = Vec::with_capacity(b);
        for (i, w) in windows.iter().enumerate() {
            let augmented = match augment {
                Some((plan, index)) => corpus.tracks[w.track].augmented(
                    w,
                    length,
                    &plan.augmenter,
                    &corpus.stats,
                    derive_seed(plan.seed, &[index, i as u64]),
                )?,
                None => None,
            };
            let (track, w) = match &augmented {
                Some(track) => (
                    track,
                    &WindowRef {
                        track: w.track,
                        start: 0,
                        valid: track.frames(),
                        length,
                    },
                ),
                None => (&corpus.tracks[w.track], w),
            };
            valid_frames.push(w.valid);
            for t in 0..w.valid {
                let frame = w.start + t;
                let row = (i * length + t) * f;
                for (c, (&x, &seen)) in track
                    .features
                    .row(frame)
                    .iter()
                    .zip(track.observed.row(frame))
                    .enumerate()
                {
                    keypoints[row + c] = x;
                    observed[row + c] = f32::from(u8::from(seen));
                }
                valid[i * length + t] = true;
            }
            if let (Some(out), Some(k)) = (smoothed.as_mut(), smoothing) {
                // An augmented window is featurised afresh, so its targets are smoothed here.
                let computed;
                let rows = match &track.smoothed {
                    Some(rows) => rows,
                    None => {
                        computed = smooth_features(&track.features, &track.observed, k);
                        &computed
                    }
                };
                for t in 0..w.valid {
                    let row = (i * length + t) * f;
                    for (o, &x) in out[row..row + f].iter_mut().zip(rows.row(w.start + t)) {
                        *o = x;
                    }
                }
            }
            for (out, track_targets) in targets.iter_mut().zip(&track.targets) {
                fill_targets(out, track_targets, w, i, length);
            }
        }
        let goal = match mask {
            Some((plan, index)) => {
                let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(plan.seed, &[index]));
                let chosen: Vec<bool> = valid_frames
                    .iter()
                    .flat_map(|&n| mask_window(&plan.section, n, length, &mut rng))
                    .collect();
                let mut token = vec![false; chosen.len()];
                let real: Vec<usize> = (0..valid.len()).filter(|&j| valid[j]).collect();
                let mut original: Option<Vec<f32>> = None;
                for j in (0..chosen.len()).filter(|&j| chosen[j]) {
                    match how_shown(&plan.section, &mut rng) {
                        Shown::MaskToken => token[j] = true,
                        Shown::Unchanged => {}
                        Shown::OtherFrame => {
                            let other = real[rng.random_range(0..real.len())];
                            let source = original.get_or_insert_with(|| keypoints.clone());
                            keypoints[j * f..(j + 1) * f]
                                .copy_from_slice(&source[other * f..(other + 1) * f]);
                        }
                    }
                }
                // Swapped frames are scored against what they showed before (unless smoothed
                // targets already say so): the snapshot taken before swapping is that target.
                let targets = smoothed.or(original);
                BatchGoal::Reconstruct(MaskedFrames {
                    masked: token,
                    predicted: chosen,
                    targets,
                })
            }
            None => BatchGoal::Heads(targets),
        };
        Ok(Self {
            windows: windows.to_vec(),
            length,
            features: f,
            keypoints,
            observed,
            valid,
            goal,
        })
    }

    /// Windows in the batch.
    pub fn size(&self) -> usize {
        self.windows.len()
    }

    /// Each head's targets (none when pretraining).
    pub fn heads(&self) -> &[BatchTargets] {
        match &self.goal {
            BatchGoal::Heads(targets) => targets,
            BatchGoal::Reconstruct(_) => &[],
        }
    }

    /// The frames chosen for reconstruction (pretraining only).
    pub fn masked_frames(&self) -> Option<&MaskedFrames> {
        match &self.goal {
            BatchGoal::Reconstruct(frames) => Some(frames),
            BatchGoal::Heads(_) => None,
        }
    }

    /// The model input on `device`.
    pub fn input(&self, device: &Device) -> ModelInput {
        let (b, t) = (self.size(), self.length);
        let bools = |v: &Vec<bool>| {
            Tensor::<2, Bool>::from_data(TensorData::new(v.clone(), [b, t]), device)
        };
        ModelInput {
            keypoints: self.features_tensor(&self.keypoints, device),
            valid: bools(&self.valid),
            masked: self.masked_frames().map(|frames| bools(&frames.masked)),
        }
    }

    /// `[batch, length, features]` tensor of `values` (keypoints or the observed mask).
    pub fn features_tensor(&self, values: &[f32], device: &Device) -> Tensor<3> {
        Tensor::<3>::from_data(
            TensorData::new(values.to_vec(), [self.size(), self.length, self.features]),
            device,
        )
    }
}

fn fill_targets(
    out: &mut BatchTargets,
    track: &TrackTargets,
    w: &WindowRef,
    i: usize,
    length: usize,
) {
    match (out, track) {
        (BatchTargets::Classes { ids, mask }, TrackTargets::Classes(classes)) => {
            for t in 0..w.valid {
                if let Some(c) = classes[w.start + t] {
                    ids[i * length + t] = i64::from(c);
                    mask[i * length + t] = 1.0;
                }
            }
        }
        (BatchTargets::Classes { ids, mask }, TrackTargets::Clip(Some(c))) => {
            ids[i] = i64::from(*c);
            mask[i] = 1.0;
        }
        (BatchTargets::Classes { ids, mask }, TrackTargets::Dominant { classes, frames }) => {
            let mut counts = vec![0usize; *classes];
            frames[w.start..w.start + w.valid]
                .iter()
                .flatten()
                .for_each(|&c| counts[c as usize] += 1);
            // Ties go to the lower class id, so the label is deterministic.
            if let Some((c, _)) = counts
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
            {
                ids[i] = c as i64;
                mask[i] = 1.0;
            }
        }
        (
            BatchTargets::Dense {
                outputs,
                values,
                mask,
            },
            TrackTargets::Dense { values: src, .. },
        ) => {
            let o = *outputs;
            for t in 0..w.valid {
                for k in 0..o {
                    let v = src[(w.start + t) * o + k];
                    if v.is_finite() {
                        values[(i * length + t) * o + k] = v;
                        mask[(i * length + t) * o + k] = 1.0;
                    }
                }
            }
        }
        // Every track is built from the same specs, so kinds always agree.
        _ => {}
    }
}

/// Class ids `[n]` as an integer tensor.
pub fn ids_tensor(ids: &[i64], device: &Device) -> Tensor<1, Int> {
    Tensor::<1, Int>::from_data(TensorData::new(ids.to_vec(), [ids.len()]), device)
}

/// Values `[n]` as a float tensor.
pub fn values_tensor(values: &[f32], device: &Device) -> Tensor<1> {
    Tensor::<1>::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}
