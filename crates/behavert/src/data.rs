//! Batching: preprocessed recordings (features + labels) to windows, windows to batches, and
//! batches to tensors; a worker thread builds batches ahead so the model never waits.
//!
//! Everything before [`Batch::input`] is plain `Vec`s, so batches are built off the training
//! thread and only the final tensor upload happens on it.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use behavert_pose::augment::Augmenter;
use behavert_pose::labels::{FrameLabels, Labels, Targets, relabel};
use behavert_pose::pose::Pose;
use behavert_pose::preprocess::{NormalisationStats, Preprocessor};
use behavert_pose::window::pose_window;
use ndarray::Array2;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};
use crate::model::ModelInput;
use crate::train::config::MaskingSection;
use crate::train::masking::{Shown, how_shown, mask_window};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

/// A seed derived from `seed` and `parts` (splitmix64 of each in turn): independent streams
/// for data order, masking and dropout that depend only on where they are used.
pub fn derive_seed(seed: u64, parts: &[u64]) -> u64 {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    parts.iter().fold(mix(seed), |acc, &p| mix(acc ^ mix(p)))
}

/// One recording before preprocessing, with whatever annotations it has.
#[derive(Clone, Debug)]
pub struct Source {
    /// Where it came from (dataset id, file, simulated seed).
    pub id: String,
    /// The pose tracks.
    pub pose: Pose,
    /// Per-frame behaviour labels.
    pub labels: Option<Labels>,
    /// Numeric per-frame targets.
    pub targets: Option<Targets>,
    /// Sequence-level group name.
    pub group: Option<String>,
}

/// What one head is trained on, with its class names.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetSpec {
    /// One class per frame from the labels.
    FrameClasses { vocabulary: Vec<String> },
    /// Any subset of classes per frame from the labels.
    FrameMulti { vocabulary: Vec<String> },
    /// `tasks` numeric targets per frame.
    FrameValues { tasks: usize },
    /// One class per window: the recording's group.
    ClipGroup { vocabulary: Vec<String> },
    /// One class per window: its most frequent labelled behaviour.
    ClipDominant { vocabulary: Vec<String> },
}

impl TargetSpec {
    /// Outputs of the head.
    pub fn outputs(&self) -> usize {
        match self {
            Self::FrameValues { tasks } => *tasks,
            Self::FrameClasses { vocabulary }
            | Self::FrameMulti { vocabulary }
            | Self::ClipGroup { vocabulary }
            | Self::ClipDominant { vocabulary } => vocabulary.len(),
        }
    }
}

/// One head's targets over one recording.
#[derive(Clone, Debug, PartialEq)]
pub enum TrackTargets {
    /// Per-frame class ids (`None` = unlabelled).
    Classes(Vec<Option<u32>>),
    /// Per-frame values `[frames × outputs]`, NaN = unlabelled.
    Dense { outputs: usize, values: Vec<f32> },
    /// One class for the whole recording.
    Clip(Option<u32>),
    /// Per-frame classes; each window is labelled by its most frequent one.
    Dominant {
        classes: usize,
        frames: Vec<Option<u32>>,
    },
}

/// A preprocessed, standardised recording with one target track per head.
#[derive(Clone, Debug)]
pub struct Track {
    /// Where it came from.
    pub id: String,
    /// `[frames, features]`, standardised, 0 where missing.
    pub features: Array2<f32>,
    /// `[frames, features]`: true where tracked.
    pub observed: Array2<bool>,
    /// One entry per head, in head order.
    pub targets: Vec<TrackTargets>,
    /// The cleaned pose and its recording's preprocessor, kept when windows are augmented.
    pub raw: Option<Arc<RawTrack>>,
    /// `[frames, features]` reconstruction targets when pretraining smooths them.
    pub smoothed: Option<Array2<f32>>,
}

/// Centred moving average of each feature over `frames` frames (odd), counting only observed
/// values; a frame with no observed neighbour keeps its own value.
pub fn smooth_features(
    features: &Array2<f32>,
    observed: &Array2<bool>,
    frames: usize,
) -> Array2<f32> {
    let half = frames / 2;
    let n = features.nrows();
    Array2::from_shape_fn(features.dim(), |(t, c)| {
        let (mut sum, mut count) = (0.0f64, 0u32);
        for s in t.saturating_sub(half)..(t + half + 1).min(n) {
            if observed[[s, c]] {
                sum += f64::from(features[[s, c]]);
                count += 1;
            }
        }
        if count == 0 {
            features[[t, c]]
        } else {
            (sum / f64::from(count)) as f32
        }
    })
}

/// What augmenting a window of a track needs: poses are augmented before featurising.
#[derive(Clone, Debug)]
pub struct RawTrack {
    /// The cleaned pose (outliers removed, short gaps filled).
    pub pose: Pose,
    /// The preprocessor bound to the recording's arena.
    pub preprocessor: Preprocessor,
}

impl Track {
    /// Frames of the recording.
    pub fn frames(&self) -> usize {
        self.features.nrows()
    }

    /// Window `w` redrawn from the cleaned pose with the augmentation of `seed`: up to
    /// `length` frames, featurised and standardised like the corpus, targets following the
    /// time-warp. `None` when the track kept no pose.
    fn augmented(
        &self,
        w: &WindowRef,
        length: usize,
        augmenter: &Augmenter,
        stats: &NormalisationStats,
        seed: u64,
    ) -> Result<Option<Track>> {
        let Some(raw) = &self.raw else {
            return Ok(None);
        };
        let augmentation = augmenter.sample(&mut ChaCha8Rng::seed_from_u64(seed));
        let speed = augmentation.speed;
        // A faster playback needs more source frames to fill the window; the track's end
        // leaves a shorter (padded) window, as without augmentation.
        let need = ((length as f64 * f64::from(speed)).ceil() as usize + 1).max(w.valid);
        let end = (w.start + need).min(self.frames());
        let (warped, _) = augmentation.apply(&pose_window(&raw.pose, w.start..end)?, None)?;
        let mut prepared = raw.preprocessor.featurise(&warped)?;
        stats.apply(&mut prepared)?;
        let rows = prepared.frames().min(length);
        // Output frame j shows source time j · speed (as the augmenter warps); labels take
        // the nearest source frame.
        let last = (end - w.start).saturating_sub(1);
        let source: Vec<usize> = (0..rows)
            .map(|j| {
                let t = (j as f32 * speed).min(last as f32);
                w.start + (t.round() as usize).min(last)
            })
            .collect();
        let targets = self
            .targets
            .iter()
            .map(|t| match t {
                TrackTargets::Classes(ids) => {
                    TrackTargets::Classes(source.iter().map(|&f| ids[f]).collect())
                }
                TrackTargets::Dominant { classes, frames } => TrackTargets::Dominant {
                    classes: *classes,
                    frames: source.iter().map(|&f| frames[f]).collect(),
                },
                TrackTargets::Dense { outputs, values } => TrackTargets::Dense {
                    outputs: *outputs,
                    values: source
                        .iter()
                        .flat_map(|&f| values[f * outputs..(f + 1) * outputs].iter().copied())
                        .collect(),
                },
                TrackTargets::Clip(c) => TrackTargets::Clip(*c),
            })
            .collect();
        Ok(Some(Track {
            id: self.id.clone(),
            features: prepared.features.slice(ndarray::s![..rows, ..]).to_owned(),
            observed: prepared.observed.slice(ndarray::s![..rows, ..]).to_owned(),
            targets,
            raw: None,
            smoothed: None,
        }))
    }
}

/// Every recording of one split, ready to be windowed.
#[derive(Clone, Debug)]
pub struct Corpus {
    /// The recordings.
    pub tracks: Vec<Track>,
    /// Features per frame.
    pub features: usize,
    /// The standardisation the features went through (for augmented windows).
    pub stats: NormalisationStats,
}

/// Index of `name` in `vocabulary`, or an error naming the head and recording.
fn class_of(vocabulary: &[String], name: &str, head: usize, source: &str) -> Result<u32> {
    vocabulary
        .iter()
        .position(|v| v == name)
        .map(|i| i as u32)
        .ok_or_else(|| unknown_class(vocabulary, name, head, source))
}

/// The error for a label `name` of `source` missing from head `head`'s vocabulary.
fn unknown_class(vocabulary: &[String], name: &str, head: usize, source: &str) -> Error {
    Error::config(
        format!("heads[{head}].vocabulary"),
        format!("every label of the data, e.g. {name:?} of {source} (vocabulary {vocabulary:?})"),
        format!("no {name:?}"),
    )
}

/// Per-frame class ids in the head's vocabulary; a used label outside it is an error.
fn frame_classes(
    labels: &Labels,
    vocabulary: &[String],
    head: usize,
    source: &str,
) -> Result<Vec<Option<u32>>> {
    let FrameLabels::Single(ids) = &labels.frames else {
        return Err(Error::data(
            format!("labels of {source}"),
            format!("one behaviour per frame for multiclass head {head}"),
            "multi-label annotations (use kind = \"multilabel\")",
        ));
    };
    relabel(labels, ids, vocabulary)
        .map_err(|unknown| unknown_class(vocabulary, &unknown.name, head, source))
}

impl TrackTargets {
    /// The targets of head `head` (described by `spec`) in `source`, whose pose has `frames`
    /// frames; absent annotations are all-unlabelled.
    pub fn of(spec: &TargetSpec, source: &Source, frames: usize, head: usize) -> Result<Self> {
        let id = source.id.as_str();
        let check_len = |n: usize, what: &str| {
            if n == frames {
                Ok(())
            } else {
                Err(Error::data(
                    format!("{what} of {id}"),
                    format!("{frames} frames like the pose"),
                    n,
                ))
            }
        };
        Ok(match spec {
            TargetSpec::FrameClasses { vocabulary } | TargetSpec::ClipDominant { vocabulary } => {
                let classes = match &source.labels {
                    Some(labels) => {
                        check_len(labels.len(), "labels")?;
                        frame_classes(labels, vocabulary, head, id)?
                    }
                    None => vec![None; frames],
                };
                match spec {
                    TargetSpec::FrameClasses { .. } => Self::Classes(classes),
                    _ => Self::Dominant {
                        classes: vocabulary.len(),
                        frames: classes,
                    },
                }
            }
            TargetSpec::FrameMulti { vocabulary } => {
                let outputs = vocabulary.len();
                let mut values = vec![f32::NAN; frames * outputs];
                if let Some(labels) = &source.labels {
                    check_len(labels.len(), "labels")?;
                    let columns: Vec<u32> = labels
                        .vocabulary
                        .iter()
                        .map(|name| class_of(vocabulary, name, head, id))
                        .collect::<Result<_>>()?;
                    match &labels.frames {
                        FrameLabels::Multi(rows) => {
                            for (f, row) in rows.iter().enumerate() {
                                for (c, on) in row.iter().enumerate() {
                                    if let Some(on) = on {
                                        values[f * outputs + columns[c] as usize] =
                                            f32::from(u8::from(*on));
                                    }
                                }
                            }
                        }
                        // A single-label frame says every other behaviour is off.
                        FrameLabels::Single(ids) => {
                            for (f, id) in ids.iter().enumerate() {
                                if let Some(id) = id {
                                    values[f * outputs..(f + 1) * outputs].fill(0.0);
                                    values[f * outputs + columns[*id as usize] as usize] = 1.0;
                                }
                            }
                        }
                    }
                }
                Self::Dense { outputs, values }
            }
            TargetSpec::FrameValues { tasks } => {
                let mut values = vec![f32::NAN; frames * tasks];
                if let Some(targets) = &source.targets {
                    check_len(targets.len(), "targets")?;
                    if targets.tasks.len() != *tasks {
                        return Err(Error::data(
                            format!("targets of {id}"),
                            format!("{tasks} tasks like the first recording"),
                            targets.tasks.len(),
                        ));
                    }
                    for ((f, t), v) in targets.values.indexed_iter() {
                        values[f * tasks + t] = *v;
                    }
                }
                Self::Dense {
                    outputs: *tasks,
                    values,
                }
            }
            TargetSpec::ClipGroup { vocabulary } => Self::Clip(match &source.group {
                Some(group) => Some(class_of(vocabulary, group, head, id)?),
                None => None,
            }),
        })
    }

    /// Labelled frames (or entries) in `range`.
    fn labelled_in(&self, range: std::ops::Range<usize>) -> usize {
        match self {
            Self::Classes(ids) | Self::Dominant { frames: ids, .. } => {
                ids[range].iter().filter(|c| c.is_some()).count()
            }
            Self::Dense { outputs, values } => values[range.start * outputs..range.end * outputs]
                .iter()
                .filter(|v| v.is_finite())
                .count(),
            Self::Clip(c) => usize::from(c.is_some()),
        }
    }
}

impl Corpus {
    /// Preprocesses `sources` with `preprocessor`, standardises with `stats` and resolves each
    /// head's targets.
    pub fn build(
        sources: &[Source],
        preprocessor: &Preprocessor,
        stats: &NormalisationStats,
        specs: &[TargetSpec],
    ) -> Result<Self> {
        let tracks = sources
            .iter()
            .map(|source| {
                let mut prepared = preprocessor
                    .with_arena_of(&source.pose)?
                    .prepare(&source.pose)?;
                stats.apply(&mut prepared)?;
                let frames = prepared.frames();
                let targets = specs
                    .iter()
                    .enumerate()
                    .map(|(h, spec)| TrackTargets::of(spec, source, frames, h))
                    .collect::<Result<_>>()?;
                Ok(Track {
                    id: source.id.clone(),
                    features: prepared.features,
                    observed: prepared.observed,
                    targets,
                    raw: None,
                    smoothed: None,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            tracks,
            features: stats.features(),
            stats: stats.clone(),
        })
    }

    /// Computes each track's reconstruction targets, averaged over `frames` frames (a centred
    /// window), once rather than per batch.
    pub fn smooth_targets(&mut self, frames: usize) {
        for track in &mut self.tracks {
            track.smoothed = Some(smooth_features(&track.features, &track.observed, frames));
        }
    }

    /// Keeps each track's cleaned pose so training windows can be augmented; `sources` are the
    /// ones the corpus was built from.
    pub fn keep_poses(&mut self, sources: &[Source], preprocessor: &Preprocessor) -> Result<()> {
        for (track, source) in self.tracks.iter_mut().zip(sources) {
            let preprocessor = preprocessor.with_arena_of(&source.pose)?;
            let pose = preprocessor.clean(&source.pose)?;
            track.raw = Some(Arc::new(RawTrack { pose, preprocessor }));
        }
        Ok(())
    }

    /// Windows of `length` frames every `stride` frames over every track (the last one of a
    /// track padded); with `labelled_only`, only windows with some target for some head.
    pub fn windows(&self, length: usize, stride: usize, labelled_only: bool) -> Vec<WindowRef> {
        let mut out = Vec::new();
        for (t, track) in self.tracks.iter().enumerate() {
            let frames = track.frames();
            let mut start = 0;
            while start < frames {
                let valid = length.min(frames - start);
                let keep = !labelled_only
                    || track
                        .targets
                        .iter()
                        .any(|tg| tg.labelled_in(start..start + valid) > 0);
                if keep {
                    out.push(WindowRef {
                        track: t,
                        start,
                        valid,
                        length,
                    });
                }
                if start + length >= frames {
                    break;
                }
                start += stride;
            }
        }
        out
    }

    /// Labelled frames per class of head `head` (0s for non-class heads).
    pub fn class_counts(&self, head: usize, classes: usize) -> Vec<usize> {
        let mut counts = vec![0; classes];
        for track in &self.tracks {
            if let TrackTargets::Classes(ids) = &track.targets[head] {
                ids.iter().flatten().for_each(|&c| counts[c as usize] += 1);
            }
        }
        counts
    }
}

/// Class weights `(1 / frequency)^power`, normalised so a labelled frame weighs 1 on average
/// (power 1 is scikit-learn's "balanced"); a class never seen gets 1.
pub fn inverse_frequency_weights(counts: &[usize], power: f64) -> Vec<f32> {
    let total: usize = counts.iter().sum();
    let raw: Vec<f64> = counts
        .iter()
        .map(|&n| {
            if n == 0 {
                0.0
            } else {
                (total as f64 / n as f64).powf(power)
            }
        })
        .collect();
    let mean: f64 = counts
        .iter()
        .zip(&raw)
        .map(|(&n, w)| n as f64 * w)
        .sum::<f64>()
        / total.max(1) as f64;
    raw.iter()
        .map(|&w| if w == 0.0 { 1.0 } else { (w / mean) as f32 })
        .collect()
}

/// One window: `valid` real frames of track `track` from frame `start`, padded to `length`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowRef {
    /// Track index.
    pub track: usize,
    /// First frame.
    pub start: usize,
    /// Real frames (the rest of the window is padding).
    pub valid: usize,
    /// Frames the window is padded to: its batch's length.
    pub length: usize,
}

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
    /// `[batch × length]`, frames replaced by the mask token (pretraining).
    pub masked: Option<Vec<bool>>,
    /// `[batch × length]`, frames whose reconstruction is scored (pretraining): the masked
    /// ones and those shown unchanged or replaced by another frame.
    pub predicted: Option<Vec<bool>>,
    /// `[batch × length × features]` reconstruction targets where they differ from
    /// `keypoints`: smoothed, or frames replaced by other frames (pretraining).
    pub reconstruction_targets: Option<Vec<f32>>,
    /// One entry per head.
    pub targets: Vec<BatchTargets>,
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
        let (mut masked, mut predicted) = (None, None);
        let mut reconstruction_targets = smoothed;
        if let Some((plan, index)) = mask {
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
            if reconstruction_targets.is_none() {
                reconstruction_targets = original;
            }
            masked = Some(token);
            predicted = Some(chosen);
        }
        Ok(Self {
            windows: windows.to_vec(),
            length,
            features: f,
            keypoints,
            observed,
            valid,
            masked,
            predicted,
            reconstruction_targets,
            targets,
        })
    }

    /// Windows in the batch.
    pub fn size(&self) -> usize {
        self.windows.len()
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
            masked: self.masked.as_ref().map(bools),
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

/// The batches of one epoch: the windows shuffled by a seed of (`seed`, `epoch`), cut into
/// batches of `batch_size` windows of one length (the last of each length may be smaller).
/// With several lengths (multi-scale training) the batches of all lengths are then shuffled
/// together, so every part of the epoch sees every scale.
pub fn epoch_batches(
    windows: &[WindowRef],
    batch_size: usize,
    seed: u64,
    epoch: u64,
) -> Vec<Vec<WindowRef>> {
    let mut order = windows.to_vec();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(derive_seed(
        seed,
        &[1, epoch],
    )));
    let lengths = window_lengths(windows);
    let mut batches: Vec<Vec<WindowRef>> = lengths
        .iter()
        .flat_map(|&length| {
            let same: Vec<WindowRef> = order
                .iter()
                .filter(|w| w.length == length)
                .copied()
                .collect();
            same.chunks(batch_size.max(1))
                .map(<[WindowRef]>::to_vec)
                .collect::<Vec<_>>()
        })
        .collect();
    if lengths.len() > 1 {
        batches.shuffle(&mut ChaCha8Rng::seed_from_u64(derive_seed(
            seed,
            &[7, epoch],
        )));
    }
    batches
}

/// Batches in every epoch of `windows`: the same for every seed and epoch.
pub fn batches_per_epoch(windows: &[WindowRef], batch_size: usize) -> usize {
    epoch_batches(windows, batch_size, 0, 0).len()
}

/// The distinct padded lengths of `windows`, in order of first appearance.
fn window_lengths(windows: &[WindowRef]) -> Vec<usize> {
    let mut lengths: Vec<usize> = Vec::new();
    for w in windows {
        if !lengths.contains(&w.length) {
            lengths.push(w.length);
        }
    }
    lengths
}

/// A batch and the time the worker spent building it.
pub struct Prefetched {
    /// Position of the batch in its epoch.
    pub index: usize,
    /// The batch.
    pub batch: Batch,
    /// Time spent assembling it on the worker.
    pub build_time: Duration,
}

/// Builds an epoch's batches on a worker thread, `capacity` ahead of the trainer.
pub struct Prefetcher {
    receiver: Option<Receiver<Result<Prefetched>>>,
    worker: Option<JoinHandle<()>>,
    /// Batches still owed: a channel that closes before then means the worker died.
    remaining: usize,
}

impl Prefetcher {
    /// Starts building `batches[first..]` of `corpus` (masked and augmented when asked).
    pub fn spawn(
        corpus: Arc<Corpus>,
        batches: Vec<Vec<WindowRef>>,
        first: usize,
        mask: Option<MaskPlan>,
        augment: Option<AugmentPlan>,
        capacity: usize,
    ) -> Self {
        let remaining = batches.len().saturating_sub(first);
        let (sender, receiver): (SyncSender<Result<Prefetched>>, _) = sync_channel(capacity.max(1));
        let worker = std::thread::Builder::new()
            .name("behavert-batches".into())
            .spawn(move || {
                for (index, windows) in batches.iter().enumerate().skip(first) {
                    let start = Instant::now();
                    let item = Batch::assemble(
                        &corpus,
                        windows,
                        mask.as_ref().map(|m| (m, index as u64)),
                        augment.as_ref().map(|a| (a, index as u64)),
                    )
                    .map(|batch| Prefetched {
                        index,
                        batch,
                        build_time: start.elapsed(),
                    });
                    let failed = item.is_err();
                    // The trainer stopped early (end of run, early stopping): nothing to do.
                    if sender.send(item).is_err() || failed {
                        return;
                    }
                }
            })
            .ok();
        Self {
            receiver: Some(receiver),
            worker,
            remaining,
        }
    }

    /// Why the worker stopped before its last batch: its panic message, if it panicked.
    fn worker_failure(&mut self) -> Error {
        let cause = match self.worker.take().map(JoinHandle::join) {
            None => "could not be started".to_string(),
            Some(Ok(())) => "stopped early".to_string(),
            Some(Err(panic)) => {
                let message = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("no message");
                format!("panicked: {message}")
            }
        };
        Error::data(
            "the batch worker thread",
            format!("{} more batches", self.remaining),
            cause,
        )
    }
}

impl Iterator for Prefetcher {
    type Item = Result<Prefetched>;

    fn next(&mut self) -> Option<Result<Prefetched>> {
        if self.remaining == 0 {
            return None;
        }
        // A worker that died must end training with an error, not an epoch that ends early
        // and restarts at the same batch for ever.
        let received = match (&self.worker, &self.receiver) {
            (Some(_), Some(receiver)) => receiver.recv().ok(),
            _ => None,
        };
        let item = received.unwrap_or_else(|| Err(self.worker_failure()));
        self.remaining = if item.is_ok() { self.remaining - 1 } else { 0 };
        Some(item)
    }
}

impl Drop for Prefetcher {
    fn drop(&mut self) {
        // Closing the channel first unblocks a worker waiting to send.
        self.receiver.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
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

#[cfg(test)]
mod tests {
    use behavert_pose::augment::AugmentConfig;
    use behavert_pose::preprocess::{PoseLayout, PreprocessConfig, StatsAccumulator};
    use behavert_pose::synth::{SimulationConfig, simulate, vocabulary};

    use super::*;

    fn corpus() -> (Corpus, PoseLayout) {
        let recording = simulate(&SimulationConfig {
            seed: 3,
            frames: 300,
            ..Default::default()
        })
        .unwrap();
        let source = Source {
            id: "sim".into(),
            pose: recording.pose,
            labels: Some(recording.labels),
            targets: None,
            group: None,
        };
        let config: PreprocessConfig = toml::from_str(
            "body_axis = [\"tail\", \"neck\"]\n[align]\nmode = \"egocentric\"\n\
             [derived]\nvelocities = true\n",
        )
        .unwrap();
        let layout = PoseLayout::of(&source.pose);
        let preprocessor = Preprocessor::new(&config, &layout).unwrap();
        let mut acc = StatsAccumulator::new(preprocessor.feature_count());
        acc.add(&preprocessor.prepare(&source.pose).unwrap())
            .unwrap();
        let specs = [TargetSpec::FrameClasses {
            vocabulary: vocabulary().iter().map(|v| v.to_string()).collect(),
        }];
        let sources = [source];
        let mut corpus = Corpus::build(&sources, &preprocessor, &acc.finish(), &specs).unwrap();
        corpus.keep_poses(&sources, &preprocessor).unwrap();
        (corpus, layout)
    }

    fn batch(corpus: &Corpus, config: &AugmentConfig, layout: &PoseLayout, seed: u64) -> Batch {
        let plan = AugmentPlan {
            augmenter: Augmenter::new(config, layout).unwrap(),
            seed,
        };
        let windows = corpus.windows(48, 48, false);
        Batch::assemble(corpus, &windows[1..4], None, Some((&plan, 0))).unwrap()
    }

    #[test]
    fn a_worker_that_panics_ends_the_epoch_with_an_error() {
        let (corpus, _) = corpus();
        let windows = corpus.windows(48, 48, false);
        // A window of a track the corpus does not have: assembling it panics on the worker.
        let broken = WindowRef {
            track: 7,
            ..windows[0]
        };
        let batches = vec![windows[..2].to_vec(), vec![broken], windows[2..4].to_vec()];
        let mut prefetcher = Prefetcher::spawn(Arc::new(corpus), batches, 0, None, None, 2);
        assert!(prefetcher.next().unwrap().is_ok());
        let err = prefetcher.next().unwrap().err().expect("an error");
        assert!(err.to_string().contains("panicked"), "{err}");
        assert!(prefetcher.next().is_none());
    }

    #[test]
    fn an_epoch_cuts_batches_of_one_length_and_mixes_the_lengths() {
        let window = |track: usize, length: usize| WindowRef {
            track,
            start: 0,
            valid: length,
            length,
        };
        let single: Vec<WindowRef> = (0..10).map(|t| window(t, 48)).collect();
        let batches = epoch_batches(&single, 4, 3, 0);
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 2]);
        assert_eq!(batches_per_epoch(&single, 4), 3);

        let mixed: Vec<WindowRef> = (0..10)
            .map(|t| window(t, 48))
            .chain((0..7).map(|t| window(t, 96)))
            .collect();
        let batches = epoch_batches(&mixed, 4, 3, 0);
        assert_eq!(batches.len(), batches_per_epoch(&mixed, 4));
        assert_eq!(batches.len(), 3 + 2);
        for batch in &batches {
            assert!(
                batch.iter().all(|w| w.length == batch[0].length),
                "{batch:?}"
            );
        }
        let mut seen: Vec<WindowRef> = batches.concat();
        seen.sort_by_key(|w| (w.length, w.track));
        let mut all = mixed.clone();
        all.sort_by_key(|w| (w.length, w.track));
        assert_eq!(seen, all, "every window once per epoch");
        let firsts: Vec<Vec<usize>> = (0..8)
            .map(|epoch| {
                epoch_batches(&mixed, 4, 3, epoch)
                    .iter()
                    .map(|b| b[0].length)
                    .collect()
            })
            .collect();
        assert!(
            firsts.iter().any(|order| order != &firsts[0]),
            "the lengths are not interleaved: {firsts:?}"
        );

        let corpus_windows = [window(0, 48), window(1, 96)];
        let (corpus, _) = corpus();
        let err = Batch::assemble(&corpus, &corpus_windows, None, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("one length"), "{err}");
    }

    #[test]
    fn augmented_windows_are_seeded_and_match_the_corpus_when_off() {
        let (corpus, layout) = corpus();
        let windows = corpus.windows(48, 48, false);
        let plain = Batch::assemble(&corpus, &windows[1..4], None, None).unwrap();
        let identity = batch(&corpus, &AugmentConfig::default(), &layout, 1);
        // Per-window featurising only differs at each window's first frame, whose velocity
        // borrows the next frame's instead of looking back.
        let f = plain.features;
        for (i, (a, b)) in plain.keypoints.iter().zip(&identity.keypoints).enumerate() {
            if !(i / f).is_multiple_of(48) {
                assert!((a - b).abs() < 1e-4, "feature {i}: {a} vs {b}");
            }
        }
        assert_eq!(plain.targets, identity.targets);

        let config = AugmentConfig {
            reflection: 0.5,
            mirror_pairs: vec![
                ["left_ear".into(), "right_ear".into()],
                ["left_hip".into(), "right_hip".into()],
            ],
            jitter: 2.0,
            time_warp: [0.7, 1.4],
            ..Default::default()
        };
        let a = batch(&corpus, &config, &layout, 1);
        assert_eq!(a.keypoints, batch(&corpus, &config, &layout, 1).keypoints);
        assert_ne!(a.keypoints, batch(&corpus, &config, &layout, 2).keypoints);
        assert_ne!(a.keypoints, plain.keypoints);
        assert!(a.keypoints.iter().all(|v| v.is_finite()));
        assert_eq!(a.valid.len(), 3 * 48);
    }

    #[test]
    fn smoothed_targets_average_observed_neighbours() {
        let features =
            Array2::from_shape_vec((4, 2), vec![1.0, 10.0, 2.0, 0.0, 4.0, 30.0, 8.0, 40.0])
                .unwrap();
        let mut observed = Array2::from_elem((4, 2), true);
        observed[[1, 1]] = false;
        let smoothed = smooth_features(&features, &observed, 3);
        let expected = [
            [1.5, 10.0],
            [7.0 / 3.0, 20.0],
            [14.0 / 3.0, 35.0],
            [6.0, 35.0],
        ];
        for ((t, c), v) in smoothed.indexed_iter() {
            assert!((v - expected[t][c]).abs() < 1e-6, "{t},{c}: {v}");
        }
        assert_eq!(smooth_features(&features, &observed, 1), features);
    }

    #[test]
    fn pretraining_batches_carry_smoothed_targets_only_when_asked() {
        let (mut corpus, _) = corpus();
        let windows = corpus.windows(48, 48, false);
        let plan = |k| MaskPlan {
            section: MaskingSection {
                target_smoothing: k,
                random_fraction: 0.0,
                ..Default::default()
            },
            seed: 0,
        };
        let raw = Batch::assemble(&corpus, &windows[1..3], Some((&plan(0), 0)), None).unwrap();
        assert!(raw.reconstruction_targets.is_none());
        let on_the_fly =
            Batch::assemble(&corpus, &windows[1..3], Some((&plan(5), 0)), None).unwrap();
        corpus.smooth_targets(5);
        let stored = Batch::assemble(&corpus, &windows[1..3], Some((&plan(5), 0)), None).unwrap();
        assert_eq!(
            on_the_fly.reconstruction_targets,
            stored.reconstruction_targets
        );
        assert_eq!(stored.keypoints, raw.keypoints);
        assert_ne!(stored.reconstruction_targets.as_ref(), Some(&raw.keypoints));
    }

    #[test]
    fn chosen_frames_are_masked_kept_or_swapped_and_all_are_scored_against_the_original() {
        let (corpus, _) = corpus();
        let windows = corpus.windows(48, 48, false);
        let plan = |unchanged, random| MaskPlan {
            section: MaskingSection {
                mask_fraction: 0.5,
                unchanged_fraction: unchanged,
                random_fraction: random,
                ..Default::default()
            },
            seed: 0,
        };
        let plain = Batch::assemble(&corpus, &windows[..3], None, None).unwrap();
        let tokens_only =
            Batch::assemble(&corpus, &windows[..3], Some((&plan(0.0, 0.0), 0)), None).unwrap();
        assert_eq!(tokens_only.masked, tokens_only.predicted);
        assert!(tokens_only.reconstruction_targets.is_none());

        let mixed =
            Batch::assemble(&corpus, &windows[..3], Some((&plan(0.3, 0.3), 0)), None).unwrap();
        let (masked, predicted) = (mixed.masked.unwrap(), mixed.predicted.unwrap());
        // Which frames are chosen does not depend on how they are shown.
        assert_eq!(&predicted, tokens_only.predicted.as_ref().unwrap());
        assert_eq!(
            mixed.reconstruction_targets.as_ref(),
            Some(&plain.keypoints)
        );
        let f = mixed.features;
        let row = |v: &[f32], j: usize| v[j * f..(j + 1) * f].to_vec();
        let (mut tokens, mut kept, mut swapped) = (0, 0, 0);
        for j in (0..predicted.len()).filter(|&j| predicted[j]) {
            if masked[j] {
                tokens += 1;
            } else if row(&mixed.keypoints, j) == row(&plain.keypoints, j) {
                kept += 1;
            } else {
                swapped += 1;
                let shown = row(&mixed.keypoints, j);
                assert!(
                    (0..plain.valid.len())
                        .any(|k| plain.valid[k] && row(&plain.keypoints, k) == shown),
                    "frame {j} shows no real frame of the batch"
                );
            }
        }
        for j in (0..predicted.len()).filter(|&j| !predicted[j]) {
            assert!(!masked[j]);
            assert_eq!(row(&mixed.keypoints, j), row(&plain.keypoints, j));
        }
        assert!(
            tokens > 0 && kept > 0 && swapped > 0,
            "{tokens} {kept} {swapped}"
        );
    }
}
