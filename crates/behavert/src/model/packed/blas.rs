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
    /// OpenBLAS's threads for every later call.
    #[cfg(not(target_os = "macos"))]
    fn openblas_set_num_threads(threads: c_int);
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
    on_this_thread_only();
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

/// Keeps the BLAS's work on the calling thread: products already run in tasks over every core
/// (`Kernel::in_row_tasks`), and a BLAS splitting each task again over threads of its own ran
/// 1.3–1.8× slower (OpenBLAS on AVX2, `small` and `base`, training and inference).
fn on_this_thread_only() {
    #[cfg(not(target_os = "macos"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        // SAFETY: sets a count, for every thread, before the first product.
        ONCE.call_once(|| unsafe { openblas_set_num_threads(1) });
    }
    #[cfg(target_os = "macos")]
    {
        use std::cell::Cell;
        // Accelerate's switch is per thread.
        thread_local!(static SET: Cell<bool> = const { Cell::new(false) });
        if !SET.get() {
            accelerate_single_threaded();
            SET.set(true);
        }
    }
}

/// `BLASSetThreading(BLAS_THREADING_SINGLE_THREADED)` where Accelerate has it (macOS 15 and
/// later); looked up at run time, so the binary still loads on older macOS.
#[cfg(target_os = "macos")]
fn accelerate_single_threaded() {
    /// `BLAS_THREADING_SINGLE_THREADED` in vecLib's `thread_api.h`.
    const SINGLE_THREADED: std::ffi::c_uint = 1;
    // SAFETY: looks a name up among the loaded libraries' symbols.
    let symbol = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"BLASSetThreading".as_ptr()) };
    if !symbol.is_null() {
        // SAFETY: the symbol is vecLib's `int BLASSetThreading(BLAS_THREADING)`, an enum of
        // C's unsigned int; it returns -1 where the model is unsupported, which leaves the
        // default.
        unsafe {
            let set: unsafe extern "C" fn(std::ffi::c_uint) -> c_int = std::mem::transmute(symbol);
            set(SINGLE_THREADED);
        }
    }
}
