//! Transfer on simulated mice: pretrain on unlabelled recordings, then fine-tune with 5% of the
//! frames labelled, against the same fine-tuning from scratch (same labels, same recipe, same
//! seed; only the starting weights differ). Prints both macro-F1s per seed and the mean gain.
//!
//! The recipes are `configs/training/pretrain-sim.toml` and
//! `configs/training/finetune-sim-few-labels.toml`.
//!
//! `cargo run --release -p behavert --example transfer [-- SEEDS [LABEL_FRACTION]]`, e.g.
//! `-- 1,2,3,4,5 0.05` (the defaults).

use std::path::{Path, PathBuf};
use std::time::Instant;

use behavert::train::{Mode, RunOptions, TrainingConfig, train};
use burn::tensor::Device;

const PRETRAIN: &str = include_str!("../../../configs/training/pretrain-sim.toml");
const FINETUNE: &str = include_str!("../../../configs/training/finetune-sim-few-labels.toml");

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let seeds: Vec<u64> = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "1,2,3,4,5".into())
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let fraction: Option<f64> = std::env::args().nth(2).map(|a| a.parse()).transpose()?;
    let device = Device::flex();
    let out = tempfile::tempdir()?;

    let mut pre = TrainingConfig::from_toml(PRETRAIN, "pretrain-sim.toml")?;
    pre.training.progress = false;
    let started = Instant::now();
    let pretrained = train(
        Mode::Pretrain,
        pre.clone(),
        &out.path().join("pre"),
        &device,
        &RunOptions::default(),
    )?;
    println!(
        "pretrained on {} unlabelled recordings: {} steps in {:.0} s, validation reconstruction \
         loss {:.3}",
        pre.data.recordings,
        pretrained.steps,
        started.elapsed().as_secs_f64(),
        pretrained.last_evaluation.map_or(f64::NAN, |e| e.loss)
    );

    let finetune = |from: Option<PathBuf>, run: &Path, seed: u64| -> Result<f64, Error> {
        let mut config = TrainingConfig::from_toml(FINETUNE, "finetune-sim-few-labels.toml")?;
        if let Some(fraction) = fraction {
            config.data.label_fraction = fraction;
        }
        config.training.seed = seed;
        config.training.progress = false;
        config.model.pretrained = from;
        let summary = train(Mode::Finetune, config, run, &device, &RunOptions::default())?;
        Ok(summary.best.unwrap_or(f64::NAN))
    };
    let label_fraction = fraction.unwrap_or(
        TrainingConfig::from_toml(FINETUNE, "finetune-sim-few-labels.toml")?
            .data
            .label_fraction,
    );
    println!("labelled fraction of training frames: {label_fraction}");
    println!("seed  from scratch  from pretraining  gain   (best validation macro-F1)");
    let (mut scratch_sum, mut transfer_sum) = (0.0, 0.0);
    let started = Instant::now();
    for &seed in &seeds {
        let scratch = finetune(None, &out.path().join(format!("scratch-{seed}")), seed)?;
        let transfer = finetune(
            Some(out.path().join("pre/best")),
            &out.path().join(format!("transfer-{seed}")),
            seed,
        )?;
        println!(
            "{seed:>4}  {scratch:>12.3}  {transfer:>16.3}  {:+.3}",
            transfer - scratch
        );
        scratch_sum += scratch;
        transfer_sum += transfer;
    }
    let n = seeds.len() as f64;
    println!(
        "mean  {:>12.3}  {:>16.3}  {:+.3}   ({} fine-tunings in {:.0} s)",
        scratch_sum / n,
        transfer_sum / n,
        (transfer_sum - scratch_sum) / n,
        2 * seeds.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
