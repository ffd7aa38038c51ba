//! `behavert embed`: per-frame embeddings as `.npy`, or a MABe22 challenge submission.

use std::collections::HashMap;

use anyhow::{Context, bail};
use behavert::eval::projection::PcaBasis;
use behavert::infer::Predictor;
use behavert::infer::predictions::refuse_existing;
use behavert_pose::datasets::{self, DatasetKind, DatasetOptions, Split, mabe22};
use behavert_pose::formats::npy;
use burn::tensor::Device;
use ndarray::{Array2, Axis, concatenate};

use super::inputs::{frame_progress, load_predictor, options, output_paths, read_pose};
use crate::cli::EmbedArgs;

/// Frames the submission's PCA is fitted on: plenty for 128 directions.
const PCA_FRAMES: usize = 50_000;

/// Embeds the inputs (or the dataset) with the model's last encoder layer.
pub fn run(args: &EmbedArgs, device: &Device) -> anyhow::Result<()> {
    let predictor = load_predictor(&args.model, &args.windowing, device)?;
    if let Some(submission) = &args.mabe22_submission {
        return submit(args, &predictor, submission);
    }
    let output = args
        .output
        .as_ref()
        .context("--output is required without --mabe22-submission")?;
    let outputs = output_paths(&args.input, output, "npy")?;
    for path in &outputs {
        refuse_existing(path)?;
    }
    let options = options(&args.windowing, true);
    for (input, output) in args.input.iter().zip(&outputs) {
        let pose = read_pose(input, &args.windowing)?;
        let origin = input.display().to_string();
        let bar = frame_progress(pose.frames(), &origin, !args.windowing.no_progress);
        let predictions = predictor.predict(&pose, &origin, &options)?;
        bar.finish_and_clear();
        let embeddings = predictions
            .embeddings
            .context("the predictor returned no embeddings")?;
        write_npy(output, &embeddings)?;
        println!(
            "{}: {} frames × {} dims → {}",
            input.display(),
            embeddings.nrows(),
            embeddings.ncols(),
            output.display()
        );
    }
    Ok(())
}

fn write_npy(path: &std::path::Path, embeddings: &Array2<f32>) -> anyhow::Result<()> {
    let data = embeddings.as_standard_layout();
    let values = data.as_slice().context("contiguous embeddings")?;
    npy::write_f32(path, &[embeddings.nrows(), embeddings.ncols()], values)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Embeds every sequence of the frame map, reduces to at most 128 dims by PCA when the model
/// is wider, and writes the submission.
fn submit(
    args: &EmbedArgs,
    predictor: &Predictor,
    submission: &std::path::Path,
) -> anyhow::Result<()> {
    refuse_existing(submission)?;
    let name = args.dataset.as_deref().unwrap_or_default();
    let kind: DatasetKind = name.parse()?;
    if kind != DatasetKind::Mabe22 {
        bail!("--mabe22-submission: expected --dataset mabe22, found --dataset {name}");
    }
    let dir = args.data_dir.as_deref().context("--data-dir is required")?;
    let map_path = mabe22::find_frame_number_map(dir)?.with_context(|| {
        format!(
            "{}: expected frame_number_map.npy (or mouse_frame_number_map.npy), found none",
            dir.display()
        )
    })?;
    let map = mabe22::read_frame_number_map(&map_path)?;
    let options = options(&args.windowing, true);
    let bar = frame_progress(map.total_frames(), "MABe22", !args.windowing.no_progress);
    let mut embedded: HashMap<String, Array2<f32>> = HashMap::new();
    let dataset_options = DatasetOptions {
        split: Some(Split::Test),
        ..Default::default()
    };
    datasets::for_each(kind, dir, &dataset_options, &mut |sequence| {
        if map.get(&sequence.id).is_some() {
            let predictions = predictor
                .predict(&sequence.pose, &sequence.id, &options)
                .map_err(|e| {
                    behavert_pose::PoseError::invalid(
                        &sequence.id,
                        "a pose to embed",
                        e.to_string(),
                    )
                })?;
            bar.inc(sequence.pose.frames() as u64);
            if let Some(e) = predictions.embeddings {
                embedded.insert(sequence.id, e);
            }
        }
        Ok(true)
    })?;
    bar.finish_and_clear();
    let mut parts = Vec::with_capacity(map.len());
    for (id, rows) in map.iter() {
        let e = embedded.get(id).with_context(|| {
            format!(
                "{}: sequence {id} of the frame map has no keypoints in the test file",
                dir.display()
            )
        })?;
        if e.nrows() != rows.len() {
            bail!(
                "sequence {id}: expected {} frames (frame map), found {} in the keypoints",
                rows.len(),
                e.nrows()
            );
        }
        parts.push(e.view());
    }
    let all = concatenate(Axis(0), &parts).context("stacking the embeddings")?;
    let reduced = if all.ncols() > mabe22::MOUSE_MAX_DIMS {
        PcaBasis::fit(all.view(), mabe22::MOUSE_MAX_DIMS, PCA_FRAMES)?.project(all.view())
    } else {
        all
    };
    mabe22::write_submission(submission, &map, &reduced)?;
    let check = mabe22::validate_submission(submission, &map, mabe22::MOUSE_MAX_DIMS)?;
    println!(
        "MABe22 submission {}: {} frames × {} dims, {} sequences (checked against the rules)",
        submission.display(),
        check.frames,
        check.dims,
        check.sequences
    );
    Ok(())
}
