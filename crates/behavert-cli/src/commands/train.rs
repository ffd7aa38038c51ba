//! `behavert pretrain` and `behavert finetune`: a config file plus flag overrides, then the
//! trainer of `behavert::train`.

use anyhow::{Context, bail};
use behavert::train::config::{DataSource, HeadSection};
use behavert::train::{Mode, RunOptions, TrainingConfig, resume, train};
use burn::tensor::Device;

use crate::cli::TrainArgs;

/// Runs one training command.
pub fn run(args: &TrainArgs, mode: Mode, device: &Device) -> anyhow::Result<()> {
    let summary = if let Some(run_dir) = &args.resume {
        resume(run_dir, device, &RunOptions::default())
            .with_context(|| format!("resuming {}", run_dir.display()))?
    } else {
        let Some(output) = &args.output_dir else {
            bail!("--output-dir RUN is required (or --resume RUN to continue a run)");
        };
        let config = resolve(args, mode)?;
        train(mode, config, output, device, &RunOptions::default())?
    };
    println!("run directory: {}", summary.run_dir.display());
    println!("steps: {}", summary.steps);
    if let Some(e) = &summary.last_evaluation {
        println!("validation loss: {:.4}", e.loss);
        for (head, f1) in &e.per_head {
            println!("validation macro-F1 ({head}): {f1:.3}");
        }
    }
    println!(
        "time per batch: data {:.2} ms (waited {:.2} ms), step {:.1} ms",
        summary.data_ms, summary.wait_ms, summary.step_ms
    );
    Ok(())
}

/// The config file (or the defaults) with every given flag applied.
fn resolve(args: &TrainArgs, mode: Mode) -> anyhow::Result<TrainingConfig> {
    let mut config = match &args.config {
        Some(path) => TrainingConfig::load(path)?,
        None => TrainingConfig::default(),
    };
    if let Some(dataset) = &args.dataset {
        config.data.source = DataSource::Dataset;
        config.data.dataset = Some(dataset.parse()?);
    }
    if let Some(dir) = &args.data_dir {
        config.data.data_dir = Some(dir.clone());
    }
    if let Some(task) = &args.task {
        config.data.task = Some(task.clone());
    }
    if let Some(group) = &args.group {
        config.data.group = Some(group.clone());
    }
    if !args.input.is_empty() {
        config.data.source = DataSource::Files;
        config.data.inputs = args.input.clone();
        config.data.labels = args.labels.clone();
    }
    if let Some(p) = &args.pretrained {
        config.model.pretrained = Some(p.clone());
    }
    if let Some(size) = args.model_size {
        config.model.size = size;
    }
    config.model.freeze_encoder |= args.freeze_encoder;
    if let Some(v) = args.epochs {
        config.training.epochs = v;
    }
    if let Some(v) = args.max_steps {
        config.training.max_steps = Some(v);
    }
    if let Some(v) = args.batch_size {
        config.training.batch_size = v;
    }
    if let Some(v) = args.learning_rate {
        config.optimizer.learning_rate = v;
    }
    if let Some(v) = args.seed {
        config.training.seed = v;
    }
    if let Some(v) = args.window {
        config.window.length = v;
        config.window.stride = config.window.stride.min(v);
    }
    if !args.extra_window_lengths.is_empty() {
        config.window.extra_lengths = args.extra_window_lengths.clone();
    }
    if let Some(v) = args.label_fraction {
        config.data.label_fraction = v;
    }
    if args.no_progress {
        config.training.progress = false;
    }
    if let Some(precision) = args.precision {
        config.training.precision = precision;
    }
    if mode == Mode::Finetune && config.heads.is_empty() {
        config.heads.push(HeadSection::default());
    }
    Ok(config)
}
