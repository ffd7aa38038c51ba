//! [`PreprocessConfig`] and its parts: deserialisable from TOML, stored with a checkpoint, and
//! resolved against a [`PoseLayout`] into keypoint indices.

use super::layout::PoseLayout;
use crate::error::{PoseError, Result};

/// Default longest gap filled by interpolation: a third of a second at 30 fps.
pub const DEFAULT_MAX_GAP: usize = 10;

/// How a pose becomes model features; the same config gives the same features at training
/// and at inference.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PreprocessConfig {
    /// Longest run of missing frames filled by linear interpolation; longer gaps stay missing.
    pub max_gap: usize,
    /// Tail-end and head-end keypoint of the body axis, e.g. `["tail", "neck"]`: the heading
    /// for egocentric alignment and the body length for jump thresholds.
    pub body_axis: Option<[String; 2]>,
    /// Detections turned into missing keypoints before gaps are filled.
    pub outliers: OutlierConfig,
    /// Coordinate frame of the features.
    pub align: AlignConfig,
    /// Whether the aligned coordinates of every keypoint are features (the first columns).
    /// Off leaves only the derived features, e.g. movement and relations that do not depend on
    /// where the animals are or which way the camera looks.
    pub coordinates: bool,
    /// Frame rate assumed for files that do not state one (DeepLabCut CSV, say); needed by
    /// `derived.context_seconds`. A rate the file states wins.
    pub fps: Option<f64>,
    /// Features appended after the coordinates.
    pub derived: DerivedConfig,
}

impl Default for PreprocessConfig {
    fn default() -> Self {
        Self {
            max_gap: DEFAULT_MAX_GAP,
            body_axis: None,
            outliers: OutlierConfig::default(),
            align: AlignConfig::None,
            coordinates: true,
            fps: None,
            derived: DerivedConfig::default(),
        }
    }
}

/// Outlier removal: low confidence and impossible jumps become missing.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutlierConfig {
    /// Keypoints with tracker confidence below this are missing; skipped for poses without
    /// confidence.
    pub min_confidence: Option<f32>,
    /// Fastest plausible keypoint motion per frame, in `speed_unit`s; faster is a tracker jump.
    pub max_speed: Option<f32>,
    /// Unit of `max_speed`.
    pub speed_unit: SpeedUnit,
}

/// Unit of a speed threshold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeedUnit {
    /// Body lengths per frame (median body-axis length of the individual): scale-free.
    #[default]
    BodyLengths,
    /// Pixels (or the file's length unit) per frame.
    Pixels,
}

/// Coordinate frame of the features.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum AlignConfig {
    /// Coordinates as tracked.
    #[default]
    None,
    /// Centred on one individual and rotated so its body axis points along +x, per frame.
    Egocentric(EgocentricConfig),
    /// Scaled to [0, 1] by the arena's size or the recording's robust extent.
    Arena(ArenaConfig),
}

/// Egocentric alignment on a reference individual.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EgocentricConfig {
    /// Reference individual by name; the first individual when absent.
    pub individual: Option<String>,
    /// One keypoint, or two whose midpoint is the origin; the body axis's head end when empty.
    pub centre: Vec<String>,
    /// Frames of the centred moving average of the heading; 0 or 1 = raw heading per frame.
    pub heading_smoothing: usize,
}

/// Arena normalisation to [0, 1] per axis.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArenaConfig {
    /// Arena extent per axis (one number per coordinate); from the data when absent.
    pub size: Option<Vec<f32>>,
    /// Arena corner per axis; zeros when absent and `size` is given.
    pub origin: Option<Vec<f32>>,
    /// Without `size`, the extent spans these quantiles of the recording (low, 1 − low),
    /// ignoring stray detections.
    pub quantile: f32,
}

impl Default for ArenaConfig {
    fn default() -> Self {
        Self {
            size: None,
            origin: None,
            quantile: 0.01,
        }
    }
}

/// Derived features appended after the flattened coordinates, in this order.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DerivedConfig {
    /// Per-keypoint velocity (change per frame, in the aligned axes) of every coordinate.
    pub velocities: bool,
    /// Keypoint pairs `[a, b]`: distance from individual i's `a` to individual j's `b` for
    /// every ordered pair of different individuals (i < j only when a = b).
    pub distances: Vec<[String; 2]>,
    /// Per individual and keypoint: 1 where the keypoint is tracked (or its gap filled), 0
    /// where it is missing. Missing values are standardised to the mean, so without this the
    /// model cannot tell a missing keypoint from an average one.
    pub observed: bool,
    /// Per individual and keypoint: the tracker's confidence (missing where the file has none).
    pub confidence: bool,
    /// Keypoints whose speed (distance moved since the previous frame) is a feature of every
    /// individual.
    pub speeds: Vec<String>,
    /// Keypoint pairs `[a, b]` whose distance within each individual is a feature (body length).
    pub lengths: Vec<[String; 2]>,
    /// Angles from the body axes (`body_axis`), in [0, π]: for every ordered pair of
    /// individuals (i, j), between i's heading and the direction from i's head end to the
    /// middle of j's axis (0 = i faces j); for every pair, between their headings.
    pub angles: bool,
    /// Individuals are not told apart: each kind of derived feature (a speed, a distance, a
    /// flag …) is sorted across individuals (or pairs) per frame, largest first, so columns
    /// are ranks, not tracks. Swapped or arbitrarily ordered tracker identities then change
    /// nothing. Aligned coordinates and velocities are left as they are.
    pub anonymous: bool,
    /// Temporal context: for each span (seconds), the centred rolling mean and standard
    /// deviation of every feature that does not depend on alignment (distances, speeds,
    /// lengths, angles), over observed values.
    pub context_seconds: Vec<f64>,
}

/// A config checked against a layout: every name is an index.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub(crate) max_gap: usize,
    pub(crate) min_confidence: Option<f32>,
    pub(crate) max_speed: Option<(f32, SpeedUnit)>,
    /// `(tail end, head end)` keypoint indices.
    pub(crate) body_axis: Option<(usize, usize)>,
    pub(crate) align: ResolvedAlign,
    pub(crate) velocities: bool,
    /// `(individual i, keypoint a, individual j, keypoint b)`.
    pub(crate) distances: Vec<(usize, usize, usize, usize)>,
    pub(crate) coordinates: bool,
    pub(crate) fps: Option<f64>,
    pub(crate) observed: bool,
    pub(crate) confidence: bool,
    /// Keypoint indices.
    pub(crate) speeds: Vec<usize>,
    /// `(keypoint a, keypoint b)` within an individual.
    pub(crate) lengths: Vec<(usize, usize)>,
    /// The body axis, when angles are asked for.
    pub(crate) angles: Option<(usize, usize)>,
    pub(crate) anonymous: bool,
    pub(crate) context_seconds: Vec<f64>,
}

/// Alignment with indices.
#[derive(Clone, Debug)]
pub(crate) enum ResolvedAlign {
    None,
    Egocentric {
        individual: usize,
        centre: Vec<usize>,
        axis: (usize, usize),
        smoothing: usize,
    },
    Arena {
        /// Fixed `(origin, size)` per axis, or the quantile to measure them at.
        bounds: ArenaBounds,
    },
}

/// Where the arena's extent comes from.
#[derive(Clone, Debug)]
pub(crate) enum ArenaBounds {
    Fixed { origin: Vec<f32>, size: Vec<f32> },
    Quantile(f32),
}

fn invalid(field: &str, expected: impl Into<String>, found: impl std::fmt::Display) -> PoseError {
    PoseError::invalid(
        format!("preprocess config `{field}`"),
        expected,
        found.to_string(),
    )
}

fn positive(field: &str, value: f32) -> Result<f32> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(invalid(field, "a positive number", value))
    }
}

impl PreprocessConfig {
    /// Check every field against `layout`; errors name the field, what was allowed and what
    /// was found.
    pub(crate) fn resolve(&self, layout: &PoseLayout) -> Result<Resolved> {
        let dims = layout.space.dims();
        let keypoint = |name: &str, field: &str| {
            layout.keypoint(name, &format!("preprocess config `{field}`"))
        };
        let body_axis = match &self.body_axis {
            Some([from, to]) => {
                let axis = (keypoint(from, "body_axis")?, keypoint(to, "body_axis")?);
                if axis.0 == axis.1 {
                    return Err(invalid("body_axis", "two different keypoints", from));
                }
                Some(axis)
            }
            None => None,
        };
        let needs_axis = |why: &str| {
            body_axis.ok_or_else(|| {
                invalid(
                    "body_axis",
                    format!("[tail-end, head-end] keypoint names ({why})"),
                    "none",
                )
            })
        };

        let outliers = &self.outliers;
        let min_confidence = match outliers.min_confidence {
            Some(c) if !(c.is_finite() && (0.0..=1.0).contains(&c)) => {
                return Err(invalid("outliers.min_confidence", "a number in [0, 1]", c));
            }
            other => other,
        };
        let max_speed = match outliers.max_speed {
            Some(speed) => {
                let speed = positive("outliers.max_speed", speed)?;
                if outliers.speed_unit == SpeedUnit::BodyLengths {
                    needs_axis("needed by outliers.speed_unit = \"body_lengths\"")?;
                }
                Some((speed, outliers.speed_unit))
            }
            None => None,
        };

        let align = match &self.align {
            AlignConfig::None => ResolvedAlign::None,
            AlignConfig::Egocentric(ego) => {
                let axis = needs_axis("needed by align.mode = \"egocentric\"")?;
                let individual = match &ego.individual {
                    Some(name) => {
                        layout.individual(name, "preprocess config `align.individual`")?
                    }
                    None if layout.individuals.is_empty() => {
                        return Err(invalid("align.individual", "a pose with individuals", 0));
                    }
                    None => 0,
                };
                let centre = match ego.centre.len() {
                    0 => vec![axis.1],
                    1 | 2 => ego
                        .centre
                        .iter()
                        .map(|name| keypoint(name, "align.centre"))
                        .collect::<Result<_>>()?,
                    n => {
                        return Err(invalid(
                            "align.centre",
                            "one or two keypoint names",
                            format!("{n} names"),
                        ));
                    }
                };
                ResolvedAlign::Egocentric {
                    individual,
                    centre,
                    axis,
                    smoothing: ego.heading_smoothing,
                }
            }
            AlignConfig::Arena(arena) => ResolvedAlign::Arena {
                bounds: resolve_arena(arena, dims)?,
            },
        };

        let mut distances = Vec::new();
        for [a, b] in &self.derived.distances {
            let (ka, kb) = (
                keypoint(a, "derived.distances")?,
                keypoint(b, "derived.distances")?,
            );
            let n = layout.individuals.len();
            for i in 0..n {
                for j in 0..n {
                    if i != j && (ka != kb || i < j) {
                        distances.push((i, ka, j, kb));
                    }
                }
            }
        }

        let derived = &self.derived;
        let speeds = derived
            .speeds
            .iter()
            .map(|name| keypoint(name, "derived.speeds"))
            .collect::<Result<_>>()?;
        let lengths = derived
            .lengths
            .iter()
            .map(|[a, b]| {
                let pair = (
                    keypoint(a, "derived.lengths")?,
                    keypoint(b, "derived.lengths")?,
                );
                if pair.0 == pair.1 {
                    return Err(invalid("derived.lengths", "two different keypoints", a));
                }
                Ok(pair)
            })
            .collect::<Result<_>>()?;
        let angles = match derived.angles {
            true => Some(needs_axis("needed by derived.angles")?),
            false => None,
        };
        if let Some(&span) = derived
            .context_seconds
            .iter()
            .find(|s| !(s.is_finite() && **s > 0.0))
        {
            return Err(invalid(
                "derived.context_seconds",
                "positive spans in seconds",
                span,
            ));
        }
        let fps = match self.fps {
            Some(fps) if !(fps.is_finite() && fps > 0.0) => {
                return Err(invalid("fps", "a positive frame rate", fps));
            }
            fps => fps,
        };
        if !self.coordinates && feature_free(derived) {
            return Err(invalid(
                "coordinates",
                "coordinates or some derived feature to learn from",
                "coordinates = false and no derived features",
            ));
        }

        Ok(Resolved {
            max_gap: self.max_gap,
            min_confidence,
            max_speed,
            body_axis,
            align,
            velocities: self.derived.velocities,
            distances,
            coordinates: self.coordinates,
            fps,
            observed: derived.observed,
            confidence: derived.confidence,
            speeds,
            lengths,
            angles,
            anonymous: derived.anonymous,
            context_seconds: derived.context_seconds.clone(),
        })
    }
}

/// True when `derived` asks for no feature of its own.
fn feature_free(derived: &DerivedConfig) -> bool {
    !derived.velocities
        && derived.distances.is_empty()
        && !derived.observed
        && !derived.confidence
        && derived.speeds.is_empty()
        && derived.lengths.is_empty()
        && !derived.angles
}

fn resolve_arena(arena: &ArenaConfig, dims: usize) -> Result<ArenaBounds> {
    let per_axis = |field: &str, values: &[f32]| -> Result<()> {
        if values.len() != dims {
            return Err(invalid(
                field,
                format!("{dims} numbers, one per coordinate"),
                format!("{values:?}"),
            ));
        }
        if values.iter().any(|v| !v.is_finite()) {
            return Err(invalid(field, "finite numbers", format!("{values:?}")));
        }
        Ok(())
    };
    match (&arena.size, &arena.origin) {
        (Some(size), origin) => {
            per_axis("align.size", size)?;
            for &side in size {
                positive("align.size", side)?;
            }
            let origin = origin.clone().unwrap_or_else(|| vec![0.0; dims]);
            per_axis("align.origin", &origin)?;
            Ok(ArenaBounds::Fixed {
                origin,
                size: size.clone(),
            })
        }
        (None, Some(origin)) => Err(invalid(
            "align.size",
            "the arena size alongside align.origin",
            format!("none (origin {origin:?})"),
        )),
        (None, None) => {
            let q = arena.quantile;
            if !(q.is_finite() && (0.0..0.5).contains(&q)) {
                return Err(invalid("align.quantile", "a quantile in [0, 0.5)", q));
            }
            Ok(ArenaBounds::Quantile(q))
        }
    }
}
