//! Preprocessing: from a [`Pose`] to the `[frames, features]` array the model reads.
//!
//! Stages, in order: low-confidence and jumping detections become missing; gaps of at most
//! `max_gap` frames are filled by linear interpolation; coordinates are aligned (egocentric or
//! arena) and flattened; derived features are appended. What is still missing is reported in
//! [`Prepared::observed`]. Standardisation is separate ([`NormalisationStats`]) because its
//! statistics come from the training set.
//!
//! ```
//! use behavert_pose::preprocess::{NormalisationStats, PreprocessConfig, prepare};
//! use behavert_pose::synth::{SimulationConfig, simulate};
//! let pose = simulate(&SimulationConfig { frames: 300, ..Default::default() }).unwrap().pose;
//! let mut prepared = prepare(&pose, &PreprocessConfig::default()).unwrap();
//! let stats = NormalisationStats::fit([&prepared]).unwrap();
//! stats.apply(&mut prepared).unwrap();
//! assert_eq!(prepared.features.dim(), (300, 2 * 7 * 2));
//! ```
//!
//! Training applies augmentation between cleaning and featurising: [`Preprocessor::clean`] the
//! recording once, cut and augment windows of it, then [`Preprocessor::featurise`] each.

mod align;
mod clean;
mod config;
mod context;
mod derived;
mod layout;
mod stats;

#[cfg(test)]
mod tests;

use ndarray::{Array2, Array4};

pub use config::{
    AlignConfig, ArenaConfig, DEFAULT_MAX_GAP, DerivedConfig, EgocentricConfig, OutlierConfig,
    PreprocessConfig, SpeedUnit,
};
pub use derived::FeatureKind;
pub use layout::PoseLayout;
pub use stats::{NormalisationStats, StatsAccumulator};

use crate::error::Result;
use crate::pose::Pose;
use config::{ArenaBounds, Resolved, ResolvedAlign};

/// Model input for one recording (or window): features, what was observed, and their names.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    /// `[frames, features]`; NaN where unobserved until standardised, then 0.
    pub features: Array2<f32>,
    /// `[frames, features]`: true where the value comes from tracked (or interpolated) data.
    pub observed: Array2<bool>,
    /// One name per feature column.
    pub names: Vec<String>,
}

impl Prepared {
    /// Number of frames.
    pub fn frames(&self) -> usize {
        self.features.nrows()
    }

    /// Per frame: true when every feature is observed.
    pub fn frame_observed(&self) -> Vec<bool> {
        self.observed
            .rows()
            .into_iter()
            .map(|row| row.iter().all(|&seen| seen))
            .collect()
    }

    /// Fraction of all values observed.
    pub fn observed_fraction(&self) -> f64 {
        let total = self.observed.len().max(1);
        self.observed.iter().filter(|&&seen| seen).count() as f64 / total as f64
    }
}

/// Index arithmetic on standard-layout `[frames, individuals, keypoints, dims]` positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    pub(crate) frames: usize,
    pub(crate) individuals: usize,
    pub(crate) keypoints: usize,
    pub(crate) dims: usize,
}

impl Shape {
    fn of(positions: &Array4<f32>) -> Self {
        let (frames, individuals, keypoints, dims) = positions.dim();
        Self {
            frames,
            individuals,
            keypoints,
            dims,
        }
    }

    /// Offset of the first coordinate of keypoint `k` of individual `i` in frame `f`.
    #[inline]
    pub(crate) fn index(&self, f: usize, i: usize, k: usize) -> usize {
        ((f * self.individuals + i) * self.keypoints + k) * self.dims
    }
}

impl PreprocessConfig {
    /// Check the config against a pose layout (keypoint and individual names, lengths).
    pub fn validate(&self, layout: &PoseLayout) -> Result<()> {
        self.resolve(layout).map(|_| ())
    }

    /// Names of the output features for poses of `layout`, in column order.
    pub fn feature_names(&self, layout: &PoseLayout) -> Result<Vec<String>> {
        Ok(derived::feature_columns(layout, &self.resolve(layout)?).0)
    }

    /// Number of output features for poses of `layout`: the model's `input_dim`.
    pub fn feature_count(&self, layout: &PoseLayout) -> Result<usize> {
        Ok(self.feature_names(layout)?.len())
    }
}

/// A [`PreprocessConfig`] checked against one pose layout, ready to apply to many poses.
#[derive(Clone, Debug)]
pub struct Preprocessor {
    config: PreprocessConfig,
    layout: PoseLayout,
    resolved: Resolved,
    names: Vec<String>,
    kinds: Vec<FeatureKind>,
}

impl Preprocessor {
    /// Check `config` against `layout`; errors name the config field at fault.
    pub fn new(config: &PreprocessConfig, layout: &PoseLayout) -> Result<Self> {
        let resolved = config.resolve(layout)?;
        let (names, kinds) = derived::feature_columns(layout, &resolved);
        Ok(Self {
            config: config.clone(),
            layout: layout.clone(),
            resolved,
            names,
            kinds,
        })
    }

    /// The config this preprocessor applies.
    pub fn config(&self) -> &PreprocessConfig {
        &self.config
    }

    /// Names of the output features.
    pub fn feature_names(&self) -> &[String] {
        &self.names
    }

    /// What each output feature is, in column order.
    pub fn feature_kinds(&self) -> &[FeatureKind] {
        &self.kinds
    }

    /// Number of output features (the model's `input_dim`).
    pub fn feature_count(&self) -> usize {
        self.names.len()
    }

    /// Clean, then featurise.
    pub fn prepare(&self, pose: &Pose) -> Result<Prepared> {
        let _span = tracing::debug_span!("prepare", frames = pose.frames()).entered();
        let cleaned = self.clean(pose)?;
        self.featurise(&cleaned)
    }

    /// Outliers become missing and short gaps are filled; the result is a pose again (same
    /// layout, NaN where still missing) so it can be windowed and augmented.
    pub fn clean(&self, pose: &Pose) -> Result<Pose> {
        let _span = tracing::trace_span!("clean", frames = pose.frames()).entered();
        self.layout.check(pose, "pose to preprocess")?;
        let shape = Shape::of(&pose.positions);
        let mut positions = pose.positions.as_standard_layout().into_owned();
        let flat = positions
            .as_slice_mut()
            .expect("as_standard_layout gives contiguous positions");
        clean::unify_missing(flat, shape.dims);
        if let (Some(cutoff), Some(confidence)) = (self.resolved.min_confidence, &pose.confidence) {
            let confidence = confidence.as_standard_layout();
            let confidence = confidence.as_slice().expect("standard layout");
            clean::drop_low_confidence(flat, confidence, shape.dims, cutoff);
        }
        if let Some((speed, unit)) = self.resolved.max_speed {
            let limits = clean::speed_limits(speed, unit, flat, shape, self.resolved.body_axis)?;
            clean::drop_jumps(flat, shape, &limits);
        }
        clean::fill_gaps(flat, shape, self.resolved.max_gap);
        Ok(Pose {
            positions,
            confidence: pose.confidence.clone(),
            individuals: pose.individuals.clone(),
            keypoints: pose.keypoints.clone(),
            fps: pose.fps,
            source: pose.source.clone(),
            software: pose.software.clone(),
        })
    }

    /// Align, flatten and append derived features; no cleaning.
    pub fn featurise(&self, pose: &Pose) -> Result<Prepared> {
        let _span = tracing::trace_span!("featurise", frames = pose.frames()).entered();
        self.layout.check(pose, "pose to featurise")?;
        let shape = Shape::of(&pose.positions);
        let positions = pose.positions.as_standard_layout();
        let flat = positions.as_slice().expect("standard layout");
        let frames = align::transforms(flat, shape, &self.resolved.align)?;
        let confidence = pose.confidence.as_ref().map(|c| c.as_standard_layout());
        let confidence = confidence
            .as_ref()
            .map(|c| c.as_slice().expect("standard layout"));
        let fps = pose.fps.or(self.resolved.fps);
        let features =
            derived::feature_rows(flat, confidence, shape, &frames, &self.resolved, fps)?;
        let observed = features.mapv(|v| !v.is_nan());
        Ok(Prepared {
            features,
            observed,
            names: self.names.clone(),
        })
    }

    /// A copy whose arena extent is measured once on `pose` (a whole, cleaned recording), so
    /// windows of it are featurised in the same frame. Unchanged unless the config asks for
    /// arena normalisation from the data.
    pub fn with_arena_of(&self, pose: &Pose) -> Result<Self> {
        let ResolvedAlign::Arena {
            bounds: bounds @ ArenaBounds::Quantile(_),
        } = &self.resolved.align
        else {
            return Ok(self.clone());
        };
        self.layout.check(pose, "pose to measure the arena on")?;
        let positions = pose.positions.as_standard_layout();
        let flat = positions.as_slice().expect("standard layout");
        let (origin, size) = align::arena_extent(flat, Shape::of(&pose.positions), bounds)?;
        let mut fixed = self.clone();
        fixed.resolved.align = ResolvedAlign::Arena {
            bounds: ArenaBounds::Fixed { origin, size },
        };
        Ok(fixed)
    }
}

/// Preprocess one pose with `config` (checked against the pose's own layout).
pub fn prepare(pose: &Pose, config: &PreprocessConfig) -> Result<Prepared> {
    Preprocessor::new(config, &PoseLayout::of(pose))?.prepare(pose)
}
