//! Which frames pretraining hides: about `mask_fraction` of each window's real frames, part
//! as single frames and part as contiguous spans (so the model must use longer context), and
//! how each chosen frame is shown to the model.

use rand::Rng;

use super::config::MaskingSection;

/// Frames to mask in one window of `valid` real frames (padding is never masked): a
/// `[length]` flag vector. At least one frame is masked when `valid > 0`.
pub fn mask_window(
    section: &MaskingSection,
    valid: usize,
    length: usize,
    rng: &mut impl Rng,
) -> Vec<bool> {
    let mut masked = vec![false; length];
    if valid == 0 {
        return masked;
    }
    let target = ((valid as f64 * section.mask_fraction).round() as usize).clamp(1, valid);
    let span_target = (target as f64 * section.span_fraction).round() as usize;
    let mut count = 0;
    // Spans first, then single frames up to the target; a bounded number of tries keeps a
    // nearly fully masked window from looping.
    let mut tries = 0;
    while count < span_target && tries < 8 * valid {
        tries += 1;
        let len = rng
            .random_range(2..=section.max_span.max(2))
            .min(span_target - count)
            .max(1);
        let start = rng.random_range(0..=valid - len.min(valid));
        for flag in &mut masked[start..(start + len).min(valid)] {
            if !*flag {
                *flag = true;
                count += 1;
            }
        }
    }
    while count < target && tries < 16 * valid {
        tries += 1;
        let frame = rng.random_range(0..valid);
        if !masked[frame] {
            masked[frame] = true;
            count += 1;
        }
    }
    masked
}

/// How a frame chosen for reconstruction is shown to the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    /// Replaced by the mask token.
    MaskToken,
    /// Left as it is.
    Unchanged,
    /// Replaced by another frame.
    OtherFrame,
}

/// Draws how one chosen frame is shown: `unchanged_fraction` and `random_fraction` of the
/// time as itself or another frame, the mask token otherwise (no draw when both are 0).
pub fn how_shown(section: &MaskingSection, rng: &mut impl Rng) -> Shown {
    if section.unchanged_fraction + section.random_fraction <= 0.0 {
        return Shown::MaskToken;
    }
    let u: f64 = rng.random();
    if u < section.unchanged_fraction {
        Shown::Unchanged
    } else if u < section.unchanged_fraction + section.random_fraction {
        Shown::OtherFrame
    } else {
        Shown::MaskToken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn masks_the_fraction_of_real_frames_only() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let section = MaskingSection::default();
        let mut total = 0;
        for _ in 0..100 {
            let m = mask_window(&section, 60, 64, &mut rng);
            assert!(!m[60..].iter().any(|&x| x));
            total += m.iter().filter(|&&x| x).count();
        }
        assert_eq!(total, 100 * 9);
    }
}
