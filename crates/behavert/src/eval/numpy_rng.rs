//! numpy's legacy `RandomState` (MT19937) as far as scikit-learn's `train_test_split` uses it,
//! so the MABe22 evaluator's clip splits for seeds 42/43/44 can be reproduced.
//!
//! `RandomState(seed)` seeds MT19937 with `init_genrand(seed)`; `permutation(n)` is a
//! Fisher–Yates shuffle of `0..n` drawing `j ∈ [0, i]` by masked rejection on 32-bit outputs.
//! `train_test_split(items, test_size=f, random_state=seed)` takes `ceil(f·n)` test items and
//! `floor((1 − f)·n)` train items from the front of that permutation. Checked against numpy and
//! scikit-learn by the committed fixtures; a change in numpy's legacy stream (which numpy
//! promises not to make) would show up there.

use crate::error::{Error, Result};

const N: usize = 624;
const M: usize = 397;

/// The MT19937 generator of numpy's legacy `RandomState`.
#[derive(Clone, Debug)]
pub struct Mt19937 {
    state: [u32; N],
    pos: usize,
}

impl Mt19937 {
    /// `numpy.random.RandomState(seed)` for an integer seed.
    pub fn new(seed: u32) -> Self {
        let mut state = [0u32; N];
        state[0] = seed;
        for i in 1..N {
            state[i] = 1_812_433_253u32
                .wrapping_mul(state[i - 1] ^ (state[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        Self { state, pos: N }
    }

    fn twist(&mut self) {
        for i in 0..N {
            let y = (self.state[i] & 0x8000_0000) | (self.state[(i + 1) % N] & 0x7fff_ffff);
            let mut v = self.state[(i + M) % N] ^ (y >> 1);
            if y & 1 != 0 {
                v ^= 0x9908_b0df;
            }
            self.state[i] = v;
        }
        self.pos = 0;
    }

    /// Next 32-bit output.
    pub fn next_u32(&mut self) -> u32 {
        if self.pos >= N {
            self.twist();
        }
        let mut y = self.state[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// Uniform integer in `0..=max` by masked rejection (numpy's legacy `random_interval`).
    fn interval(&mut self, max: u32) -> u32 {
        if max == 0 {
            return 0;
        }
        let mut mask = max;
        for shift in [1, 2, 4, 8, 16] {
            mask |= mask >> shift;
        }
        loop {
            let v = self.next_u32() & mask;
            if v <= max {
                return v;
            }
        }
    }

    /// `RandomState.permutation(n)`.
    pub fn permutation(&mut self, n: usize) -> Result<Vec<usize>> {
        if n > u32::MAX as usize {
            return Err(Error::data("permutation size", "below 2³²", n));
        }
        let mut v: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.interval(i as u32) as usize;
            v.swap(i, j);
        }
        Ok(v)
    }
}

/// Indices `(train, test)` that `sklearn.model_selection.train_test_split` picks from `n` items
/// with a float `test_size` and `random_state=seed`, in the order it returns them.
pub fn train_test_split_indices(
    n: usize,
    test_size: f64,
    seed: u32,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(test_size > 0.0 && test_size < 1.0) {
        return Err(Error::data("test size", "a fraction in (0, 1)", test_size));
    }
    let n_test = (test_size * n as f64).ceil() as usize;
    let n_train = ((1.0 - test_size) * n as f64).floor() as usize;
    if n_train == 0 || n_test == 0 {
        return Err(Error::data(
            "train_test_split",
            "a split leaving at least one item on each side",
            format!("{n} items, test size {test_size}"),
        ));
    }
    let perm = Mt19937::new(seed).permutation(n)?;
    let test = perm[..n_test].to_vec();
    let train = perm[n_test..n_test + n_train].to_vec();
    Ok((train, test))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mt19937_reference_outputs() {
        // The reference implementation's first outputs for its default seed 5489.
        let mut rng = Mt19937::new(5489);
        assert_eq!(rng.next_u32(), 3_499_211_612);
        assert_eq!(rng.next_u32(), 581_869_302);
    }

    #[test]
    fn split_sizes_follow_sklearn() {
        let (train, test) = train_test_split_indices(11, 0.1, 42).unwrap();
        assert_eq!((train.len(), test.len()), (9, 2));
        assert!(train_test_split_indices(1, 0.1, 42).is_err());
        assert!(train_test_split_indices(10, 1.0, 42).is_err());
    }
}
