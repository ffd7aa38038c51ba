//! What the packed kernels multiply: f32 values, or bf16 pairs (two depth values in one `u32`,
//! the lower in the low half, as `vdpbf16ps` and AMX read them). A product's depth runs in
//! steps of one operand.

use std::mem::MaybeUninit;

use aligned_vec::{AVec, ConstAlign};

#[cfg(target_arch = "x86_64")]
use super::kernel::Tile;
use super::packing::to_bf16;

/// Bytes the kernels' operand buffers are aligned to: a cache line, so no AVX-512 vector or
/// AMX tile row straddles two lines (a straddling tile load measured seven times as long).
pub const ALIGN: usize = 64;

/// Operands (or any kernel input) starting on an [`ALIGN`]-byte boundary.
pub type Aligned<E> = AVec<E, ConstAlign<ALIGN>>;

/// `len` values that `fill` writes, on an [`ALIGN`]-byte boundary (not zero-filled first:
/// buffers of megabytes are made every training step), and what `fill` returned.
///
/// # Safety
/// `fill` writes every value of the slice it is given.
pub unsafe fn aligned_filled<E: Copy, R>(
    len: usize,
    fill: impl FnOnce(&mut [MaybeUninit<E>]) -> R,
) -> (Aligned<E>, R) {
    let mut out = Aligned::<E>::with_capacity(ALIGN, len);
    // SAFETY: the buffer has room for `len` values; `MaybeUninit` asks nothing of them.
    let spare =
        unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast::<MaybeUninit<E>>(), len) };
    let returned = fill(spare);
    // SAFETY: `fill` wrote every value (the caller's promise).
    unsafe { out.set_len(len) };
    (out, returned)
}

/// An element of A's rows and of B's panels.
pub trait Operand: Copy + Send + Sync + 'static {
    /// Depth values in one operand.
    const DEPTH: usize;
    /// Whether the kernel needs AVX-512 BF16 for it.
    const NEEDS_BF16: bool;
    /// Whether whole blocks may run on AMX tiles.
    const TILES: bool;

    /// The operand of the depth values `low` and `high` (`high` unused where [`Self::DEPTH`]
    /// is 1).
    fn of(low: f32, high: f32) -> Self;

    /// One row of f32 as operands, written to the `ceil(x.len() / DEPTH)` operands at `out`.
    ///
    /// # Safety
    /// The CPU has AVX-512 F (and BF16 where [`Self::NEEDS_BF16`]); `out` has that room.
    #[cfg(target_arch = "x86_64")]
    unsafe fn convert_row(x: &[f32], out: *mut Self);

    /// A tile of `R` rows over its depth steps.
    ///
    /// # Safety
    /// As [`Self::convert_row`] for the CPU; the tile's pointers cover its rows and depth.
    #[cfg(target_arch = "x86_64")]
    unsafe fn run_tile<const R: usize>(tile: &Tile<Self>);
}

impl Operand for f32 {
    const DEPTH: usize = 1;
    const NEEDS_BF16: bool = false;
    const TILES: bool = false;

    #[inline(always)]
    fn of(low: f32, _: f32) -> Self {
        low
    }

    #[cfg(target_arch = "x86_64")]
    unsafe fn convert_row(x: &[f32], out: *mut Self) {
        // SAFETY: the caller's room for `x.len()` values.
        unsafe { std::ptr::copy_nonoverlapping(x.as_ptr(), out, x.len()) }
    }

    #[cfg(target_arch = "x86_64")]
    unsafe fn run_tile<const R: usize>(tile: &Tile<Self>) {
        // SAFETY: the caller's.
        unsafe { tile.run_f32::<R>() }
    }
}

/// Two bf16 as `vdpbf16ps` reads a lane.
impl Operand for u32 {
    const DEPTH: usize = 2;
    const NEEDS_BF16: bool = true;
    const TILES: bool = true;

    #[inline(always)]
    fn of(low: f32, high: f32) -> Self {
        u32::from(to_bf16(low)) | (u32::from(to_bf16(high)) << 16)
    }

    #[cfg(target_arch = "x86_64")]
    unsafe fn convert_row(x: &[f32], out: *mut Self) {
        // SAFETY: the caller's.
        unsafe { super::kernel::row_to_pairs(x, out) }
    }

    #[cfg(target_arch = "x86_64")]
    unsafe fn run_tile<const R: usize>(tile: &Tile<Self>) {
        // SAFETY: the caller's.
        unsafe { tile.run_bf16::<R>() }
    }
}
