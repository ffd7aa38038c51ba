//! MABe 2025 (Kaggle's "MABe Challenge: Social Action Recognition in Mice"; docs/datasets.md):
//! `train.csv` / `test.csv` (one row per video: `lab_id`, `video_id`, `mouse1_strain` …
//! `mouse4_strain`, `frames_per_second`, `body_parts_tracked`, `behaviors_labeled`, …),
//! `{train,test}_tracking/<lab_id>/<video_id>.parquet` (long rows `video_frame, mouse_id,
//! bodypart, x, y`) and `train_annotation/<lab_id>/<video_id>.parquet` (`agent_id, target_id,
//! action, start_frame, stop_frame`, the stop excluded).
//!
//! Each video becomes a [`Sequence`] whose individuals are `mouse1`… (as the challenge names
//! them), keypoints in `body_parts_tracked` order, group = lab, and whose annotations are
//! [`RoleLabels`]: a target equal to the agent is the challenge's `self`, a solo behaviour.
//! Bouts of one agent, target and action that touch or overlap are merged (the metric scores
//! their union). `behaviors_labeled` (which agent, target and action a video was annotated for;
//! annotations are sparse) is kept in the sequence's metadata as `"agent,target|self,action"`
//! strings, stray quotes removed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ndarray::Array4;

use super::{DatasetOptions, DatasetSpec, Sequence, Skipped, Split, Visit};
use crate::error::{PoseError, Result};
use crate::parquet_table::ParquetTable;
use crate::pose::{Pose, Space};
use crate::role_labels::{RoleBout, RoleLabels};

/// MABe 2025's fixed facts: labs track different body parts, so keypoints come from the files.
pub const SPEC: DatasetSpec = DatasetSpec {
    name: "mabe2025",
    fps: None,
    space: Space::Xy,
    individuals: &[],
    keypoints: &[],
    left_right_pairs: &[
        ("ear_left", "ear_right"),
        ("hip_left", "hip_right"),
        ("lateral_left", "lateral_right"),
        ("forepaw_left", "forepaw_right"),
        ("hindpaw_left", "hindpaw_right"),
    ],
};

/// Most mice in one video (the metadata has `mouse1_…` to `mouse4_…`).
const MAX_MICE: usize = 4;

/// The metadata key holding a video's annotated (agent, target, action) triples.
pub const BEHAVIORS_LABELED: &str = "behaviors_labeled";

/// Visit every video of `train.csv` and `test.csv` (as `options` selects: split, lab).
pub fn for_each(
    dir: &Path,
    options: &DatasetOptions,
    visit: &mut Visit<'_>,
) -> Result<Vec<Skipped>> {
    let mut skipped = Vec::new();
    let mut found = false;
    for (split, metadata, tracking, annotation) in [
        (
            Split::Train,
            "train.csv",
            "train_tracking",
            Some("train_annotation"),
        ),
        (Split::Test, "test.csv", "test_tracking", None),
    ] {
        let metadata = dir.join(metadata);
        if !metadata.is_file() {
            continue;
        }
        found = true;
        for video in read_metadata(&metadata)? {
            if !options.wants(split, Some(&video.lab)) {
                continue;
            }
            let file = |folder: &str| {
                dir.join(folder)
                    .join(&video.lab)
                    .join(format!("{}.parquet", video.id))
            };
            let tracking_file = file(tracking);
            if !tracking_file.is_file() {
                skipped.push(Skipped {
                    path: tracking_file,
                    reason: format!("no tracking file for video {} of {}", video.id, video.lab),
                });
                continue;
            }
            let pose = read_tracking(&tracking_file, &video)?;
            let annotation_file = annotation.map(file).filter(|p| p.is_file());
            let roles = annotation_file
                .map(|path| read_annotation(&path, &pose.individuals))
                .transpose()?;
            let mut sequence = Sequence::new(video.id.clone(), split, pose);
            sequence.group = Some(video.lab.clone());
            sequence.roles = roles;
            sequence.metadata.insert(
                BEHAVIORS_LABELED.into(),
                serde_json::Value::from(video.labelled.clone()),
            );
            sequence
                .metadata
                .insert("lab_id".into(), serde_json::Value::from(video.lab.clone()));
            if !visit(sequence)? {
                return Ok(skipped);
            }
        }
    }
    if !found {
        return Err(super::nothing_found(
            dir,
            "MABe 2025 `train.csv` or `test.csv`",
        ));
    }
    Ok(skipped)
}

/// One row of `train.csv` / `test.csv`: what the loader needs of it.
#[derive(Clone, Debug, PartialEq)]
struct Video {
    lab: String,
    id: String,
    mice: Option<usize>,
    fps: Option<f64>,
    body_parts: Vec<String>,
    labelled: Vec<String>,
}

fn read_metadata(path: &Path) -> Result<Vec<Video>> {
    let (mut reader, header) =
        crate::input_file::open_csv(path, "a MABe 2025 metadata CSV", false)?;
    let header: Vec<String> = header.iter().map(str::to_string).collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(lab), Some(video)) = (column("lab_id"), column("video_id")) else {
        return Err(PoseError::format(
            path,
            "header",
            "columns `lab_id` and `video_id`",
            format!("columns {}", header.join(", ")),
        ));
    };
    let strains: Vec<usize> = (1..=MAX_MICE)
        .filter_map(|m| column(&format!("mouse{m}_strain")))
        .collect();
    let fps = column("frames_per_second");
    let parts = column("body_parts_tracked");
    let labelled = column("behaviors_labeled");
    let mut videos = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let line = row + 2;
        let record = record.map_err(|e| csv_error(path, e))?;
        let cell = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("").trim();
        let json_list = |i: Option<usize>, what: &str| -> Result<Vec<String>> {
            let text = cell(i);
            if text.is_empty() {
                return Ok(Vec::new());
            }
            serde_json::from_str::<Vec<String>>(text).map_err(|e| {
                PoseError::format(
                    path,
                    format!("line {line}, column `{what}`"),
                    "a JSON list of strings",
                    format!("{text:?} ({e})"),
                )
            })
        };
        let fps_value = match cell(fps) {
            "" => None,
            text => Some(
                text.parse::<f64>()
                    .ok()
                    .filter(|v| *v > 0.0 && v.is_finite())
                    .ok_or_else(|| {
                        PoseError::format(
                            path,
                            format!("line {line}, column `frames_per_second`"),
                            "a positive frame rate",
                            format!("{text:?}"),
                        )
                    })?,
            ),
        };
        videos.push(Video {
            lab: cell(Some(lab)).to_string(),
            id: cell(Some(video)).to_string(),
            mice: (!strains.is_empty()).then(|| {
                strains
                    .iter()
                    .filter(|&&i| !cell(Some(i)).is_empty())
                    .count()
            }),
            fps: fps_value,
            body_parts: json_list(parts, "body_parts_tracked")?,
            labelled: json_list(labelled, BEHAVIORS_LABELED)?
                .iter()
                .map(|entry| {
                    entry
                        .split(',')
                        .map(|part| part.trim().trim_matches(|c| c == '\'' || c == '"'))
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .collect(),
        });
    }
    Ok(videos)
}

fn csv_error(path: &Path, error: csv::Error) -> PoseError {
    PoseError::format(path, "CSV", "a readable CSV file", error.to_string())
}

/// A whole-number cell of `column` at `row` of `path`, in `0..=most`.
fn whole(path: &Path, column: &str, row: usize, value: f64, most: usize) -> Result<usize> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= most as f64 {
        Ok(value as usize)
    } else {
        Err(PoseError::format(
            path,
            format!("row {row}, column `{column}`"),
            format!("a whole number from 0 to {most}"),
            value.to_string(),
        ))
    }
}

/// The tracking table of `video` as a pose: rows placed at `video_frame`, mouse `n` at
/// individual `n − 1`, keypoints in `body_parts_tracked` order (or by name when the metadata
/// lists none); what no row gives is missing.
fn read_tracking(path: &Path, video: &Video) -> Result<Pose> {
    let table = ParquetTable::open(path)?;
    let frames = table.numbers("video_frame")?;
    let mice = table.numbers("mouse_id")?;
    let parts = table.text("bodypart")?;
    let xs = table.numbers("x")?;
    let ys = table.numbers("y")?;
    let rows = frames.len();
    let mut keypoints = video.body_parts.clone();
    if keypoints.is_empty() {
        let mut names: Vec<String> = parts.iter().flatten().cloned().collect();
        names.sort();
        names.dedup();
        keypoints = names;
    }
    let keypoint_index: BTreeMap<&str, usize> = keypoints
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let mut placed = Vec::with_capacity(rows);
    let (mut last_frame, mut most_mice) = (0usize, video.mice.unwrap_or(0));
    for row in 0..rows {
        let frame = whole(
            path,
            "video_frame",
            row,
            frames[row],
            crate::pose::MAX_FRAMES,
        )?;
        let mouse = whole(path, "mouse_id", row, mice[row], MAX_MICE)?;
        if mouse == 0 {
            return Err(PoseError::format(
                path,
                format!("row {row}, column `mouse_id`"),
                format!("a mouse from 1 to {MAX_MICE}"),
                "0",
            ));
        }
        let part = parts[row].as_deref().unwrap_or("");
        let Some(&keypoint) = keypoint_index.get(part) else {
            return Err(PoseError::format(
                path,
                format!("row {row}, column `bodypart`"),
                format!("one of body_parts_tracked ({})", keypoints.join(", ")),
                format!("{part:?}"),
            ));
        };
        last_frame = last_frame.max(frame);
        most_mice = most_mice.max(mouse);
        placed.push((frame, mouse - 1, keypoint));
    }
    if rows > 0 {
        crate::formats::check_frames_left_out(path, "column `video_frame`", rows, last_frame)?;
    }
    let total = if rows == 0 { 0 } else { last_frame + 1 };
    let mut positions = Array4::from_elem((total, most_mice, keypoints.len(), 2), f32::NAN);
    for (row, &(frame, mouse, keypoint)) in placed.iter().enumerate() {
        positions[[frame, mouse, keypoint, 0]] = xs[row] as f32;
        positions[[frame, mouse, keypoint, 1]] = ys[row] as f32;
    }
    let mut pose = Pose::new(
        positions,
        (1..=most_mice).map(|m| format!("mouse{m}")).collect(),
        keypoints,
    )?;
    pose.fps = video.fps;
    pose.source = Some(PathBuf::from(path));
    pose.software = Some("MABe 2025".into());
    Ok(pose)
}

/// The annotation table as role labels of `animals`.
fn read_annotation(path: &Path, animals: &[String]) -> Result<RoleLabels> {
    let table = ParquetTable::open(path)?;
    let agents = table.numbers("agent_id")?;
    let targets = table.numbers("target_id")?;
    let actions = table.text("action")?;
    let starts = table.numbers("start_frame")?;
    let stops = table.numbers("stop_frame")?;
    // Per (agent, target, action): its bouts, to be merged where they touch.
    let mut runs: BTreeMap<(usize, usize, String), Vec<(usize, usize)>> = BTreeMap::new();
    for row in 0..agents.len() {
        let agent = whole(path, "agent_id", row, agents[row], MAX_MICE)?;
        let target = whole(path, "target_id", row, targets[row], MAX_MICE)?;
        let start = whole(
            path,
            "start_frame",
            row,
            starts[row],
            crate::pose::MAX_FRAMES,
        )?;
        let stop = whole(path, "stop_frame", row, stops[row], crate::pose::MAX_FRAMES)?;
        if stop < start {
            return Err(PoseError::format(
                path,
                format!("row {row}, column `stop_frame`"),
                format!("a frame at or after start_frame {start}"),
                stop.to_string(),
            ));
        }
        let action = actions[row].clone().unwrap_or_default();
        if stop > start {
            runs.entry((agent, target, action))
                .or_default()
                .push((start, stop));
        }
    }
    let name = |mouse: usize| format!("mouse{mouse}");
    let mut bouts = Vec::new();
    for ((agent, target, action), mut frames) in runs {
        frames.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (start, stop) in frames {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(stop),
                _ => merged.push((start, stop)),
            }
        }
        for (start, stop) in merged {
            bouts.push(RoleBout {
                agent: name(agent),
                target: (target != agent).then(|| name(target)),
                behaviour: action.clone(),
                frames: start..stop,
            });
        }
    }
    RoleLabels::from_bouts(animals, bouts, &path.display().to_string())
}

/// A labelled (agent, target, action) triple of `behaviors_labeled`, as role-label names:
/// the target `None` for `self`.
pub fn labelled_triple(entry: &str) -> Option<(String, Option<String>, String)> {
    let mut parts = entry.split(',');
    let (agent, target, action) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    Some((
        agent.to_string(),
        (target != "self").then(|| target.to_string()),
        action.to_string(),
    ))
}
