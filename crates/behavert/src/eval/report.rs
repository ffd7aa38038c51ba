//! `MetricsReport`: everything `metrics.json` holds, and the `per_class.csv` writer.

use std::io::Write;

use ndarray::{Array2, ArrayView2, Axis, concatenate};
use serde::{Deserialize, Serialize};

use super::bouts::{BoutReport, bout_metrics};
use super::checks::same_len;
use super::classification::{
    ClassScores, accuracy, confusion_matrix, excluded_classes, macro_average, mean_excluding,
    scores_from_confusion,
};
use super::ranking::average_precision_per_class;
use crate::error::{Error, Result};

/// One class of the report (one row of `per_class.csv`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassRow {
    /// Behaviour name from the vocabulary.
    pub name: String,
    /// Labelled frames of this class.
    pub support: usize,
    /// Frames predicted as this class.
    pub predicted: usize,
    /// Frame-level precision.
    pub precision: f64,
    /// Frame-level recall.
    pub recall: f64,
    /// Frame-level F1.
    pub f1: f64,
    /// One-vs-rest average precision; `None` without probabilities.
    pub average_precision: Option<f64>,
}

/// Unweighted means over a set of classes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MacroRow {
    /// Names of the classes left out (empty for the all-class average).
    pub excluded: Vec<String>,
    /// Number of classes averaged.
    pub classes: usize,
    /// Mean precision.
    pub precision: f64,
    /// Mean recall.
    pub recall: f64,
    /// Mean F1.
    pub f1: f64,
    /// Mean average precision; `None` without probabilities.
    pub mean_average_precision: Option<f64>,
}

/// One recording's truth (`None` = unlabelled), predictions and optional probabilities.
#[derive(Clone, Debug)]
pub struct RecordingScores<'a> {
    /// Per-frame truth.
    pub truth: &'a [Option<u32>],
    /// Per-frame predicted class ids.
    pub pred: &'a [u32],
    /// Per-frame class probabilities `[frame, class]`, if any.
    pub probs: Option<ArrayView2<'a, f64>>,
}

/// The frame- and bout-level evaluation of one set of predictions (`metrics.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsReport {
    /// Labelled frames scored (unlabelled frames are not counted anywhere).
    pub labelled_frames: usize,
    /// Per-class rows, in vocabulary order.
    pub classes: Vec<ClassRow>,
    /// Macro average over every class of the vocabulary.
    pub macro_all: MacroRow,
    /// Macro average leaving out `other`/`background` (the CalMS21 headline); `None` when the
    /// vocabulary has no such class or nothing else.
    pub macro_excluding_other: Option<MacroRow>,
    /// Fraction of labelled frames predicted correctly (not an official CalMS21 metric).
    pub accuracy: f64,
    /// Confusion matrix, `[true class][predicted class]`.
    pub confusion_matrix: Vec<Vec<u64>>,
    /// Bout-level metrics, when computed.
    pub bouts: Option<BoutReport>,
}

impl MetricsReport {
    /// Frame-level report of `pred` against `truth` (`None` = unlabelled), with average
    /// precision when per-frame class probabilities `probs[[frame, class]]` are given.
    pub fn compute(
        vocabulary: &[String],
        truth: &[Option<u32>],
        pred: &[u32],
        probs: Option<ArrayView2<f64>>,
    ) -> Result<Self> {
        let classes = vocabulary.len();
        let matrix = confusion_matrix(truth, pred, classes)?;
        let scores: Vec<ClassScores> = scores_from_confusion(matrix.view())?;
        let ap = match probs {
            Some(p) => {
                same_len("probability columns and vocabulary", p.ncols(), classes)?;
                Some(average_precision_per_class(truth, p)?)
            }
            None => None,
        };
        let classes_rows = vocabulary
            .iter()
            .zip(&scores)
            .enumerate()
            .map(|(c, (name, s))| ClassRow {
                name: name.clone(),
                support: s.support,
                predicted: s.predicted,
                precision: s.precision,
                recall: s.recall,
                f1: s.f1,
                average_precision: ap.as_ref().map(|ap| ap[c]),
            })
            .collect();
        let macro_row = |exclude: &[usize]| -> Result<MacroRow> {
            let m = macro_average(&scores, exclude)?;
            Ok(MacroRow {
                excluded: exclude.iter().map(|&c| vocabulary[c].clone()).collect(),
                classes: m.classes,
                precision: m.precision,
                recall: m.recall,
                f1: m.f1,
                mean_average_precision: ap
                    .as_ref()
                    .map(|ap| mean_excluding(ap, exclude))
                    .transpose()?,
            })
        };
        let excluded = excluded_classes(vocabulary);
        let macro_excluding_other = if excluded.is_empty() || excluded.len() == classes {
            None
        } else {
            Some(macro_row(&excluded)?)
        };
        Ok(Self {
            labelled_frames: truth.iter().filter(|t| t.is_some()).count(),
            classes: classes_rows,
            macro_all: macro_row(&[])?,
            macro_excluding_other,
            accuracy: accuracy(truth, pred, classes)?,
            confusion_matrix: matrix.rows().into_iter().map(|r| r.to_vec()).collect(),
            bouts: None,
        })
    }

    /// Frame metrics pooled over every frame of every recording (as CalMS21 pools its test
    /// videos) plus bout metrics matched within each recording and pooled. Probabilities must
    /// be given for every recording or for none.
    pub fn evaluate_recordings(
        vocabulary: &[String],
        recordings: &[RecordingScores],
        iou_threshold: f64,
    ) -> Result<Self> {
        if recordings.is_empty() {
            return Err(Error::empty("recordings"));
        }
        let with_probs = recordings.iter().filter(|r| r.probs.is_some()).count();
        if with_probs != 0 && with_probs != recordings.len() {
            return Err(Error::data(
                "recordings",
                "probabilities for every recording or for none",
                format!("{with_probs} of {}", recordings.len()),
            ));
        }
        let truth: Vec<Option<u32>> = recordings.iter().flat_map(|r| r.truth).copied().collect();
        let pred: Vec<u32> = recordings.iter().flat_map(|r| r.pred).copied().collect();
        let probs: Option<Array2<f64>> = if with_probs > 0 {
            let views: Vec<ArrayView2<f64>> = recordings.iter().filter_map(|r| r.probs).collect();
            Some(concatenate(Axis(0), &views).map_err(|e| {
                Error::data("probabilities", "the same number of columns everywhere", e)
            })?)
        } else {
            None
        };
        let bouts = recordings
            .iter()
            .filter(|r| r.truth.iter().any(Option::is_some))
            .map(|r| bout_metrics(r.truth, r.pred, vocabulary.len(), iou_threshold))
            .collect::<Result<Vec<_>>>()?;
        let report = Self::compute(vocabulary, &truth, &pred, probs.as_ref().map(|p| p.view()))?;
        report.with_bouts(BoutReport::pool(&bouts)?)
    }

    /// The report with bout metrics attached (their classes must be the report's).
    pub fn with_bouts(mut self, bouts: BoutReport) -> Result<Self> {
        same_len(
            "bout classes and report classes",
            bouts.per_class.len(),
            self.classes.len(),
        )?;
        self.bouts = Some(bouts);
        Ok(self)
    }

    /// Pretty-printed JSON (the content of `metrics.json`).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map_err(|e| Error::data("metrics report", "a JSON-serialisable report", e))
    }

    /// Writes `per_class.csv`: a header, then one row per class; empty cells where a value
    /// was not computed (no probabilities, no bouts, no matched bout).
    pub fn write_per_class_csv<W: Write>(&self, mut out: W) -> std::io::Result<()> {
        writeln!(
            out,
            "class,support,predicted,precision,recall,f1,average_precision,\
             bout_true,bout_predicted,bout_precision,bout_recall,bout_f1,mean_abs_onset_error"
        )?;
        let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        for (c, row) in self.classes.iter().enumerate() {
            let bout = self.bouts.as_ref().and_then(|b| b.per_class.get(c));
            writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{},{}",
                csv_field(&row.name),
                row.support,
                row.predicted,
                row.precision,
                row.recall,
                row.f1,
                opt(row.average_precision),
                bout.map(|b| b.true_bouts.to_string()).unwrap_or_default(),
                bout.map(|b| b.predicted_bouts.to_string())
                    .unwrap_or_default(),
                opt(bout.map(|b| b.precision)),
                opt(bout.map(|b| b.recall)),
                opt(bout.map(|b| b.f1)),
                opt(bout.and_then(|b| b.mean_abs_onset_error)),
            )?;
        }
        Ok(())
    }
}

/// A CSV cell: quoted (with doubled quotes) when it holds a comma, quote or line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
