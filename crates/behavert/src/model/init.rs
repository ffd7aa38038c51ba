//! BERT's initialisation: normal(0, 0.02) weights, zero biases.

use burn::module::{Initializer, Param};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};

/// Standard deviation of BERT's initial weights (`initializer_range`).
pub const INITIALIZER_RANGE: f64 = 0.02;

/// The normal(0, 0.02) initializer.
pub fn bert_normal() -> Initializer {
    Initializer::Normal {
        mean: 0.0,
        std: INITIALIZER_RANGE,
    }
}

/// A linear layer with BERT's initialisation.
pub fn bert_linear(inputs: usize, outputs: usize, device: &Device) -> Linear {
    let mut linear = LinearConfig::new(inputs, outputs)
        .with_initializer(bert_normal())
        .init(device);
    linear.bias = Some(Param::from_tensor(Tensor::zeros([outputs], device)));
    linear
}
