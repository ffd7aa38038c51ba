//! The feed-forward's inner activation on the CPU where no gradient is needed: bias and exact
//! GELU in one pass over the matmul's output, in place, with an erf that vectorises. burn adds
//! the bias in one pass and calls libm's scalar `erff` per element in another: an eighth of an
//! inference pass went there.

use burn::nn::Linear;
use burn::tensor::module::linear;
use burn::tensor::{DType, Tensor};

use crate::device::is_cpu;

/// `gelu(linear(x))` (the exact, erf form), fused where it can be: a CPU tensor outside
/// autodiff in f32; elsewhere burn's two passes.
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
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// erf to within 5e-7 of the exact value: an odd over an even polynomial on [-4, 4] (erf is
/// ±1 in f32 beyond), branch-free so the loop above runs in SIMD registers.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let p = [
        -2.726_142_3e-10,
        2.770_681_4e-8,
        -2.101_024e-6,
        -5.692_506_4e-5,
        -7.349_906_3e-4,
        -2.9546e-3,
        -1.609_603_3e-2,
    ]
    .iter()
    .fold(0.0f32, |acc, &c| acc * x2 + c);
    let q = [
        -1.456_607_2e-5,
        -2.133_740_6e-4,
        -1.682_827e-3,
        -7.373_329e-3,
        -1.426_473_9e-2,
    ]
    .iter()
    .fold(0.0f32, |acc, &c| acc * x2 + c);
    x * p / q
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf by its Maclaurin series in f64 (exact to ~1e-11 on [-5, 5]), 1 beyond.
    fn erf_exact(x: f64) -> f64 {
        if x.abs() > 5.0 {
            return x.signum();
        }
        let (mut term, mut sum) = (x, x);
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn erf_matches_the_exact_function_everywhere() {
        let mut worst = 0.0f64;
        for i in -100_000..=100_000 {
            let x = i as f64 * 1e-4;
            worst = worst.max((f64::from(erf(x as f32)) - erf_exact(x)).abs());
        }
        assert!(worst < 5e-7, "largest error {worst:e}");
        assert!((erf(f32::INFINITY) - 1.0).abs() < 2e-7);
        assert!((erf(-1e30) + 1.0).abs() < 2e-7);
        assert!(erf(f32::NAN).is_nan(), "a NaN stays visible");
        // GELU keeps large inputs and silences large negative ones.
        assert!((gelu(30.0) - 30.0).abs() < 1e-5 && gelu(-30.0).abs() < 1e-5);
    }
}
