//! f32 products where the CPU has no AVX-512 (most laptops: Intel's since Alder Lake, AMD's
//! before Zen 4, every ARM CPU): the gemm crate's kernels (AVX2 and FMA, or NEON, chosen by
//! the CPU's features), or on macOS Apple's Accelerate (`blas.rs`), multiply the packed layout
//! panel by panel, so the fused training and inference operations around the products run on
//! every CPU instead of burn's unfused layers.

use std::mem::MaybeUninit;

#[cfg(not(any(target_os = "macos", feature = "openblas")))]
use gemm::Parallelism;

#[cfg(any(target_os = "macos", feature = "openblas"))]
pub use super::blas::NAME;
#[cfg(any(target_os = "macos", feature = "openblas"))]
use super::blas::add_product;
use super::operand::Operand;
use super::packing::{PANEL, Packed};

/// A's rows as a product reads them: element `(r, k)` at `r × row + k × step`.
#[derive(Clone, Copy)]
pub struct Strided<'a> {
    /// The values.
    pub a: &'a [f32],
    /// Between rows.
    pub row: usize,
    /// Between depth steps.
    pub step: usize,
}

/// Writes every element of `c` (`[rows, b.width]`) as `a · b + b.bias`, one gemm call per
/// panel on this thread (the caller splits rows over the cores).
pub fn fill_rows(a: Strided, b: &Packed<f32>, c: &mut [MaybeUninit<f32>]) {
    let (depth, width) = (b.depth, b.width);
    let rows = c.len() / width;
    assert!(
        b.panels.len() == width.div_ceil(PANEL) * depth * PANEL
            && c.len() == rows * width
            && (rows == 0 || (rows - 1) * a.row + (depth - 1) * a.step < a.a.len()),
        "portable multiply: operands of inconsistent sizes"
    );
    // The bias first: the products are added to what the outputs hold.
    for row in c.chunks_exact_mut(width) {
        for (out, &bias) in row.iter_mut().zip(&b.bias) {
            out.write(bias);
        }
    }
    for (panel, first) in (0..width).step_by(PANEL).enumerate() {
        let columns = PANEL.min(width - first);
        let panel = &b.panels[panel * depth * PANEL..][..depth * PANEL];
        // SAFETY: the sizes asserted above keep every read inside `a` and the panel and every
        // write inside `c` (row stride `width`, from column `first`, `columns` wide); `c` was
        // written above, so reading it back is defined.
        unsafe { add_product(a, rows, depth, panel, columns, &mut c[first..], width) }
    }
}

/// The library products run on where the CPU has no AVX-512, for logs and benchmarks.
#[cfg(not(any(target_os = "macos", feature = "openblas")))]
pub const NAME: &str = "gemm crate (AVX2/FMA, NEON)";

/// Adds `a · panel` to `c` on the gemm crate: `rows` × `columns` outputs from `depth` steps,
/// `panel` one packed panel (`[depth, PANEL]`) and `c` with `c_stride` between its rows.
///
/// # Safety
/// Every element read lies inside `a` and `panel`, every one written inside `c`, whose outputs
/// are initialised (gemm reads them back to add to).
#[cfg(not(any(target_os = "macos", feature = "openblas")))]
unsafe fn add_product(
    a: Strided,
    rows: usize,
    depth: usize,
    panel: &[f32],
    columns: usize,
    c: &mut [MaybeUninit<f32>],
    c_stride: usize,
) {
    // SAFETY: as the caller promises.
    unsafe {
        gemm::gemm::<f32>(
            rows,
            columns,
            depth,
            c.as_mut_ptr().cast(),
            1,
            c_stride as isize,
            true,
            a.a.as_ptr(),
            a.step as isize,
            a.row as isize,
            panel.as_ptr(),
            1,
            PANEL as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        )
    }
}

/// The `[depth, width]` matrix whose column `n` is `column(n)`, packed one operand at a time
/// (there is no register transpose without AVX-512); the last panel's missing columns zero.
pub fn pack_columns<'a, E: Operand>(
    depth: usize,
    width: usize,
    column: impl Fn(usize) -> &'a [f32] + Sync,
    bias: &[f32],
) -> Packed<E> {
    let fill = |panel: usize, out: &mut [MaybeUninit<E>]| {
        for j in 0..PANEL {
            let n = panel * PANEL + j;
            let values = (n < width).then(|| column(n));
            assert!(
                values.is_none_or(|v| v.len() == depth),
                "packing: column depth"
            );
            let value = |k: usize| values.and_then(|v| v.get(k)).copied().unwrap_or(0.0);
            for (step, out) in out.iter_mut().skip(j).step_by(PANEL).enumerate() {
                out.write(E::of(value(E::DEPTH * step), value(E::DEPTH * step + 1)));
            }
        }
    };
    // SAFETY: every step of every column of the panel is written above.
    unsafe { Packed::build(depth, width, bias, fill) }.0
}
