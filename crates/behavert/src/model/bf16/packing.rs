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
    /// The matrix whose row `k` is `row(k)` (`width` values), and `bias` (empty: zeros).
    #[inline(always)]
    pub fn from_rows<'a>(
        depth: usize,
        width: usize,
        row: impl Fn(usize) -> &'a [f32],
        bias: &[f32],
    ) -> Self {
        let mut packed = Self::zeros(depth, width, bias);
        let pairs = packed.pairs();
        let no_row = vec![0.0; width];
        for pair in 0..pairs {
            let low = row(2 * pair);
            let high = if 2 * pair + 1 < depth {
                row(2 * pair + 1)
            } else {
                &no_row
            };
            assert!(
                low.len() == width && high.len() == width,
                "packing: row width"
            );
            for (panel, (low, high)) in low.chunks(PANEL).zip(high.chunks(PANEL)).enumerate() {
                let out = &mut packed.panels[(panel * pairs + pair) * PANEL..][..low.len()];
                for ((out, &low), &high) in out.iter_mut().zip(low).zip(high) {
                    *out = pair_of(low, high);
                }
            }
        }
        packed
    }

    /// The matrix whose column `n` is `column(n)` (`depth` values), and `bias` (empty: zeros):
    /// a column's values are one panel column's pairs.
    #[inline(always)]
    pub fn from_columns<'a>(
        depth: usize,
        width: usize,
        column: impl Fn(usize) -> &'a [f32],
        bias: &[f32],
    ) -> Self {
        let mut packed = Self::zeros(depth, width, bias);
        let pairs = packed.pairs();
        let mut column_pairs = vec![0u32; pairs];
        for n in 0..width {
            let column = column(n);
            assert_eq!(column.len(), depth, "packing: column depth");
            let whole = column.chunks_exact(2);
            if let &[last] = whole.remainder() {
                column_pairs[pairs - 1] = pair_of(last, 0.0);
            }
            for (out, pair) in column_pairs.iter_mut().zip(whole) {
                *out = pair_of(pair[0], pair[1]);
            }
            let panel = &mut packed.panels[n / PANEL * pairs * PANEL..][..pairs * PANEL];
            for (row, &value) in panel.chunks_exact_mut(PANEL).zip(&column_pairs) {
                row[n % PANEL] = value;
            }
        }
        packed
    }

    /// All-zero panels for a `[depth, width]` matrix, and `bias` zero-padded.
    fn zeros(depth: usize, width: usize, bias: &[f32]) -> Self {
        let panel_count = width.div_ceil(PANEL);
        let mut padded = vec![0.0; panel_count * PANEL];
        padded[..bias.len()].copy_from_slice(bias);
        Self {
            depth,
            width,
            panels: vec![0; panel_count * depth.div_ceil(2) * PANEL],
            bias: padded,
        }
    }

    /// Pairs of depth rows: the length of an operand row in bf16 pairs.
    pub fn pairs(&self) -> usize {
        self.depth.div_ceil(2)
    }
}

/// Two values as one bf16 pair, `low` in the low half.
#[inline(always)]
fn pair_of(low: f32, high: f32) -> u32 {
    u32::from(to_bf16(low)) | (u32::from(to_bf16(high)) << 16)
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

    /// Both constructors lay out the same matrix alike, odd depth and a partial panel included.
    #[test]
    fn rows_and_columns_pack_alike() {
        let (depth, width) = (7, 70);
        let value = |k: usize, n: usize| (k * 100 + n) as f32 * 0.25 - 3.0;
        let rows: Vec<Vec<f32>> = (0..depth)
            .map(|k| (0..width).map(|n| value(k, n)).collect())
            .collect();
        let columns: Vec<Vec<f32>> = (0..width)
            .map(|n| (0..depth).map(|k| value(k, n)).collect())
            .collect();
        let by_rows = Packed::from_rows(depth, width, |k| &rows[k], &[1.0]);
        let by_columns = Packed::from_columns(depth, width, |n| &columns[n], &[1.0]);
        assert_eq!(by_rows.panels, by_columns.panels);
        assert_eq!(by_rows.bias, by_columns.bias);
        // Pair 3 of column 65 (second panel): row 6 low, the missing row 7 zero.
        let at = (by_rows.pairs() + 3) * PANEL + 1;
        assert_eq!(by_rows.panels[at], u32::from(to_bf16(value(6, 65))));
    }

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
