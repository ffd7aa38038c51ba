//! `C = A·B (+ bias)` with B packed once ([`Packed`]) and A's rows as [`Operand`]s, on every
//! CPU: what the products share (operands, rows split over the cores, a feed-forward layer's
//! two products task by task) and which products run. Where the CPU has AVX-512 F, register
//! tiles (`tiles.rs`): f32 by FMAs, or bf16 pairs by AVX-512 BF16's `vdpbf16ps` (two products
//! per f32 lane per instruction, twice an FMA's work) and, where the CPU has them, AMX tiles
//! ([`amx`]); elsewhere f32 on the gemm crate or, on macOS, Accelerate ([`portable`]). Sums
//! are always f32.

use std::mem::MaybeUninit;

use rayon::prelude::*;

#[cfg(target_arch = "x86_64")]
use super::amx;
use super::amx::Amx;
use super::operand::{Operand, Operands, operands_filled};
use super::packing::{PANEL, Packed};
use super::portable::{self, Strided};

/// Set (to anything), bf16 products stay off the AMX tiles: to compare the two paths, or to
/// rule the tiles out when something looks wrong.
pub const NO_AMX: &str = "BEHAVERT_NO_AMX";

/// Set (to anything), the kernels leave AVX-512 aside and run as on a CPU without it (f32 on
/// the gemm crate, no bf16): to measure or test that path on a machine that has AVX-512.
#[cfg(target_arch = "x86_64")]
pub const NO_AVX512: &str = "BEHAVERT_NO_AVX512";

/// Output rows per tile: 6 × 4 accumulators, 4 panel vectors and a broadcast fit 32 registers.
pub(super) const ROWS: usize = 6;
/// Depth steps per pass over a panel: 128 × 64 × 4 bytes = 32 KiB of panel, kept in L1 (48 KiB
/// on recent cores) while every tile of a chunk reads it.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(super) const DEPTH: usize = 128;
/// Most rows per parallel task (a multiple of [`ROWS`] and of AMX's block rows). Each task
/// reads all of B from the shared cache once, so more rows per task read it fewer times: 192
/// rather than 96 measured 2% faster for a base training step and 5% for base inference (f32,
/// Intel Xeon), the same for small.
const CHUNK_ROWS: usize = ROWS * 32;

/// Depth steps per block of A run through every panel before the next: 192 rows × 1024 × 4
/// bytes = 768 KiB of A, kept in L2 (2 MiB on recent cores) while B streams past.
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(super) const BLOCK_DEPTH: usize = DEPTH * 8;

#[cfg(target_arch = "x86_64")]
const _: () = assert!(CHUNK_ROWS.is_multiple_of(amx::BLOCK_ROWS));

/// The kernels this CPU runs, and the only way to reach them: f32 products in AVX-512 register
/// tiles where it has AVX-512 F, on the gemm crate (on macOS, Accelerate) where not. bf16
/// operands need AVX-512 BF16 too; where the CPU has AMX tiles, whole blocks of their products
/// run there.
#[derive(Clone, Copy, Debug)]
pub struct Kernel {
    pub(super) avx512: bool,
    bf16: bool,
    amx: Option<Amx>,
}

impl Kernel {
    /// The kernels this CPU runs.
    pub fn detect() -> Self {
        let (avx512, bf16) = avx512_features();
        Self {
            avx512,
            bf16,
            amx: Amx::detect().filter(|_| bf16 && std::env::var_os(NO_AMX).is_none()),
        }
    }

    /// Whether this CPU multiplies operands `E`.
    pub fn supports<E: Operand>(self) -> bool {
        self.bf16 || !E::NEEDS_BF16
    }

    /// The same kernel without the AMX tiles: AVX-512 only.
    #[cfg(test)]
    pub fn without_amx(self) -> Self {
        Self { amx: None, ..self }
    }

    /// The kernel of a CPU without AVX-512: f32 on the gemm crate.
    #[cfg(test)]
    pub fn portable() -> Self {
        Self {
            avx512: false,
            bf16: false,
            amx: None,
        }
    }

    /// Every f32 kernel this CPU runs, each once: `self` and, where `self` has AVX-512, the
    /// gemm crate's path too (on other CPUs that is `self`).
    #[cfg(test)]
    pub fn with_portable(self) -> Vec<Self> {
        if self.avx512 {
            vec![self, Self::portable()]
        } else {
            vec![self]
        }
    }

    /// The AMX tiles, where they run products of `E`.
    pub(super) fn tiles<E: Operand>(self) -> Option<Amx> {
        self.amx.filter(|_| E::TILES)
    }

    /// `columns` rounded up to what the kernel multiplies in `E` without falling back to its
    /// slower edge path: whole AMX blocks where it uses the tiles.
    pub fn whole_columns<E: Operand>(self, columns: usize) -> usize {
        match self.tiles::<E>() {
            Some(amx) => columns.next_multiple_of(amx.columns()),
            None => columns,
        }
    }

    /// The instructions products of `E` run on, for logs and benchmarks.
    pub fn name<E: Operand>(self) -> &'static str {
        match (E::NEEDS_BF16, self.tiles::<E>()) {
            (false, _) if !self.avx512 => portable::NAME,
            (false, _) => "AVX-512 F",
            (true, Some(_)) => "AMX tiles + AVX-512 BF16",
            (true, None) => "AVX-512 BF16",
        }
    }

    /// Rows of `x` (`[rows, depth]` f32) as operands `[rows, ceil(depth / E::DEPTH)]`; bf16
    /// rounded to nearest even, an odd depth's last pair padded with zero.
    pub fn to_operands<E: Operand>(self, x: &[f32], depth: usize) -> Operands<E> {
        assert!(self.supports::<E>(), "operands this CPU cannot multiply");
        let steps = depth.div_ceil(E::DEPTH);
        let rows = x.len() / depth.max(1);
        let fill = |out: &mut [MaybeUninit<E>]| {
            out.par_chunks_mut(steps * 256)
                .zip(x.par_chunks(depth * 256))
                .for_each(|(out, x)| {
                    for (out, x) in out.chunks_exact_mut(steps).zip(x.chunks_exact(depth)) {
                        // SAFETY: the CPU features asserted above; `out` holds the row.
                        unsafe { E::convert_row(x, out.as_mut_ptr().cast()) }
                    }
                })
        };
        // SAFETY: `fill` writes every row.
        unsafe { operands_filled(rows * steps, fill) }.0
    }

    /// `rows` of `width` f32 each as operands `[rows, ceil(width / E::DEPTH)]`, on this thread.
    pub fn rows_to_operands<'a, E: Operand>(
        self,
        rows: impl ExactSizeIterator<Item = &'a [f32]>,
        width: usize,
    ) -> Operands<E> {
        assert!(self.supports::<E>(), "operands this CPU cannot multiply");
        let steps = width.div_ceil(E::DEPTH);
        let count = rows.len();
        let fill = |out: &mut [MaybeUninit<E>]| {
            let mut written = 0;
            for (row, out) in rows.zip(out.chunks_exact_mut(steps)) {
                assert_eq!(row.len(), width, "operand rows of one width");
                // SAFETY: the CPU features asserted above; `out` holds the row.
                unsafe { E::convert_row(row, out.as_mut_ptr().cast()) }
                written += 1;
            }
            assert_eq!(written, count, "operand rows: fewer than announced");
        };
        // SAFETY: `fill` writes every row: as many as `len()` announced (asserted, so a wrong
        // `ExactSizeIterator` cannot leave rows unwritten).
        unsafe { operands_filled(count * steps, fill) }.0
    }

    /// `activation(a · b + bias)`, `[rows, b.width]` for `a` the rows' operands
    /// ([`Self::to_operands`]). Rows are split over the cores.
    pub fn multiply<E: Operand>(
        self,
        a: &[E],
        b: &Packed<E>,
        activation: &(dyn Fn(&mut [f32]) + Sync),
    ) -> Vec<f32> {
        let steps = b.steps();
        assert!(
            steps > 0 && a.len().is_multiple_of(steps),
            "packed multiply: {} operands, not whole rows of {steps}",
            a.len(),
        );
        self.multiply_split(Rows::Plain(a), a.len() / steps, b, activation)
    }

    /// `activation(x · first + first's bias) · second + second's bias`, `[rows,
    /// second.width]`, for `x` f32 rows of `first.depth` (a feed-forward layer): rows split
    /// over the cores as by [`Self::multiply`], each task's inner rows made and used while in
    /// cache, never a whole inner matrix (four times as wide as `x`).
    pub fn multiply_through<E: Operand>(
        self,
        x: &[f32],
        first: &Packed<E>,
        activation: &(dyn Fn(&mut [f32]) + Sync),
        second: &Packed<E>,
    ) -> Vec<f32> {
        let (depth, inner_width, width) = (first.depth, first.width, second.width);
        assert!(
            depth > 0 && x.len().is_multiple_of(depth) && second.depth == inner_width,
            "packed multiply: {} values, not rows of {depth}, or an inner width {inner_width} \
             against {}",
            x.len(),
            second.depth,
        );
        let task = |first_row: usize, c: &mut [MaybeUninit<f32>]| {
            let x = &x[first_row * depth..][..c.len() / width * depth];
            let inner = E::with_rows(self, x, depth, |x| self.multiply_rows(x, first, activation));
            E::with_rows(self, &inner, inner_width, |inner| {
                self.fill_rows(Rows::Plain(inner), second, c, &|_| {})
            });
        };
        // SAFETY: `fill_rows` writes every output of a task's rows.
        unsafe { self.in_row_tasks::<E>(x.len() / depth, width, task) }
    }

    /// `aᵀ · b`, `[rows, b.width]`, for `transposed` = aᵀ `[b.depth, rows]` f32: training's
    /// weight gradients `xᵀ · ∂y`, with no transposed copy of `x`: each task interleaves its
    /// rows of `aᵀ` block by block, reading them step by step along `transposed`'s rows.
    pub fn multiply_transposed(self, transposed: &[f32], b: &Packed<f32>) -> Vec<f32> {
        let depth = b.depth;
        assert!(
            depth > 0 && transposed.len().is_multiple_of(depth),
            "packed multiply: {} values, not whole rows of {depth}",
            transposed.len(),
        );
        let rows = transposed.len() / depth;
        self.multiply_split(Rows::Transposed(transposed, rows), rows, b, &|_| {})
    }

    /// [`Self::multiply`] for `rows` rows of `a`, split over the cores.
    fn multiply_split<E: Operand>(
        self,
        a: Rows<E>,
        rows: usize,
        b: &Packed<E>,
        activation: &(dyn Fn(&mut [f32]) + Sync),
    ) -> Vec<f32> {
        let (steps, width) = (b.steps(), b.width);
        assert!(width > 0, "packed multiply: no columns");
        let task = |first: usize, c: &mut [MaybeUninit<f32>]| {
            let a = match a {
                Rows::Plain(a) => Rows::Plain(&a[first * steps..][..c.len() / width * steps]),
                Rows::Transposed(a, stride) => Rows::Transposed(&a[first..], stride),
            };
            self.fill_rows(a, b, c, activation)
        };
        // SAFETY: `fill_rows` writes every output of a task's rows.
        unsafe { self.in_row_tasks::<E>(rows, width, task) }
    }

    /// `[rows, width]` outputs, not zero-filled first, their rows split over the cores in
    /// tasks of [`Self::chunk_rows`]: `task(first row, its rows' outputs)`.
    ///
    /// # Safety
    /// `task` writes every output it is given.
    unsafe fn in_row_tasks<E: Operand>(
        self,
        rows: usize,
        width: usize,
        task: impl Fn(usize, &mut [MaybeUninit<f32>]) + Sync,
    ) -> Vec<f32> {
        let outputs = rows * width;
        let chunk_rows = self.chunk_rows::<E>(rows);
        let mut c = Vec::with_capacity(outputs);
        c.spare_capacity_mut()[..outputs]
            .par_chunks_mut(chunk_rows * width)
            .enumerate()
            .for_each(|(chunk, c)| task(chunk * chunk_rows, c));
        // SAFETY: every task wrote all of its outputs (the caller's promise).
        unsafe { c.set_len(outputs) };
        c
    }

    /// Rows per parallel task of a product over `rows` rows: at most [`CHUNK_ROWS`] (what the
    /// tiles' cache blocking is sized for), whole tiles or AMX blocks, and as many tasks as
    /// will keep every thread busy to the end: a one-frame update's 65 rows would otherwise
    /// be one task on one core.
    fn chunk_rows<E: Operand>(self, rows: usize) -> usize {
        let tasks = rows
            .div_ceil(CHUNK_ROWS)
            .next_multiple_of(rayon::current_num_threads());
        let granule = self.tiles::<E>().map_or(ROWS, Amx::rows);
        rows.div_ceil(tasks).next_multiple_of(granule).max(granule)
    }

    /// [`Self::multiply`] on this thread.
    pub fn multiply_rows<E: Operand>(
        self,
        a: &[E],
        b: &Packed<E>,
        activation: &(dyn Fn(&mut [f32]) + Sync),
    ) -> Vec<f32> {
        let outputs = a.len() / b.steps().max(1) * b.width;
        let mut c = Vec::with_capacity(outputs);
        let c_rows = &mut c.spare_capacity_mut()[..outputs];
        self.fill_rows(Rows::Plain(a), b, c_rows, activation);
        // SAFETY: `fill_rows` wrote every output.
        unsafe { c.set_len(outputs) };
        c
    }

    /// Writes every element of `c` (`[rows, b.width]`) from `a`'s rows; `activation` runs over
    /// them at the end, while they are still in cache.
    fn fill_rows<E: Operand>(
        self,
        a: Rows<E>,
        b: &Packed<E>,
        c: &mut [MaybeUninit<f32>],
        activation: &(dyn Fn(&mut [f32]) + Sync),
    ) {
        let (steps, width, panels, bias) = (b.steps(), b.width, &b.panels, &b.bias);
        let panel_count = width.div_ceil(PANEL);
        assert!(
            self.supports::<E>()
                && steps > 0
                && width > 0
                && panels.len() == panel_count * steps * PANEL
                && bias.len() == panel_count * PANEL
                && c.len().is_multiple_of(width)
                && match a {
                    Rows::Plain(a) => a.len() == c.len() / width * steps,
                    // The last row's operand at the last step lies inside `a`.
                    Rows::Transposed(a, stride) => {
                        (steps - 1) * stride + c.len() / width <= a.len()
                    }
                },
            "packed multiply: operands of inconsistent sizes"
        );
        #[cfg(target_arch = "x86_64")]
        let portable = !self.avx512;
        #[cfg(not(target_arch = "x86_64"))]
        let portable = true;
        if portable {
            let (values, (row, step)) = match a {
                Rows::Plain(a) => (a, (steps, 1)),
                Rows::Transposed(a, stride) => (a, (1, stride)),
            };
            let (a, b) = E::as_f32(values, b).expect("without AVX-512 only f32 is supported");
            portable::fill_rows(Strided { a, row, step }, b, c);
        } else {
            #[cfg(target_arch = "x86_64")]
            self.fill_rows_in_tiles(a, b, c);
        }
        // SAFETY: the products above wrote every element of `c`.
        activation(unsafe { &mut *(c as *mut [MaybeUninit<f32>] as *mut [f32]) });
    }

    /// `work` compiled for AVX-512 where it inlines: element-wise loops run 16 lanes wide
    /// instead of the baseline's 4; 8 with AVX2 and FMA, where the CPU has those instead;
    /// elsewhere as built (4 lanes of NEON on ARM). Mark the closure `#[inline(always)]`:
    /// LLVM compiles a large one apart, on the baseline's instructions (so it ran every
    /// element-wise pass of training, a fifth of a `small` step, 4 lanes wide).
    pub fn vectorised<R>(self, work: impl FnOnce() -> R) -> R {
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f")]
            unsafe fn wide<R>(work: impl FnOnce() -> R) -> R {
                work()
            }
            #[target_feature(enable = "avx2,fma")]
            unsafe fn eight<R>(work: impl FnOnce() -> R) -> R {
                work()
            }
            if self.avx512 {
                // SAFETY: `self` proves AVX-512 F.
                return unsafe { wide(work) };
            } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                // SAFETY: the features just detected.
                return unsafe { eight(work) };
            }
        }
        work()
    }

    /// The matrix whose column `n` is `column(n)` (`depth` values), and `bias` (empty: zeros):
    /// a column's values are one panel column's operands. Panels are packed in parallel.
    pub fn pack_columns<'a, E: Operand>(
        self,
        depth: usize,
        width: usize,
        column: impl Fn(usize) -> &'a [f32] + Sync,
        bias: &[f32],
    ) -> Packed<E> {
        assert!(self.supports::<E>(), "operands this CPU cannot multiply");
        #[cfg(target_arch = "x86_64")]
        if self.avx512 {
            return self.pack_columns_in_registers(depth, width, column, bias);
        }
        portable::pack_columns(depth, width, column, bias)
    }

    /// Off x86-64 there are no bf16 operands ([`Self::supports`]), so none to transpose.
    #[cfg(not(target_arch = "x86_64"))]
    pub fn to_transposed_pairs(self, _: &[f32], _: usize) -> (Operands<u32>, usize) {
        unreachable!("bf16 operands need AVX-512 BF16")
    }
}

/// Whether this CPU has AVX-512 F (unless [`NO_AVX512`] is set) and, with it, AVX-512 BF16.
#[cfg(target_arch = "x86_64")]
fn avx512_features() -> (bool, bool) {
    let avx512 = is_x86_feature_detected!("avx512f") && std::env::var_os(NO_AVX512).is_none();
    (avx512, avx512 && is_x86_feature_detected!("avx512bf16"))
}

/// Neither, off x86-64.
#[cfg(not(target_arch = "x86_64"))]
fn avx512_features() -> (bool, bool) {
    (false, false)
}

/// A's rows as a product takes them.
#[derive(Clone, Copy)]
pub(super) enum Rows<'a, E> {
    /// Row after row.
    Plain(&'a [E]),
    /// As columns: depth step `k` of row `r` at `k × stride + r` (`aᵀ` as given).
    Transposed(&'a [E], usize),
}

#[cfg(test)]
mod tests {
    use super::super::packing::to_bf16;
    use super::*;

    fn bf16_value(x: f32) -> f64 {
        f64::from(f32::from_bits(u32::from(to_bf16(x)) << 16))
    }

    /// `a · b + bias` from `a`'s and `b`'s values as `E` holds them, in f64; the kernel's
    /// largest difference from it.
    fn worst_difference<E: Operand>(
        kernel: Kernel,
        rows: usize,
        depth: usize,
        width: usize,
    ) -> f64 {
        let value = |i: usize, scale: f32| ((i * 7919 % 1013) as f32 / 1013.0 - 0.5) * scale;
        let held = |x: f32| {
            if E::NEEDS_BF16 {
                bf16_value(x)
            } else {
                f64::from(x)
            }
        };
        let a: Vec<f32> = (0..rows * depth).map(|i| value(i, 4.0)).collect();
        let b: Vec<f32> = (0..depth * width).map(|i| value(i * 31 + 5, 0.2)).collect();
        let bias: Vec<f32> = (0..width).map(|i| value(i * 13, 1.0)).collect();
        let packed = Packed::<E>::from_rows(depth, width, |k| &b[k * width..][..width], &bias);
        let operands = kernel.to_operands::<E>(&a, depth);
        assert_eq!(operands.len(), rows * depth.div_ceil(E::DEPTH));
        let c = kernel.multiply(&operands, &packed, &|_| {});
        assert_eq!(c.len(), rows * width);
        c.iter()
            .enumerate()
            .map(|(at, &got)| {
                let (r, n) = (at / width, at % width);
                let want = (0..depth)
                    .map(|k| held(a[r * depth + k]) * held(b[k * width + n]))
                    .sum::<f64>()
                    + f64::from(bias[n]);
                (f64::from(got) - want).abs()
            })
            .fold(0.0, f64::max)
    }

    /// A one-frame streaming update of a 64-frame window (65 rows) keeps every core busy;
    /// a long batch stays in chunks of at most [`CHUNK_ROWS`], whole tiles or AMX blocks each.
    #[test]
    fn rows_split_into_whole_tiles_for_every_thread() {
        let kernel = Kernel::detect();
        let threads = rayon::current_num_threads();
        for (rows, granule) in [(65, ROWS), (4_112, ROWS)] {
            let chunk = kernel.chunk_rows::<f32>(rows);
            assert!(
                chunk.is_multiple_of(granule) && chunk <= CHUNK_ROWS,
                "{rows}: {chunk}"
            );
            assert!(
                rows.div_ceil(chunk) >= threads.min(rows / ROWS),
                "{rows}: {chunk}"
            );
        }
        let chunk = kernel.chunk_rows::<u32>(65);
        let granule = kernel.tiles::<u32>().map_or(ROWS, Amx::rows);
        assert!(chunk.is_multiple_of(granule) && chunk <= CHUNK_ROWS);
    }

    /// Every shape edge at once: rows not a multiple of a tile, a block or a chunk, an odd depth
    /// of more than one depth pass and not a whole number of tile products, widths that end
    /// inside a panel's second vector or at half a panel; f32 with AVX-512 and without, and
    /// bf16 on the AMX tiles where this CPU has them and without.
    #[test]
    fn multiply_equals_the_sum_of_products() {
        let kernel = Kernel::detect();
        let (rows, depth) = (103, 2 * DEPTH + 77);
        for width in [83, 96] {
            // f32 also over more than one block of the depth, with AVX-512 and without.
            for depth in [depth, BLOCK_DEPTH + depth] {
                for kernel in kernel.with_portable() {
                    let worst = worst_difference::<f32>(kernel, rows, depth, width);
                    let name = kernel.name::<f32>();
                    assert!(
                        worst < 1e-4,
                        "{name}, depth {depth}, width {width}: largest difference {worst:e}"
                    );
                }
            }
            if !kernel.supports::<u32>() {
                eprintln!("this CPU has no AVX-512 BF16: bf16 not checked");
                continue;
            }
            if kernel.amx.is_none() {
                eprintln!("this CPU has no AMX tiles: only bf16's AVX-512 path is checked");
            }
            for kernel in [kernel, kernel.without_amx()] {
                let worst = worst_difference::<u32>(kernel, rows, depth, width);
                let name = kernel.name::<u32>();
                assert!(
                    worst < 1e-4,
                    "{name}, width {width}: largest difference {worst:e}"
                );
            }
        }
    }

    /// A feed-forward block by block of rows equals its two products one after the other:
    /// bit for bit in f32 (each output sums the same products in the same order), and within
    /// bf16's rounding where a block's rows split differently between AMX and vector tiles.
    /// Rows enough for several tasks and a partial one; an activation between the products.
    #[test]
    fn feed_forward_through_blocks_equals_its_two_products() {
        let kernel = Kernel::detect();
        let (rows, depth, inner, width) = (CHUNK_ROWS * 2 + 45, 70, 150, 40);
        let value = |i: usize| (i * 7919 % 1013) as f32 / 1013.0 - 0.5;
        let x: Vec<f32> = (0..rows * depth).map(value).collect();
        let first: Vec<f32> = (0..depth * inner).map(|i| value(i + 1)).collect();
        let second: Vec<f32> = (0..inner * width).map(|i| value(i + 2)).collect();
        let bias: Vec<f32> = (0..inner).map(|i| value(i + 3)).collect();
        let activation = |values: &mut [f32]| values.iter_mut().for_each(|v| *v = v.max(0.0));
        fn both<E: Operand>(
            kernel: Kernel,
            x: &[f32],
            [depth, inner, width]: [usize; 3],
            [first, second, bias]: [&[f32]; 3],
            activation: &(dyn Fn(&mut [f32]) + Sync),
        ) -> (Vec<f32>, Vec<f32>) {
            let first =
                Packed::<E>::from_rows(depth, inner, |k| &first[k * inner..][..inner], bias);
            let second =
                Packed::<E>::from_rows(inner, width, |k| &second[k * width..][..width], &[]);
            let through = kernel.multiply_through(x, &first, activation, &second);
            let hidden = kernel.multiply(&kernel.to_operands::<E>(x, depth), &first, activation);
            let apart = kernel.multiply(&kernel.to_operands::<E>(&hidden, inner), &second, &|_| {});
            (through, apart)
        }
        let shape = [depth, inner, width];
        let weights = [&first[..], &second[..], &bias[..]];
        for kernel in kernel.with_portable() {
            let (through, apart) = both::<f32>(kernel, &x, shape, weights, &activation);
            assert_eq!(through, apart, "{}", kernel.name::<f32>());
        }
        if kernel.supports::<u32>() {
            let (through, apart) = both::<u32>(kernel, &x, shape, weights, &activation);
            let worst = through
                .iter()
                .zip(&apart)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(worst < 1e-3, "bf16: largest difference {worst:e}");
        }
    }

    /// Every buffer AMX tiles may load from starts on a cache line, small and large (a plain
    /// `Vec` from `mmap` starts 16 bytes past a page boundary), packed by rows and by columns.
    #[test]
    fn bf16_operands_and_panels_start_on_cache_lines() {
        use super::super::operand::ALIGN;
        let kernel = Kernel::detect();
        if !kernel.supports::<u32>() {
            eprintln!("skipped: this CPU has no AVX-512 BF16");
            return;
        }
        let on_a_line = |operands: &[u32]| operands.as_ptr().cast::<u8>().align_offset(ALIGN) == 0;
        for (rows, depth) in [(3, 10), (1000, 768)] {
            let x = vec![0.5; rows * depth];
            assert!(on_a_line(&kernel.to_operands::<u32>(&x, depth)));
            assert!(on_a_line(
                &kernel.rows_to_operands::<u32>(x.chunks_exact(depth), depth)
            ));
            let by_rows = Packed::<u32>::from_rows(depth, rows, |_| &x[..rows], &[]);
            assert!(on_a_line(&by_rows.panels));
            let by_columns = kernel.pack_columns::<u32>(depth, rows, |_| &x[..depth], &[]);
            assert!(on_a_line(&by_columns.panels));
        }
    }

    /// `aᵀ · b` from `aᵀ` as given sums the same products in the same order as from `a`
    /// itself: rows off a tile, a depth over more than one block.
    #[test]
    fn transposed_rows_multiply_as_their_plain_rows() {
        let kernel = Kernel::detect();
        let (rows, depth, width) = (37, BLOCK_DEPTH + DEPTH + 5, 70);
        let value = |i: usize| (i * 7919 % 1013) as f32 / 1013.0 - 0.5;
        let transposed: Vec<f32> = (0..depth * rows).map(value).collect();
        let plain: Vec<f32> = (0..rows * depth)
            .map(|i| transposed[(i % depth) * rows + i / depth])
            .collect();
        let b: Vec<f32> = (0..depth * width).map(|i| value(i + 3)).collect();
        let packed = Packed::<f32>::from_rows(depth, width, |k| &b[k * width..][..width], &[]);
        for kernel in kernel.with_portable() {
            assert_eq!(
                kernel.multiply_transposed(&transposed, &packed),
                kernel.multiply(&plain, &packed, &|_| {}),
                "{}",
                kernel.name::<f32>()
            );
        }
    }
}
