//! Intel AMX tiles for the bf16 products (Sapphire Rapids and later): one `tdpbf16ps` multiplies
//! a 16 × 32 block of bf16 by a 32 × 16 block into 16 × 16 f32 sums, sixteen times the work of an
//! AVX-512 `vdpbf16ps`. The operands are the ones [`super::kernel`] already uses: A's rows of
//! bf16 pairs are an A tile as they lie in memory, and a [`Packed`](super::packing::Packed)
//! panel's rows of pairs are B tiles (one row per pair, 16 columns of it at a time).
//!
//! Eight tile registers: four hold a 32 × 32 block of C, two of A and two of B. Blocks cover 32
//! rows of A and 32 columns of a panel, over a multiple of 16 pairs of depth; the caller runs
//! what is left (rows, columns or depth) on the AVX-512 kernel.

use std::arch::asm;
use std::arch::x86_64::__cpuid_count;
use std::sync::OnceLock;

use super::packing::PANEL;

/// Rows of a C block (two tiles high).
pub const BLOCK_ROWS: usize = 32;
/// Pairs of depth per tile product (a tile row holds 16 pairs).
pub const BLOCK_PAIRS: usize = 16;
/// Columns of a C block (two tiles wide).
const BLOCK_COLUMNS: usize = 32;
/// Bytes per tile row: 16 f32 or 16 pairs of bf16.
const TILE_ROW_BYTES: usize = 64;

/// Proof that this CPU has AMX-BF16 and that Linux lets this process use the tiles.
#[derive(Clone, Copy, Debug)]
pub struct Amx(());

/// The tile shapes of `ldtilecfg` (palette 1): all eight tiles 16 rows of 64 bytes.
#[repr(C, align(64))]
struct TileConfig {
    palette: u8,
    start_row: u8,
    reserved: [u8; 14],
    bytes_per_row: [u16; 16],
    rows: [u8; 16],
}

const CONFIG: TileConfig = TileConfig {
    palette: 1,
    start_row: 0,
    reserved: [0; 14],
    bytes_per_row: [64, 64, 64, 64, 64, 64, 64, 64, 0, 0, 0, 0, 0, 0, 0, 0],
    rows: [16, 16, 16, 16, 16, 16, 16, 16, 0, 0, 0, 0, 0, 0, 0, 0],
};

impl Amx {
    /// The tiles, if this CPU has them and the operating system allows their use.
    pub fn detect() -> Option<Self> {
        static USABLE: OnceLock<bool> = OnceLock::new();
        USABLE
            .get_or_init(|| cpu_has_amx_bf16() && os_allows_tiles())
            .then_some(Self(()))
    }

    /// `c[r][n] = bias[n] + Σ a[r][p] · panel[p][n]` for the `rows` × 32 block whose first
    /// row and column are at `a`, `c` and `panel` (`bias` its 32 columns), over `pairs` pairs.
    ///
    /// # Safety
    /// `rows` is a multiple of [`BLOCK_ROWS`] and `pairs` of [`BLOCK_PAIRS`]; `a` has `rows`
    /// rows `a_stride` pairs apart, `c` as many `c_stride` floats apart, 32 columns each;
    /// `panel` has `pairs` rows of [`PANEL`] pairs (32 read); `bias` has 32 floats.
    pub unsafe fn block(self, block: Block) {
        let Block {
            a,
            a_stride,
            panel,
            pairs,
            bias,
            c,
            c_stride,
            rows,
        } = block;
        let a_bytes = a_stride * 4;
        let c_bytes = c_stride * 4;
        let panel_bytes = PANEL * 4;
        // SAFETY (whole body): the caller's ranges; tiles touch 16 rows × 64 bytes from each
        // address at the stride given, and 16 × 32 = BLOCK_ROWS × 16 columns in all.
        unsafe {
            asm!("ldtilecfg [{}]", in(reg) &CONFIG, options(nostack, readonly));
            for top in (0..rows).step_by(BLOCK_ROWS) {
                let a_top = a.add(top * a_stride);
                let a_bottom = a_top.add(16 * a_stride);
                // Stride 0 repeats the bias row down the tile.
                asm!(
                    "tileloadd tmm0, [{left} + {zero}*1]",
                    "tileloadd tmm1, [{right} + {zero}*1]",
                    "tileloadd tmm2, [{left} + {zero}*1]",
                    "tileloadd tmm3, [{right} + {zero}*1]",
                    left = in(reg) bias,
                    right = in(reg) bias.add(16),
                    zero = in(reg) 0usize,
                    options(nostack, readonly),
                );
                for pair in (0..pairs).step_by(BLOCK_PAIRS) {
                    let b = panel.add(pair * PANEL);
                    asm!(
                        "tileloadd tmm4, [{a_top} + {a_bytes}*1]",
                        "tileloadd tmm5, [{a_bottom} + {a_bytes}*1]",
                        "tileloadd tmm6, [{b_left} + {b_bytes}*1]",
                        "tileloadd tmm7, [{b_right} + {b_bytes}*1]",
                        "tdpbf16ps tmm0, tmm4, tmm6",
                        "tdpbf16ps tmm1, tmm4, tmm7",
                        "tdpbf16ps tmm2, tmm5, tmm6",
                        "tdpbf16ps tmm3, tmm5, tmm7",
                        a_top = in(reg) a_top.add(pair),
                        a_bottom = in(reg) a_bottom.add(pair),
                        a_bytes = in(reg) a_bytes,
                        b_left = in(reg) b,
                        b_right = in(reg) b.add(16),
                        b_bytes = in(reg) panel_bytes,
                        options(nostack, readonly),
                    );
                }
                let c_top = c.add(top * c_stride);
                let c_bottom = c_top.add(16 * c_stride);
                asm!(
                    "tilestored [{top_left} + {c_bytes}*1], tmm0",
                    "tilestored [{top_right} + {c_bytes}*1], tmm1",
                    "tilestored [{bottom_left} + {c_bytes}*1], tmm2",
                    "tilestored [{bottom_right} + {c_bytes}*1], tmm3",
                    top_left = in(reg) c_top,
                    top_right = in(reg) c_top.add(16),
                    bottom_left = in(reg) c_bottom,
                    bottom_right = in(reg) c_bottom.add(16),
                    c_bytes = in(reg) c_bytes,
                    options(nostack),
                );
            }
            // Back to the initial state: the thread's context switches need not save 8 KiB.
            asm!("tilerelease", options(nostack, nomem));
        }
    }

    /// Columns of a block.
    pub const fn columns(self) -> usize {
        BLOCK_COLUMNS
    }

    /// Rows of a block.
    pub const fn rows(self) -> usize {
        BLOCK_ROWS
    }
}

/// One call's operands (see [`Amx::block`]).
pub struct Block {
    /// A's first row, in bf16 pairs.
    pub a: *const u32,
    /// Pairs from one row of A to the next.
    pub a_stride: usize,
    /// The panel at the block's first column.
    pub panel: *const u32,
    /// Depth, in pairs.
    pub pairs: usize,
    /// The bias at the block's first column.
    pub bias: *const f32,
    /// C's first row at the block's first column.
    pub c: *mut f32,
    /// Floats from one row of C to the next.
    pub c_stride: usize,
    /// Rows of the block.
    pub rows: usize,
}

/// CPUID leaf 7: AMX-BF16 is EDX bit 22, AMX-TILE bit 24.
fn cpu_has_amx_bf16() -> bool {
    let features = __cpuid_count(7, 0).edx;
    features & (1 << 22) != 0 && features & (1 << 24) != 0
}

/// Linux hands out the tiles' 8 KiB of state only on request (`ARCH_REQ_XCOMP_PERM`); without
/// it the first tile instruction kills the process.
#[cfg(target_os = "linux")]
fn os_allows_tiles() -> bool {
    const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
    const XFEATURE_XTILEDATA: libc::c_long = 18;
    // SAFETY: a request about this process's own state; no memory is passed.
    unsafe {
        libc::syscall(
            libc::SYS_arch_prctl,
            ARCH_REQ_XCOMP_PERM,
            XFEATURE_XTILEDATA,
        ) == 0
    }
}

/// Elsewhere the tiles are not used: no way to ask for them is wired up.
#[cfg(not(target_os = "linux"))]
fn os_allows_tiles() -> bool {
    false
}

// Keep the tile geometry and the constants in step.
const _: () = assert!(BLOCK_PAIRS * 4 == TILE_ROW_BYTES && BLOCK_COLUMNS * 4 == 2 * TILE_ROW_BYTES);
