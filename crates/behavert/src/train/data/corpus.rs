//! Preprocessed recordings ready to be windowed: [`Track`] (standardised features, observed
//! mask, targets, and the cleaned pose when windows are augmented), [`Corpus`] (one split),
//! [`WindowRef`], and class weights from the corpus's label counts.

use std::sync::Arc;

use behavert_pose::augment::Augmenter;
use behavert_pose::pose::Pose;
use behavert_pose::preprocess::{NormalisationStats, Preprocessor};
use behavert_pose::window::pose_window;
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::targets::{Source, TargetSpec, TrackTargets};
use crate::error::Result;

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
    pub(super) fn augmented(
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

    /// Per output of multi-label head `head`: labelled entries that are on, and that are off.
    pub fn label_counts(&self, head: usize, outputs: usize) -> Vec<(usize, usize)> {
        let mut counts = vec![(0, 0); outputs];
        for track in &self.tracks {
            if let TrackTargets::Dense { values, .. } = &track.targets[head] {
                for (i, v) in values.iter().enumerate().filter(|(_, v)| v.is_finite()) {
                    let (on, off) = &mut counts[i % outputs];
                    if *v > 0.5 {
                        *on += 1;
                    } else {
                        *off += 1;
                    }
                }
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
