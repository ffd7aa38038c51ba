//! Regression metrics: mean squared error and R², as scikit-learn computes them.
//!
//! Targets that are NaN are unlabelled (MABe22's convention) and are dropped with their
//! prediction; a NaN or infinite prediction on a labelled frame is an error.

use super::checks::{all_finite, same_len};
use crate::error::{Error, Result};

/// The labelled (truth, prediction) pairs, checked.
fn labelled(truth: &[f64], pred: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
    same_len("truth and predictions", truth.len(), pred.len())?;
    let (t, p): (Vec<f64>, Vec<f64>) = truth
        .iter()
        .zip(pred)
        .filter(|(t, _)| !t.is_nan())
        .map(|(&t, &p)| (t, p))
        .unzip();
    if t.is_empty() {
        return Err(Error::empty("truth"));
    }
    all_finite("truth", &t)?;
    all_finite("predictions", &p)?;
    Ok((t, p))
}

/// Mean squared error over labelled frames.
pub fn mean_squared_error(truth: &[f64], pred: &[f64]) -> Result<f64> {
    let (t, p) = labelled(truth, pred)?;
    Ok(t.iter().zip(&p).map(|(t, p)| (t - p).powi(2)).sum::<f64>() / t.len() as f64)
}

/// Coefficient of determination `1 − SS_res / SS_tot` over labelled frames.
///
/// Constant truth (SS_tot = 0) gives 1 for a perfect prediction and 0 otherwise, like
/// scikit-learn's `r2_score(force_finite=True)`.
pub fn r2_score(truth: &[f64], pred: &[f64]) -> Result<f64> {
    let (t, p) = labelled(truth, pred)?;
    let mean = t.iter().sum::<f64>() / t.len() as f64;
    let ss_res: f64 = t.iter().zip(&p).map(|(t, p)| (t - p).powi(2)).sum();
    let ss_tot: f64 = t.iter().map(|t| (t - mean).powi(2)).sum();
    Ok(if ss_tot != 0.0 {
        1.0 - ss_res / ss_tot
    } else if ss_res == 0.0 {
        1.0
    } else {
        0.0
    })
}
