//! `behavert evaluate`: a checkpoint on labelled pose files or a dataset's test split.

use anyhow::{Context, bail};
use behavert::infer::{EvaluateOptions, LabelledRecording, Predictor, evaluate};
use behavert::train::sources::labels_for;
use behavert_pose::datasets::{self, DatasetKind, DatasetOptions, Split};
use burn::tensor::Device;

use super::inputs::{options, read_pose};
use crate::cli::EvaluateArgs;

/// Predicts every recording, scores it and writes metrics, plots and the report.
pub fn run(args: &EvaluateArgs, device: &Device) -> anyhow::Result<()> {
    let predictor = Predictor::load(&args.model, device)
        .with_context(|| format!("cannot load the model {}", args.model.display()))?;
    let (recordings, dataset) = match &args.dataset {
        Some(name) => dataset_recordings(args, name)?,
        None => (file_recordings(args)?, "labelled pose files".to_string()),
    };
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let summary = evaluate(
        &predictor,
        &args.model,
        &recordings,
        &EvaluateOptions {
            infer: options(&args.windowing, true),
            min_bout: args.min_bout,
            bout_iou: args.bout_iou,
            dataset,
            command,
        },
        &args.output_dir,
    )?;
    println!(
        "{} recordings, {} labelled frames",
        recordings.len(),
        summary.labelled_frames
    );
    println!("macro-F1: {:.3}", summary.f1_macro);
    if let Some(f1) = summary.f1_macro_excluding_other {
        println!("macro-F1 without other/background: {f1:.3}");
    }
    println!(
        "macro-F1 after smoothing (min bout {} frames): {:.3}",
        args.min_bout, summary.smoothed_f1_macro
    );
    println!(
        "wrote {} files; open {}",
        summary.files.len(),
        args.output_dir.join("report.html").display()
    );
    Ok(())
}

fn file_recordings(args: &EvaluateArgs) -> anyhow::Result<Vec<LabelledRecording>> {
    if args.labels.len() != args.input.len() {
        bail!(
            "--labels: expected one labels file per --input ({}), found {}",
            args.input.len(),
            args.labels.len()
        );
    }
    args.input
        .iter()
        .zip(&args.labels)
        .map(|(input, labels)| {
            let pose = read_pose(input, &args.windowing)?;
            let labels = labels_for(labels, pose.frames())?;
            Ok(LabelledRecording {
                name: input.file_stem().map_or_else(
                    || input.display().to_string(),
                    |s| s.to_string_lossy().into(),
                ),
                pose,
                labels,
            })
        })
        .collect()
}

/// The dataset's labelled test sequences (every labelled sequence when it has no test split).
fn dataset_recordings(
    args: &EvaluateArgs,
    name: &str,
) -> anyhow::Result<(Vec<LabelledRecording>, String)> {
    let kind: DatasetKind = name.parse()?;
    let dir = args
        .data_dir
        .as_deref()
        .context("--data-dir is required with --dataset")?;
    let options = DatasetOptions {
        task: args.task.clone(),
        group: args.group.clone(),
        ..Default::default()
    };
    let mut test = Vec::new();
    let mut other = Vec::new();
    datasets::for_each(kind, dir, &options, &mut |sequence| {
        if let Some(labels) = sequence.labels {
            let recording = LabelledRecording {
                name: sequence.id,
                pose: sequence.pose,
                labels,
            };
            match sequence.split {
                Split::Test => test.push(recording),
                _ => other.push(recording),
            }
        }
        Ok(true)
    })?;
    let task = [args.task.as_deref(), args.group.as_deref()]
        .into_iter()
        .flatten()
        .fold(String::new(), |text, part| format!("{text} {part}"));
    if !test.is_empty() {
        return Ok((test, format!("{kind}{task}, test split")));
    }
    if other.is_empty() {
        bail!(
            "{}: expected labelled sequences of {kind}{task}, found none",
            dir.display()
        );
    }
    Ok((
        other,
        format!("{kind}{task}, all labelled sequences (no test split)"),
    ))
}
