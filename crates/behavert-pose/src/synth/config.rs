//! What to simulate: [`SimulationConfig`] and its parts, deserialisable from TOML and validated.

use super::behaviour::{Behaviour, BoutPolicy};
use super::skeleton::Skeleton;
use crate::error::{PoseError, Result};
use crate::pose::Space;

/// Most individuals the simulator places in one arena.
pub const MAX_INDIVIDUALS: usize = 4;

/// Most frames in one recording (about 4 days at 30 fps): beyond that, simulate a dataset.
pub const MAX_FRAMES: usize = 10_000_000;

/// Everything that determines one simulated recording; the same config gives the same recording.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimulationConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Number of frames.
    pub frames: usize,
    /// Frames per second; motion is specified in seconds, so it scales with this.
    pub fps: f64,
    /// Number of animals, 1 to 4; individual 0 is the resident whose behaviour is labelled.
    pub individuals: usize,
    /// Which animals choose behaviours of their own: only the resident (the others react and
    /// explore), or every animal, each with its own target for social behaviours.
    pub agents: Agents,
    /// Per animal and frame, with `agents = "all"`: chance that an animal busy with no social
    /// behaviour leaves the view (it is untracked and unlabelled for 2–8 s).
    pub leave_rate: f32,
    /// Keypoint layout: CalMS21 (7) or MABe22 (12).
    pub skeleton: Skeleton,
    /// 2D (x, y) or 3D (x, y, z above the floor).
    pub space: Space,
    /// Arena width and height in pixels; the skeleton's dataset frame when absent.
    pub arena: Option<[f32; 2]>,
    /// Mean nose-to-tail-base length in pixels; the skeleton's dataset scale when absent.
    pub body_length: Option<f32>,
    /// Behaviours the resident may show; every one possible with this many animals when absent.
    /// `other` is always possible.
    pub behaviours: Option<Vec<Behaviour>>,
    /// Shortest and longest behaviour bout, seconds.
    pub bout_seconds: [f64; 2],
    /// Tracker noise added to the true keypoints.
    pub noise: NoiseConfig,
}

impl Default for SimulationConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            frames: 1800,
            fps: 30.0,
            individuals: 2,
            agents: Agents::Resident,
            leave_rate: 0.0,
            skeleton: Skeleton::Calms21,
            space: Space::Xy,
            arena: None,
            body_length: None,
            behaviours: None,
            bout_seconds: [0.3, 5.0],
            noise: NoiseConfig::default(),
        }
    }
}

/// Which animals of a simulated recording act on their own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Agents {
    /// Individual 0 alone: its behaviour is the recording's frame labels.
    #[default]
    Resident,
    /// Every animal: several behaviours at once by different animals, each social one with
    /// its own target (see `Recording::roles`).
    All,
}

/// Tracker errors: jitter, left/right swaps, dropped keypoints and low-confidence episodes.
///
/// Rates are probabilities per frame; an episode, once started, lasts several frames.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NoiseConfig {
    /// Standard deviation of the per-coordinate Gaussian jitter, pixels.
    pub jitter: f32,
    /// Per animal and frame: chance that a left/right swap of paired keypoints starts.
    pub swap_rate: f32,
    /// Per keypoint and frame: chance that a short gap (1–5 frames missing) starts.
    pub short_gap_rate: f32,
    /// Per animal and frame: chance that a long gap (0.5–3 s, several keypoints missing) starts.
    pub long_gap_rate: f32,
    /// Per animal and frame: chance that a low-confidence episode (much larger jitter) starts.
    pub low_confidence_rate: f32,
    /// How much more often errors start while two animals touch (occlusion).
    pub contact_factor: f32,
}

impl Default for NoiseConfig {
    fn default() -> Self {
        Self {
            jitter: 1.5,
            swap_rate: 0.002,
            short_gap_rate: 0.002,
            long_gap_rate: 0.0005,
            low_confidence_rate: 0.004,
            contact_factor: 4.0,
        }
    }
}

impl NoiseConfig {
    /// A perfect tracker: the true keypoints, full confidence.
    pub fn none() -> Self {
        Self {
            jitter: 0.0,
            swap_rate: 0.0,
            short_gap_rate: 0.0,
            long_gap_rate: 0.0,
            low_confidence_rate: 0.0,
            contact_factor: 1.0,
        }
    }
}

/// A config checked and resolved to the numbers the simulation uses.
#[derive(Clone, Debug)]
pub(crate) struct Resolved {
    pub(crate) frames: usize,
    pub(crate) dt: f32,
    pub(crate) individuals: usize,
    pub(crate) agents: Agents,
    pub(crate) leave_rate: f32,
    pub(crate) skeleton: Skeleton,
    pub(crate) space: Space,
    pub(crate) arena: [f32; 2],
    pub(crate) body_length: f32,
    pub(crate) bouts: BoutPolicy,
}

fn invalid(field: &str, expected: impl Into<String>, found: impl std::fmt::Display) -> PoseError {
    PoseError::invalid(
        format!("simulation config `{field}`"),
        expected,
        found.to_string(),
    )
}

fn check_rate(field: &str, rate: f32) -> Result<()> {
    if !(0.0..=1.0).contains(&rate) {
        return Err(invalid(field, "a probability in [0, 1]", rate));
    }
    Ok(())
}

impl SimulationConfig {
    /// Check every field and resolve defaults; errors name the field, the allowed range and
    /// the value found.
    pub(crate) fn resolve(&self) -> Result<Resolved> {
        if !(1..=MAX_FRAMES).contains(&self.frames) {
            return Err(invalid(
                "frames",
                format!("1 to {MAX_FRAMES} frames"),
                self.frames,
            ));
        }
        if !(self.fps.is_finite() && self.fps >= 1.0 && self.fps <= 1000.0) {
            return Err(invalid("fps", "a frame rate between 1 and 1000", self.fps));
        }
        if !(1..=MAX_INDIVIDUALS).contains(&self.individuals) {
            return Err(invalid(
                "individuals",
                format!("1 to {MAX_INDIVIDUALS} animals"),
                self.individuals,
            ));
        }
        check_rate("leave_rate", self.leave_rate)?;
        if self.leave_rate > 0.0 && self.agents == Agents::Resident {
            return Err(invalid(
                "leave_rate",
                "0 unless `agents = \"all\"` (the resident's labels need it in view)",
                self.leave_rate,
            ));
        }
        let body_length = self
            .body_length
            .unwrap_or_else(|| self.skeleton.default_body_length());
        if !(body_length.is_finite() && body_length > 0.0) {
            return Err(invalid(
                "body_length",
                "a positive length in pixels",
                body_length,
            ));
        }
        let arena = self.arena.unwrap_or_else(|| self.skeleton.default_arena());
        let smallest = 4.0 * body_length;
        if arena
            .iter()
            .any(|side| !side.is_finite() || *side < smallest)
        {
            return Err(invalid(
                "arena",
                format!("width and height of at least 4 body lengths ({smallest} px)"),
                format!("{arena:?}"),
            ));
        }
        let [min_s, max_s] = self.bout_seconds;
        let fps = self.fps as f32;
        if !(min_s.is_finite() && max_s.is_finite() && min_s > 0.0 && max_s >= min_s) {
            return Err(invalid(
                "bout_seconds",
                "[shortest, longest] with 0 < shortest <= longest",
                format!("{:?}", self.bout_seconds),
            ));
        }
        // At low frame rates a short bout still lasts one frame.
        let min_frames = ((min_s * self.fps).round() as usize).max(1);
        let max_frames = ((max_s * self.fps).round() as usize).max(min_frames);
        let enabled = self.enabled_behaviours()?;
        let noise = &self.noise;
        if !(noise.jitter.is_finite() && noise.jitter >= 0.0) {
            return Err(invalid(
                "noise.jitter",
                "a non-negative number of pixels",
                noise.jitter,
            ));
        }
        check_rate("noise.swap_rate", noise.swap_rate)?;
        check_rate("noise.short_gap_rate", noise.short_gap_rate)?;
        check_rate("noise.long_gap_rate", noise.long_gap_rate)?;
        check_rate("noise.low_confidence_rate", noise.low_confidence_rate)?;
        if !(noise.contact_factor.is_finite() && noise.contact_factor >= 1.0) {
            return Err(invalid(
                "noise.contact_factor",
                "a factor of at least 1",
                noise.contact_factor,
            ));
        }
        Ok(Resolved {
            frames: self.frames,
            dt: 1.0 / fps,
            individuals: self.individuals,
            agents: self.agents,
            leave_rate: self.leave_rate,
            skeleton: self.skeleton,
            space: self.space,
            arena,
            body_length,
            bouts: BoutPolicy {
                enabled,
                min_frames,
                max_frames,
                fps,
            },
        })
    }

    /// Enabled behaviours by class id; social ones need a second animal.
    fn enabled_behaviours(&self) -> Result<[bool; 6]> {
        let social_possible = self.individuals >= 2;
        let mut enabled = [false; 6];
        match &self.behaviours {
            None => {
                for behaviour in Behaviour::ALL {
                    enabled[behaviour.id() as usize] = social_possible || !behaviour.is_social();
                }
            }
            Some(list) => {
                for &behaviour in list {
                    if behaviour.is_social() && !social_possible {
                        return Err(invalid(
                            "behaviours",
                            "solitary behaviours only (grooming, other) with 1 individual",
                            behaviour,
                        ));
                    }
                    enabled[behaviour.id() as usize] = true;
                }
            }
        }
        enabled[Behaviour::Other.id() as usize] = true;
        Ok(enabled)
    }
}
