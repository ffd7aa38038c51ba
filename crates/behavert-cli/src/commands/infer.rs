//! `behavert infer`: per-frame behaviour predictions and bouts for pose files, and each
//! sequence head's answer for the whole recording; with a model of who did what to whom, each
//! agent's and pair's behaviours in long form and their bouts.

use anyhow::Context;
use behavert::infer::ClipSummary;
use behavert::infer::predictions::{PredictionWriter, bouts_path, refuse_existing};
use behavert::infer::roles::predict_roles;
use burn::tensor::Device;

use super::inputs::{frame_progress, load_predictor, options, output_paths, read_pose};
use crate::cli::InferArgs;

/// Labels every input, streaming rows to its predictions CSV as windows finish.
pub fn run(args: &InferArgs, device: &Device) -> anyhow::Result<()> {
    let predictor = load_predictor(&args.model, &args.windowing, device)?;
    let outputs = output_paths(&args.input, &args.output, "csv")?;
    // Refuse before any work, not after the first of many files.
    for output in &outputs {
        refuse_existing(output)?;
        refuse_existing(&bouts_path(output))?;
    }
    let options = options(&args.windowing, false);
    for (input, output) in args.input.iter().zip(&outputs) {
        let pose = read_pose(input, &args.windowing)?;
        let origin = input.display().to_string();
        if predictor.info().roles.is_some() {
            let roles = predict_roles(&predictor, &pose, &origin, &options)
                .with_context(|| format!("cannot label {}", input.display()))?;
            roles.write(output, &bouts_path(output), pose.fps)?;
            println!(
                "{}: {} frames, {} animals → {} (agent, target, behaviour per frame; bouts: {})",
                input.display(),
                roles.frames,
                roles.animals.len(),
                output.display(),
                bouts_path(output).display()
            );
            continue;
        }
        let prepared = predictor.prepare(&pose, &origin)?;
        let mut writer = PredictionWriter::create(output, predictor.heads(), pose.fps)?;
        let bar = frame_progress(prepared.frames(), &origin, !args.windowing.no_progress);
        let mut clips = ClipSummary::new(predictor.heads());
        predictor
            .run(&prepared, &options, |block| {
                bar.inc(block.frames() as u64);
                clips.add(&block);
                writer.write(&block)
            })
            .with_context(|| format!("cannot label {}", input.display()))?;
        writer.finish()?;
        bar.finish_and_clear();
        println!(
            "{}: {} frames → {} (bouts: {})",
            input.display(),
            prepared.frames(),
            output.display(),
            bouts_path(output).display()
        );
        for line in clips.lines() {
            println!("  {line}");
        }
    }
    Ok(())
}
