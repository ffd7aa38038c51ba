//! The weights' bf16 layout: panels of [`PANEL`] output columns; a panel holds, for every
//! pair of input rows, its columns' two bf16 side by side (`[panel][pair][column]`, the lower
//! row in the low half), which is how `vdpbf16ps` wants its second operand.

/// Output columns per packed panel: four vectors of 16 f32.
pub const PANEL: usize = 64;

/// `weights` (`[depth, width]` f32, row-major) as bf16 panels (see the module documentation).
pub fn pack(weights: &[f32], depth: usize, width: usize) -> Vec<u32> {
    let pairs = depth.div_ceil(2);
    let panel_count = width.div_ceil(PANEL);
    let mut panels = vec![0u32; panel_count * pairs * PANEL];
    let at = |k: usize, n: usize| {
        if k < depth {
            u32::from(to_bf16(weights[k * width + n]))
        } else {
            0
        }
    };
    for n in 0..width {
        let (panel, column) = (n / PANEL, n % PANEL);
        for pair in 0..pairs {
            panels[(panel * pairs + pair) * PANEL + column] =
                at(2 * pair, n) | (at(2 * pair + 1, n) << 16);
        }
    }
    panels
}

/// The bf16 nearest `x` (ties to even), as `vcvtneps2bf16` rounds.
pub fn to_bf16(x: f32) -> u16 {
    burn::tensor::bf16::from_f32(x).to_bits()
}
