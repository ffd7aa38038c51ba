//! What `infer`, `embed` and `evaluate` share: loading the model, reading pose files, one
//! output per input, and a frame progress bar.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use behavert::infer::{InferOptions, Predictor};
use behavert_pose::pose::Pose;
use behavert_pose::{Format, formats};
use burn::tensor::Device;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::WindowingArgs;

/// The checkpoint `model` on `device`, computing in the precision the flags ask for.
pub fn load_predictor(
    model: &Path,
    windowing: &WindowingArgs,
    device: &Device,
) -> anyhow::Result<Predictor> {
    let mut predictor = Predictor::load(model, device)
        .with_context(|| format!("cannot load the model {}", model.display()))?;
    predictor.set_precision(windowing.precision)?;
    Ok(predictor)
}

/// Reads `path` (format detected unless given), with `--fps` filling in a missing rate.
pub fn read_pose(path: &Path, windowing: &WindowingArgs) -> anyhow::Result<Pose> {
    let format = windowing
        .format
        .as_deref()
        .map(str::parse::<Format>)
        .transpose()?;
    let mut pose = formats::read_one(path, format)
        .with_context(|| format!("cannot read {}", path.display()))?;
    if let Some(fps) = windowing.fps {
        if !(fps.is_finite() && fps > 0.0) {
            bail!("--fps: expected a positive number of frames per second, found {fps}");
        }
        pose.fps = Some(fps);
    }
    Ok(pose)
}

/// The inference options the flags ask for.
pub fn options(windowing: &WindowingArgs, embeddings: bool) -> InferOptions {
    InferOptions {
        stride: windowing.stride,
        batch_size: windowing.batch_size,
        embeddings,
    }
}

/// One output path per input: `output` itself for one input, else `output/<stem>.<ext>`
/// (the directory is created; stems must differ).
pub fn output_paths(inputs: &[PathBuf], output: &Path, ext: &str) -> anyhow::Result<Vec<PathBuf>> {
    if inputs.len() == 1 {
        return Ok(vec![output.to_path_buf()]);
    }
    if output.is_file() {
        bail!(
            "--output {}: expected a directory for {} inputs, found a file",
            output.display(),
            inputs.len()
        );
    }
    let mut paths: Vec<PathBuf> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let stem = input
            .file_stem()
            .with_context(|| format!("{}: no file name", input.display()))?;
        let path = output.join(format!("{}.{ext}", stem.to_string_lossy()));
        if paths.contains(&path) {
            bail!(
                "--input: two inputs are named {:?}; their outputs in {} would collide",
                stem,
                output.display()
            );
        }
        paths.push(path);
    }
    std::fs::create_dir_all(output)
        .with_context(|| format!("cannot create {}", output.display()))?;
    Ok(paths)
}

/// A progress bar over the frames of one recording (hidden when `visible` is false).
pub fn frame_progress(frames: usize, name: &str, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(frames as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} frames ({per_sec}, eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(name.to_string());
    bar
}
