//! Who did what to whom: a model trained on pair views labels every pair of a recording,
//! relabelling the animals permutes its outputs exactly, animals out of view get no labels.

use behavert::infer::roles::{RolePredictions, predict_roles};
use behavert::infer::{InferOptions, Predictor};
use behavert::train::{Mode, RunOptions, TrainingConfig, train};
use behavert_pose::role_labels::read_role_labels;
use behavert_pose::synth::{Agents, SimulationConfig, simulate};
use burn::tensor::Device;

use super::turn;

fn role_config() -> TrainingConfig {
    let text = r#"
[model]
size = "tiny"
[data]
source = "simulated"
recordings = 2
validation_recordings = 1
roles = true
slots = 4
[data.simulation]
seed = 3
frames = 300
individuals = 3
agents = "all"
leave_rate = 0.002
[preprocess]
body_axis = ["tail", "neck"]
[preprocess.align]
mode = "egocentric"
individual = "agent"
centre = ["neck"]
[preprocess.derived]
velocities = true
distances = [["nose", "nose"]]
[window]
length = 32
stride = 16
[training]
seed = 1
batch_size = 16
epochs = 1
progress = false
[[heads]]
name = "behaviour"
kind = "multilabel"
class_weights = "sqrt_inverse_frequency"
"#;
    TrainingConfig::from_toml(text, "test config").unwrap()
}

/// A track named by its agent, target and behaviour, with its probabilities' bits.
type NamedTrack = ((String, Option<String>, String), Vec<u32>);

/// The probabilities of `predictions` keyed by agent, target and behaviour names.
fn keyed(predictions: &RolePredictions) -> Vec<NamedTrack> {
    let names = &predictions.animals;
    let mut tracks: Vec<_> = predictions
        .tracks
        .iter()
        .map(|t| {
            (
                (
                    names[t.agent].clone(),
                    t.target.map(|i| names[i].clone()),
                    predictions.behaviours[t.behaviour].0.clone(),
                ),
                t.probability.iter().map(|p| p.to_bits()).collect(),
            )
        })
        .collect();
    tracks.sort();
    tracks
}

#[test]
fn every_pair_is_labelled_and_relabelling_the_animals_permutes_the_outputs_exactly() {
    let _turn = turn();
    let device = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    train(
        Mode::Finetune,
        role_config(),
        &run,
        &device,
        &RunOptions::default(),
    )
    .unwrap();
    let predictor = Predictor::load(&run.join("best"), &device).unwrap();

    // Held out, with an animal leaving the view for part of the time.
    let recording = simulate(&SimulationConfig {
        seed: 99,
        frames: 400,
        individuals: 3,
        agents: Agents::All,
        leave_rate: 0.01,
        ..Default::default()
    })
    .unwrap();
    assert!(
        recording.in_view.iter().any(|v| !v),
        "an animal leaves the view"
    );
    let options = InferOptions::default();
    let predictions = predict_roles(&predictor, &recording.pose, "held out", &options).unwrap();
    let behaviours = &predictions.behaviours;
    let directed = behaviours
        .iter()
        .filter(|(_, r)| *r == behavert_pose::role_labels::Role::Directed)
        .count();
    assert_eq!(
        predictions.tracks.len(),
        3 * 2 * directed + 3 * (behaviours.len() - directed)
    );
    for track in &predictions.tracks {
        for (frame, p) in track.probability.iter().enumerate() {
            let tracked = |i: usize| {
                recording
                    .pose
                    .positions
                    .slice(ndarray::s![frame, i, .., ..])
                    .iter()
                    .any(|v| v.is_finite())
            };
            let expected = tracked(track.agent) && track.target.is_none_or(tracked);
            assert_eq!(p.is_finite(), expected, "frame {frame} of {track:?}");
            assert!(!p.is_finite() || (0.0..=1.0).contains(p));
        }
    }

    // The same recording with its animals in another order and under other names.
    let order = [2, 0, 1];
    let mut relabelled = recording.pose.clone();
    for (new, &old) in order.iter().enumerate() {
        relabelled
            .positions
            .slice_mut(ndarray::s![.., new, .., ..])
            .assign(&recording.pose.positions.slice(ndarray::s![.., old, .., ..]));
        if let (Some(to), Some(from)) = (&mut relabelled.confidence, &recording.pose.confidence) {
            to.slice_mut(ndarray::s![.., new, ..])
                .assign(&from.slice(ndarray::s![.., old, ..]));
        }
        relabelled.individuals[new] = recording.pose.individuals[old].clone();
    }
    let permuted = predict_roles(&predictor, &relabelled, "relabelled", &options).unwrap();
    assert_eq!(keyed(&permuted), keyed(&predictions));

    // Written in long form and as bouts that read back as role labels.
    let csv = dir.path().join("predictions.csv");
    let bouts = dir.path().join("bouts.csv");
    predictions.write(&csv, &bouts, Some(30.0)).unwrap();
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("frame,time_s,agent,target,behaviour,probability\n"));
    let rows = text.lines().count() - 1;
    let finite: usize = predictions
        .tracks
        .iter()
        .map(|t| t.probability.iter().filter(|p| p.is_finite()).count())
        .sum();
    assert_eq!(rows, finite);
    let read = read_role_labels(&bouts, &recording.pose.individuals).unwrap();
    assert_eq!(read.bouts, predictions.decided(0.5).unwrap().bouts);
    let again = predictions.write(&csv, &dir.path().join("other.csv"), None);
    assert!(again.unwrap_err().to_string().contains("never overwritten"));

    // More animals than the model's slots is a clear error.
    let crowd = simulate(&SimulationConfig {
        seed: 1,
        frames: 50,
        individuals: 4,
        ..Default::default()
    })
    .unwrap();
    let mut five = crowd.pose.clone();
    five.positions = ndarray::concatenate(
        ndarray::Axis(1),
        &[
            crowd.pose.positions.view(),
            crowd.pose.positions.slice(ndarray::s![.., 0..1, .., ..]),
        ],
    )
    .unwrap();
    five.confidence = None;
    five.individuals.push("mouse_extra".into());
    let error = predict_roles(&predictor, &five, "crowd.h5", &options)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("crowd.h5") && error.contains("at most 4 animals"),
        "{error}"
    );
}

#[test]
fn a_role_model_attributes_behaviours_far_better_than_the_nearest_animal() {
    use behavert::eval::roles::{
        Attribution, ScoredRecording, nearest_animal_attribution, role_scores,
    };
    use behavert_pose::role_labels::Role;
    use behavert_pose::synth::recording_seed;

    let _turn = turn();
    let device = Device::flex();
    let dir = tempfile::tempdir().unwrap();
    let mut config = TrainingConfig::from_toml(
        include_str!("../../../../configs/training/roles-sim.toml"),
        "roles-sim.toml",
    )
    .unwrap();
    // Half the recipe: its three-mouse recordings only.
    config.data.extra.clear();
    config.data.simulation.individuals = 3;
    config.training.progress = false;
    let run = dir.path().join("run");
    train(
        Mode::Finetune,
        config,
        &run,
        &device,
        &RunOptions::default(),
    )
    .unwrap();
    let predictor = Predictor::load(&run.join("best"), &device).unwrap();
    let (mut truths, mut predicted, mut nearest) = (Vec::new(), Vec::new(), Vec::new());
    for index in 0..3 {
        let recording = simulate(&SimulationConfig {
            seed: recording_seed(4_242, index),
            frames: 1200,
            individuals: 3,
            agents: Agents::All,
            leave_rate: 0.0005,
            ..Default::default()
        })
        .unwrap();
        let roles = predict_roles(
            &predictor,
            &recording.pose,
            "held out",
            &InferOptions::default(),
        )
        .unwrap()
        .decided(0.5)
        .unwrap();
        nearest.push(nearest_animal_attribution(&roles, &recording.pose, 0).unwrap());
        predicted.push(roles);
        truths.push(recording.roles);
    }
    let directed: Vec<String> = predictor
        .info()
        .roles
        .as_ref()
        .unwrap()
        .behaviours
        .iter()
        .filter(|(_, role)| *role == Role::Directed)
        .map(|(name, _)| name.clone())
        .collect();
    let score = |guesses: &[behavert_pose::role_labels::RoleLabels], attribution| {
        let scored: Vec<ScoredRecording<'_>> = truths
            .iter()
            .zip(guesses)
            .map(|(truth, predicted)| ScoredRecording { truth, predicted })
            .collect();
        role_scores(&scored, &directed, attribution)
            .unwrap()
            .macro_f1
    };
    let pairs = score(&predicted, Attribution::Pairs);
    let frames = score(&predicted, Attribution::Frames);
    let baseline = score(&nearest, Attribution::Pairs);
    eprintln!(
        "directed behaviours: per pair {pairs:.3}, per frame {frames:.3}, nearest animal {baseline:.3}"
    );
    assert!(
        pairs > 0.4,
        "per-pair F1 {pairs:.3}: the model learnt little"
    );
    assert!(
        pairs > baseline + 0.08,
        "per pair {pairs:.3} vs nearest animal {baseline:.3}"
    );
    assert!(
        frames - pairs < 0.1,
        "attribution costs {:.3}",
        frames - pairs
    );
}
