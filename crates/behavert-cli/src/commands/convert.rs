//! `behavert convert`: one pose file to another format.

use anyhow::{Context, bail};
use behavert_pose::{Format, formats};

use crate::cli::ConvertArgs;

/// Reads the input (format detected or given) and writes it as `--to`, never over an
/// existing file.
pub fn run(args: &ConvertArgs) -> anyhow::Result<()> {
    let to: Format = args.to.parse()?;
    let from = args
        .format
        .as_deref()
        .map(str::parse::<Format>)
        .transpose()?;
    if let Some(existing) = formats::output_paths(&args.output, to)
        .iter()
        .find(|p| p.exists())
    {
        bail!(
            "{} already exists; choose another --output (behavert never overwrites files)",
            existing.display()
        );
    }
    let pose = formats::read_one(&args.path, from)
        .with_context(|| format!("cannot read {}", args.path.display()))?;
    formats::write(&pose, &args.output, to)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    println!(
        "wrote {} ({} frames, {} individuals, {} keypoints, {})",
        args.output.display(),
        pose.frames(),
        pose.individuals.len(),
        pose.keypoints.len(),
        to
    );
    Ok(())
}
