//! Average precision, step-wise as scikit-learn's `average_precision_score`.
//!
//! `AP = Σₙ (Rₙ − Rₙ₋₁)·Pₙ` over the distinct score thresholds taken from the highest down,
//! with `R₀ = 0`: no interpolation between operating points. Tied scores form one threshold.
//!
//! A class with no positive frame: scikit-learn (1.9) warns and sets recall to 1 at every
//! threshold, which makes every recall step zero, so its AP is **0**. We return 0 as well, and
//! such a class counts as 0 in the mean AP (as in scikit-learn's macro average).

use ndarray::ArrayView2;

use super::checks::{all_finite, same_len};
use super::classification::check_multilabel_shape;
use crate::error::{Error, Result};

/// Average precision of binary `truth` ranked by `scores` (higher = more positive).
pub fn average_precision(truth: &[bool], scores: &[f64]) -> Result<f64> {
    same_len("truth and scores", truth.len(), scores.len())?;
    if truth.is_empty() {
        return Err(Error::empty("truth"));
    }
    all_finite("scores", scores)?;
    let positives = truth.iter().filter(|&&t| t).count();
    if positives == 0 {
        return Ok(0.0);
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let total = positives as f64;
    let (mut tp, mut fp) = (0usize, 0usize);
    let mut previous_recall = 0.0;
    let mut ap = 0.0;
    for (k, &i) in order.iter().enumerate() {
        if truth[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        // One operating point per distinct score: at the last frame of a run of ties.
        let last_of_ties = order
            .get(k + 1)
            .is_none_or(|&next| scores[next] != scores[i]);
        if last_of_ties {
            let recall = tp as f64 / total;
            let precision = tp as f64 / (tp + fp) as f64;
            ap += (recall - previous_recall) * precision;
            previous_recall = recall;
        }
    }
    Ok(ap)
}

/// One-vs-rest average precision of each class on per-frame class probabilities
/// `probs[[frame, class]]`; frames with `None` truth are ignored.
pub fn average_precision_per_class(
    truth: &[Option<u32>],
    probs: ArrayView2<f64>,
) -> Result<Vec<f64>> {
    same_len("truth and probability rows", truth.len(), probs.nrows())?;
    let classes = probs.ncols();
    if classes == 0 {
        return Err(Error::data("probability columns", "at least 1", 0));
    }
    if let Some((frame, id)) = truth
        .iter()
        .enumerate()
        .find_map(|(f, t)| t.filter(|&t| t as usize >= classes).map(|t| (f, t)))
    {
        return Err(Error::LabelOutOfRange {
            what: "truth".into(),
            frame,
            id,
            classes,
        });
    }
    let frames: Vec<usize> = (0..truth.len()).filter(|&f| truth[f].is_some()).collect();
    if frames.is_empty() {
        return Err(Error::empty("truth"));
    }
    (0..classes)
        .map(|c| {
            let t: Vec<bool> = frames.iter().map(|&f| truth[f] == Some(c as u32)).collect();
            let s: Vec<f64> = frames.iter().map(|&f| probs[[f, c]]).collect();
            average_precision(&t, &s)
        })
        .collect()
}

/// Per-label average precision of a multi-label problem; `None` truth entries are ignored for
/// that label only.
pub fn multilabel_average_precision(
    truth: &[Vec<Option<bool>>],
    scores: ArrayView2<f64>,
) -> Result<Vec<f64>> {
    check_multilabel_shape(truth, scores.nrows(), scores.ncols())?;
    (0..scores.ncols())
        .map(|l| {
            let (t, s): (Vec<bool>, Vec<f64>) = truth
                .iter()
                .zip(scores.column(l))
                .filter_map(|(r, &s)| r[l].map(|t| (t, s)))
                .unzip();
            if t.is_empty() {
                return Err(Error::empty(format!("truth of label {l}")));
            }
            average_precision(&t, &s)
        })
        .collect()
}

/// Mean of per-class AP values (mAP), optionally leaving out classes by index.
pub fn mean_average_precision(ap: &[f64], exclude: &[usize]) -> Result<f64> {
    super::classification::mean_excluding(ap, exclude)
}
