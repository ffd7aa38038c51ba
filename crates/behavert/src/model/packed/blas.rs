//! f32 products on the system's BLAS through its C interface (`cblas_sgemm`): Apple's
//! Accelerate on macOS, whose products run on Apple silicon's matrix units, which the gemm
//! crate's NEON kernels cannot reach (PyTorch's CPU products go there on a Mac); elsewhere the
//! system's OpenBLAS with the `openblas` feature, so that this path is built and tested off a
//! Mac too (the same interface and the same calls; only the library linked differs).

use std::ffi::c_int;
use std::mem::MaybeUninit;

use super::packing::PANEL;
use super::portable::Strided;

/// The library the products run on, for logs and benchmarks.
pub const NAME: &str = if cfg!(target_os = "macos") {
    "Accelerate (CBLAS)"
} else {
    "OpenBLAS (CBLAS)"
};

// CBLAS's enumerations, the same numbers in every implementation's `cblas.h`.
const ROW_MAJOR: c_int = 101;
const NO_TRANSPOSE: c_int = 111;
const TRANSPOSE: c_int = 112;

#[cfg_attr(target_os = "macos", link(name = "Accelerate", kind = "framework"))]
#[cfg_attr(not(target_os = "macos"), link(name = "openblas"))]
unsafe extern "C" {
    /// `C ← alpha · op(A) · op(B) + beta · C`.
    fn cblas_sgemm(
        order: c_int,
        transpose_a: c_int,
        transpose_b: c_int,
        m: c_int,
        n: c_int,
        k: c_int,
        alpha: f32,
        a: *const f32,
        lda: c_int,
        b: *const f32,
        ldb: c_int,
        beta: f32,
        c: *mut f32,
        ldc: c_int,
    );
}

/// Adds `a · panel` to `c`: `rows` × `columns` outputs from `depth` steps, `panel` one packed
/// panel (`[depth, PANEL]`, row-major) and `c` with `c_stride` between its rows. BLAS takes `a`
/// as rows (step 1) or as columns (row 1, i.e. `aᵀ` as given); no other layout reaches here.
///
/// # Safety
/// Every element read lies inside `a` and `panel`, every one written inside `c`, whose outputs
/// are initialised (BLAS reads them back to add to).
pub unsafe fn add_product(
    a: Strided,
    rows: usize,
    depth: usize,
    panel: &[f32],
    columns: usize,
    c: &mut [MaybeUninit<f32>],
    c_stride: usize,
) {
    if rows == 0 || columns == 0 || depth == 0 {
        return;
    }
    // A leading dimension below the rows BLAS reads along is refused even where only one of
    // them is read, so one row (or one column) gets the least the interface accepts.
    let (transpose_a, lda) = if a.step == 1 {
        (NO_TRANSPOSE, a.row.max(depth))
    } else {
        assert_eq!(a.row, 1, "BLAS product: A neither by rows nor by columns");
        (TRANSPOSE, a.step.max(rows))
    };
    let int = |n: usize| c_int::try_from(n).expect("BLAS product: a size beyond C's int");
    // SAFETY: the caller keeps every read and write inside the operands; the sizes and
    // leading dimensions are the ones the layouts above describe.
    unsafe {
        cblas_sgemm(
            ROW_MAJOR,
            transpose_a,
            NO_TRANSPOSE,
            int(rows),
            int(columns),
            int(depth),
            1.0,
            a.a.as_ptr(),
            int(lda),
            panel.as_ptr(),
            int(PANEL),
            1.0,
            c.as_mut_ptr().cast(),
            int(c_stride),
        )
    }
}
