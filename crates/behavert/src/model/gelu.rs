//! Exact GELU (the erf form) and its slope for our kernels' passes after a product, with an erf
//! and exp that vectorise (burn calls libm's scalar `erff` per element).

use super::fast_math::{erf, exp};

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
