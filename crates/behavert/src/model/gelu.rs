//! The feed-forward's inner activation on the CPU where no gradient is needed: bias and exact
//! GELU in one pass over the matmul's output, in place, with an erf that vectorises. burn adds
//! the bias in one pass and calls libm's scalar `erff` per element in another: an eighth of an
//! inference pass went there.

use burn::nn::Linear;
use burn::tensor::module::linear;
use burn::tensor::{DType, Tensor};

use super::fast_math::{erf, exp};
use crate::device::is_cpu;

/// `gelu(linear(x))` (the exact, erf form) where our kernel does not run: in one pass over
/// burn's product for a CPU tensor outside autodiff in f32; elsewhere burn's two passes.
pub fn linear_gelu(layer: &Linear, x: Tensor<3>) -> Tensor<3> {
    let device = x.device();
    if !is_cpu(&device) || device.is_autodiff() || x.dtype() != DType::F32 {
        return burn::tensor::activation::gelu(layer.forward(x));
    }
    let product = linear(x, layer.weight.val(), None);
    let width = product.dims()[2];
    let bias = layer.bias.as_ref().map(|b| b.val().into_data());
    let bias = bias.as_ref().and_then(|b| b.as_slice::<f32>().ok());
    let mut data = product.into_data();
    let (Ok(values), Some(bias)) = (data.as_mut_slice::<f32>(), bias) else {
        // Not plain f32 memory after all, or no bias: burn's passes.
        let product = Tensor::from_data(data, &device);
        let product = match &layer.bias {
            Some(bias) => product + bias.val().unsqueeze(),
            None => product,
        };
        return burn::tensor::activation::gelu(product);
    };
    for row in values.chunks_exact_mut(width) {
        row.iter_mut()
            .zip(bias)
            .for_each(|(v, b)| *v = gelu(*v + b));
    }
    Tensor::from_data(data, &device)
}

/// Exact GELU of every value, in place.
#[inline(always)]
pub fn gelu_in_place(values: &mut [f32]) {
    values.iter_mut().for_each(|v| *v = gelu(*v));
}

/// `x Φ(x) = x (1 + erf(x / √2)) / 2`.
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// GELU's slope at `x`: `Φ(x) + x φ(x)`, φ the standard normal density.
#[inline(always)]
pub fn gelu_slope(x: f32) -> f32 {
    // 1 / √(2π)
    const DENSITY_SCALE: f32 = 0.398_942_3;
    let cumulative = 0.5 * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2));
    cumulative + x * DENSITY_SCALE * exp(-0.5 * x * x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gelu_keeps_large_inputs_and_silences_large_negative_ones() {
        assert!((gelu(30.0) - 30.0).abs() < 1e-5 && gelu(-30.0).abs() < 1e-5);
        assert!((gelu_slope(30.0) - 1.0).abs() < 1e-6 && gelu_slope(-30.0).abs() < 1e-6);
    }

    #[test]
    fn the_slope_is_the_derivative() {
        for i in -800..=800 {
            let x = i as f64 * 0.01;
            let step = 1e-3;
            let (above, below) = (gelu((x + step) as f32), gelu((x - step) as f32));
            let numeric = (f64::from(above) - f64::from(below)) / (2.0 * step);
            let slope = f64::from(gelu_slope(x as f32));
            assert!(
                (slope - numeric).abs() < 2e-3,
                "x {x}: {slope} against {numeric}"
            );
        }
    }
}
