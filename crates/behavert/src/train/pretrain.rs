//! Pretraining objective: reconstruct the pose of masked frames (MSE over the observed
//! features of masked frames only, optionally only some features and against smoothed
//! targets).

use behavert_pose::preprocess::FeatureKind;
use burn::tensor::{Device, Tensor};

use super::config::Reconstruct;
use super::losses;
use crate::error::{Error, Result};
use crate::model::BehavErt;
use crate::train::data::Batch;

/// Loss weight of each feature of kind `kinds` (column order) under `reconstruct`.
pub fn feature_weights(kinds: &[FeatureKind], reconstruct: Reconstruct) -> Vec<f32> {
    use FeatureKind::*;
    kinds
        .iter()
        .map(|kind| {
            let scored = match reconstruct {
                Reconstruct::All => true,
                Reconstruct::Coordinates => matches!(kind, Coordinate | Measure),
                Reconstruct::Frame => matches!(kind, Coordinate | Velocity | Measure),
            };
            f32::from(u8::from(scored))
        })
        .collect()
}

/// Masked-frame reconstruction loss of `batch`, which must carry a mask; `feature_weights`
/// (one per feature) scale each feature's squared error.
pub fn loss(
    model: &BehavErt,
    batch: &Batch,
    feature_weights: &[f32],
    device: &Device,
) -> Result<Tensor<1>> {
    let frames = batch.masked_frames().ok_or_else(|| {
        Error::data(
            "pretraining batch",
            "masked frames",
            "a batch without a mask",
        )
    })?;
    let hidden = model.encode(&batch.input(device))?;
    let reconstruction = model.reconstruct(&hidden);
    // Weight = observed feature of a frame chosen for reconstruction; padding never is.
    let f = batch.features;
    let weights: Vec<f32> = batch
        .observed
        .iter()
        .enumerate()
        .map(|(i, &seen)| {
            if frames.predicted[i / f] {
                seen * feature_weights[i % f]
            } else {
                0.0
            }
        })
        .collect();
    let targets = frames.targets.as_ref().unwrap_or(&batch.keypoints);
    Ok(losses::squared_error(
        reconstruction,
        batch.features_tensor(targets, device),
        batch.features_tensor(&weights, device),
    ))
}

/// Mean reconstruction loss of `model` over `batches`.
pub fn evaluate(
    model: &BehavErt,
    batches: &[Batch],
    feature_weights: &[f32],
    device: &Device,
) -> Result<f64> {
    let mut sum = 0.0;
    for batch in batches {
        sum += f64::from(loss(model, batch, feature_weights, device)?.into_scalar::<f32>());
    }
    Ok(sum / batches.len().max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconstruction_choices_score_the_kinds_they_name() {
        use FeatureKind::*;
        let kinds = [Coordinate, Velocity, Measure, Flag, Context];
        assert_eq!(
            feature_weights(&kinds, Reconstruct::Coordinates),
            [1.0, 0.0, 1.0, 0.0, 0.0]
        );
        assert_eq!(
            feature_weights(&kinds, Reconstruct::Frame),
            [1.0, 1.0, 1.0, 0.0, 0.0]
        );
        assert_eq!(feature_weights(&kinds, Reconstruct::All), [1.0; 5]);
    }
}
