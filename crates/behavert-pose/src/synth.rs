//! Seeded simulator of interacting mice with ground-truth behaviour labels.
//!
//! A resident (individual 0) and up to two intruders move in a walled arena. The resident's
//! behaviour follows a semi-Markov state machine (bouts of sampled length, then a transition);
//! its body motion — and its partner's reaction — follow from the behaviour, so, as in real
//! annotated data, the label causes the kinematics. Kinematics overlap between behaviours
//! (approaching is labelled other, exploring animals pass close by, attacks pause), so no
//! single threshold separates them. The true keypoints are then passed through a tracker noise
//! model (jitter, left/right swaps, dropped keypoints, low-confidence episodes).
//!
//! ```
//! use behavert_pose::synth::{SimulationConfig, simulate};
//! let recording = simulate(&SimulationConfig { frames: 300, ..Default::default() }).unwrap();
//! assert_eq!(recording.pose.frames(), 300);
//! assert_eq!(recording.labels.len(), 300);
//! ```
//!
//! Vocabulary (class id = index): attack, chase, grooming, investigation, mount, other —
//! behaviours alphabetically with `other` last; see [`Behaviour`].

mod behaviour;
mod body;
mod config;
mod noise;
mod render;
mod rng;
mod skeleton;
mod world;

#[cfg(test)]
mod tests;

use ndarray::{Array2, Array3, Array4};

pub use behaviour::{Behaviour, vocabulary};
pub use config::{Agents, MAX_FRAMES, MAX_INDIVIDUALS, NoiseConfig, SimulationConfig};
pub use rng::recording_seed;
pub use skeleton::Skeleton;

use crate::error::{PoseError, Result};
use crate::labels::{FrameLabels, Labels};
use crate::pose::Pose;
use crate::role_labels::{RoleBout, RoleLabels, runs};

/// Name written to [`Pose::software`] for simulated recordings.
pub const SOFTWARE: &str = "behavert-synth";

/// One simulated recording: what the tracker saw, and the truth behind it.
#[derive(Clone, Debug)]
pub struct Recording {
    /// Tracked keypoints with noise, NaN where dropped, with confidence.
    pub pose: Pose,
    /// Per-frame behaviour of the resident (individual 0), vocabulary of [`vocabulary`].
    pub labels: Labels,
    /// Who did what to whom: the bouts of every acting animal (the resident's alone unless
    /// `agents = "all"`), each social one with its target; `other` is no bout.
    pub roles: RoleLabels,
    /// True keypoints before tracker noise, same shape as `pose.positions`.
    pub true_positions: Array4<f32>,
    /// `[frames, individuals, keypoints]`: where the tracker lost a keypoint (NaN in the pose).
    pub dropped: Array3<bool>,
    /// `[frames, individuals]`: the animal is in view (untracked and unlabelled when not).
    pub in_view: Array2<bool>,
    /// Nose-to-tail-base length of each individual, pixels.
    pub body_lengths: Vec<f32>,
    /// Width and height of the arena, pixels.
    pub arena: [f32; 2],
    /// The seed this recording was simulated from.
    pub seed: u64,
}

/// A maximal run of frames with one behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bout {
    /// The behaviour shown.
    pub behaviour: Behaviour,
    /// First frame.
    pub start: usize,
    /// One past the last frame.
    pub end: usize,
}

impl Recording {
    /// The resident's behaviour in each frame.
    pub fn behaviours(&self) -> Vec<Behaviour> {
        match &self.labels.frames {
            FrameLabels::Single(ids) => ids
                .iter()
                .map(|id| id.and_then(Behaviour::from_id).unwrap_or(Behaviour::Other))
                .collect(),
            FrameLabels::Multi(_) => Vec::new(),
        }
    }

    /// The resident's behaviour as bouts (maximal runs of one label), in time order.
    pub fn bouts(&self) -> Vec<Bout> {
        let mut bouts: Vec<Bout> = Vec::new();
        for (frame, behaviour) in self.behaviours().into_iter().enumerate() {
            match bouts.last_mut() {
                Some(bout) if bout.behaviour == behaviour => bout.end = frame + 1,
                _ => bouts.push(Bout {
                    behaviour,
                    start: frame,
                    end: frame + 1,
                }),
            }
        }
        bouts
    }
}

/// Individual names: CalMS21's resident/intruder, MABe22's unnamed mice.
fn individual_names(skeleton: Skeleton, individuals: usize) -> Vec<String> {
    (0..individuals)
        .map(|i| match (skeleton, i) {
            (Skeleton::Calms21, 0) => "resident".to_string(),
            (Skeleton::Calms21, 1) if individuals == 2 => "intruder".to_string(),
            (Skeleton::Calms21, i) => format!("intruder_{i}"),
            (Skeleton::Mabe22, i) => format!("mouse_{i}"),
        })
        .collect()
}

/// Simulate one recording; the config is validated first and errors name the faulty field.
pub fn simulate(config: &SimulationConfig) -> Result<Recording> {
    let resolved = config.resolve()?;
    let truth = world::run(&resolved, config.seed);
    let layout = noise::Layout {
        frames: resolved.frames,
        individuals: resolved.individuals,
        skeleton: resolved.skeleton,
        space: resolved.space,
        arena: resolved.arena,
        fps: config.fps as f32,
    };
    let observed = noise::observe(
        &truth.positions,
        &truth.contact,
        &layout,
        &config.noise,
        config.seed,
    );

    let keypoints = resolved.skeleton.keypoints();
    let shape4 = (
        resolved.frames,
        resolved.individuals,
        keypoints.len(),
        resolved.space.dims(),
    );
    let shape3 = (resolved.frames, resolved.individuals, keypoints.len());
    let shape_error = |what: &str| {
        PoseError::invalid(
            "simulated recording",
            format!("{what} of shape {shape4:?}"),
            "another length",
        )
    };
    let mut positions =
        Array4::from_shape_vec(shape4, observed.positions).map_err(|_| shape_error("positions"))?;
    let true_positions = Array4::from_shape_vec(shape4, truth.positions)
        .map_err(|_| shape_error("true positions"))?;
    let mut confidence = Array3::from_shape_vec(shape3, observed.confidence)
        .map_err(|_| shape_error("confidence"))?;
    let mut dropped = Array3::from_shape_vec(shape3, observed.dropped)
        .map_err(|_| shape_error("dropped mask"))?;
    // An animal out of view is not tracked at all.
    for (slot, _) in truth.visible.iter().enumerate().filter(|(_, v)| !**v) {
        let (frame, individual) = (slot / resolved.individuals, slot % resolved.individuals);
        positions
            .slice_mut(ndarray::s![frame, individual, .., ..])
            .fill(f32::NAN);
        confidence
            .slice_mut(ndarray::s![frame, individual, ..])
            .fill(0.0);
        dropped
            .slice_mut(ndarray::s![frame, individual, ..])
            .fill(true);
    }

    let in_view = Array2::from_shape_vec((resolved.frames, resolved.individuals), truth.visible)
        .map_err(|_| shape_error("visibility"))?;
    let names = individual_names(resolved.skeleton, resolved.individuals);
    let roles = RoleLabels::from_bouts(
        &names,
        role_bouts(&truth.acts, &names),
        "simulated recording",
    )?;
    let mut pose = Pose::new(
        positions,
        names,
        keypoints.iter().map(|k| k.to_string()).collect(),
    )?
    .with_confidence(confidence)?;
    pose.fps = Some(config.fps);
    pose.software = Some(SOFTWARE.to_string());
    let ids = truth.behaviour.iter().map(|b| Some(b.id())).collect();
    let labels = Labels::new(vocabulary(), FrameLabels::Single(ids))?;
    Ok(Recording {
        pose,
        labels,
        roles,
        true_positions,
        dropped,
        in_view,
        body_lengths: truth.body_lengths,
        arena: resolved.arena,
        seed: config.seed,
    })
}

/// Bouts of the acts `[frames, individuals]` (maximal runs of one behaviour and target per
/// animal; `other` and unlabelled frames make none).
fn role_bouts(acts: &[Option<world::Act>], names: &[String]) -> Vec<RoleBout> {
    let individuals = names.len().max(1);
    let mut bouts = Vec::new();
    for (agent, name) in names.iter().enumerate() {
        let per_frame = acts
            .iter()
            .skip(agent)
            .step_by(individuals)
            .map(|act| act.filter(|act| act.behaviour != Behaviour::Other));
        for (act, frames) in runs(per_frame) {
            bouts.push(RoleBout {
                agent: name.clone(),
                target: act.target.map(|t| names[t].clone()),
                behaviour: act.behaviour.name().to_string(),
                frames,
            });
        }
    }
    bouts
}

/// Simulate `recordings` recordings with seeds [`recording_seed`]`(config.seed, index)`, so
/// each has different animals and can be held out whole.
pub fn simulate_dataset(config: &SimulationConfig, recordings: usize) -> Result<Vec<Recording>> {
    (0..recordings)
        .map(|index| {
            simulate(&SimulationConfig {
                seed: recording_seed(config.seed, index as u64),
                ..config.clone()
            })
        })
        .collect()
}
