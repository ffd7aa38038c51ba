//! Pretraining objective: reconstruct the pose of masked frames (MSE over the observed
//! features of masked frames only, optionally only some features and against smoothed
//! targets).

use burn::tensor::{Device, Tensor};

use super::config::Reconstruct;
use super::error::{Result, TrainError};
use super::losses;
use crate::data::Batch;
use crate::model::BehavErt;

/// Loss weight of each feature named in `names` (column order) under `reconstruct`.
pub fn feature_weights(names: &[String], reconstruct: Reconstruct) -> Vec<f32> {
    names
        .iter()
        .map(|name| match reconstruct {
            Reconstruct::All => 1.0,
            Reconstruct::Coordinates => f32::from(u8::from(!is_velocity(name))),
        })
        .collect()
}

/// Derived velocities are named `individual.keypoint.v<axis>` (distances `distance(..)`).
fn is_velocity(name: &str) -> bool {
    !name.starts_with("distance(")
        && name
            .rsplit_once('.')
            .is_some_and(|(_, last)| matches!(last, "vx" | "vy" | "vz"))
}

/// Masked-frame reconstruction loss of `batch`, which must carry a mask; `feature_weights`
/// (one per feature) scale each feature's squared error.
pub fn loss(
    model: &BehavErt,
    batch: &Batch,
    feature_weights: &[f32],
    device: &Device,
) -> Result<Tensor<1>> {
    let predicted = batch.predicted.as_ref().ok_or_else(|| {
        TrainError::data(
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
            if predicted[i / f] {
                seen * feature_weights[i % f]
            } else {
                0.0
            }
        })
        .collect();
    let targets = batch
        .reconstruction_targets
        .as_ref()
        .unwrap_or(&batch.keypoints);
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
    fn coordinates_leave_out_velocities_but_keep_positions_and_distances() {
        let names: Vec<String> = [
            "resident.nose.x",
            "resident.nose.y",
            "intruder.vx_marker.y",
            "resident.nose.vx",
            "intruder.tail.vy",
            "distance(resident.nose,intruder.nose)",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            feature_weights(&names, Reconstruct::Coordinates),
            [1.0, 1.0, 1.0, 0.0, 0.0, 1.0]
        );
        assert_eq!(feature_weights(&names, Reconstruct::All), [1.0; 6]);
    }
}
