//! Who did what to whom on simulated mice: trains `configs/training/roles-sim.toml` (pair views
//! of recordings of four and of three mice), then labels held-out recordings of 3 and of 4 mice
//! that neither training nor model selection saw, and prints, per number of mice:
//!
//! - per-pair macro-F1: a frame counts only with the right agent, target and behaviour;
//! - frame-level macro-F1 of the same predictions without attribution (the behaviour happened,
//!   whoever did it), on the same behaviours: what attribution costs;
//! - over the directed behaviours, the model's per-pair macro-F1 against the "nearest animal"
//!   baseline: the same frame-level detections given to the pair whose agent's nose is nearest
//!   the target's body.
//!
//! About 10 minutes on 2 cores. `cargo run --release -p behavert --example role_attribution
//! [-- RUN_DIR]` (an existing RUN_DIR with `best/` is reused instead of training).

use std::path::PathBuf;
use std::time::Instant;

use behavert::eval::roles::{
    Attribution, ScoredRecording, nearest_animal_attribution, role_scores,
};
use behavert::infer::roles::predict_roles;
use behavert::infer::{InferOptions, Predictor};
use behavert::train::{Mode, RunOptions, TrainingConfig, train};
use behavert_pose::role_labels::{Role, RoleLabels};
use behavert_pose::synth::{Agents, SimulationConfig, recording_seed, simulate};
use burn::tensor::Device;

const RECIPE: &str = include_str!("../../../configs/training/roles-sim.toml");
/// Seed of the held-out animals: none of the training or validation recordings.
const TEST_SEED: u64 = 9_100;
const TEST_RECORDINGS: usize = 6;

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let device = Device::flex();
    let scratch = tempfile::tempdir()?;
    let run = std::env::args()
        .nth(1)
        .map_or_else(|| scratch.path().join("roles"), PathBuf::from);
    if !run.join("best").exists() {
        let started = Instant::now();
        let config = TrainingConfig::from_toml(RECIPE, "configs/training/roles-sim.toml")?;
        let summary = train(
            Mode::Finetune,
            config,
            &run,
            &device,
            &RunOptions::default(),
        )?;
        println!(
            "trained: {} steps in {:.0} s",
            summary.steps,
            started.elapsed().as_secs_f64(),
        );
    }
    let predictor = Predictor::load(&run.join("best"), &device)?;
    let behaviours = predictor
        .info()
        .roles
        .as_ref()
        .ok_or("not a role model")?
        .behaviours
        .clone();
    let names = |role: Option<Role>| -> Vec<String> {
        behaviours
            .iter()
            .filter(|(_, r)| role.is_none_or(|role| *r == role))
            .map(|(n, _)| n.clone())
            .collect()
    };
    println!(
        "| mice | per-pair macro-F1 | frame-level macro-F1 (no attribution) | directed: per-pair | directed: nearest animal |"
    );
    println!("|---|---|---|---|---|");
    for mice in [3usize, 4] {
        let started = Instant::now();
        let mut truths: Vec<RoleLabels> = Vec::new();
        let mut predictions: Vec<RoleLabels> = Vec::new();
        let mut baselines: Vec<RoleLabels> = Vec::new();
        for index in 0..TEST_RECORDINGS {
            let recording = simulate(&SimulationConfig {
                seed: recording_seed(TEST_SEED + mice as u64, index as u64),
                frames: 1800,
                individuals: mice,
                agents: Agents::All,
                leave_rate: 0.0005,
                ..Default::default()
            })?;
            let predicted = predict_roles(
                &predictor,
                &recording.pose,
                "held-out recording",
                &InferOptions::default(),
            )?
            .decided(0.5)?;
            let nose = recording
                .pose
                .keypoints
                .iter()
                .position(|k| k == "nose")
                .ok_or("no nose keypoint")?;
            baselines.push(nearest_animal_attribution(
                &predicted,
                &recording.pose,
                nose,
            )?);
            predictions.push(predicted);
            truths.push(recording.roles);
        }
        fn scored<'a>(
            truths: &'a [RoleLabels],
            guesses: &'a [RoleLabels],
        ) -> Vec<ScoredRecording<'a>> {
            truths
                .iter()
                .zip(guesses)
                .map(|(truth, predicted)| ScoredRecording { truth, predicted })
                .collect()
        }
        let all = names(None);
        let directed = names(Some(Role::Directed));
        let pairs = role_scores(&scored(&truths, &predictions), &all, Attribution::Pairs)?;
        let frames = role_scores(&scored(&truths, &predictions), &all, Attribution::Frames)?;
        let model_directed = role_scores(
            &scored(&truths, &predictions),
            &directed,
            Attribution::Pairs,
        )?;
        let nearest = role_scores(&scored(&truths, &baselines), &directed, Attribution::Pairs)?;
        println!(
            "| {mice} | {:.3} | {:.3} | {:.3} | {:.3} |",
            pairs.macro_f1, frames.macro_f1, model_directed.macro_f1, nearest.macro_f1
        );
        for (p, f) in pairs.behaviours.iter().zip(&frames.behaviours) {
            eprintln!(
                "  {mice} mice, {}: per-pair F1 {:.3}, frame-level F1 {:.3} (support {} frames)",
                p.behaviour, p.scores.f1, f.scores.f1, p.scores.support
            );
        }
        eprintln!(
            "  ({TEST_RECORDINGS} recordings labelled in {:.1} s)",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
