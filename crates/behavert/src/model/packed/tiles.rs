//! The AVX-512 kernels: `C = A·B (+ bias)` in register tiles of [`ROWS`] × [`PANEL`] outputs
//! (24 of the 32 vector registers hold them while the depth runs through), f32 by FMAs or bf16
//! pairs by `vdpbf16ps`, and whole 32 × 32 blocks of bf16 products on AMX tiles where the CPU
//! has them ([`amx`]).

use std::arch::x86_64::*;
use std::mem::MaybeUninit;
use std::ops::Range;

use super::amx;
use super::kernel::{BLOCK_DEPTH, DEPTH, Kernel, ROWS, Rows};
use super::operand::Operand;
use super::packing::{PANEL, Packed};
use super::transpose;

/// How a tile's accumulators start.
#[derive(Clone, Copy)]
enum Start {
    /// From the bias (the first pass over the depth).
    Bias(*const f32),
    /// From what earlier depth passes stored.
    Stored,
}

impl Kernel {
    /// Writes every element of `c` (`[rows, b.width]`) from `a`'s rows, sizes and CPU features
    /// as checked by the caller ([`Kernel::multiply`] and the like).
    pub(super) fn fill_rows_in_tiles<E: Operand>(
        self,
        a: Rows<E>,
        b: &Packed<E>,
        c: &mut [MaybeUninit<f32>],
    ) {
        let (steps, width, panels, bias) = (b.steps(), b.width, &b.panels, &b.bias);
        let panel_count = width.div_ceil(PANEL);
        let rows = c.len() / width;
        // The depth in blocks whose interleaved rows of A stay in L2 while every panel runs
        // through them; AMX (bf16 from A as given) takes the whole depth at once.
        let block_depth = match self.tiles::<E>() {
            Some(_) => steps,
            None => BLOCK_DEPTH,
        };
        // One block's interleaved rows, made at the first panel that needs them.
        let mut interleaved = Vec::new();
        for block in (0..steps).step_by(block_depth) {
            let depth = block..(block + block_depth).min(steps);
            let mut made = false;
            for panel in 0..panel_count {
                let columns = (width - panel * PANEL).min(PANEL);
                // The tiles take whole blocks where the panel's columns divide into them; the
                // vector kernel the rest.
                let amx = self
                    .tiles::<E>()
                    .filter(|amx| columns.is_multiple_of(amx.columns()));
                let tile_rows = rows / amx::BLOCK_ROWS * amx::BLOCK_ROWS;
                let tile_steps = steps / amx::BLOCK_PAIRS * amx::BLOCK_PAIRS;
                match (amx, a) {
                    (Some(amx), Rows::Plain(a)) if tile_rows > 0 && tile_steps > 0 => {
                        for left in (0..columns).step_by(amx.columns()) {
                            let block = amx::Block {
                                a: a.as_ptr().cast(),
                                a_stride: steps,
                                panel: panels[panel * steps * PANEL + left..].as_ptr().cast(),
                                pairs: tile_steps,
                                bias: bias[panel * PANEL + left..].as_ptr(),
                                c: c[panel * PANEL + left..].as_mut_ptr().cast(),
                                c_stride: width,
                                rows: tile_rows,
                            };
                            // SAFETY: whole blocks inside `a`, the panel and `c` (sizes checked
                            // above); operands that run on tiles are bf16 pairs.
                            unsafe { amx.block(block) };
                        }
                        let a = TileRows::Plain(a);
                        self.vector_tiles(a, b, c, panel, 0..tile_rows, tile_steps..steps);
                        self.vector_tiles(a, b, c, panel, tile_rows..rows, 0..steps);
                    }
                    _ => {
                        if !made {
                            interleave(a, steps, rows, depth.clone(), &mut interleaved);
                            made = true;
                        }
                        let a = TileRows::Interleaved {
                            a: &interleaved,
                            first: depth.start,
                            steps: depth.len(),
                        };
                        self.vector_tiles(a, b, c, panel, 0..rows, depth.clone());
                    }
                }
            }
        }
    }

    /// `rows` of one panel's outputs over the depth steps `depth` in vector registers: from
    /// the bias where `depth` starts at 0, else added to what `c` holds. Sizes as checked by
    /// [`Self::fill_rows`].
    fn vector_tiles<E: Operand>(
        self,
        a: TileRows<E>,
        b: &Packed<E>,
        c: &mut [MaybeUninit<f32>],
        panel: usize,
        rows: Range<usize>,
        depth: Range<usize>,
    ) {
        let (steps, width) = (b.steps(), b.width);
        let columns = (width - panel * PANEL).min(PANEL);
        let masks = column_masks(columns);
        let panel_start = panel * steps * PANEL;
        for depth_start in depth.clone().step_by(DEPTH) {
            let pass = DEPTH.min(depth.end - depth_start);
            let start = if depth_start == 0 {
                Start::Bias(b.bias[panel * PANEL..].as_ptr())
            } else {
                Start::Stored
            };
            for row in rows.clone().step_by(ROWS) {
                let (a, a_row, a_step) = match a {
                    TileRows::Plain(a) => (&a[row * steps + depth_start..], steps, 1),
                    TileRows::Interleaved {
                        a,
                        first,
                        steps: block,
                    } => (
                        &a[(row / ROWS * block + depth_start - first) * ROWS..],
                        1,
                        ROWS,
                    ),
                };
                let tile = Tile {
                    a: a.as_ptr(),
                    a_row,
                    a_step,
                    panel: b.panels[panel_start + depth_start * PANEL..].as_ptr(),
                    depth: pass,
                    c: c[row * width + panel * PANEL..].as_mut_ptr().cast(),
                    c_stride: width,
                    masks,
                    start,
                };
                // SAFETY: `fill_rows` checked the CPU features for `E`; the tile's reads and
                // writes stay inside `a`, `panels` and `c` (sizes checked there, partial
                // columns masked, partial rows by the row count).
                unsafe { run_tile(&tile, (rows.end - row).min(ROWS)) }
            }
        }
    }
}

/// A's rows as the vector tiles read them.
#[derive(Clone, Copy)]
enum TileRows<'a, E> {
    /// Row after row (the edges of AMX's blocks).
    Plain(&'a [E]),
    /// Depth steps `first..first + steps` of the rows from row 0, [`ROWS`] rows at a time with
    /// each step's operands side by side ([`interleave`]).
    Interleaved {
        a: &'a [E],
        first: usize,
        steps: usize,
    },
}

/// Depth steps `depth` of `a`'s `rows` rows (`steps` operands each, plain or transposed)
/// [`ROWS`] rows at a time, each step's operands of those rows side by side (rows past the
/// end zero), into `out`: a tile's broadcasts then read one stream instead of one per row, far
/// apart in memory.
fn interleave<E: Operand>(
    a: Rows<E>,
    steps: usize,
    rows: usize,
    depth: Range<usize>,
    out: &mut Vec<E>,
) {
    let length = rows.div_ceil(ROWS) * depth.len() * ROWS;
    out.clear();
    out.reserve(length);
    let spare = &mut out.spare_capacity_mut()[..length];
    let zero = E::of(0.0, 0.0);
    match a {
        Rows::Plain(a) => {
            for (tile, out) in spare.chunks_exact_mut(depth.len() * ROWS).enumerate() {
                let row = |i: usize| {
                    let r = tile * ROWS + i;
                    (r < rows).then(|| &a[r * steps + depth.start..r * steps + depth.end])
                };
                match std::array::from_fn::<_, ROWS, _>(row) {
                    [Some(r0), Some(r1), Some(r2), Some(r3), Some(r4), Some(r5)] => {
                        let operands = r0.iter().zip(r1).zip(r2).zip(r3).zip(r4).zip(r5);
                        for (out, (((((&v0, &v1), &v2), &v3), &v4), &v5)) in
                            out.chunks_exact_mut(ROWS).zip(operands)
                        {
                            for (out, v) in out.iter_mut().zip([v0, v1, v2, v3, v4, v5]) {
                                out.write(v);
                            }
                        }
                    }
                    // The last, partial tile.
                    partial => {
                        for (step, out) in out.chunks_exact_mut(ROWS).enumerate() {
                            for (out, row) in out.iter_mut().zip(&partial) {
                                out.write(row.map_or(zero, |row| row[step]));
                            }
                        }
                    }
                }
            }
        }
        // Step by step: each step's operands lie side by side in `a`.
        Rows::Transposed(a, stride) => {
            let (whole, left) = (rows / ROWS, rows % ROWS);
            for (at, k) in depth.clone().enumerate() {
                let operands = &a[k * stride..][..rows];
                for tile in 0..whole {
                    let from: &[E; ROWS] = operands[tile * ROWS..][..ROWS]
                        .try_into()
                        .expect("a tile's operands");
                    let to = &mut spare[(tile * depth.len() + at) * ROWS..][..ROWS];
                    for (to, &v) in to.iter_mut().zip(from) {
                        to.write(v);
                    }
                }
                if left > 0 {
                    let to = &mut spare[(whole * depth.len() + at) * ROWS..][..ROWS];
                    for (i, to) in to.iter_mut().enumerate() {
                        to.write(operands.get(whole * ROWS + i).copied().unwrap_or(zero));
                    }
                }
            }
        }
    }
    // SAFETY: every tile's every step was written above.
    unsafe { out.set_len(length) };
}

/// `tile`'s first `rows` rows.
///
/// # Safety
/// As [`Operand::run_tile`].
unsafe fn run_tile<E: Operand>(tile: &Tile<E>, rows: usize) {
    // SAFETY: the caller's.
    unsafe {
        match rows {
            6 => E::run_tile::<6>(tile),
            5 => E::run_tile::<5>(tile),
            4 => E::run_tile::<4>(tile),
            3 => E::run_tile::<3>(tile),
            2 => E::run_tile::<2>(tile),
            _ => E::run_tile::<1>(tile),
        }
    }
}

/// Per output vector of a panel, which of its 16 columns exist.
fn column_masks(columns: usize) -> [__mmask16; 4] {
    std::array::from_fn(|v| transpose::mask(columns.saturating_sub(16 * v)))
}

/// One row of f32 as bf16 pairs, written to the `ceil(x.len() / 2)` pairs at `out`.
///
/// # Safety
/// The CPU has AVX-512 F and BF16; `out` has room for the pairs.
#[target_feature(enable = "avx512f,avx512bf16")]
pub unsafe fn row_to_pairs(x: &[f32], out: *mut u32) {
    for (block, at) in x.chunks(32).zip((0..).step_by(16)) {
        let stored = transpose::mask(block.len().div_ceil(2));
        // SAFETY: the masked store touches only the block's pairs; the features enabled here.
        unsafe { _mm512_mask_storeu_epi32(out.add(at).cast(), stored, transpose::pairs(block)) }
    }
}

/// Two depth rows' values of the same columns (`low`, `high`, as long) as bf16 pairs, written
/// to the `low.len()` pairs at `out`.
///
/// # Safety
/// The CPU has AVX-512 F, BW and BF16; `out` has that room; `high` is as long as `low`.
#[target_feature(enable = "avx512f,avx512bf16,avx512bw")]
pub unsafe fn rows_to_pairs(low: &[f32], high: &[f32], out: *mut u32) {
    for (at, (low, high)) in (0..).step_by(16).zip(low.chunks(16).zip(high.chunks(16))) {
        let mask = transpose::mask(low.len());
        // SAFETY: the masked store touches only the chunk's columns; the features enabled here.
        unsafe {
            _mm512_mask_storeu_epi32(out.add(at).cast(), mask, transpose::paired_rows(low, high))
        }
    }
}

/// One tile's operands: up to [`ROWS`] rows of A against one panel, over `depth` steps.
pub struct Tile<E> {
    /// A's operand of the tile's first row and depth step.
    a: *const E,
    /// From one row of A to the next.
    a_row: usize,
    /// From one depth step of A to the next.
    a_step: usize,
    panel: *const E,
    depth: usize,
    c: *mut f32,
    c_stride: usize,
    masks: [__mmask16; 4],
    start: Start,
}

impl<E> Tile<E> {
    /// The `R` rows' accumulators: from the bias, or from what `c` holds.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn start<const R: usize>(&self) -> [[__m512; 4]; R] {
        std::array::from_fn(|r| {
            std::array::from_fn(|v| match self.start {
                // SAFETY: the bias covers a whole panel.
                Start::Bias(bias) => unsafe { _mm512_loadu_ps(bias.add(16 * v)) },
                // SAFETY: the caller keeps `c`'s rows inside the slice; masked columns.
                Start::Stored => unsafe {
                    _mm512_maskz_loadu_ps(self.masks[v], self.c.add(r * self.c_stride + 16 * v))
                },
            })
        })
    }

    /// Stores the `R` rows' accumulators to `c`, masked to the panel's columns.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn store<const R: usize>(&self, acc: [[__m512; 4]; R]) {
        for (r, acc) in acc.iter().enumerate() {
            for (v, acc) in acc.iter().enumerate() {
                let at = r * self.c_stride + 16 * v;
                // SAFETY: as in `start`.
                unsafe { _mm512_mask_storeu_ps(self.c.add(at), self.masks[v], *acc) };
            }
        }
    }

    /// The 4 panel vectors of depth step `step`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn panel_vectors(&self, step: usize) -> [__m512i; 4] {
        // SAFETY: the caller keeps `step` inside the tile's depth.
        let panel = unsafe { self.panel.add(step * PANEL) }.cast::<__m512i>();
        // SAFETY: a panel row is 64 operands of 4 bytes: 4 vectors.
        std::array::from_fn(|v| unsafe { _mm512_loadu_si512(panel.add(v)) })
    }
}

impl Tile<f32> {
    /// The tile's `R` rows by f32 FMAs: accumulate in registers, store once.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn run_f32<const R: usize>(&self) {
        // SAFETY (whole body): the caller keeps every pointer's range inside its slice.
        unsafe {
            let mut acc = self.start::<R>();
            for step in 0..self.depth {
                let b = self.panel_vectors(step).map(|v| _mm512_castsi512_ps(v));
                for (r, acc) in acc.iter_mut().enumerate() {
                    let a = _mm512_set1_ps(*self.a.add(r * self.a_row + step * self.a_step));
                    for (v, acc) in acc.iter_mut().enumerate() {
                        *acc = _mm512_fmadd_ps(a, b[v], *acc);
                    }
                }
            }
            self.store(acc);
        }
    }
}

impl Tile<u32> {
    /// The tile's `R` rows by bf16 pair products: accumulate in registers, store once.
    #[target_feature(enable = "avx512f,avx512bf16")]
    pub unsafe fn run_bf16<const R: usize>(&self) {
        // SAFETY (whole body): the caller keeps every pointer's range inside its slice.
        unsafe {
            let mut acc = self.start::<R>();
            for step in 0..self.depth {
                let b: [__m512bh; 4] = self.panel_vectors(step).map(|v| std::mem::transmute(v));
                for (r, acc) in acc.iter_mut().enumerate() {
                    let a: __m512bh = std::mem::transmute(_mm512_set1_epi32(
                        *self.a.add(r * self.a_row + step * self.a_step) as i32,
                    ));
                    for (v, acc) in acc.iter_mut().enumerate() {
                        *acc = _mm512_dpbf16_ps(*acc, a, b[v]);
                    }
                }
            }
            self.store(acc);
        }
    }
}
