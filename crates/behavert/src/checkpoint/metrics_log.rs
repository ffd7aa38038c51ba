//! `metrics.csv`, the training log of a run folder: one row per log step and evaluation,
//! appended as training goes, cut back to a checkpoint's step on resume. The training-curves
//! plot reads it with [`crate::eval::training_log::TrainingLog`].

use std::io::Write;
use std::path::Path;

use super::write_atomically;
use crate::error::{Error, Result};

/// The metrics log of a run.
pub const METRICS_FILE: &str = "metrics.csv";

/// One line of `metrics.csv`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricsRow {
    /// Optimizer step.
    pub step: u64,
    /// Epoch.
    pub epoch: u64,
    /// `train` or `validation`.
    pub split: &'static str,
    /// Mean loss.
    pub loss: f64,
    /// Macro-F1 of the first classification head (validation).
    pub f1_macro: Option<f64>,
    /// Learning rate (train rows).
    pub lr: Option<f64>,
    /// Mean time the worker took to build a batch, ms (train rows).
    pub data_ms: Option<f64>,
    /// Mean time the trainer waited for a batch, ms (train rows).
    pub wait_ms: Option<f64>,
    /// Mean optimizer-step time, ms (train rows).
    pub step_ms: Option<f64>,
}

impl MetricsRow {
    /// Column names.
    pub const HEADER: &'static str = "step,epoch,split,loss,f1_macro,lr,data_ms,wait_ms,step_ms";

    fn to_csv(&self) -> String {
        let opt = |v: Option<f64>| v.map(|v| format!("{v:.6}")).unwrap_or_default();
        format!(
            "{},{},{},{:.6},{},{},{},{},{}",
            self.step,
            self.epoch,
            self.split,
            self.loss,
            opt(self.f1_macro),
            self.lr.map(|v| format!("{v:.3e}")).unwrap_or_default(),
            opt(self.data_ms),
            opt(self.wait_ms),
            opt(self.step_ms)
        )
    }
}

/// Appends `row` to the log at `path` (its header first in a new file).
pub fn append(path: &Path, row: &MetricsRow) -> Result<()> {
    let new = !path.exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    let mut text = String::new();
    if new {
        text.push_str(MetricsRow::HEADER);
        text.push('\n');
    }
    text.push_str(&row.to_csv());
    text.push('\n');
    file.write_all(text.as_bytes())
        .map_err(|e| Error::io(path, e))
}

/// Drops the rows of the log at `path` after `step`.
pub fn truncate(path: &Path, step: u64) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(());
    };
    let kept: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, line)| {
            *i == 0
                || line
                    .split(',')
                    .next()
                    .and_then(|s| s.parse::<u64>().ok())
                    .is_some_and(|s| s <= step)
        })
        .map(|(_, l)| l)
        .collect();
    write_atomically(path, (kept.join("\n") + "\n").as_bytes())
}
