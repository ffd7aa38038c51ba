//! Matrices packed across their layout: by columns (a transposed weight matrix for training's
//! input gradient, attention's keys and values) and bf16 pairs down the frames (a weight
//! gradient's activations). Both move 16 × 16 blocks of 32-bit operands through AVX-512
//! registers: read as 16 vectors, transposed, written as 16. Packing by columns one operand
//! at a time took about twice as long in f32 and three to four times in bf16 pairs (measured
//! on `[768, 3072]` and `[3072, 768]`, docs/benchmarks.md).

use std::arch::x86_64::*;
use std::mem::MaybeUninit;
use std::ops::Range;

use rayon::prelude::*;

use super::amx;
use super::kernel::Kernel;
use super::operand::{Operand, Operands, operands_filled};
use super::packing::{PANEL, Packed};

/// Rows and columns of a transposed block: one vector of 32-bit lanes.
pub const LANES: usize = 16;

impl Kernel {
    /// [`Kernel::pack_columns`] in registers, sixteen columns at a time (AVX-512).
    pub(super) fn pack_columns_in_registers<'a, E: Operand>(
        self,
        depth: usize,
        width: usize,
        column: impl Fn(usize) -> &'a [f32] + Sync,
        bias: &[f32],
    ) -> Packed<E> {
        assert!(self.avx512, "packing in registers without AVX-512");
        let steps = depth.div_ceil(E::DEPTH);
        let fill = |panel: usize, out: &mut [MaybeUninit<E>]| {
            let columns: Vec<Option<&[f32]>> = (panel * PANEL..(panel + 1) * PANEL)
                .map(|n| (n < width).then(|| column(n)))
                .collect();
            assert!(
                columns.iter().flatten().all(|c| c.len() == depth),
                "packing: column depth"
            );
            // Sixteen columns at a time down their depth: sixteen streams of reads, which the
            // prefetchers follow (all of a panel's columns at once measured twice as slow).
            for (group, columns) in columns.chunks_exact(LANES).enumerate() {
                for first in (0..steps).step_by(LANES) {
                    let count = LANES.min(steps - first);
                    let values = E::DEPTH * first..depth.min(E::DEPTH * (first + LANES));
                    let at = &mut out[first * PANEL + group * LANES..];
                    assert!(at.len() > (count - 1) * PANEL + LANES - 1);
                    // SAFETY: the kernel's features (asserted above); `at` holds the block's
                    // steps (asserted).
                    unsafe { E::transposed_steps(columns, values, at.as_mut_ptr(), count) }
                }
            }
        };
        // SAFETY: every block of steps writes all of a panel's columns: each group of 16, its
        // missing columns as zeros.
        unsafe { Packed::build(depth, width, bias, fill) }.0
    }

    /// `x` (`[rows, depth]` f32) transposed into bf16 pairs along its rows, for a product
    /// whose depth runs down `x` (a weight gradient `xᵀ · ∂y`): `[depth, steps]` operands,
    /// row `i`'s step `j` holding `x[2j][i]` and `x[2j + 1][i]`, zero past `rows`; `steps`
    /// is rounded up to whole AMX blocks, so every row starts on a cache line. Returns the
    /// operands and `steps`.
    pub fn to_transposed_pairs(self, x: &[f32], depth: usize) -> (Operands<u32>, usize) {
        assert!(self.supports::<u32>(), "operands this CPU cannot multiply");
        const _: () = assert!(amx::BLOCK_PAIRS.is_multiple_of(LANES));
        let rows = x.len() / depth.max(1);
        let steps = rows.div_ceil(2).next_multiple_of(amx::BLOCK_PAIRS);
        let fill = |out: &mut [MaybeUninit<u32>]| {
            out.par_chunks_mut(LANES * steps)
                .enumerate()
                .for_each(|(block, out)| {
                    let features = block * LANES..depth.min((block + 1) * LANES);
                    let row = |r: usize| match r < rows {
                        true => &x[r * depth..][features.clone()],
                        false => &[],
                    };
                    for first in (0..steps).step_by(LANES) {
                        // SAFETY: the kernel's features (asserted above); `out` holds the
                        // block's features' rows of `steps`, a multiple of 16.
                        unsafe {
                            transposed_pairs(row, features.len(), first, out.as_mut_ptr(), steps)
                        }
                    }
                })
        };
        // SAFETY: every block of features writes all its rows' steps (`steps` is a multiple
        // of 16).
        (unsafe { operands_filled(depth * steps, fill) }.0, steps)
    }
}

/// Steps `first..first + 16` of `row(r)`'s `features` (empty past the rows: zeros) as bf16
/// pairs of rows `2j` and `2j + 1`, written by feature: feature `f`'s 16 steps at `out + f ×
/// stride + first`.
///
/// # Safety
/// The CPU has AVX-512 F, BW and BF16; `out` holds `features` rows of `stride`.
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
unsafe fn transposed_pairs<'a>(
    row: impl Fn(usize) -> &'a [f32],
    features: usize,
    first: usize,
    out: *mut MaybeUninit<u32>,
    stride: usize,
) {
    // A plain loop, as in `transposed_steps`.
    let mut by_step = [_mm512_setzero_si512(); LANES];
    for (s, pairs) in by_step.iter_mut().enumerate() {
        let step = first + s;
        // SAFETY: the features enabled here.
        *pairs = unsafe { paired_rows(row(2 * step), row(2 * step + 1)) };
    }
    // SAFETY: the features enabled here.
    let by_feature = unsafe { transpose(by_step) };
    for (f, pairs) in by_feature.into_iter().take(features).enumerate() {
        // SAFETY: the caller's room for the feature's row.
        unsafe { _mm512_storeu_si512(out.add(f * stride + first).cast(), pairs) }
    }
}

/// Columns `low` and `high` (up to 16 values each; zeros past them) as one vector of bf16
/// pairs, column `i`'s in lane `i`, rounded as `vcvtneps2bf16` rounds.
///
/// # Safety
/// The CPU has AVX-512 F, BW and BF16.
#[inline]
#[target_feature(enable = "avx512f,avx512bw,avx512bf16")]
pub unsafe fn paired_rows(low: &[f32], high: &[f32]) -> __m512i {
    // Lane i of the converted vector holds low[i] (i < 16) or high[i - 16]; the pair of column
    // i is lanes i and 16 + i side by side.
    const INTERLEAVE: [i16; 32] = {
        let mut lanes = [0; 32];
        let mut lane = 0;
        while lane < 32 {
            lanes[lane] = (lane / 2 + lane % 2 * 16) as i16;
            lane += 1;
        }
        lanes
    };
    // SAFETY: the features enabled here; 32 i16 are one vector.
    unsafe {
        let interleave = std::mem::transmute::<[i16; 32], __m512i>(INTERLEAVE);
        _mm512_permutexvar_epi16(interleave, rounded(low, high))
    }
}

/// Consecutive depth values `x` (up to 32) as up to 16 bf16 pairs in one vector, the last
/// pair of an odd count padded with zero.
///
/// # Safety
/// The CPU has AVX-512 F and BF16.
#[inline]
#[target_feature(enable = "avx512f,avx512bf16")]
pub unsafe fn pairs(x: &[f32]) -> __m512i {
    let (low, high) = x.split_at(x.len().min(LANES));
    // SAFETY: the features enabled here.
    unsafe { rounded(low, high) }
}

/// `low` and `high` (up to 16 values each; zeros past them) rounded to bf16 as
/// `vcvtne2ps2bf16` rounds: `low`'s in the lower 16 of the vector's 32 halves, `high`'s above.
///
/// # Safety
/// The CPU has AVX-512 F and BF16.
#[inline]
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn rounded(low: &[f32], high: &[f32]) -> __m512i {
    // SAFETY: the masked loads touch only the slices' values.
    unsafe {
        let low = _mm512_maskz_loadu_ps(mask(low.len()), low.as_ptr());
        let high = _mm512_maskz_loadu_ps(mask(high.len()), high.as_ptr());
        std::mem::transmute(_mm512_cvtne2ps_pbh(high, low))
    }
}

/// Up to 16 f32 in one vector, zeros past them.
///
/// # Safety
/// The CPU has AVX-512 F.
#[inline]
#[target_feature(enable = "avx512f")]
pub unsafe fn values(x: &[f32]) -> __m512i {
    // SAFETY: the masked load touches only the slice's values.
    unsafe { _mm512_castps_si512(_mm512_maskz_loadu_ps(mask(x.len()), x.as_ptr())) }
}

/// The first `count` lanes of a vector of 16 (all of them from 16 up).
pub fn mask(count: usize) -> __mmask16 {
    ((1u32 << count.min(LANES)) - 1) as __mmask16
}

/// Steps of `columns` (16; `None`: zeros) as `load` makes their `values` into a vector each
/// (at most 16 steps), written by step: step `s`'s 16 columns side by side at `out + s ×
/// PANEL`, `count` steps. Inlined into each operand's function of its own features.
///
/// # Safety
/// The CPU has AVX-512 F and what `load` needs; `out` holds `count` steps.
#[inline(always)]
pub unsafe fn transposed_steps<E>(
    columns: &[Option<&[f32]>],
    values: Range<usize>,
    out: *mut MaybeUninit<E>,
    count: usize,
    load: impl Fn(&[f32]) -> __m512i,
) {
    // SAFETY: the caller's CPU. (A plain loop: `array::from_fn`'s closure measured not
    // inlined, each vector returned through memory.)
    let mut by_column = [unsafe { _mm512_setzero_si512() }; LANES];
    for (vector, column) in by_column.iter_mut().zip(columns) {
        if let Some(column) = column {
            *vector = load(&column[values.clone()]);
        }
    }
    // SAFETY: the caller's CPU.
    let by_step = unsafe { transpose(by_column) };
    for (s, operands) in by_step.into_iter().take(count).enumerate() {
        // SAFETY: the caller's room for `count` steps.
        unsafe { _mm512_storeu_si512(out.add(s * PANEL).cast(), operands) }
    }
}

/// `rows` transposed: lane `c` of row `r` becomes lane `r` of row `c`. Four rounds, each
/// swapping one bit of the row number with the same bit of the lane number.
///
/// # Safety
/// The CPU has AVX-512 F.
#[inline(always)]
unsafe fn transpose(mut rows: [__m512i; LANES]) -> [__m512i; LANES] {
    /// For the pair of rows `r` and `r | bit`: where the lower row's lanes come from (16 and
    /// up: the upper row's), then the upper row's.
    const fn sources(bit: usize) -> [[i32; LANES]; 2] {
        let mut sources = [[0; LANES]; 2];
        let mut c = 0;
        while c < LANES {
            let (low, high) = match c & bit {
                0 => (c, c | bit),
                _ => (LANES + (c ^ bit), LANES + c),
            };
            sources[0][c] = low as i32;
            sources[1][c] = high as i32;
            c += 1;
        }
        sources
    }
    const ROUNDS: [[[i32; LANES]; 2]; 4] = [sources(1), sources(2), sources(4), sources(8)];
    for (round, [low, high]) in ROUNDS.into_iter().enumerate() {
        let bit = 1 << round;
        // SAFETY: 16 i32 are one vector; the caller's CPU.
        unsafe {
            let low = _mm512_loadu_si512(low.as_ptr().cast());
            let high = _mm512_loadu_si512(high.as_ptr().cast());
            for r in (0..LANES).filter(|r| r & bit == 0) {
                let (upper, lower) = (rows[r | bit], rows[r]);
                rows[r] = _mm512_permutex2var_epi32(lower, low, upper);
                rows[r | bit] = _mm512_permutex2var_epi32(lower, high, upper);
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_transpose_exactly() {
        if !is_x86_feature_detected!("avx512f") {
            eprintln!("skipped: this CPU has no AVX-512 F");
            return;
        }
        let rows: [[i32; LANES]; LANES] =
            std::array::from_fn(|r| std::array::from_fn(|c| (100 * r + c) as i32));
        #[target_feature(enable = "avx512f")]
        fn transposed(rows: [[i32; LANES]; LANES]) -> [[i32; LANES]; LANES] {
            // SAFETY: 16 i32 are one vector; the feature enabled here.
            unsafe {
                let rows = std::mem::transmute::<[[i32; LANES]; LANES], [__m512i; LANES]>(rows);
                std::mem::transmute::<[__m512i; LANES], [[i32; LANES]; LANES]>(transpose(rows))
            }
        }
        // SAFETY: AVX-512 F detected.
        let transposed = unsafe { transposed(rows) };
        for (r, row) in transposed.iter().enumerate() {
            for (c, &v) in row.iter().enumerate() {
                assert_eq!(v, (100 * c + r) as i32, "row {r} lane {c}");
            }
        }
    }

    /// Pairs down the frames: feature `i`'s step `j` holds frames `2j` and `2j + 1`, zero
    /// past the frames, for frame counts odd and over one block of steps.
    #[test]
    fn pairs_down_the_frames_transpose_the_frames() {
        let kernel = Kernel::detect();
        if !kernel.supports::<u32>() {
            eprintln!("skipped: this CPU has no AVX-512 BF16");
            return;
        }
        for (rows, depth) in [(37, 19), (4, 40), (70, 16)] {
            let x: Vec<f32> = (0..rows * depth).map(|i| i as f32 * 0.5 - 7.0).collect();
            let (pairs, steps) = kernel.to_transposed_pairs(&x, depth);
            assert_eq!(steps, rows.div_ceil(2).next_multiple_of(amx::BLOCK_PAIRS));
            let at = |r: usize, i: usize| if r < rows { x[r * depth + i] } else { 0.0 };
            for i in 0..depth {
                for j in 0..steps {
                    let want = u32::of(at(2 * j, i), at(2 * j + 1, i));
                    assert_eq!(
                        pairs[i * steps + j],
                        want,
                        "{rows}×{depth}: feature {i} step {j}"
                    );
                }
            }
        }
    }
}
