//! Dropout as burn's [`Dropout`] applies it (same condition, same scaling), with the mask
//! drawn in bulk from a ChaCha8 stream seeded from the device's generator: the embeddings', and
//! the encoder's where our kernels do not run (theirs is [`super::packed`]'s hash dropout). burn's own draws
//! each element through a fresh Bernoulli sampler: a sixth of a CPU training step went there.

use burn::nn::Dropout;
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `x` with each element zeroed with the layer's probability and the rest scaled up, while
/// the layer trains on an autodiff device; `x` itself otherwise.
pub fn dropout<const D: usize>(layer: &Dropout, x: Tensor<D>) -> Tensor<D> {
    let device = x.device();
    if !applies(layer, &device) {
        return x;
    }
    if !crate::device::is_cpu(&device) {
        // A mask made on the host would cross the bus every step: the GPU draws its own.
        return layer.forward(x);
    }
    let keep = 1.0 - layer.prob;
    // u32 draws below `threshold` keep their element: P = threshold / 2^32 = keep.
    let threshold = (keep * 4_294_967_296.0).min(u32::MAX as f64) as u32;
    let scale = (1.0 / keep) as f32;
    let shape = x.shape();
    // Drawn in one call, then turned into factors in a loop that vectorises.
    let mut draws = vec![0u32; shape.num_elements()];
    ChaCha8Rng::seed_from_u64(device_seed(&device)).fill(&mut draws[..]);
    let mask: Vec<f32> = draws
        .iter()
        .map(|&draw| if draw < threshold { scale } else { 0.0 })
        .collect();
    x * Tensor::<D>::from_data(TensorData::new(mask, shape), &device)
}

/// Whether `layer` drops anything on `device`: while it trains, on an autodiff device, with a
/// probability above 0 (burn's own condition).
pub fn applies(layer: &Dropout, device: &Device) -> bool {
    layer.training.is_enabled() && device.is_autodiff() && layer.prob > 0.0
}

/// A seed from the device's generator, so `Device::seed` makes a run repeatable.
pub fn device_seed(device: &Device) -> u64 {
    let halves = Tensor::<1>::random([2], Distribution::Uniform(0.0, 1.0), device)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap_or_default();
    halves
        .iter()
        .fold(0u64, |seed, half| (seed << 32) | u64::from(half.to_bits()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::DropoutConfig;

    fn dropped(layer: &Dropout, device: &Device) -> Vec<f32> {
        dropout(layer, Tensor::<1>::ones([100_000], device))
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    }

    #[test]
    fn drops_the_layer_s_share_scales_the_rest_and_repeats_with_the_seed() {
        let _turn = crate::device::generator_turn();
        let device = Device::flex().autodiff();
        let layer = DropoutConfig::new(0.25).init();
        device.seed(7);
        let first = dropped(&layer, &device);
        let zeros = first.iter().filter(|v| **v == 0.0).count() as f64 / first.len() as f64;
        assert!((zeros - 0.25).abs() < 0.01, "dropped share {zeros}");
        assert!(
            first
                .iter()
                .all(|v| *v == 0.0 || (*v - 1.0 / 0.75).abs() < 1e-6)
        );
        assert_ne!(first, dropped(&layer, &device), "a new mask per call");
        device.seed(7);
        assert_eq!(
            first,
            dropped(&layer, &device),
            "the same seed, the same masks"
        );
        // Outside autodiff (inference) dropout is the identity.
        assert!(dropped(&layer, &Device::flex()).iter().all(|v| *v == 1.0));
    }
}
