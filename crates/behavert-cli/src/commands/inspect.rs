//! `behavert inspect`: what a pose file holds.

use anyhow::Context;
use behavert_pose::datasets::{self, DatasetKind, DatasetOptions};
use behavert_pose::{Format, inspect};

use crate::cli::InspectArgs;

/// Prints a summary of every recording in the file (or of a dataset), as text or JSON.
pub fn run(args: &InspectArgs) -> anyhow::Result<()> {
    if let Some(name) = &args.dataset {
        return inspect_dataset(name, args);
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

/// Sequences per split, frames, vocabulary and class balance of a dataset directory.
fn inspect_dataset(name: &str, args: &InspectArgs) -> anyhow::Result<()> {
    let kind: DatasetKind = name.parse()?;
    let options = DatasetOptions {
        task: args.task.clone(),
        group: args.group.clone(),
        ..Default::default()
    };
    let summary = datasets::summarize(kind, &args.path, &options)
        .with_context(|| format!("cannot read the {kind} dataset in {}", args.path.display()))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!("{summary}");
    }
    Ok(())
}
