//! The batches of each epoch: windows shuffled by a seed of the run and the epoch, so a
//! resumed run sees exactly the batches the uninterrupted one did.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::corpus::WindowRef;
use super::derive_seed;

/// The batches of one epoch: the windows shuffled by a seed of (`seed`, `epoch`), cut into
/// batches of `batch_size` windows of one length (the last of each length may be smaller).
/// With several lengths (multi-scale training) the batches of all lengths are then shuffled
/// together, so every part of the epoch sees every scale.
pub fn epoch_batches(
    windows: &[WindowRef],
    batch_size: usize,
    seed: u64,
    epoch: u64,
) -> Vec<Vec<WindowRef>> {
    let mut order = windows.to_vec();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(derive_seed(
        seed,
        &[1, epoch],
    )));
    let lengths = window_lengths(windows);
    let mut batches: Vec<Vec<WindowRef>> = lengths
        .iter()
        .flat_map(|&length| {
            let same: Vec<WindowRef> = order
                .iter()
                .filter(|w| w.length == length)
                .copied()
                .collect();
            same.chunks(batch_size.max(1))
                .map(<[WindowRef]>::to_vec)
                .collect::<Vec<_>>()
        })
        .collect();
    if lengths.len() > 1 {
        batches.shuffle(&mut ChaCha8Rng::seed_from_u64(derive_seed(
            seed,
            &[7, epoch],
        )));
    }
    batches
}

/// Batches in every epoch of `windows`: the same for every seed and epoch.
pub fn batches_per_epoch(windows: &[WindowRef], batch_size: usize) -> usize {
    epoch_batches(windows, batch_size, 0, 0).len()
}

/// The distinct padded lengths of `windows`, in order of first appearance.
fn window_lengths(windows: &[WindowRef]) -> Vec<usize> {
    let mut lengths: Vec<usize> = Vec::new();
    for w in windows {
        if !lengths.contains(&w.length) {
            lengths.push(w.length);
        }
    }
    lengths
}
