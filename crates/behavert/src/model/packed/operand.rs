//! What the packed kernels multiply: f32 values, or bf16 pairs (two depth values in one `u32`,
//! the lower in the low half, as `vdpbf16ps` and AMX read them). A product's depth runs in
//! steps of one operand.

use std::mem::MaybeUninit;
#[cfg(target_arch = "x86_64")]
use std::ops::Range;

use super::kernel::Kernel;
use super::packing::{Packed, to_bf16};
#[cfg(target_arch = "x86_64")]
use super::tiles::Tile;
#[cfg(target_arch = "x86_64")]
use super::transpose;

/// Bytes the operands of AMX tiles are aligned to: a cache line, so no tile row straddles two
/// lines (a straddling tile load measured seven times as long as an aligned one; AVX-512's
/// straddling vector loads cost f32 no measurable time).
pub const ALIGN: usize = 64;

/// Operands in a plain `Vec`, starting on an [`ALIGN`]-byte boundary where AMX tiles may load
/// them ([`Operand::TILES`]): a few values over-allocated rather than `posix_memalign`, whose
/// split-off remainders raised a training step's peak memory 5–9% (measured). f32 buffers are
/// their exact size: a buffer of a freed tensor's size reuses its memory.
pub struct Operands<E> {
    values: Vec<E>,
    start: usize,
}

impl<E> std::ops::Deref for Operands<E> {
    type Target = [E];

    fn deref(&self) -> &[E] {
        &self.values[self.start..]
    }
}

/// `len` operands that `fill` writes (not zero-filled first: buffers of megabytes are made
/// every training step), and what `fill` returned.
///
/// # Safety
/// `fill` writes every value of the slice it is given.
pub unsafe fn operands_filled<E: Operand, R>(
    len: usize,
    fill: impl FnOnce(&mut [MaybeUninit<E>]) -> R,
) -> (Operands<E>, R) {
    let room = len + if E::TILES { ALIGN / size_of::<E>() } else { 0 };
    let mut values = Vec::with_capacity(room);
    let spare = &mut values.spare_capacity_mut()[..room];
    let start = match E::TILES {
        true => spare.as_ptr().cast::<u8>().align_offset(ALIGN) / size_of::<E>(),
        false => 0,
    };
    let (before, spare) = spare.split_at_mut(start);
    before.iter_mut().for_each(|v| {
        v.write(E::of(0.0, 0.0));
    });
    let returned = fill(&mut spare[..len]);
    // SAFETY: the values before `start` were written above, the next `len` by `fill` (the
    // caller's promise).
    unsafe { values.set_len(start + len) };
    (Operands { values, start }, returned)
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

    /// `then` of `x`'s rows (`depth` values each) as operands: f32 rows are their own, bf16
    /// pairs are made.
    fn with_rows<R>(kernel: Kernel, x: &[f32], depth: usize, then: impl FnOnce(&[Self]) -> R) -> R;

    /// Two depth rows' values of the same columns, `low` and `high`, as the operands of `out`
    /// (as many as columns; f32 takes `low`): bf16 pairs rounded by AVX-512 BF16 where the CPU
    /// has it (packing runs every training step).
    fn paired_operands(low: &[f32], high: &[f32], out: &mut [MaybeUninit<Self>]);

    /// A's operands and B's packed panels as f32, where these operands are f32 (the only
    /// ones multiplied without AVX-512).
    fn as_f32<'a>(a: &'a [Self], b: &'a Packed<Self>) -> Option<(&'a [f32], &'a Packed<f32>)>;

    /// One row of f32 as operands, written to the `ceil(x.len() / DEPTH)` operands at `out`.
    ///
    /// # Safety
    /// The CPU runs these operands ([`Kernel::supports`]); `out` has that room.
    unsafe fn convert_row(x: &[f32], out: *mut Self);

    /// Up to 16 steps (`values`, a range of every column's depth values) of 16 `columns`
    /// (`None`: zeros) written by step, each step's 16 operands side by side at `out + s ×
    /// PANEL`, `count` steps.
    ///
    /// # Safety
    /// As [`Self::convert_row`] for the CPU; `out` has room for `count` steps.
    #[cfg(target_arch = "x86_64")]
    unsafe fn transposed_steps(
        columns: &[Option<&[f32]>],
        values: Range<usize>,
        out: *mut MaybeUninit<Self>,
        count: usize,
    );

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

    fn with_rows<R>(_: Kernel, x: &[f32], _: usize, then: impl FnOnce(&[f32]) -> R) -> R {
        then(x)
    }

    fn paired_operands(low: &[f32], _: &[f32], out: &mut [MaybeUninit<f32>]) {
        out.iter_mut().zip(low).for_each(|(out, &v)| {
            out.write(v);
        });
    }

    fn as_f32<'a>(a: &'a [f32], b: &'a Packed<f32>) -> Option<(&'a [f32], &'a Packed<f32>)> {
        Some((a, b))
    }

    unsafe fn convert_row(x: &[f32], out: *mut Self) {
        // SAFETY: the caller's room for `x.len()` values.
        unsafe { std::ptr::copy_nonoverlapping(x.as_ptr(), out, x.len()) }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn transposed_steps(
        columns: &[Option<&[f32]>],
        values: Range<usize>,
        out: *mut MaybeUninit<Self>,
        count: usize,
    ) {
        // SAFETY: the caller's; the features enabled here.
        unsafe {
            transpose::transposed_steps(columns, values, out, count, |x| transpose::values(x))
        }
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

    fn with_rows<R>(kernel: Kernel, x: &[f32], depth: usize, then: impl FnOnce(&[u32]) -> R) -> R {
        then(&kernel.rows_to_operands(x.chunks_exact(depth), depth))
    }

    fn paired_operands(low: &[f32], high: &[f32], out: &mut [MaybeUninit<u32>]) {
        assert!(
            high.len() == low.len() && out.len() == low.len(),
            "bf16 pairs of two rows"
        );
        #[cfg(target_arch = "x86_64")]
        if has_bf16() {
            // SAFETY: the features just detected; `out` holds the pairs (asserted).
            return unsafe { super::tiles::rows_to_pairs(low, high, out.as_mut_ptr().cast()) };
        }
        for ((out, &low), &high) in out.iter_mut().zip(low).zip(high) {
            out.write(Self::of(low, high));
        }
    }

    fn as_f32<'a>(_: &'a [u32], _: &'a Packed<u32>) -> Option<(&'a [f32], &'a Packed<f32>)> {
        None
    }

    unsafe fn convert_row(x: &[f32], out: *mut Self) {
        // SAFETY: the caller's.
        #[cfg(target_arch = "x86_64")]
        return unsafe { super::tiles::row_to_pairs(x, out) };
        #[cfg(not(target_arch = "x86_64"))]
        unreachable!("bf16 operands need AVX-512 BF16: {x:p} {out:p}")
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bf16")]
    unsafe fn transposed_steps(
        columns: &[Option<&[f32]>],
        values: Range<usize>,
        out: *mut MaybeUninit<Self>,
        count: usize,
    ) {
        // SAFETY: the caller's; the features enabled here.
        unsafe { transpose::transposed_steps(columns, values, out, count, |x| transpose::pairs(x)) }
    }

    #[cfg(target_arch = "x86_64")]
    unsafe fn run_tile<const R: usize>(tile: &Tile<Self>) {
        // SAFETY: the caller's.
        unsafe { tile.run_bf16::<R>() }
    }
}

/// Whether this CPU rounds to bf16 with AVX-512 BF16 (a cached check).
#[cfg(target_arch = "x86_64")]
fn has_bf16() -> bool {
    is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512bf16")
}
