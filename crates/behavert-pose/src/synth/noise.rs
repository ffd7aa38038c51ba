//! Tracker noise: what a pose estimator makes of the true keypoints.
//!
//! Errors come in episodes, as with real trackers: jitter every frame, left/right swaps for a
//! few frames, keypoints lost for a few frames or seconds, bursts of poor tracking. All of them
//! start more often while animals touch (occlusion). Confidence falls with the actual error, so
//! a model or a filter can learn to trust it.

use super::config::NoiseConfig;
use super::rng::{NOISE_STREAM, SimRng};
use super::skeleton::Skeleton;
use crate::pose::Space;

/// Most keypoints per animal the noise state tracks (MABe22 has 12).
const MAX_KEYPOINTS: usize = 16;

/// The tracker's output.
pub(crate) struct Observed {
    /// `[frames, individuals, keypoints, space]`, NaN where dropped.
    pub(crate) positions: Vec<f32>,
    /// `[frames, individuals, keypoints]` in [0, 1].
    pub(crate) confidence: Vec<f32>,
    /// `[frames, individuals, keypoints]`: the tracker lost this keypoint.
    pub(crate) dropped: Vec<bool>,
}

/// Shape and context of the recording the noise is applied to.
pub(crate) struct Layout {
    pub(crate) frames: usize,
    pub(crate) individuals: usize,
    pub(crate) skeleton: Skeleton,
    pub(crate) space: Space,
    pub(crate) arena: [f32; 2],
    pub(crate) fps: f32,
}

/// Ongoing error episodes of one animal.
#[derive(Clone, Default)]
struct Episodes {
    /// Frames left of a left/right swap, and which mirror pairs are swapped (bit per pair).
    swap_left: usize,
    swap_pairs: u32,
    /// Frames left of poor tracking, and its jitter multiplier.
    poor_left: usize,
    poor_scale: f32,
    /// Frames left of a long gap, and which keypoints it hides (bit per keypoint).
    long_gap_left: usize,
    long_gap_mask: u32,
    /// Frames left of a short gap, per keypoint.
    short_gap_left: [usize; MAX_KEYPOINTS],
}

/// Apply tracker noise to `truth` (same layout as the output positions).
pub(crate) fn observe(
    truth: &[f32],
    contact: &[bool],
    layout: &Layout,
    noise: &NoiseConfig,
    seed: u64,
) -> Observed {
    let mut rng = SimRng::new(seed, NOISE_STREAM);
    let keypoints = layout.skeleton.keypoints().len();
    let dims = layout.space.dims();
    let pairs = layout.skeleton.mirror_pairs();
    // Source keypoint of each keypoint when every pair is swapped.
    let mut mirror: [usize; MAX_KEYPOINTS] = std::array::from_fn(|k| k);
    let mut pair_of = [usize::MAX; MAX_KEYPOINTS];
    for (p, &(a, b)) in pairs.iter().enumerate() {
        mirror[a] = b;
        mirror[b] = a;
        pair_of[a] = p;
        pair_of[b] = p;
    }
    let seconds =
        |rng: &mut SimRng, lo: f32, hi: f32| ((rng.range(lo, hi) * layout.fps) as usize).max(1);
    // Errors are judged against a scale that never vanishes, so a noiseless swap still costs
    // confidence.
    let error_scale = 6.0 * noise.jitter.max(0.5);

    let mut positions = vec![0.0; truth.len()];
    let mut confidence = vec![1.0; layout.frames * layout.individuals * keypoints];
    let mut dropped = vec![false; confidence.len()];
    let mut episodes = vec![Episodes::default(); layout.individuals];
    let mut offset = [0.0f32; 3];
    for frame in 0..layout.frames {
        for (individual, ep) in episodes.iter_mut().enumerate() {
            let animal = frame * layout.individuals + individual;
            let factor = if contact[animal] {
                noise.contact_factor
            } else {
                1.0
            };
            let p = |rate: f32| (rate * factor).min(1.0);
            if ep.swap_left == 0 && !pairs.is_empty() && rng.chance(p(noise.swap_rate)) {
                ep.swap_left = 1 + rng.index(10);
                // Usually one pair (ears, hips, paws); sometimes the whole animal is flipped.
                ep.swap_pairs = if rng.chance(0.3) {
                    u32::MAX
                } else {
                    1 << rng.index(pairs.len())
                };
            }
            if ep.poor_left == 0 && rng.chance(p(noise.low_confidence_rate)) {
                ep.poor_left = seconds(&mut rng, 0.2, 1.5);
                ep.poor_scale = rng.range(3.0, 8.0);
            }
            if ep.long_gap_left == 0 && rng.chance(p(noise.long_gap_rate)) {
                ep.long_gap_left = seconds(&mut rng, 0.5, 3.0);
                ep.long_gap_mask = if rng.chance(0.4) {
                    u32::MAX
                } else {
                    (0..2 + rng.index(3)).fold(0, |mask, _| mask | 1 << rng.index(keypoints))
                };
            }
            let jitter = noise.jitter * if ep.poor_left > 0 { ep.poor_scale } else { 1.0 };
            for k in 0..keypoints {
                let slot = animal * keypoints + k;
                if ep.short_gap_left[k] == 0 && rng.chance(p(noise.short_gap_rate)) {
                    ep.short_gap_left[k] = 1 + rng.index(5);
                }
                let out = &mut positions[slot * dims..][..dims];
                let lost = ep.short_gap_left[k] > 0
                    || (ep.long_gap_left > 0 && ep.long_gap_mask & (1 << k) != 0);
                if lost {
                    out.fill(f32::NAN);
                    dropped[slot] = true;
                    confidence[slot] = 0.1 * rng.uniform();
                    ep.short_gap_left[k] = ep.short_gap_left[k].saturating_sub(1);
                    continue;
                }
                let swapped = ep.swap_left > 0
                    && pair_of[k] != usize::MAX
                    && ep.swap_pairs & (1 << pair_of[k]) != 0;
                let source = if swapped { mirror[k] } else { k };
                let seen = &truth[(animal * keypoints + source) * dims..][..dims];
                let real = &truth[slot * dims..][..dims];
                for o in offset.iter_mut().take(dims) {
                    *o = if jitter > 0.0 {
                        jitter * rng.normal()
                    } else {
                        0.0
                    };
                }
                let mut error2 = 0.0;
                for d in 0..dims {
                    let mut v = seen[d] + offset[d];
                    // Estimates stay in the arena: inside the frame, not below the floor.
                    v = if d < 2 {
                        v.clamp(0.0, layout.arena[d])
                    } else {
                        v.max(0.0)
                    };
                    out[d] = v;
                    error2 += (v - real[d]) * (v - real[d]);
                }
                let wobble = if noise.jitter > 0.0 {
                    0.03 * rng.normal().abs()
                } else {
                    0.0
                };
                confidence[slot] =
                    ((-error2 / (error_scale * error_scale)).exp() - wobble).clamp(0.0, 1.0);
            }
            ep.swap_left = ep.swap_left.saturating_sub(1);
            ep.poor_left = ep.poor_left.saturating_sub(1);
            ep.long_gap_left = ep.long_gap_left.saturating_sub(1);
        }
    }
    Observed {
        positions,
        confidence,
        dropped,
    }
}
