//! Frame-level classification metrics: confusion matrix, precision, recall, F1, accuracy.
//!
//! Definitions follow scikit-learn with `zero_division=0`: a ratio whose denominator is zero
//! is 0. F1 is computed from counts as `2·tp / (support + predicted)`, as scikit-learn does,
//! so a class with no positives and no predictions has precision = recall = F1 = 0.
//! Frames whose truth is `None` (unlabelled) are dropped before anything is counted.

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::checks::same_len;
use crate::error::{Error, Result};

/// Class names the CalMS21 protocol leaves out of its macro averages.
pub const EXCLUDED_FROM_MACRO: [&str; 2] = ["other", "background"];

/// Counts and scores of one class (or one label of a multi-label problem).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    /// Labelled frames whose truth is this class.
    pub support: usize,
    /// Labelled frames predicted as this class.
    pub predicted: usize,
    /// Frames both true and predicted as this class.
    pub true_positives: usize,
    /// `tp / predicted`, 0 when nothing was predicted.
    pub precision: f64,
    /// `tp / support`, 0 when the class never occurs.
    pub recall: f64,
    /// `2·tp / (support + predicted)`, 0 when both are zero.
    pub f1: f64,
}

impl ClassScores {
    /// Scores from the three counts, with scikit-learn's `zero_division=0`.
    pub fn from_counts(true_positives: usize, support: usize, predicted: usize) -> Self {
        let tp = true_positives as f64;
        Self {
            support,
            predicted,
            true_positives,
            precision: ratio(tp, predicted as f64),
            recall: ratio(tp, support as f64),
            f1: ratio(2.0 * tp, (support + predicted) as f64),
        }
    }
}

/// Unweighted means of per-class scores.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MacroScores {
    /// Mean precision.
    pub precision: f64,
    /// Mean recall.
    pub recall: f64,
    /// Mean F1 (the mean of per-class F1, not the F1 of mean precision and recall).
    pub f1: f64,
    /// Number of classes averaged.
    pub classes: usize,
}

/// `num / den`, or 0 when `den` is 0 (scikit-learn's `zero_division=0`).
pub(crate) fn ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 { 0.0 } else { num / den }
}

/// Checks truth and predictions of single-label frames and yields the labelled pairs.
fn labelled_pairs<'a>(
    truth: &'a [Option<u32>],
    pred: &'a [u32],
    classes: usize,
) -> Result<impl Iterator<Item = (usize, usize)> + 'a> {
    same_len("truth and predictions", truth.len(), pred.len())?;
    if classes == 0 {
        return Err(Error::data("number of classes", "at least 1", 0));
    }
    for (frame, (t, &p)) in truth.iter().zip(pred).enumerate() {
        for (what, id) in [("truth", *t), ("prediction", Some(p))] {
            if let Some(id) = id.filter(|&id| id as usize >= classes) {
                return Err(Error::LabelOutOfRange {
                    what: what.to_string(),
                    frame,
                    id,
                    classes,
                });
            }
        }
    }
    if truth.iter().all(Option::is_none) {
        return Err(Error::empty("truth"));
    }
    Ok(truth
        .iter()
        .zip(pred)
        .filter_map(|(t, &p)| t.map(|t| (t as usize, p as usize))))
}

/// Confusion matrix `[true class, predicted class]` over labelled frames (scikit-learn's layout).
pub fn confusion_matrix(
    truth: &[Option<u32>],
    pred: &[u32],
    classes: usize,
) -> Result<Array2<u64>> {
    let mut matrix = Array2::zeros((classes.max(1), classes.max(1)));
    for (t, p) in labelled_pairs(truth, pred, classes)? {
        matrix[[t, p]] += 1;
    }
    Ok(matrix)
}

/// Per-class precision, recall and F1 from a confusion matrix `[true, predicted]`.
pub fn scores_from_confusion(matrix: ArrayView2<u64>) -> Result<Vec<ClassScores>> {
    if matrix.nrows() != matrix.ncols() {
        return Err(Error::data(
            "confusion matrix",
            "a square matrix",
            format!("{}×{}", matrix.nrows(), matrix.ncols()),
        ));
    }
    Ok((0..matrix.nrows())
        .map(|c| {
            let support = matrix.row(c).sum() as usize;
            let predicted = matrix.column(c).sum() as usize;
            ClassScores::from_counts(matrix[[c, c]] as usize, support, predicted)
        })
        .collect())
}

/// Per-class precision, recall and F1 for classes `0..classes` (scikit-learn's
/// `precision_recall_fscore_support(labels=range(classes), zero_division=0)`).
pub fn precision_recall_f1(
    truth: &[Option<u32>],
    pred: &[u32],
    classes: usize,
) -> Result<Vec<ClassScores>> {
    scores_from_confusion(confusion_matrix(truth, pred, classes)?.view())
}

/// Fraction of labelled frames predicted correctly. Not an official CalMS21 metric.
pub fn accuracy(truth: &[Option<u32>], pred: &[u32], classes: usize) -> Result<f64> {
    let (mut correct, mut total) = (0usize, 0usize);
    for (t, p) in labelled_pairs(truth, pred, classes)? {
        correct += usize::from(t == p);
        total += 1;
    }
    Ok(correct as f64 / total as f64)
}

/// Macro average over all classes except those whose index is in `exclude`.
///
/// Every remaining class counts, including one with no support and no predictions (it
/// contributes zeros), as scikit-learn does when `labels` lists it.
pub fn macro_average(scores: &[ClassScores], exclude: &[usize]) -> Result<MacroScores> {
    let kept: Vec<&ClassScores> = scores
        .iter()
        .enumerate()
        .filter(|(c, _)| !exclude.contains(c))
        .map(|(_, s)| s)
        .collect();
    if kept.is_empty() {
        return Err(Error::empty("macro average (every class excluded)"));
    }
    let n = kept.len() as f64;
    let mean = |f: fn(&ClassScores) -> f64| kept.iter().map(|s| f(s)).sum::<f64>() / n;
    Ok(MacroScores {
        precision: mean(|s| s.precision),
        recall: mean(|s| s.recall),
        f1: mean(|s| s.f1),
        classes: kept.len(),
    })
}

/// Mean of `values` leaving out the indices in `exclude`; error when nothing is left.
pub fn mean_excluding(values: &[f64], exclude: &[usize]) -> Result<f64> {
    let kept: Vec<f64> = values
        .iter()
        .enumerate()
        .filter(|(c, _)| !exclude.contains(c))
        .map(|(_, &v)| v)
        .collect();
    if kept.is_empty() {
        return Err(Error::empty("mean (every class excluded)"));
    }
    Ok(kept.iter().sum::<f64>() / kept.len() as f64)
}

/// Indices of vocabulary entries named `other` or `background` (any case), which CalMS21-style
/// macro averages leave out.
pub fn excluded_classes(vocabulary: &[String]) -> Vec<usize> {
    vocabulary
        .iter()
        .enumerate()
        .filter(|(_, name)| {
            EXCLUDED_FROM_MACRO
                .iter()
                .any(|x| name.trim().eq_ignore_ascii_case(x))
        })
        .map(|(c, _)| c)
        .collect()
}

/// Precision, recall and F1 of the positive class of a binary problem; `None` truth is ignored
/// (scikit-learn's `average="binary"`, `zero_division=0`, on the labelled frames).
pub fn binary_scores(truth: &[Option<bool>], pred: &[bool]) -> Result<ClassScores> {
    same_len("truth and predictions", truth.len(), pred.len())?;
    let (mut tp, mut support, mut predicted, mut labelled) = (0, 0, 0, 0);
    for (t, &p) in truth.iter().zip(pred) {
        if let Some(t) = *t {
            labelled += 1;
            support += usize::from(t);
            predicted += usize::from(p);
            tp += usize::from(t && p);
        }
    }
    if labelled == 0 {
        return Err(Error::empty("truth"));
    }
    Ok(ClassScores::from_counts(tp, support, predicted))
}

/// Checks that a multi-label truth has one row per frame of `cols` entries.
pub(crate) fn check_multilabel_shape(
    truth: &[Vec<Option<bool>>],
    rows: usize,
    cols: usize,
) -> Result<()> {
    same_len("truth and prediction frames", truth.len(), rows)?;
    if let Some(row) = truth.iter().find(|r| r.len() != cols) {
        return Err(Error::length(
            "labels per frame in truth and predictions",
            row.len(),
            cols,
        ));
    }
    Ok(())
}

/// Per-label binary scores of a multi-label problem: `truth[frame][label]` (`None` =
/// unlabelled, ignored for that label only) against `pred[[frame, label]]`.
///
/// A label with no labelled frame at all is an error, since nothing can be said about it.
pub fn multilabel_scores(
    truth: &[Vec<Option<bool>>],
    pred: ArrayView2<bool>,
) -> Result<Vec<ClassScores>> {
    check_multilabel_shape(truth, pred.nrows(), pred.ncols())?;
    (0..pred.ncols())
        .map(|l| {
            let t: Vec<Option<bool>> = truth.iter().map(|r| r[l]).collect();
            let p: Vec<bool> = pred.column(l).to_vec();
            binary_scores(&t, &p).map_err(|e| match e {
                Error::Empty { .. } => Error::empty(format!("truth of label {l}")),
                e => e,
            })
        })
        .collect()
}
