//! Transfer on simulated mice: pretrain on unlabelled recordings, then fine-tune with 5% of the
//! frames labelled, against the same fine-tuning from scratch. Prints both macro-F1s.
//!
//! `cargo run --release -p behavert --example transfer [-- LABEL_FRACTION [PRETRAIN_EPOCHS]]`

use behavert::train::config::Monitor;
use behavert::train::{Mode, RunOptions, TrainingConfig, train};
use burn::tensor::Device;

const PRETRAIN: &str = include_str!("../../../configs/training/pretrain-sim.toml");
const FINETUNE: &str = include_str!("../../../configs/training/finetune-sim.toml");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let fraction: f64 = std::env::args().nth(1).map_or(Ok(0.05), |a| a.parse())?;
    let pretrain_epochs: usize = std::env::args().nth(2).map_or(Ok(16), |a| a.parse())?;
    let device = Device::flex();
    let out = tempfile::tempdir()?;

    let mut pre = TrainingConfig::from_toml(PRETRAIN, "pretrain-sim.toml")?;
    pre.training.monitor = Monitor::Loss;
    pre.training.epochs = pretrain_epochs;
    let started = std::time::Instant::now();
    let pretrained = train(
        Mode::Pretrain,
        pre,
        &out.path().join("pre"),
        &device,
        &RunOptions::default(),
    )?;
    println!(
        "pretrained {} steps in {:.0} s, validation reconstruction loss {:.3}",
        pretrained.steps,
        started.elapsed().as_secs_f64(),
        pretrained.last_evaluation.map_or(f64::NAN, |e| e.loss)
    );

    let finetune =
        |from: Option<std::path::PathBuf>, name: &str| -> Result<f64, Box<dyn std::error::Error>> {
            let mut config = TrainingConfig::from_toml(FINETUNE, "finetune-sim.toml")?;
            config.data.label_fraction = fraction;
            config.training.epochs = 40;
            config.model.pretrained = from;
            let summary = train(
                Mode::Finetune,
                config,
                &out.path().join(name),
                &device,
                &RunOptions::default(),
            )?;
            Ok(summary.best.unwrap_or(f64::NAN))
        };
    let scratch = finetune(None, "scratch")?;
    let transfer = finetune(Some(out.path().join("pre/best")), "transfer")?;
    println!("labelled fraction of training frames: {fraction}");
    println!("from scratch:      best validation macro-F1 {scratch:.3}");
    println!("from pretraining:  best validation macro-F1 {transfer:.3}");
    println!("gain: {:+.3}", transfer - scratch);
    Ok(())
}
