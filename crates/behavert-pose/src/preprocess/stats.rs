//! [`NormalisationStats`]: per-feature mean and standard deviation measured on training data,
//! stored with a checkpoint and applied to any data later.

use super::Prepared;
use crate::error::{PoseError, Result};

/// Standard deviations below this are treated as 1: a constant feature (an egocentric origin,
/// say) is centred but not blown up.
const MIN_STD: f64 = 1e-6;

/// Per-feature mean and standard deviation of observed values.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NormalisationStats {
    /// Mean of each feature over observed frames (0 for a feature never observed).
    pub mean: Vec<f32>,
    /// Standard deviation of each feature (1 for a constant or never-observed feature).
    pub std: Vec<f32>,
}

/// Running sums for [`NormalisationStats`], fed one recording at a time.
#[derive(Clone, Debug, Default)]
pub struct StatsAccumulator {
    /// Per feature: the first observed value, subtracted before summing so the sums of
    /// squares keep their precision.
    shift: Vec<f64>,
    count: Vec<u64>,
    sum: Vec<f64>,
    sum_squares: Vec<f64>,
}

impl StatsAccumulator {
    /// An accumulator for `features` columns.
    pub fn new(features: usize) -> Self {
        Self {
            shift: vec![f64::NAN; features],
            count: vec![0; features],
            sum: vec![0.0; features],
            sum_squares: vec![0.0; features],
        }
    }

    /// Add the observed values of one recording (or window).
    pub fn add(&mut self, prepared: &Prepared) -> Result<()> {
        let width = self.count.len();
        if prepared.features.ncols() != width {
            return Err(PoseError::invalid(
                "normalisation statistics",
                format!("{width} features per frame"),
                format!("{}", prepared.features.ncols()),
            ));
        }
        for (row, seen) in prepared
            .features
            .rows()
            .into_iter()
            .zip(prepared.observed.rows())
        {
            for (c, (&value, &seen)) in row.iter().zip(seen.iter()).enumerate() {
                if !seen {
                    continue;
                }
                let value = value as f64;
                if self.shift[c].is_nan() {
                    self.shift[c] = value;
                }
                let centred = value - self.shift[c];
                self.count[c] += 1;
                self.sum[c] += centred;
                self.sum_squares[c] += centred * centred;
            }
        }
        Ok(())
    }

    /// The statistics of everything added.
    pub fn finish(&self) -> NormalisationStats {
        let mut mean = Vec::with_capacity(self.count.len());
        let mut std = Vec::with_capacity(self.count.len());
        for c in 0..self.count.len() {
            let n = self.count[c] as f64;
            if n == 0.0 {
                mean.push(0.0);
                std.push(1.0);
                continue;
            }
            let centred_mean = self.sum[c] / n;
            let variance = (self.sum_squares[c] / n - centred_mean * centred_mean).max(0.0);
            let sd = variance.sqrt();
            mean.push((self.shift[c] + centred_mean) as f32);
            std.push(if sd < MIN_STD { 1.0 } else { sd as f32 });
        }
        NormalisationStats { mean, std }
    }
}

impl NormalisationStats {
    /// Measure on training data: every observed value of every recording.
    pub fn fit<'a>(data: impl IntoIterator<Item = &'a Prepared>) -> Result<Self> {
        let mut accumulator: Option<StatsAccumulator> = None;
        for prepared in data {
            accumulator
                .get_or_insert_with(|| StatsAccumulator::new(prepared.features.ncols()))
                .add(prepared)?;
        }
        accumulator.map(|a| a.finish()).ok_or_else(|| {
            PoseError::invalid("normalisation statistics", "at least one recording", "none")
        })
    }

    /// Number of features these statistics cover.
    pub fn features(&self) -> usize {
        self.mean.len()
    }

    /// Check that the statistics are usable: one mean and one positive std per feature.
    pub fn validate(&self) -> Result<()> {
        if self.mean.len() != self.std.len() {
            return Err(PoseError::invalid(
                "normalisation statistics",
                format!("{} standard deviations, one per mean", self.mean.len()),
                self.std.len().to_string(),
            ));
        }
        if let Some(c) = self.std.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(PoseError::invalid(
                format!("normalisation statistics, feature {c}"),
                "a positive finite standard deviation",
                self.std[c].to_string(),
            ));
        }
        if let Some(c) = self.mean.iter().position(|m| !m.is_finite()) {
            return Err(PoseError::invalid(
                format!("normalisation statistics, feature {c}"),
                "a finite mean",
                self.mean[c].to_string(),
            ));
        }
        Ok(())
    }

    /// Standardise in place: `(x − mean) / std` where observed, 0 where not, so the features
    /// hold no NaN and missing values sit at the mean.
    pub fn apply(&self, prepared: &mut Prepared) -> Result<()> {
        self.validate()?;
        let width = prepared.features.ncols();
        if width != self.features() {
            return Err(PoseError::invalid(
                "standardisation",
                format!(
                    "{} features per frame (as when the statistics were measured)",
                    self.features()
                ),
                width.to_string(),
            ));
        }
        let inverse: Vec<f32> = self.std.iter().map(|s| 1.0 / s).collect();
        for (mut row, seen) in prepared
            .features
            .rows_mut()
            .into_iter()
            .zip(prepared.observed.rows())
        {
            for (c, (value, &seen)) in row.iter_mut().zip(seen.iter()).enumerate() {
                *value = if seen {
                    (*value - self.mean[c]) * inverse[c]
                } else {
                    0.0
                };
            }
        }
        Ok(())
    }
}
