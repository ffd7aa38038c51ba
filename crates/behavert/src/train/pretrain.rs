//! Pretraining objective: reconstruct the pose of masked frames (MSE over the observed
//! features of masked frames only).

use burn::tensor::{Device, Tensor};

use super::error::{Result, TrainError};
use super::losses;
use crate::data::Batch;
use crate::model::BehavErt;

/// Masked-frame reconstruction loss of `batch`, which must carry a mask.
pub fn loss(model: &BehavErt, batch: &Batch, device: &Device) -> Result<Tensor<1>> {
    let masked = batch.masked.as_ref().ok_or_else(|| {
        TrainError::data(
            "pretraining batch",
            "masked frames",
            "a batch without a mask",
        )
    })?;
    let hidden = model.encode(&batch.input(device))?;
    let reconstruction = model.reconstruct(&hidden);
    // Weight = observed feature of a masked frame; padding is never masked.
    let f = batch.features;
    let weights: Vec<f32> = batch
        .observed
        .iter()
        .enumerate()
        .map(|(i, &seen)| if masked[i / f] { seen } else { 0.0 })
        .collect();
    Ok(losses::squared_error(
        reconstruction,
        batch.features_tensor(&batch.keypoints, device),
        batch.features_tensor(&weights, device),
    ))
}

/// Mean reconstruction loss of `model` over `batches`.
pub fn evaluate(model: &BehavErt, batches: &[Batch], device: &Device) -> Result<f64> {
    let mut sum = 0.0;
    for batch in batches {
        sum += f64::from(loss(model, batch, device)?.into_scalar::<f32>());
    }
    Ok(sum / batches.len().max(1) as f64)
}
