//! Transfer on simulated mice: pretrain on unlabelled recordings, then fine-tune with 5% of the
//! frames labelled, against the same fine-tuning from scratch (same labels, same recipe, same
//! seed; only the starting weights differ). Each fine-tuned model (its best-on-validation
//! checkpoint) is then scored on held-out test recordings that neither training nor model
//! selection saw. Prints both macro-F1s per seed and the mean gain with its standard error.
//!
//! The recipes are `configs/training/pretrain-sim.toml` and
//! `configs/training/finetune-sim-few-labels.toml`.
//!
//! About 20 minutes on 2 cores with the defaults.
//!
//! `cargo run --release -p behavert --example transfer [-- SEEDS [LABEL_FRACTION [PRETRAIN_TOML
//! FINETUNE_TOML]]]`, e.g. `-- 1-8,20 0.05` (default: seeds 9 to 40, 5%; other recipes to compare
//! variants). With `TRANSFER_PRETRAINED=DIR` the pretraining run is kept in DIR and reused when
//! it is already there, to compare fine-tuning recipes on one pretraining.

use std::path::{Path, PathBuf};
use std::time::Instant;

use behavert::infer::{EvaluateOptions, InferOptions, LabelledRecording, Predictor, evaluate};
use behavert::train::{Mode, RunOptions, TrainingConfig, train};
use behavert_pose::synth::{SimulationConfig, recording_seed, simulate};
use burn::tensor::Device;

const PRETRAIN: &str = include_str!("../../../configs/training/pretrain-sim.toml");
const FINETUNE: &str = include_str!("../../../configs/training/finetune-sim-few-labels.toml");
/// Seed of the held-out test animals: none of the training or validation recordings.
const TEST_SEED: u64 = 9_001;
const TEST_RECORDINGS: usize = 8;

/// Fine-tuning seeds when none are given: not seeds 1–8, on which the pretraining recipe was
/// chosen, so the mean gain printed is not biased by that choice.
const DEFAULT_SEEDS: &str = "9-40";

type Error = Box<dyn std::error::Error>;

/// Best validation and held-out test macro-F1 of one fine-tuning.
struct Scores {
    validation: f64,
    test: f64,
}

fn main() -> Result<(), Error> {
    let arg = |index: usize| std::env::args().nth(index);
    let seeds = parse_seeds(&arg(1).unwrap_or_else(|| DEFAULT_SEEDS.into()))?;
    let recipe = |index: usize, default: &str| -> Result<String, Error> {
        Ok(match arg(index) {
            Some(path) => std::fs::read_to_string(path)?,
            None => default.to_owned(),
        })
    };
    let pre = TrainingConfig::from_toml(&recipe(3, PRETRAIN)?, "pretrain recipe")?;
    let mut fine = TrainingConfig::from_toml(&recipe(4, FINETUNE)?, "fine-tuning recipe")?;
    if let Some(fraction) = arg(2) {
        fine.data.label_fraction = fraction.parse()?;
    }
    let device = Device::flex();
    let out = tempfile::tempdir()?;
    let pre_dir =
        std::env::var_os("TRANSFER_PRETRAINED").map_or(out.path().join("pre"), PathBuf::from);

    if !pre_dir.join("best").exists() {
        let started = Instant::now();
        let mut config = pre.clone();
        config.training.progress = false;
        let pretrained = train(
            Mode::Pretrain,
            config,
            &pre_dir,
            &device,
            &RunOptions::default(),
        )?;
        println!(
            "pretrained on {} unlabelled recordings: {} steps in {:.0} s, validation \
             reconstruction loss {:.3}",
            pre.data.recordings,
            pretrained.steps,
            started.elapsed().as_secs_f64(),
            pretrained.last_evaluation.map_or(f64::NAN, |e| e.loss)
        );
    }

    let test = test_recordings(&fine.data.simulation)?;
    let finetune = |from: Option<PathBuf>, run: &Path, seed: u64| -> Result<Scores, Error> {
        let mut config = fine.clone();
        config.training.seed = seed;
        config.training.progress = false;
        config.model.pretrained = from;
        let summary = train(Mode::Finetune, config, run, &device, &RunOptions::default())?;
        let best = run.join("best");
        let predictor = Predictor::load(&best, &device)?;
        let scored = evaluate(
            &predictor,
            &best,
            &test,
            &EvaluateOptions {
                infer: InferOptions::default(),
                min_bout: 5,
                bout_iou: 0.5,
                dataset: format!("{TEST_RECORDINGS} simulated test recordings"),
                command: "transfer example".into(),
            },
            &run.join("test"),
        )?;
        Ok(Scores {
            validation: summary.best.unwrap_or(f64::NAN),
            test: scored.f1_macro,
        })
    };

    println!(
        "labelled fraction of training frames: {}; test: {TEST_RECORDINGS} held-out recordings \
         of {} frames",
        fine.data.label_fraction, fine.data.simulation.frames
    );
    println!("macro-F1 of the best-on-validation checkpoint");
    println!("        from scratch       from pretraining");
    println!("seed  validation  test   validation  test   test gain");
    let (mut scratch_sum, mut transfer_sum) = (0.0, 0.0);
    let mut gains = Vec::with_capacity(seeds.len());
    let started = Instant::now();
    for &seed in &seeds {
        let scratch = finetune(None, &out.path().join(format!("scratch-{seed}")), seed)?;
        let transfer = finetune(
            Some(pre_dir.join("best")),
            &out.path().join(format!("transfer-{seed}")),
            seed,
        )?;
        let gain = transfer.test - scratch.test;
        println!(
            "{seed:>4}  {:>10.3}  {:>5.3}  {:>10.3}  {:>5.3}  {gain:>+9.3}",
            scratch.validation, scratch.test, transfer.validation, transfer.test
        );
        scratch_sum += scratch.test;
        transfer_sum += transfer.test;
        gains.push(gain);
    }
    let n = seeds.len() as f64;
    let (mean, standard_error) = mean_and_standard_error(&gains);
    println!(
        "mean test macro-F1: from scratch {:.3}, from pretraining {:.3}; gain {mean:+.3} \
         ± {standard_error:.3} (standard error, paired t {:.1}); pretraining ahead in {} of {} \
         seeds ({} fine-tunings in {:.0} s)",
        scratch_sum / n,
        transfer_sum / n,
        mean / standard_error,
        gains.iter().filter(|&&gain| gain > 0.0).count(),
        seeds.len(),
        2 * seeds.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Seeds from a comma-separated list of numbers and inclusive ranges (`1-8,20`).
fn parse_seeds(list: &str) -> Result<Vec<u64>, Error> {
    let mut seeds = Vec::new();
    for part in list.split(',') {
        match part.split_once('-') {
            Some((first, last)) => {
                seeds.extend(first.trim().parse::<u64>()?..=last.trim().parse()?)
            }
            None => seeds.push(part.trim().parse()?),
        }
    }
    if seeds.is_empty() {
        return Err(format!("no seeds in {list:?}").into());
    }
    Ok(seeds)
}

/// Mean of the paired gains and its standard error (NaN for fewer than two seeds). Seeds differ in
/// labelled stretches, initialisation and batch order, so given the one pretraining run the gains
/// are independent draws.
fn mean_and_standard_error(gains: &[f64]) -> (f64, f64) {
    let n = gains.len() as f64;
    let mean = gains.iter().sum::<f64>() / n;
    let variance = gains.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (variance / n).sqrt())
}

/// Labelled recordings of animals no run trains or validates on, simulated like the
/// fine-tuning data.
fn test_recordings(simulation: &SimulationConfig) -> Result<Vec<LabelledRecording>, Error> {
    (0..TEST_RECORDINGS)
        .map(|index| {
            let recording = simulate(&SimulationConfig {
                seed: recording_seed(TEST_SEED, index as u64),
                ..simulation.clone()
            })?;
            Ok(LabelledRecording {
                name: format!("test-{index}"),
                pose: recording.pose,
                labels: recording.labels,
            })
        })
        .collect()
}
