//! Dropout whose mask is a function of a seed and each value's place (row, column): the
//! backward pass draws the same mask again instead of keeping it, and no generator runs in
//! sequence. The seed comes from the device's generator, so `Device::seed` repeats a run.

/// Each value kept with probability `keep` and scaled by `1 / keep`, else zeroed.
#[derive(Clone, Copy, Debug)]
pub struct HashDropout {
    /// Probability of keeping a value (1: no dropout).
    pub keep: f32,
    /// The mask's seed.
    pub seed: u64,
}

impl HashDropout {
    /// No dropout.
    pub const NONE: Self = Self { keep: 1.0, seed: 0 };

    /// Whether anything is dropped.
    pub fn drops(self) -> bool {
        self.keep < 1.0
    }

    /// A key for row `row`'s mask: the seed mixed with the row.
    #[inline(always)]
    pub fn row_key(self, row: usize) -> u32 {
        let mixed = splitmix(self.seed ^ splitmix(row as u64));
        (mixed ^ (mixed >> 32)) as u32
    }

    /// Multiplies each of the `rows`' values (the same row of the mask, by column) by its
    /// column's mask factor, drawn once for all of them.
    #[inline(always)]
    pub fn apply<const N: usize>(self, mut rows: [&mut [f32]; N], row_key: u32) {
        if !self.drops() {
            return;
        }
        let (threshold, scale) = self.threshold_and_scale();
        let columns = rows.iter().map(|row| row.len()).min().unwrap_or(0);
        for column in 0..columns {
            let factor = factor(row_key, column, threshold, scale);
            rows.iter_mut().for_each(|row| row[column] *= factor);
        }
    }

    /// The mask's factors for one row, `columns` of them.
    #[inline(always)]
    pub fn factors(self, row_key: u32, out: &mut [f32]) {
        let (threshold, scale) = self.threshold_and_scale();
        for (column, out) in out.iter_mut().enumerate() {
            *out = match self.drops() {
                true => factor(row_key, column, threshold, scale),
                false => 1.0,
            };
        }
    }

    /// A u32 hash below the threshold keeps its value (`P = keep`); kept values' scale.
    fn threshold_and_scale(self) -> (u32, f32) {
        let threshold = (f64::from(self.keep) * 4_294_967_296.0).min(f64::from(u32::MAX)) as u32;
        (threshold, 1.0 / self.keep)
    }
}

/// `scale` where the value at `column` of the row keyed `row_key` is kept, else 0.
#[inline(always)]
fn factor(row_key: u32, column: usize, threshold: u32, scale: f32) -> f32 {
    if hash(row_key ^ (column as u32).wrapping_mul(0x9e37_79b9)) < threshold {
        scale
    } else {
        0.0
    }
}

/// murmur3's 32-bit finaliser: every input bit reaches every output bit.
#[inline(always)]
fn hash(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// splitmix64's finaliser.
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_its_share_scales_the_rest_and_repeats_with_its_seed() {
        let dropout = HashDropout {
            keep: 0.9,
            seed: 11,
        };
        let mut mask = vec![0.0; 1000 * 100];
        for (row, out) in mask.chunks_exact_mut(100).enumerate() {
            dropout.factors(dropout.row_key(row), out);
        }
        let dropped = mask.iter().filter(|f| **f == 0.0).count() as f64 / mask.len() as f64;
        assert!((dropped - 0.1).abs() < 0.005, "dropped share {dropped}");
        assert!(
            mask.iter()
                .all(|&f| f == 0.0 || (f - 1.0 / 0.9).abs() < 1e-6)
        );
        // Columns and rows alike: no column (or row) is dropped far more often than another.
        for column in 0..100 {
            let dropped = (0..1000).filter(|r| mask[r * 100 + column] == 0.0).count();
            assert!(
                (50..=160).contains(&dropped),
                "column {column}: {dropped} of 1000"
            );
        }
        let mut row = vec![2.0; 100];
        dropout.apply([&mut row], dropout.row_key(7));
        for (got, factor) in row.iter().zip(&mask[700..800]) {
            assert_eq!(*got, 2.0 * factor, "the same place, the same factor");
        }
        let other = HashDropout {
            seed: 12,
            ..dropout
        };
        let mut again = vec![0.0; 100];
        other.factors(other.row_key(7), &mut again);
        assert_ne!(again, mask[700..800], "another seed, another mask");
        HashDropout::NONE.factors(3, &mut again);
        assert!(again.iter().all(|&f| f == 1.0));
    }
}
