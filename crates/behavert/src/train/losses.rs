//! Losses that skip what carries no target: unlabelled frames, padding, missing keypoints.
//!
//! burn's `CrossEntropyLoss` has no `ignore_index`, so classification is written out here:
//! log-softmax, gather the target's log-probability, weight it (0 = ignored) and take the
//! weighted mean, which is what PyTorch computes with `weight=` and `ignore_index=`.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

/// Smallest denominator of a weighted mean: with no weight at all the loss is 0, not NaN.
const EMPTY: f64 = 1e-12;

/// Weighted cross-entropy (or focal loss with `focal_gamma`) of `logits` `[n, classes]`
/// against `targets` `[n]`; `weights` `[n]` is the class weight of each labelled row and 0
/// for rows to ignore (their target may be any valid id).
pub fn classification(
    logits: Tensor<2>,
    targets: Tensor<1, Int>,
    weights: Tensor<1>,
    focal_gamma: Option<f64>,
) -> Tensor<1> {
    let [n, _] = logits.dims();
    let picked = log_softmax(logits, 1)
        .gather(1, targets.reshape([n, 1]))
        .reshape([n]);
    let mut per_row = picked.clone().neg();
    if let Some(gamma) = focal_gamma.filter(|g| *g > 0.0) {
        let p = picked.exp();
        per_row = per_row * p.neg().add_scalar(1.0).clamp_min(0.0).powf_scalar(gamma);
    }
    weighted_mean(per_row * weights.clone(), weights)
}

/// Binary cross-entropy with logits, element-wise weighted (0 = unlabelled entry).
pub fn binary_cross_entropy<const D: usize>(
    logits: Tensor<D>,
    targets: Tensor<D>,
    weights: Tensor<D>,
) -> Tensor<1> {
    // max(x, 0) − x·y + log(1 + e^−|x|): no overflow for large |x|.
    let per_entry =
        logits.clone().clamp_min(0.0) - logits.clone() * targets + logits.abs().neg().exp().log1p();
    weighted_mean(per_entry * weights.clone(), weights)
}

/// Mean squared error over entries with weight (0 = missing target or feature).
pub fn squared_error<const D: usize>(
    predictions: Tensor<D>,
    targets: Tensor<D>,
    weights: Tensor<D>,
) -> Tensor<1> {
    let error = predictions - targets;
    weighted_mean(error.clone() * error * weights.clone(), weights)
}

fn weighted_mean<const D: usize>(weighted: Tensor<D>, weights: Tensor<D>) -> Tensor<1> {
    weighted.sum() / weights.sum().clamp_min(EMPTY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    fn close(t: Tensor<1>, expected: f32) {
        let value = t.into_scalar::<f32>();
        assert!((value - expected).abs() < 1e-5, "{value} vs {expected}");
    }

    #[test]
    fn ignored_rows_do_not_count() {
        let device = Device::flex();
        let logits = Tensor::<2>::from_data(
            TensorData::new(vec![2.0f32, 0.0, 0.0, 5.0], [2, 2]),
            &device,
        );
        let targets = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 0], [2]), &device);
        let weights = Tensor::<1>::from_data(TensorData::new(vec![1.0f32, 0.0], [2]), &device);
        let expected = (1.0 + (-2.0f32).exp()).ln();
        close(
            classification(logits.clone(), targets.clone(), weights.clone(), None),
            expected,
        );
        let p = 1.0 / (1.0 + (-2.0f32).exp());
        close(
            classification(logits, targets, weights, Some(2.0)),
            (1.0 - p).powi(2) * expected,
        );
    }

    #[test]
    fn bce_and_mse_skip_zero_weights() {
        let device = Device::flex();
        let t = |v: Vec<f32>| Tensor::<1>::from_data(TensorData::new(v, [2]), &device);
        close(
            binary_cross_entropy(t(vec![0.0, 100.0]), t(vec![1.0, 0.0]), t(vec![1.0, 0.0])),
            std::f32::consts::LN_2,
        );
        close(
            squared_error(t(vec![1.0, 9.0]), t(vec![3.0, 0.0]), t(vec![1.0, 0.0])),
            4.0,
        );
    }
}
