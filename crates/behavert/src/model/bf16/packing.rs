//! The weights' bf16 layout: panels of [`PANEL`] output columns; a panel holds, for every
//! pair of input rows, its columns' two bf16 side by side (`[panel][pair][column]`, the lower
//! row in the low half), which is how `vdpbf16ps` wants its second operand.

/// Output columns per packed panel: four vectors of 16 f32.
pub const PANEL: usize = 64;

/// A `[depth, width]` matrix and a bias of `width`, packed for the kernel.
pub struct Packed {
    /// Rows of the matrix: the depth of the products.
    pub(super) depth: usize,
    /// Columns: the outputs of a product row.
    pub(super) width: usize,
    /// The matrix as bf16 panels (see the module documentation).
    pub(super) panels: Vec<u32>,
    /// The bias, zero-padded to whole panels.
    pub(super) bias: Vec<f32>,
}

impl Packed {
    /// The matrix whose element `(k, n)` is `value(k, n)`, and `bias` (empty: zeros).
    #[inline(always)]
    pub fn new(
        depth: usize,
        width: usize,
        value: impl Fn(usize, usize) -> f32,
        bias: &[f32],
    ) -> Self {
        let pairs = depth.div_ceil(2);
        let panel_count = width.div_ceil(PANEL);
        let mut panels = vec![0u32; panel_count * pairs * PANEL];
        let at = |k: usize, n: usize| {
            if k < depth {
                u32::from(to_bf16(value(k, n)))
            } else {
                0
            }
        };
        for pair in 0..pairs {
            for n in 0..width {
                let (panel, column) = (n / PANEL, n % PANEL);
                panels[(panel * pairs + pair) * PANEL + column] =
                    at(2 * pair, n) | (at(2 * pair + 1, n) << 16);
            }
        }
        let mut padded = vec![0.0; panel_count * PANEL];
        padded[..bias.len()].copy_from_slice(bias);
        Self {
            depth,
            width,
            panels,
            bias: padded,
        }
    }

    /// Pairs of depth rows: the length of an operand row in bf16 pairs.
    pub fn pairs(&self) -> usize {
        self.depth.div_ceil(2)
    }
}

/// The bf16 nearest `x` (ties to even) as `vcvtneps2bf16` rounds; NaN stays NaN. Branch-free
/// so packing loops vectorise.
#[inline(always)]
pub fn to_bf16(x: f32) -> u16 {
    let bits = x.to_bits();
    let rounded = bits.wrapping_add(0x7fff + ((bits >> 16) & 1)) >> 16;
    let quiet_nan = (bits >> 16) | 0x40;
    (if x.is_nan() { quiet_nan } else { rounded }) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_to_bf16_agrees_with_the_half_crate() {
        let samples = (0..200_000u32)
            .map(|i| f32::from_bits(i.wrapping_mul(2_654_435_761)))
            .chain([
                0.0,
                -0.0,
                1.0,
                f32::MAX,
                f32::MIN,
                f32::INFINITY,
                f32::NEG_INFINITY,
            ]);
        for x in samples {
            let ours = to_bf16(x);
            if x.is_nan() {
                assert!(f32::from_bits(u32::from(ours) << 16).is_nan(), "{x}");
            } else {
                assert_eq!(ours, burn::tensor::bf16::from_f32(x).to_bits(), "{x:e}");
            }
        }
    }
}
