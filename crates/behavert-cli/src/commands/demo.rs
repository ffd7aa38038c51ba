//! `behavert demo`: simulated mice → masked-frame pretraining → fine-tuning → evaluation on
//! held-out animals written as DeepLabCut files → predictions and a report.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use behavert::eval::report::MetricsReport;
use behavert::infer::predictions::PredictionWriter;
use behavert::infer::{EvaluateOptions, InferOptions, LabelledRecording, Predictor, evaluate};
use behavert::model::HeadLevel;
use behavert::train::config::Monitor;
use behavert::train::{Mode, RunOptions, TrainingConfig, train};
use behavert_pose::label_files::write_labels;
use behavert_pose::labels::FrameLabels;
use behavert_pose::labels::relabel;
use behavert_pose::synth::{SimulationConfig, recording_seed, simulate};
use behavert_pose::{Format, formats};
use burn::tensor::Device;

use crate::cli::DemoArgs;

const PRETRAIN: &str = include_str!("../../../../configs/training/pretrain-sim.toml");
const FINETUNE: &str = include_str!("../../../../configs/training/finetune-sim.toml");
/// Simulator seed of the held-out animals: neither pretraining's nor fine-tuning's.
const HELD_OUT_SEED: u64 = 9_000;

/// How much work each stage does.
struct Budget {
    pretrain_recordings: usize,
    pretrain_epochs: usize,
    finetune_recordings: usize,
    finetune_epochs: usize,
    frames: usize,
    held_out: usize,
}

impl Budget {
    fn of(quick: bool) -> Self {
        if quick {
            Self {
                pretrain_recordings: 4,
                pretrain_epochs: 2,
                finetune_recordings: 6,
                finetune_epochs: 6,
                frames: 600,
                held_out: 2,
            }
        } else {
            Self {
                pretrain_recordings: 24,
                pretrain_epochs: 8,
                finetune_recordings: 12,
                finetune_epochs: 16,
                frames: 1800,
                held_out: 4,
            }
        }
    }
}

/// Runs the whole pipeline into `--output-dir` and says what to open.
pub fn run(args: &DemoArgs, device: &Device) -> anyhow::Result<()> {
    let out = &args.output_dir;
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        bail!(
            "{} already holds files; choose another --output-dir (the demo never overwrites)",
            out.display()
        );
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let budget = Budget::of(args.quick);
    let started = Instant::now();

    println!(
        "1/5 pretraining the tiny model on {} unlabelled simulated recordings",
        budget.pretrain_recordings
    );
    let mut pre = TrainingConfig::from_toml(PRETRAIN, "configs/training/pretrain-sim.toml")?;
    pre.data.recordings = budget.pretrain_recordings;
    pre.data.simulation.frames = budget.frames;
    pre.training.epochs = budget.pretrain_epochs;
    pre.training.monitor = Monitor::Loss;
    let pretrained = train(
        Mode::Pretrain,
        pre,
        &out.join("pretrain"),
        device,
        &RunOptions::default(),
    )?;
    println!(
        "    {} steps, validation reconstruction loss {:.3}",
        pretrained.steps,
        pretrained
            .last_evaluation
            .as_ref()
            .map_or(f64::NAN, |e| e.loss)
    );

    println!(
        "2/5 fine-tuning on {} labelled recordings",
        budget.finetune_recordings
    );
    let mut fine = TrainingConfig::from_toml(FINETUNE, "configs/training/finetune-sim.toml")?;
    fine.data.recordings = budget.finetune_recordings;
    fine.data.simulation.frames = budget.frames;
    fine.training.epochs = budget.finetune_epochs;
    fine.model.pretrained = Some(out.join("pretrain/best"));
    let simulation = fine.data.simulation.clone();
    let finetuned = train(
        Mode::Finetune,
        fine,
        &out.join("finetune"),
        device,
        &RunOptions::default(),
    )?;
    println!(
        "    {} steps, best validation macro-F1 {:.3}",
        finetuned.steps,
        finetuned.best.unwrap_or(f64::NAN)
    );

    println!(
        "3/5 simulating {} held-out recordings as DeepLabCut files",
        budget.held_out
    );
    let data = out.join("data");
    std::fs::create_dir_all(&data)?;
    let held_out = write_held_out(&data, &simulation, budget.frames, budget.held_out)?;

    println!("4/5 evaluating on the held-out animals");
    let model = out.join("finetune/best");
    let predictor = Predictor::load(&model, device)?;
    let recordings = held_out
        .iter()
        .map(|(pose_file, labels_file)| read_back(pose_file, labels_file, simulation.fps))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let summary = evaluate(
        &predictor,
        &model,
        &recordings,
        &EvaluateOptions {
            infer: InferOptions::default(),
            min_bout: 5,
            bout_iou: 0.5,
            dataset: format!(
                "{} simulated held-out recordings (seed {HELD_OUT_SEED})",
                recordings.len()
            ),
            command: std::env::args().collect::<Vec<_>>().join(" "),
        },
        &out.join("evaluation"),
    )?;
    let majority = majority_baseline(&recordings, &predictor)?;

    println!("5/5 labelling {} frame by frame", held_out[0].0.display());
    let predictions = out.join("predictions.csv");
    let mut writer =
        PredictionWriter::create(&predictions, predictor.heads(), Some(simulation.fps))?;
    let prepared = predictor.prepare(&recordings[0].pose, &recordings[0].name)?;
    predictor.run(&prepared, &InferOptions::default(), |block| {
        writer.write(&block)
    })?;
    writer.finish()?;

    println!();
    println!("Done in {:.0} s.", started.elapsed().as_secs_f64());
    println!(
        "Held-out macro-F1: {:.3} (after smoothing {:.3}); always predicting the most common behaviour scores {:.3}.",
        summary.f1_macro, summary.smoothed_f1_macro, majority
    );
    println!(
        "Open {} in a browser.",
        out.join("evaluation/report.html").display()
    );
    println!(
        "Also there: {} (one row per frame), evaluation/metrics.json, the checkpoints in finetune/best/.",
        predictions.display()
    );
    Ok(())
}

/// Simulates `count` recordings with their own seeds and writes each as `mouse_<i>.csv`
/// (DeepLabCut) plus `mouse_<i>_labels.csv`.
fn write_held_out(
    dir: &Path,
    simulation: &SimulationConfig,
    frames: usize,
    count: usize,
) -> anyhow::Result<Vec<(PathBuf, PathBuf)>> {
    (0..count)
        .map(|i| {
            let recording = simulate(&SimulationConfig {
                seed: recording_seed(HELD_OUT_SEED, i as u64),
                frames,
                ..simulation.clone()
            })?;
            let pose_file = dir.join(format!("mouse_{i}.csv"));
            let labels_file = dir.join(format!("mouse_{i}_labels.csv"));
            formats::write(&recording.pose, &pose_file, Format::DlcCsv)?;
            write_labels(&labels_file, &recording.labels)?;
            Ok((pose_file, labels_file))
        })
        .collect()
}

/// A held-out recording read back through the DeepLabCut reader, as a user's would be.
fn read_back(pose_file: &Path, labels_file: &Path, fps: f64) -> anyhow::Result<LabelledRecording> {
    let mut pose = formats::read_one(pose_file, Some(Format::DlcCsv))?;
    pose.fps = Some(fps);
    let labels = behavert::train::sources::labels_for(labels_file, pose.frames())?;
    Ok(LabelledRecording {
        name: pose_file
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned()),
        pose,
        labels,
    })
}

/// Macro-F1 of always predicting the behaviour most frequent in the held-out labels: the
/// floor a model must clear.
fn majority_baseline(
    recordings: &[LabelledRecording],
    predictor: &Predictor,
) -> anyhow::Result<f64> {
    let vocabulary = predictor
        .heads()
        .iter()
        .find(|head| head.level() == HeadLevel::Frame)
        .context("the model has no frame head")?
        .output_names();
    let mut truth = Vec::new();
    for recording in recordings {
        let FrameLabels::Single(ids) = &recording.labels.frames else {
            bail!("{}: expected one behaviour per frame", recording.name);
        };
        let ids = relabel(&recording.labels, ids, &vocabulary).map_err(|unknown| {
            anyhow::anyhow!(
                "{}: behaviour {:?} unknown to the model",
                recording.name,
                unknown.name
            )
        })?;
        truth.extend(ids);
    }
    let mut counts = vec![0usize; vocabulary.len()];
    for id in truth.iter().flatten() {
        counts[*id as usize] += 1;
    }
    let most = (0..counts.len()).max_by_key(|&c| counts[c]).unwrap_or(0) as u32;
    let pred = vec![most; truth.len()];
    Ok(MetricsReport::compute(&vocabulary, &truth, &pred, None)?
        .macro_all
        .f1)
}
