//! Elementary functions in branch-free f32 arithmetic, so loops over them vectorise: libm's
//! `erff` and `expf` are a call per element.

/// erf to within 5e-7 of the exact value: an odd over an even polynomial on [-4, 4] (erf is
/// ±1 in f32 beyond).
#[inline(always)]
pub fn erf(x: f32) -> f32 {
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

/// eˣ for x ≤ 0 within 2 ulp: 2ⁿ from the exponent bits times a polynomial on the remainder.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const ROUNDING: f32 = 12_582_912.0;
    // Not `max`, which would turn a NaN into a weight.
    let x = if x < -87.0 { -87.0 } else { x };
    // Adding 1.5 × 2²³ rounds to an integer held in the low mantissa bits: n as a float, and as
    // bits without a float-to-integer conversion (Rust's saturating `as` keeps loops scalar).
    let shifted = x * std::f32::consts::LOG2_E + ROUNDING;
    let n = shifted - ROUNDING;
    let n_bits = shifted.to_bits().wrapping_sub(ROUNDING.to_bits());
    // ln 2 in two parts, so n ln 2 is exact enough to subtract.
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let p = [
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ]
    .iter()
    .fold(0.0f32, |acc, &c| acc * r + c);
    p * f32::from_bits(n_bits.wrapping_add(127) << 23)
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
    }

    #[test]
    fn exp_matches_the_standard_library() {
        let mut worst = 0.0f64;
        for i in 0..=870_000 {
            let x = -(i as f32) * 1e-4;
            let exact = f64::from(x).exp();
            worst = worst.max((f64::from(exp(x)) - exact).abs() / exact);
        }
        assert!(worst < 3e-7, "largest relative error {worst:e}");
        assert!(exp(f32::MIN) < 1e-37);
        assert!(exp(f32::NAN).is_nan(), "a NaN stays visible");
    }
}
