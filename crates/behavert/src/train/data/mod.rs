//! The training data pipeline: preprocessed recordings (features + targets) to windows,
//! windows to batches, batches to tensors; a worker thread builds batches ahead so the model
//! never waits.
//!
//! `targets` says what each head learns, `corpus` holds the preprocessed recordings and cuts
//! windows, `batch` assembles one batch, `epochs` orders the batches of an epoch, `prefetch`
//! builds them on another thread. Everything before [`Batch::input`] is plain `Vec`s, so
//! batches are built off the training thread and only the final tensor upload happens on it.

mod batch;
mod corpus;
mod epochs;
mod prefetch;
mod targets;
#[cfg(test)]
mod tests;

pub use batch::{
    AugmentPlan, Batch, BatchGoal, BatchTargets, MaskPlan, MaskedFrames, ids_tensor, values_tensor,
};
pub use corpus::{Corpus, RawTrack, Track, WindowRef, inverse_frequency_weights, smooth_features};
pub use epochs::{batches_per_epoch, epoch_batches};
pub use prefetch::{Prefetched, Prefetcher};
pub use targets::{Source, TargetSpec, TrackTargets};

/// A seed derived from `seed` and `parts` (splitmix64 of each in turn): independent streams
/// for data order, masking and dropout that depend only on where they are used.
pub fn derive_seed(seed: u64, parts: &[u64]) -> u64 {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    parts.iter().fold(mix(seed), |acc, &p| mix(acc ^ mix(p)))
}
