//! `behavert evaluate`: a checkpoint on labelled pose files or a dataset's test split; a model
//! of who did what to whom on role labels.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use behavert::infer::{
    EvaluateOptions, LabelledRecording, Predictor, RoleEvaluateOptions, RoleRecording, evaluate,
    evaluate_roles,
};
use behavert::train::sources::labels_for;
use behavert_pose::datasets::{self, DatasetKind, DatasetOptions, Sequence, Split, mabe2025};
use behavert_pose::role_labels::read_role_labels;
use burn::tensor::Device;

use super::inputs::{load_predictor, options, read_pose};
use crate::cli::EvaluateArgs;

/// Predicts every recording, scores it and writes metrics, plots and the report.
pub fn run(args: &EvaluateArgs, device: &Device) -> anyhow::Result<()> {
    let predictor = load_predictor(&args.model, &args.windowing, device)?;
    if predictor.info().roles.is_some() {
        return run_roles(args, &predictor);
    }
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

/// A model of who did what to whom, on role-labelled files or MABe 2025.
fn run_roles(args: &EvaluateArgs, predictor: &Predictor) -> anyhow::Result<()> {
    let (recordings, dataset) = match &args.dataset {
        Some(name) => dataset_role_recordings(args, name)?,
        None => (
            file_role_recordings(args)?,
            "role-labelled pose files".to_string(),
        ),
    };
    let summary = evaluate_roles(
        predictor,
        &recordings,
        &RoleEvaluateOptions {
            infer: options(&args.windowing, false),
            model: args.model.display().to_string(),
            dataset,
            command: std::env::args().collect::<Vec<_>>().join(" "),
        },
        &args.output_dir,
    )?;
    println!("{} recordings", recordings.len());
    println!(
        "per-pair macro-F1 (agent, target and behaviour right): {:.3}",
        summary.pairs.macro_f1
    );
    println!(
        "frame-level macro-F1 (whoever did it): {:.3}",
        summary.frames.macro_f1
    );
    println!(
        "MABe 2025 F1 (mean over {} labs): {:.3}",
        summary.mabe2025.labs.len(),
        summary.mabe2025.f1
    );
    println!(
        "wrote {} files into {}",
        summary.files.len(),
        args.output_dir.display()
    );
    Ok(())
}

/// Each `--input` with its `--labels` file (`what` they hold, for the message).
fn labelled_inputs<'a>(
    args: &'a EvaluateArgs,
    what: &str,
) -> anyhow::Result<impl Iterator<Item = (&'a PathBuf, &'a PathBuf)>> {
    if args.labels.len() != args.input.len() {
        bail!(
            "--labels: expected one {what} file per --input ({}), found {}",
            args.input.len(),
            args.labels.len()
        );
    }
    Ok(args.input.iter().zip(&args.labels))
}

fn file_role_recordings(args: &EvaluateArgs) -> anyhow::Result<Vec<RoleRecording>> {
    labelled_inputs(args, "role labels")?
        .map(|(input, labels)| {
            let pose = read_pose(input, &args.windowing)?;
            let roles = read_role_labels(labels, &pose.individuals)?;
            Ok(RoleRecording {
                name: stem(input),
                pose,
                roles,
                lab: "files".into(),
                labelled: None,
            })
        })
        .collect()
}

/// MABe 2025's annotated test videos (every annotated video when none is a test video).
fn dataset_role_recordings(
    args: &EvaluateArgs,
    name: &str,
) -> anyhow::Result<(Vec<RoleRecording>, String)> {
    dataset_test_sequences(
        args,
        name,
        "sequences with role labels",
        |kind, sequence| {
            let roles = sequence.roles?;
            let labelled = sequence
                .metadata
                .get(mabe2025::BEHAVIORS_LABELED)
                .and_then(|v| v.as_array())
                .map(|entries| {
                    entries
                        .iter()
                        .filter_map(|e| mabe2025::labelled_triple(e.as_str()?))
                        .collect()
                });
            Some(RoleRecording {
                name: sequence.id,
                pose: sequence.pose,
                roles,
                lab: sequence.group.unwrap_or_else(|| kind.to_string()),
                labelled,
            })
        },
    )
}

fn stem(input: &Path) -> String {
    input.file_stem().map_or_else(
        || input.display().to_string(),
        |s| s.to_string_lossy().into(),
    )
}

fn file_recordings(args: &EvaluateArgs) -> anyhow::Result<Vec<LabelledRecording>> {
    labelled_inputs(args, "labels")?
        .map(|(input, labels)| {
            let pose = read_pose(input, &args.windowing)?;
            let labels = labels_for(labels, pose.frames())?;
            Ok(LabelledRecording {
                name: stem(input),
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
    dataset_test_sequences(args, name, "labelled sequences", |_, sequence| {
        Some(LabelledRecording {
            name: sequence.id,
            pose: sequence.pose,
            labels: sequence.labels?,
        })
    })
}

/// The sequences of dataset `name` that `recording` accepts, the test split's when it has one
/// (else all of them, `what` naming them in the error), with a description for the report.
fn dataset_test_sequences<T>(
    args: &EvaluateArgs,
    name: &str,
    what: &str,
    mut recording: impl FnMut(DatasetKind, Sequence) -> Option<T>,
) -> anyhow::Result<(Vec<T>, String)> {
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
        let split = sequence.split;
        if let Some(recording) = recording(kind, sequence) {
            match split {
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
            "{}: expected {what} of {kind}{task}, found none",
            dir.display()
        );
    }
    Ok((other, format!("{kind}{task}, all {what} (no test split)")))
}
