//! The weights' layout: panels of [`PANEL`] output columns; a panel holds, for every depth
//! step (one [`Operand`]: an f32, or a pair of bf16 from two depth rows), its columns' operands
//! side by side (`[panel][step][column]`), which is how the kernels want their second operand.

use std::mem::MaybeUninit;

use rayon::prelude::*;

use super::operand::{Operand, Operands, operands_filled};

/// Output columns per packed panel: four vectors of 16 f32.
pub const PANEL: usize = 64;

/// A `[depth, width]` matrix and a bias of `width`, packed for the kernel.
pub struct Packed<E> {
    /// Rows of the matrix: the depth of the products.
    pub(super) depth: usize,
    /// Columns: the outputs of a product row.
    pub(super) width: usize,
    /// The matrix as panels (see the module documentation).
    pub(super) panels: Operands<E>,
    /// The bias, zero-padded to whole panels.
    pub(super) bias: Vec<f32>,
}

impl<E: Operand> Packed<E> {
    /// The matrix whose row `k` is `row(k)` (`width` values), and `bias` (empty: zeros).
    /// Panels are packed in parallel: in training a gradient `[frames, width]` is packed
    /// every step.
    #[inline(always)]
    pub fn from_rows<'a>(
        depth: usize,
        width: usize,
        row: impl Fn(usize) -> &'a [f32] + Sync,
        bias: &[f32],
    ) -> Self {
        let no_row = vec![0.0; width];
        let rows = |step: usize| {
            let low = row(E::DEPTH * step);
            let high = if E::DEPTH == 2 && 2 * step + 1 < depth {
                row(2 * step + 1)
            } else {
                &no_row
            };
            assert!(
                low.len() == width && high.len() == width,
                "packing: row width"
            );
            (low, high)
        };
        let fill = |panel: usize, out: &mut [MaybeUninit<E>]| {
            let columns = panel * PANEL..(width.min((panel + 1) * PANEL));
            for (step, out) in out.chunks_exact_mut(PANEL).enumerate() {
                let (low, high) = rows(step);
                let (low, high) = (&low[columns.clone()], &high[columns.clone()]);
                let (values, padding) = out.split_at_mut(columns.len());
                E::paired_operands(low, high, values);
                padding.iter_mut().for_each(|out| {
                    out.write(E::of(0.0, 0.0));
                });
            }
        };
        // SAFETY: every step's row of a panel is written whole: its columns, then padding.
        unsafe { Self::build(depth, width, bias, fill) }.0
    }

    /// A `[depth, width]` matrix whose panel `p` (`[steps][PANEL]` operands) `fill(p, panel)`
    /// writes, panels in parallel, and `bias` zero-padded; what `fill` returned, by panel.
    /// Not zero-filled first: training packs matrices of megabytes every step.
    ///
    /// # Safety
    /// `fill` writes every operand of the panel it is given.
    pub(super) unsafe fn build<S: Send>(
        depth: usize,
        width: usize,
        bias: &[f32],
        fill: impl Fn(usize, &mut [MaybeUninit<E>]) -> S + Sync,
    ) -> (Self, Vec<S>) {
        let panel_count = width.div_ceil(PANEL);
        let mut padded = vec![0.0; panel_count * PANEL];
        padded[..bias.len()].copy_from_slice(bias);
        let panel_size = depth.div_ceil(E::DEPTH) * PANEL;
        // SAFETY: `fill` writes every operand of every panel (the caller's promise).
        let (panels, returned) = unsafe {
            operands_filled(panel_count * panel_size, |panels| {
                panels
                    .par_chunks_mut(panel_size)
                    .enumerate()
                    .map(|(panel, out)| fill(panel, out))
                    .collect()
            })
        };
        let packed = Self {
            depth,
            width,
            panels,
            bias: padded,
        };
        (packed, returned)
    }

    /// Depth steps: the length of an operand row.
    pub fn steps(&self) -> usize {
        self.depth.div_ceil(E::DEPTH)
    }
}

impl Packed<f32> {
    /// The matrix whose row `k` is `row(k)` (`width` values), no bias, and its column sums,
    /// taken while the rows are read for packing (training's bias gradient, from the gradient
    /// the weight gradient packs). Each panel adds its rows in order: the sums repeat bit for
    /// bit, whatever the threads' timing.
    pub fn from_rows_with_sums<'a>(
        depth: usize,
        width: usize,
        row: impl Fn(usize) -> &'a [f32] + Sync,
    ) -> (Self, Vec<f32>) {
        let fill = |panel: usize, out: &mut [MaybeUninit<f32>]| {
            let columns = panel * PANEL..width.min((panel + 1) * PANEL);
            let mut sums = [0.0f32; PANEL];
            for (k, out) in out.chunks_exact_mut(PANEL).enumerate() {
                let row = row(k);
                assert_eq!(row.len(), width, "packing: row width");
                let (values, padding) = out.split_at_mut(columns.len());
                for ((out, sum), &v) in values.iter_mut().zip(&mut sums).zip(&row[columns.clone()])
                {
                    out.write(v);
                    *sum += v;
                }
                padding.iter_mut().for_each(|out| {
                    out.write(0.0);
                });
            }
            sums
        };
        // SAFETY: every step's row of a panel is written whole: its columns, then padding.
        let (packed, sums) = unsafe { Self::build(depth, width, &[], fill) };
        let mut sums = sums.concat();
        sums.truncate(width);
        (packed, sums)
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
    use super::super::kernel::Kernel;
    use super::*;

    /// Packing by rows and by columns lays out the same matrix alike, in bf16 pairs and in
    /// f32 (with AVX-512 and without): odd depths, depths over one block of 16 steps, partial
    /// panels and groups.
    #[test]
    fn rows_and_columns_pack_alike() {
        let kernel = Kernel::detect();
        let value = |k: usize, n: usize| (k * 100 + n) as f32 * 0.25 - 3.0;
        for (depth, width) in [(7, 70), (37, 130)] {
            let rows: Vec<Vec<f32>> = (0..depth)
                .map(|k| (0..width).map(|n| value(k, n)).collect())
                .collect();
            let columns: Vec<Vec<f32>> = (0..width)
                .map(|n| (0..depth).map(|k| value(k, n)).collect())
                .collect();
            if kernel.supports::<u32>() {
                let by_rows = Packed::<u32>::from_rows(depth, width, |k| &rows[k], &[1.0]);
                let by_columns = kernel.pack_columns::<u32>(depth, width, |n| &columns[n], &[1.0]);
                assert_eq!(by_rows.panels[..], by_columns.panels[..], "{depth}×{width}");
                assert_eq!(by_rows.bias, by_columns.bias);
                // The last pair of column 65 (second panel): row `depth - 1` low, the
                // missing row past it zero.
                let at = (by_rows.steps() + depth / 2) * PANEL + 1;
                assert_eq!(by_rows.panels[at], u32::from(to_bf16(value(depth - 1, 65))));
            }
            let by_rows = Packed::<f32>::from_rows(depth, width, |k| &rows[k], &[]);
            assert_eq!(by_rows.panels[(depth + 6) * PANEL + 1], value(6, 65));
            for kernel in kernel.with_portable() {
                let by_columns = kernel.pack_columns::<f32>(depth, width, |n| &columns[n], &[]);
                let name = kernel.name::<f32>();
                assert_eq!(
                    by_rows.panels[..],
                    by_columns.panels[..],
                    "{name} {depth}×{width}"
                );
            }
        }
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
