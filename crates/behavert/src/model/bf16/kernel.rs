//! `C = A·B (+ bias)` with A rounded to bf16 on the fly and B packed once as bf16 pairs,
//! accumulated in f32 by AVX-512 BF16's `vdpbf16ps`: two products per f32 lane per instruction,
//! twice an f32 FMA's work.
//!
//! A (activations) becomes `[rows, pairs]` of `u32`, each the bf16 of columns `2p` (low half)
//! and `2p + 1` (high half), as `vdpbf16ps` reads a lane; B is laid out by [`Packed`]. A
//! tile of [`ROWS`] × [`PANEL`] outputs lives in 24 of the 32 vector registers while the
//! depth is run through.

use std::arch::x86_64::*;
use std::mem::MaybeUninit;
use std::ops::Range;

use rayon::prelude::*;

use super::amx::{self, Amx};
use super::packing::{PANEL, Packed};

/// Set (to anything), bf16 products stay off the AMX tiles: to compare the two paths, or to
/// rule the tiles out when something looks wrong.
pub const NO_AMX: &str = "BEHAVERT_NO_AMX";

/// Output rows per tile: 6 × 4 accumulators, 4 panel vectors and a broadcast fit 32 registers.
const ROWS: usize = 6;
/// Depth pairs per pass over a panel: 256 × 64 × 4 bytes = 64 KiB of panel, kept in L2 while
/// every tile of a chunk reads it.
const DEPTH: usize = 256;
/// Rows per parallel task.
const CHUNK_ROWS: usize = ROWS * 16;

/// Proof that this CPU has AVX-512 F and BF16: the only way to reach the kernels. Where it
/// also has AMX tiles, whole blocks of a product run on them.
#[derive(Clone, Copy, Debug)]
pub struct Kernel {
    amx: Option<Amx>,
}

/// How a tile's accumulators start.
#[derive(Clone, Copy)]
enum Start {
    /// From the bias (the first pass over the depth).
    Bias(*const f32),
    /// From what earlier depth passes stored.
    Stored,
}

impl Kernel {
    /// The kernels, if this CPU runs them.
    pub fn detect() -> Option<Self> {
        (is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bf16")).then(|| {
            Self {
                amx: Amx::detect().filter(|_| std::env::var_os(NO_AMX).is_none()),
            }
        })
    }

    /// The same kernel without the AMX tiles: AVX-512 BF16 only.
    #[cfg(test)]
    pub fn without_amx(self) -> Self {
        Self { amx: None }
    }

    /// `columns` rounded up to what the kernel multiplies without falling back to its slower
    /// edge path: whole AMX blocks where it uses the tiles.
    pub fn whole_columns(self, columns: usize) -> usize {
        match self.amx {
            Some(amx) => columns.next_multiple_of(amx.columns()),
            None => columns,
        }
    }

    /// The instructions the products run on, for logs and benchmarks.
    pub fn name(self) -> &'static str {
        match self.amx {
            Some(_) => "AMX tiles + AVX-512 BF16",
            None => "AVX-512 BF16",
        }
    }

    /// Rows of `x` (`[rows, depth]` f32) as bf16 pairs `[rows, ceil(depth / 2)]`, rounded to
    /// nearest even; an odd depth's last pair is padded with zero.
    pub fn to_pairs(self, x: &[f32], depth: usize) -> Vec<u32> {
        let pairs = depth.div_ceil(2);
        let rows = x.len() / depth.max(1);
        // Not zero-filled first: every pair is written below.
        let mut out = Vec::with_capacity(rows * pairs);
        out.spare_capacity_mut()[..rows * pairs]
            .par_chunks_mut(pairs * 256)
            .zip(x.par_chunks(depth * 256))
            .for_each(|(out, x)| {
                for (out, x) in out.chunks_exact_mut(pairs).zip(x.chunks_exact(depth)) {
                    // SAFETY: `self` proves AVX-512 F and BF16; `out` holds the row's pairs.
                    unsafe { row_to_pairs(x, out.as_mut_ptr().cast()) }
                }
            });
        // SAFETY: every row's pairs were written above.
        unsafe { out.set_len(rows * pairs) };
        out
    }

    /// `activation(a · b + bias)`, `[rows, b.width]` for `a` the rows' bf16 pairs
    /// ([`Self::to_pairs`]). Rows are split over the cores.
    pub fn multiply(
        self,
        a: &[u32],
        b: &Packed,
        activation: &(dyn Fn(&mut [f32]) + Sync),
    ) -> Vec<f32> {
        let (pairs, width) = (b.pairs(), b.width);
        assert!(
            pairs > 0 && width > 0 && a.len().is_multiple_of(pairs),
            "bf16 multiply: {} pairs, not whole rows of {pairs}",
            a.len(),
        );
        let outputs = a.len() / pairs * width;
        // Not zero-filled first: the kernels write every output.
        let mut c = Vec::with_capacity(outputs);
        c.spare_capacity_mut()[..outputs]
            .par_chunks_mut(CHUNK_ROWS * width)
            .zip(a.par_chunks(CHUNK_ROWS * pairs))
            .for_each(|(c, a)| self.fill_rows(a, b, c, activation));
        // SAFETY: `fill_rows` wrote every output.
        unsafe { c.set_len(outputs) };
        c
    }

    /// [`Self::multiply`] on this thread.
    pub fn multiply_rows(
        self,
        a: &[u32],
        b: &Packed,
        activation: &(dyn Fn(&mut [f32]) + Sync),
    ) -> Vec<f32> {
        let outputs = a.len() / b.pairs().max(1) * b.width;
        let mut c = Vec::with_capacity(outputs);
        self.fill_rows(a, b, &mut c.spare_capacity_mut()[..outputs], activation);
        // SAFETY: `fill_rows` wrote every output.
        unsafe { c.set_len(outputs) };
        c
    }

    /// Writes every element of `c` (`[rows, b.width]`) from `a`'s rows; `activation` runs over
    /// them at the end, while they are still in cache.
    fn fill_rows(
        self,
        a: &[u32],
        b: &Packed,
        c: &mut [MaybeUninit<f32>],
        activation: &(dyn Fn(&mut [f32]) + Sync),
    ) {
        let (pairs, width, panels, bias) = (b.pairs(), b.width, &b.panels, &b.bias);
        let panel_count = width.div_ceil(PANEL);
        assert!(
            pairs > 0
                && width > 0
                && panels.len() == panel_count * pairs * PANEL
                && bias.len() == panel_count * PANEL
                && c.len().is_multiple_of(width)
                && a.len() == c.len() / width * pairs,
            "bf16 multiply: operands of inconsistent sizes"
        );
        let rows = c.len() / width;
        for panel in 0..panel_count {
            let columns = (width - panel * PANEL).min(PANEL);
            // The tiles take whole blocks where the panel's columns divide into them; the vector
            // kernel the rest.
            let (tile_rows, tile_pairs) = match self.amx {
                Some(amx) if columns.is_multiple_of(amx.columns()) => (
                    rows / amx::BLOCK_ROWS * amx::BLOCK_ROWS,
                    pairs / amx::BLOCK_PAIRS * amx::BLOCK_PAIRS,
                ),
                _ => (0, 0),
            };
            if let Some(amx) = self.amx.filter(|_| tile_rows > 0 && tile_pairs > 0) {
                for left in (0..columns).step_by(amx.columns()) {
                    let block = amx::Block {
                        a: a.as_ptr(),
                        a_stride: pairs,
                        panel: panels[panel * pairs * PANEL + left..].as_ptr(),
                        pairs: tile_pairs,
                        bias: bias[panel * PANEL + left..].as_ptr(),
                        c: c[panel * PANEL + left..].as_mut_ptr().cast(),
                        c_stride: width,
                        rows: tile_rows,
                    };
                    // SAFETY: whole blocks inside `a`, the panel and `c` (sizes checked above).
                    unsafe { amx.block(block) };
                }
                self.vector_tiles(a, b, c, panel, 0..tile_rows, tile_pairs..pairs);
                self.vector_tiles(a, b, c, panel, tile_rows..rows, 0..pairs);
            } else {
                self.vector_tiles(a, b, c, panel, 0..rows, 0..pairs);
            }
        }
        // SAFETY: the panels above wrote every element of `c`.
        activation(unsafe { &mut *(c as *mut [MaybeUninit<f32>] as *mut [f32]) });
    }

    /// `rows` of one panel's outputs over the depth pairs `depth` with AVX-512 BF16: from the
    /// bias where `depth` starts at 0, else added to what `c` holds. Sizes as checked by
    /// [`Self::multiply_rows`].
    fn vector_tiles(
        self,
        a: &[u32],
        b: &Packed,
        c: &mut [MaybeUninit<f32>],
        panel: usize,
        rows: Range<usize>,
        depth: Range<usize>,
    ) {
        let (pairs, width) = (b.pairs(), b.width);
        let columns = (width - panel * PANEL).min(PANEL);
        let masks = column_masks(columns);
        let panel_start = panel * pairs * PANEL;
        for depth_start in depth.clone().step_by(DEPTH) {
            let pass = DEPTH.min(depth.end - depth_start);
            let start = if depth_start == 0 {
                Start::Bias(b.bias[panel * PANEL..].as_ptr())
            } else {
                Start::Stored
            };
            for row in rows.clone().step_by(ROWS) {
                let tile = Tile {
                    a: a[row * pairs + depth_start..].as_ptr(),
                    a_stride: pairs,
                    panel: b.panels[panel_start + depth_start * PANEL..].as_ptr(),
                    depth: pass,
                    c: c[row * width + panel * PANEL..].as_mut_ptr().cast(),
                    c_stride: width,
                    masks,
                    start,
                };
                // SAFETY: `self` proves the CPU features; the tile's reads and writes stay
                // inside `a`, `panels` and `c` (sizes checked by the caller, partial columns
                // masked, partial rows by the row count).
                unsafe {
                    match (rows.end - row).min(ROWS) {
                        6 => tile.run::<6>(),
                        5 => tile.run::<5>(),
                        4 => tile.run::<4>(),
                        3 => tile.run::<3>(),
                        2 => tile.run::<2>(),
                        _ => tile.run::<1>(),
                    }
                }
            }
        }
    }

    /// `work` compiled for AVX-512 where it inlines: element-wise loops run 16 lanes wide
    /// instead of the baseline's 4.
    pub fn vectorised<R>(self, work: impl FnOnce() -> R) -> R {
        #[target_feature(enable = "avx512f")]
        unsafe fn wide<R>(work: impl FnOnce() -> R) -> R {
            work()
        }
        // SAFETY: `self` proves AVX-512 F.
        unsafe { wide(work) }
    }

    /// `rows` of `width` f32 each as bf16 pairs `[rows, ceil(width / 2)]`, on this thread.
    pub fn rows_to_pairs<'a>(
        self,
        rows: impl Iterator<Item = &'a [f32]>,
        width: usize,
    ) -> Vec<u32> {
        let pairs = width.div_ceil(2);
        let mut out = Vec::with_capacity(rows.size_hint().0 * pairs);
        for row in rows {
            out.resize(out.len() + pairs, 0);
            let end = out.len();
            self.row_to_pairs(row, &mut out[end - pairs..]);
        }
        out
    }

    /// One row of f32 as bf16 pairs (`out` holds `ceil(len / 2)`).
    pub fn row_to_pairs(self, x: &[f32], out: &mut [u32]) {
        assert_eq!(out.len(), x.len().div_ceil(2), "bf16 pairs of a row");
        // SAFETY: `self` proves AVX-512 F and BF16; `out` has room for the pairs.
        unsafe { row_to_pairs(x, out.as_mut_ptr()) }
    }
}

/// Per output vector of a panel, which of its 16 columns exist.
fn column_masks(columns: usize) -> [__mmask16; 4] {
    std::array::from_fn(|v| {
        let present = columns.saturating_sub(16 * v).min(16);
        ((1u32 << present) - 1) as __mmask16
    })
}

/// One row of f32 as bf16 pairs, written to the `ceil(x.len() / 2)` pairs at `out`.
#[target_feature(enable = "avx512f,avx512bf16")]
unsafe fn row_to_pairs(x: &[f32], out: *mut u32) {
    for (block, at) in x.chunks(32).zip((0..).step_by(16)) {
        let mask = |from: usize| ((1u32 << block.len().saturating_sub(from).min(16)) - 1) as u16;
        // SAFETY: masked loads and stores touch only the block's elements.
        unsafe {
            let low = _mm512_maskz_loadu_ps(mask(0), block.as_ptr());
            let high = _mm512_maskz_loadu_ps(mask(16), block.as_ptr().add(16));
            let pairs: __m512i = std::mem::transmute(_mm512_cvtne2ps_pbh(high, low));
            let stored = ((1u32 << block.len().div_ceil(2)) - 1) as u16;
            _mm512_mask_storeu_epi32(out.add(at).cast(), stored, pairs);
        }
    }
}

/// One tile's operands: up to [`ROWS`] rows of A against one panel, over `depth` pairs.
struct Tile {
    a: *const u32,
    a_stride: usize,
    panel: *const u32,
    depth: usize,
    c: *mut f32,
    c_stride: usize,
    masks: [__mmask16; 4],
    start: Start,
}

impl Tile {
    /// The tile's `R` rows: accumulate in registers, store once.
    #[target_feature(enable = "avx512f,avx512bf16")]
    unsafe fn run<const R: usize>(&self) {
        // SAFETY (whole body): the caller keeps every pointer's range inside its slice.
        unsafe {
            let mut acc = [[_mm512_setzero_ps(); 4]; R];
            for (r, acc) in acc.iter_mut().enumerate() {
                for (v, acc) in acc.iter_mut().enumerate() {
                    *acc = match self.start {
                        Start::Bias(bias) => _mm512_loadu_ps(bias.add(16 * v)),
                        Start::Stored => _mm512_maskz_loadu_ps(
                            self.masks[v],
                            self.c.add(r * self.c_stride + 16 * v),
                        ),
                    };
                }
            }
            for pair in 0..self.depth {
                let panel = self.panel.add(pair * PANEL);
                let b: [__m512bh; 4] = std::array::from_fn(|v| {
                    std::mem::transmute(_mm512_loadu_si512(panel.add(16 * v).cast()))
                });
                for (r, acc) in acc.iter_mut().enumerate() {
                    let a: __m512bh = std::mem::transmute(_mm512_set1_epi32(
                        *self.a.add(r * self.a_stride + pair) as i32,
                    ));
                    for (v, acc) in acc.iter_mut().enumerate() {
                        *acc = _mm512_dpbf16_ps(*acc, a, b[v]);
                    }
                }
            }
            for (r, acc) in acc.iter().enumerate() {
                for (v, acc) in acc.iter().enumerate() {
                    _mm512_mask_storeu_ps(
                        self.c.add(r * self.c_stride + 16 * v),
                        self.masks[v],
                        *acc,
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::packing::to_bf16;
    use super::*;

    fn bf16_value(x: f32) -> f64 {
        f64::from(f32::from_bits(u32::from(to_bf16(x)) << 16))
    }

    /// Every shape edge at once: rows not a multiple of a tile, a block or a chunk, an odd depth
    /// of more than one depth pass and not a whole number of tile products, widths that end
    /// inside a panel's second vector or at half a panel; on the AMX tiles where this CPU has
    /// them, and without.
    #[test]
    fn multiply_equals_the_sum_of_bf16_products() {
        let Some(kernel) = Kernel::detect() else {
            eprintln!("skipped: this CPU has no AVX-512 BF16");
            return;
        };
        if kernel.amx.is_none() {
            eprintln!("this CPU has no AMX tiles: only the AVX-512 path is checked");
        }
        let (rows, depth) = (103, 2 * DEPTH + 77);
        let value = |i: usize, scale: f32| ((i * 7919 % 1013) as f32 / 1013.0 - 0.5) * scale;
        let a: Vec<f32> = (0..rows * depth).map(|i| value(i, 4.0)).collect();
        for width in [83, 96] {
            let b: Vec<f32> = (0..depth * width).map(|i| value(i * 31 + 5, 0.2)).collect();
            let bias: Vec<f32> = (0..width).map(|i| value(i * 13, 1.0)).collect();
            let expected: Vec<f64> = (0..rows * width)
                .map(|at| {
                    let (r, n) = (at / width, at % width);
                    (0..depth)
                        .map(|k| bf16_value(a[r * depth + k]) * bf16_value(b[k * width + n]))
                        .sum::<f64>()
                        + f64::from(bias[n])
                })
                .collect();
            let packed = Packed::from_rows(depth, width, |k| &b[k * width..][..width], &bias);
            for kernel in [kernel, kernel.without_amx()] {
                let pairs = kernel.to_pairs(&a, depth);
                assert_eq!(pairs.len(), rows * depth.div_ceil(2));
                let c = kernel.multiply(&pairs, &packed, &|_| {});
                assert_eq!(c.len(), rows * width);
                let worst = c
                    .iter()
                    .zip(&expected)
                    .map(|(&got, &want)| (f64::from(got) - want).abs())
                    .fold(0.0, f64::max);
                assert!(
                    worst < 1e-4,
                    "{}, width {width}: largest difference {worst:e}",
                    kernel.name()
                );
            }
        }
    }
}
