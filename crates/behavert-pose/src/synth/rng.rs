//! Seeded random streams for the simulator.
//!
//! ChaCha8 is value-stable across platforms and crate versions, so a seed names the same
//! recording everywhere. Motion and tracker noise draw from separate streams of one seed, so
//! changing the noise settings never changes what the animals did.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Stream carrying behaviour choices and body motion.
pub(crate) const MOTION_STREAM: u64 = 0;
/// Stream carrying tracker noise.
pub(crate) const NOISE_STREAM: u64 = 1;

/// A seeded random source with the few distributions the simulator needs.
pub(crate) struct SimRng {
    rng: ChaCha8Rng,
    /// Second value of the last Box–Muller pair, returned by the next `normal` call.
    spare_normal: Option<f32>,
}

impl SimRng {
    /// The stream `stream` of `seed`.
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        Self {
            rng,
            spare_normal: None,
        }
    }

    /// Uniform in [0, 1).
    pub(crate) fn uniform(&mut self) -> f32 {
        self.rng.random::<f32>()
    }

    /// Uniform in [low, high).
    pub(crate) fn range(&mut self, low: f32, high: f32) -> f32 {
        low + (high - low) * self.uniform()
    }

    /// Uniform index in 0..n (n > 0).
    pub(crate) fn index(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n)
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f32) -> bool {
        self.uniform() < p
    }

    /// Standard normal (Marsaglia's polar method: no trigonometry, one log per pair; rand_distr
    /// would pull in a second rand version).
    pub(crate) fn normal(&mut self) -> f32 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        loop {
            let u = 2.0 * self.uniform() - 1.0;
            let v = 2.0 * self.uniform() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                let scale = (-2.0 * s.ln() / s).sqrt();
                self.spare_normal = Some(v * scale);
                return u * scale;
            }
        }
    }

    /// Log-normal with the given median and log-space standard deviation.
    pub(crate) fn log_normal(&mut self, median: f32, sigma: f32) -> f32 {
        median * (sigma * self.normal()).exp()
    }

    /// Index drawn with probability proportional to `weights` (None when all are zero).
    pub(crate) fn weighted(&mut self, weights: &[f32]) -> Option<usize> {
        let total: f32 = weights.iter().sum();
        if total <= 0.0 {
            return None;
        }
        let mut target = self.uniform() * total;
        for (i, &w) in weights.iter().enumerate() {
            if target < w {
                return Some(i);
            }
            target -= w;
        }
        weights.iter().rposition(|&w| w > 0.0)
    }
}

/// Seed of recording `index` of a dataset seeded with `seed` (SplitMix64 finaliser, so
/// neighbouring indices give unrelated streams).
pub fn recording_seed(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15u64.wrapping_mul(index.wrapping_add(1)));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_has_zero_mean_and_unit_spread() {
        let mut rng = SimRng::new(4, 0);
        let draws: Vec<f32> = (0..20_000).map(|_| rng.normal()).collect();
        let mean = draws.iter().sum::<f32>() / draws.len() as f32;
        let var = draws.iter().map(|z| (z - mean).powi(2)).sum::<f32>() / draws.len() as f32;
        assert!(
            mean.abs() < 0.03 && (var - 1.0).abs() < 0.05,
            "{mean} {var}"
        );
    }

    #[test]
    fn streams_and_recording_seeds_differ() {
        let (mut a, mut b) = (SimRng::new(1, MOTION_STREAM), SimRng::new(1, NOISE_STREAM));
        assert_ne!(a.uniform(), b.uniform());
        let seeds: std::collections::HashSet<u64> =
            (0..1000).map(|i| recording_seed(5, i)).collect();
        assert_eq!(seeds.len(), 1000);
        assert_ne!(recording_seed(5, 0), recording_seed(6, 0));
    }
}
