//! `metrics.csv`: the training log that the training-curves plot reads.
//!
//! Schema (one row per evaluation of one split at one optimiser step):
//!
//! ```text
//! step,split,loss[,METRIC...]
//! 0,train,2.31,
//! 100,train,1.42,
//! 100,validation,1.55,0.41
//! ```
//!
//! - `step` (required): optimiser step, a non-negative integer;
//! - `split` (required): which data the row measures, non-empty text; the trainer writes
//!   `train` and `validation`, and any other name (`test`, `val_calms21`…) is kept as its own
//!   curve;
//! - `loss` (required column): the split's mean loss at that step;
//! - any further column (`f1`, `accuracy`, `lr`…) is a metric, one curve per split;
//! - an empty cell (or `nan`) means "not measured at this row", e.g. train rows without F1.
//!
//! Columns may come in any order; names are matched case-insensitively after trimming.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Name of the loss column, which every log has.
pub const LOSS: &str = "loss";

/// One row of `metrics.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRow {
    /// Optimiser step.
    pub step: u64,
    /// Split measured (`train`, `validation`, …).
    pub split: String,
    /// Mean loss; `None` when not measured.
    pub loss: Option<f64>,
    /// Values of [`TrainingLog::metric_names`], in that order; `None` when not measured.
    pub metrics: Vec<Option<f64>>,
}

/// A parsed `metrics.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingLog {
    /// Names of the metric columns after `step`, `split` and `loss`, in file order.
    pub metric_names: Vec<String>,
    /// Rows in file order.
    pub rows: Vec<LogRow>,
}

/// Where each schema column sits in the file.
struct Layout {
    step: usize,
    split: usize,
    loss: usize,
    /// `(file column, metric name)` for every other column.
    metrics: Vec<(usize, String)>,
}

impl TrainingLog {
    /// Reads and checks `metrics.csv` at `path`.
    pub fn read(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        Self::from_reader(file, &path.display().to_string())
    }

    /// Parses a training log; `source_name` names it in errors.
    pub fn from_reader<R: Read>(input: R, source_name: &str) -> Result<Self> {
        let fail = |line: u64, message: String| Error::TrainingLog {
            source_name: source_name.to_string(),
            line,
            message,
        };
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(input);
        let headers = reader
            .headers()
            .map_err(|e| fail(1, format!("unreadable header: {e}")))?
            .clone();
        let layout = Layout::from_headers(&headers).map_err(|m| fail(1, m))?;
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                fail(line, e.to_string())
            })?;
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            rows.push(layout.row(&record).map_err(|m| fail(line, m))?);
        }
        if rows.is_empty() {
            return Err(fail(1, "no rows after the header".to_string()));
        }
        Ok(Self {
            metric_names: layout.metrics.into_iter().map(|(_, n)| n).collect(),
            rows,
        })
    }

    /// Splits in order of first appearance.
    pub fn splits(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for row in &self.rows {
            if !out.contains(&row.split.as_str()) {
                out.push(&row.split);
            }
        }
        out
    }

    /// `loss` followed by the metric names: every quantity that can be plotted.
    pub fn quantities(&self) -> Vec<&str> {
        std::iter::once(LOSS)
            .chain(self.metric_names.iter().map(String::as_str))
            .collect()
    }

    /// `(step, value)` of `quantity` (`loss` or a metric name) on `split`, measured rows only,
    /// sorted by step.
    pub fn series(&self, split: &str, quantity: &str) -> Vec<(u64, f64)> {
        let metric = self.metric_names.iter().position(|m| m == quantity);
        let mut out: Vec<(u64, f64)> = self
            .rows
            .iter()
            .filter(|r| r.split == split)
            .filter_map(|r| {
                let value = if quantity == LOSS {
                    r.loss
                } else {
                    metric.and_then(|m| r.metrics.get(m).copied().flatten())
                };
                value.map(|v| (r.step, v))
            })
            .collect();
        out.sort_by_key(|&(step, _)| step);
        out
    }
}

impl Layout {
    fn from_headers(headers: &csv::StringRecord) -> Result<Self, String> {
        let names: Vec<String> = headers.iter().map(|h| h.to_ascii_lowercase()).collect();
        let find = |want: &str| {
            names.iter().position(|n| n == want).ok_or_else(|| {
                format!(
                    "missing required column `{want}` (have: {})",
                    names.join(",")
                )
            })
        };
        let (step, split, loss) = (find("step")?, find("split")?, find(LOSS)?);
        let mut metrics: Vec<(usize, String)> = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if [step, split, loss].contains(&i) {
                continue;
            }
            if name.is_empty() {
                return Err(format!("column {} has no name", i + 1));
            }
            if metrics.iter().any(|(_, n)| n == name) {
                return Err(format!("column `{name}` appears twice"));
            }
            metrics.push((i, name.clone()));
        }
        Ok(Self {
            step,
            split,
            loss,
            metrics,
        })
    }

    fn row(&self, record: &csv::StringRecord) -> Result<LogRow, String> {
        let cell = |i: usize| record.get(i).unwrap_or("");
        let step = cell(self.step)
            .parse::<u64>()
            .map_err(|_| format!("step `{}` is not a non-negative integer", cell(self.step)))?;
        let split = cell(self.split).to_string();
        if split.is_empty() {
            return Err("empty split".to_string());
        }
        Ok(LogRow {
            step,
            split,
            loss: value(LOSS, cell(self.loss))?,
            metrics: self
                .metrics
                .iter()
                .map(|(i, name)| value(name, cell(*i)))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// A measured value: empty or NaN is "not measured"; infinities are kept out of the plot
/// axes the same way, since a diverged step has no finite value to draw.
fn value(column: &str, text: &str) -> Result<Option<f64>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let v: f64 = text
        .parse()
        .map_err(|_| format!("{column} `{text}` is not a number"))?;
    Ok(v.is_finite().then_some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_train_and_val_rows_with_optional_metrics() {
        let text = "step,split,loss,f1\n0,train,2.5,\n10,train,1.5,\n10,val,1.7,0.4\n5,val,,0.2\n";
        let log = TrainingLog::from_reader(text.as_bytes(), "metrics.csv").unwrap();
        assert_eq!(log.metric_names, vec!["f1"]);
        assert_eq!(log.splits(), vec!["train", "val"]);
        assert_eq!(log.series("train", "loss"), vec![(0, 2.5), (10, 1.5)]);
        assert_eq!(log.series("val", "f1"), vec![(5, 0.2), (10, 0.4)]);
        assert_eq!(log.series("val", "loss"), vec![(10, 1.7)]);
    }

    #[test]
    fn reports_missing_columns_and_bad_numbers_with_lines() {
        let err = TrainingLog::from_reader("step,loss\n1,2\n".as_bytes(), "m.csv").unwrap_err();
        assert!(err.to_string().contains("split"), "{err}");
        let err = TrainingLog::from_reader("step,split,loss\n1,train,x\n".as_bytes(), "m.csv")
            .unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        let err = TrainingLog::from_reader("step,split,loss\n".as_bytes(), "m.csv").unwrap_err();
        assert!(err.to_string().contains("no rows"), "{err}");
    }
}
