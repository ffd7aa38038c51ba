//! `behavert inspect`: what a pose file holds.

use anyhow::{Context, bail};
use behavert_pose::{Format, inspect};

use crate::cli::InspectArgs;

/// Prints a summary of every recording in the file, as text or JSON.
pub fn run(args: &InspectArgs) -> anyhow::Result<()> {
    if args.dataset.is_some() {
        bail!("`behavert inspect --dataset` is not implemented yet (planned in issue 4)");
    }
    let format = args
        .format
        .as_deref()
        .map(str::parse::<Format>)
        .transpose()?;
    let summaries = inspect::inspect(&args.path, format)
        .with_context(|| format!("cannot read {}", args.path.display()))?;
    if args.json {
        let json = match summaries.as_slice() {
            [one] => serde_json::to_string_pretty(one)?,
            many => serde_json::to_string_pretty(many)?,
        };
        println!("{json}");
    } else {
        for summary in &summaries {
            println!("{summary}");
        }
    }
    Ok(())
}
