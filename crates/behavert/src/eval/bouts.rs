//! Bout-level metrics: bouts are maximal runs of one label; predicted bouts are matched
//! one-to-one to true bouts of the same label by temporal IoU.
//!
//! Frames whose truth is unlabelled are ignored here too: they break runs in the truth, and
//! the prediction on those frames is dropped (it also breaks the predicted run), so a
//! prediction is never rewarded or penalised on frames nobody labelled.

use serde::{Deserialize, Serialize};

use super::checks::same_len;
use super::classification::ratio;
use crate::error::{Error, Result};

/// Default temporal IoU a predicted bout needs to match a true bout.
pub const DEFAULT_IOU_THRESHOLD: f64 = 0.5;

/// A maximal run of one label over frames `start..end` (end exclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bout {
    /// The class id held throughout.
    pub label: u32,
    /// First frame.
    pub start: usize,
    /// One past the last frame.
    pub end: usize,
}

impl Bout {
    /// Number of frames.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether the bout has no frame (never true for bouts from [`bouts`]).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// Temporal intersection over union with `other` (label ignored).
    pub fn iou(&self, other: &Bout) -> f64 {
        let inter = self
            .end
            .min(other.end)
            .saturating_sub(self.start.max(other.start));
        let union = self.len() + other.len() - inter;
        ratio(inter as f64, union as f64)
    }
}

/// Maximal runs of one label.
pub fn bouts(labels: &[u32]) -> Vec<Bout> {
    let with_gaps: Vec<Option<u32>> = labels.iter().copied().map(Some).collect();
    labelled_bouts(&with_gaps)
}

/// Maximal runs of one label where `None` (unlabelled) frames break runs and form no bout.
pub fn labelled_bouts(labels: &[Option<u32>]) -> Vec<Bout> {
    let mut out: Vec<Bout> = Vec::new();
    let mut open: Option<Bout> = None;
    for (frame, &label) in labels.iter().enumerate() {
        match (open.as_mut(), label) {
            (Some(bout), Some(l)) if bout.label == l => bout.end = frame + 1,
            (_, label) => {
                out.extend(open.take());
                open = label.map(|label| Bout {
                    label,
                    start: frame,
                    end: frame + 1,
                });
            }
        }
    }
    out.extend(open);
    out
}

/// A true bout and the predicted bout matched to it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoutMatch {
    /// The true bout.
    pub truth: Bout,
    /// The predicted bout.
    pub predicted: Bout,
    /// Their temporal IoU.
    pub iou: f64,
}

impl BoutMatch {
    /// Predicted start minus true start, in frames (negative = predicted early).
    pub fn onset_error(&self) -> i64 {
        self.predicted.start as i64 - self.truth.start as i64
    }
}

/// Bout metrics of one class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoutScores {
    /// True bouts of the class.
    pub true_bouts: usize,
    /// Predicted bouts of the class.
    pub predicted_bouts: usize,
    /// Matched pairs.
    pub matched: usize,
    /// `matched / predicted_bouts`, 0 when none predicted.
    pub precision: f64,
    /// `matched / true_bouts`, 0 when none true.
    pub recall: f64,
    /// `2·matched / (true_bouts + predicted_bouts)`, 0 when both are zero.
    pub f1: f64,
    /// Mean |onset error| over matched bouts in frames; `None` when nothing matched.
    pub mean_abs_onset_error: Option<f64>,
    /// Mean signed onset error (predicted − true start) in frames; `None` when nothing matched.
    pub mean_onset_error: Option<f64>,
}

/// Bout metrics of every class with the underlying matches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoutReport {
    /// IoU threshold used for matching.
    pub iou_threshold: f64,
    /// Per-class scores, indexed by class id.
    pub per_class: Vec<BoutScores>,
    /// Every matched pair, ordered by true bout start.
    pub matches: Vec<BoutMatch>,
}

/// Matches predicted to true bouts one-to-one, same label only, IoU ≥ `threshold`: all
/// candidate pairs are taken greedily from the highest IoU down (ties: earlier true bout, then
/// earlier predicted bout), skipping pairs whose either side is already matched.
pub fn match_bouts(truth: &[Bout], predicted: &[Bout], threshold: f64) -> Result<Vec<BoutMatch>> {
    if !(threshold > 0.0 && threshold <= 1.0) {
        return Err(Error::data("IoU threshold", "a value in (0, 1]", threshold));
    }
    let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
    // Both lists are sorted by start, so a sweep would do; bouts per recording are few
    // enough that the plain double loop over same-label pairs stays cheap.
    for (i, t) in truth.iter().enumerate() {
        for (j, p) in predicted.iter().enumerate() {
            if t.label == p.label {
                let iou = t.iou(p);
                if iou >= threshold {
                    candidates.push((iou, i, j));
                }
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut true_used = vec![false; truth.len()];
    let mut pred_used = vec![false; predicted.len()];
    let mut matches = Vec::new();
    for (iou, i, j) in candidates {
        if !true_used[i] && !pred_used[j] {
            true_used[i] = true;
            pred_used[j] = true;
            matches.push(BoutMatch {
                truth: truth[i],
                predicted: predicted[j],
                iou,
            });
        }
    }
    matches.sort_by_key(|m| (m.truth.start, m.predicted.start));
    Ok(matches)
}

/// Bout precision, recall, F1 and onset error per class for one recording.
pub fn bout_metrics(
    truth: &[Option<u32>],
    pred: &[u32],
    classes: usize,
    iou_threshold: f64,
) -> Result<BoutReport> {
    same_len("truth and predictions", truth.len(), pred.len())?;
    for (what, ids) in [
        ("truth", truth.iter().flatten().collect::<Vec<_>>()),
        ("prediction", pred.iter().collect()),
    ] {
        if let Some((frame, &&id)) = ids
            .iter()
            .enumerate()
            .find(|(_, id)| ***id as usize >= classes)
        {
            return Err(Error::LabelOutOfRange {
                what: what.into(),
                frame,
                id,
                classes,
            });
        }
    }
    if truth.iter().all(Option::is_none) {
        return Err(Error::empty("truth"));
    }
    let masked: Vec<Option<u32>> = truth.iter().zip(pred).map(|(t, &p)| t.map(|_| p)).collect();
    let true_bouts = labelled_bouts(truth);
    let pred_bouts = labelled_bouts(&masked);
    let matches = match_bouts(&true_bouts, &pred_bouts, iou_threshold)?;
    let count = |bouts: &[Bout]| {
        let mut n = vec![0usize; classes];
        for b in bouts {
            n[b.label as usize] += 1;
        }
        n
    };
    Ok(BoutReport::from_counts(
        iou_threshold,
        &count(&true_bouts),
        &count(&pred_bouts),
        matches,
    ))
}

impl BoutReport {
    /// Per-class scores from bout counts and the matched pairs.
    fn from_counts(
        iou_threshold: f64,
        true_bouts: &[usize],
        predicted_bouts: &[usize],
        matches: Vec<BoutMatch>,
    ) -> Self {
        let per_class = true_bouts
            .iter()
            .zip(predicted_bouts)
            .enumerate()
            .map(|(c, (&n_true, &n_pred))| {
                let errors: Vec<f64> = matches
                    .iter()
                    .filter(|m| m.truth.label as usize == c)
                    .map(|m| m.onset_error() as f64)
                    .collect();
                let n = errors.len();
                let mean = |f: fn(f64) -> f64| {
                    (n > 0).then(|| errors.iter().map(|&e| f(e)).sum::<f64>() / n as f64)
                };
                BoutScores {
                    true_bouts: n_true,
                    predicted_bouts: n_pred,
                    matched: n,
                    precision: ratio(n as f64, n_pred as f64),
                    recall: ratio(n as f64, n_true as f64),
                    f1: ratio(2.0 * n as f64, (n_true + n_pred) as f64),
                    mean_abs_onset_error: mean(f64::abs),
                    mean_onset_error: mean(|e| e),
                }
            })
            .collect();
        Self {
            iou_threshold,
            per_class,
            matches,
        }
    }

    /// Pools the bout reports of several recordings (same classes, same threshold): counts
    /// and matches are summed, then the scores recomputed. Matches keep their own recording's
    /// frame numbers.
    pub fn pool(reports: &[BoutReport]) -> Result<BoutReport> {
        let first = reports
            .first()
            .ok_or_else(|| Error::empty("bout reports"))?;
        let classes = first.per_class.len();
        let mut n_true = vec![0usize; classes];
        let mut n_pred = vec![0usize; classes];
        let mut matches = Vec::new();
        for r in reports {
            same_len("classes of bout reports", classes, r.per_class.len())?;
            if r.iou_threshold != first.iou_threshold {
                return Err(Error::data(
                    "IoU threshold of pooled bout reports",
                    first.iou_threshold.to_string(),
                    r.iou_threshold,
                ));
            }
            for (c, s) in r.per_class.iter().enumerate() {
                n_true[c] += s.true_bouts;
                n_pred[c] += s.predicted_bouts;
            }
            matches.extend_from_slice(&r.matches);
        }
        Ok(Self::from_counts(
            first.iou_threshold,
            &n_true,
            &n_pred,
            matches,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iou_of_bouts() {
        let a = Bout {
            label: 0,
            start: 0,
            end: 4,
        };
        let b = Bout {
            label: 0,
            start: 2,
            end: 6,
        };
        assert_eq!(a.iou(&b), 2.0 / 6.0);
        assert_eq!(
            a.iou(&Bout {
                label: 0,
                start: 4,
                end: 5
            }),
            0.0
        );
        assert_eq!(a.iou(&a), 1.0);
    }

    #[test]
    fn pooled_bout_reports_sum_counts() {
        let r1 = bout_metrics(&[Some(1), Some(1)], &[1, 1], 2, 0.5).unwrap();
        let r2 = bout_metrics(&[Some(1), Some(0)], &[0, 0], 2, 0.5).unwrap();
        let pooled = BoutReport::pool(&[r1, r2]).unwrap();
        let c1 = &pooled.per_class[1];
        assert_eq!((c1.true_bouts, c1.predicted_bouts, c1.matched), (2, 1, 1));
        assert_eq!(c1.recall, 0.5);
        assert!(BoutReport::pool(&[]).is_err());
    }
}
