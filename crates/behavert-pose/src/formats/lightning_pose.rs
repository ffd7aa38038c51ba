//! Lightning Pose CSV (docs/formats/lightning-pose.md): a DeepLabCut single-animal CSV whose scorer is
//! `<model>_tracker`, with an extra `("set", "", "")` column in labelled-data predictions.

use std::path::Path;

use super::dlc;
use crate::error::Result;
use crate::pose::Pose;

/// True when the DeepLabCut-style CSV at `path` was written by Lightning Pose.
pub fn sniff(path: &Path) -> Result<bool> {
    let header = dlc::csv::peek_header(path)?;
    Ok(header
        .columns
        .iter()
        .any(|c| c.scorer.ends_with("_tracker") || (c.scorer == "set" && c.bodypart.is_empty())))
}

/// Read a Lightning Pose CSV file (the `set` column is skipped).
pub fn read(path: &Path) -> Result<Pose> {
    let mut pose = dlc::csv::read_table(path)?.0;
    pose.software = Some("Lightning Pose".to_string());
    Ok(pose)
}
