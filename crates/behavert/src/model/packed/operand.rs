//! What the packed kernels multiply: f32 values, or bf16 pairs (two depth values in one `u32`,
//! the lower in the low half, as `vdpbf16ps` and AMX read them). A product's depth runs in
//! steps of one operand.

#[cfg(target_arch = "x86_64")]
use super::kernel::Tile;
use super::packing::to_bf16;

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
