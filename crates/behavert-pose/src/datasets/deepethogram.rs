//! DeepEthogram projects (docs/datasets.md#deepethogram): `project_config.yaml` (`project.class_names`,
//! `project.data_path`), one folder per video under the data path holding `*label*.csv`
//! (pandas `to_csv`: header `,background,beh1,…`, rows `frame,1|0|-1`; -1 = not yet labelled,
//! several behaviours may be on) and the DeepLabCut CSV of that video (a `.csv` whose name
//! contains `dlc`, any case). Videos without keypoints are skipped and listed. No official
//! split; fps is not stored by DeepEthogram.

use std::path::{Path, PathBuf};

use super::{DatasetOptions, DatasetSpec, Sequence, Skipped, Split, Visit};
use crate::error::{PoseError, Result};
use crate::labels::{FrameLabels, Labels};
use crate::pose::Space;

/// DeepEthogram's fixed facts: none beyond 2D; names come from each project.
pub const SPEC: DatasetSpec = DatasetSpec {
    name: "deepethogram",
    fps: None,
    space: Space::Xy,
    individuals: &[],
    keypoints: &[],
    left_right_pairs: &[],
};

/// The parts of `project_config.yaml` the loader needs.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct ProjectConfig {
    /// The `project:` section.
    pub project: Project,
}

/// `project:` in `project_config.yaml`.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct Project {
    /// Project name.
    pub name: Option<String>,
    /// Behaviours, `background` first.
    pub class_names: Vec<String>,
    /// Folder of the videos, relative to the project (default `DATA`).
    pub data_path: Option<String>,
}

/// Read `project_config.yaml`.
pub fn read_config(path: &Path) -> Result<ProjectConfig> {
    let text = std::fs::read_to_string(path).map_err(|e| PoseError::io(path, e))?;
    serde_norway::from_str(&text).map_err(|e| {
        let place = e.location().map_or("document".to_string(), |l| {
            format!("line {}, column {}", l.line(), l.column())
        });
        PoseError::format(
            path,
            place,
            "project: {name, class_names: [background, …], data_path}",
            e.to_string(),
        )
    })
}

/// Visit every video that has both labels and keypoints.
pub fn for_each(
    dir: &Path,
    options: &DatasetOptions,
    visit: &mut Visit<'_>,
) -> Result<Vec<Skipped>> {
    let config_path = dir.join("project_config.yaml");
    if !config_path.is_file() {
        return Err(super::nothing_found(
            dir,
            "a DeepEthogram project (project_config.yaml)",
        ));
    }
    let config = read_config(&config_path)?;
    let data_dir = data_dir(dir, &config);
    let mut skipped = Vec::new();
    for video_dir in super::read_dir(&data_dir)?
        .into_iter()
        .filter(|p| p.is_dir())
    {
        let files = super::read_dir(&video_dir)?;
        let csv = |p: &&PathBuf| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let name = |p: &PathBuf| super::file_name(p).to_ascii_lowercase();
        let labels = files.iter().filter(csv).find(|p| name(p).contains("label"));
        let keypoints = files.iter().filter(csv).find(|p| name(p).contains("dlc"));
        let (Some(labels), Some(keypoints)) = (labels, keypoints) else {
            skipped.push(Skipped {
                path: video_dir.clone(),
                reason: format!(
                    "needs a `*label*.csv` and a DeepLabCut `*DLC*.csv`; has {:?}",
                    files
                        .iter()
                        .map(|p| super::file_name(p))
                        .collect::<Vec<_>>()
                ),
            });
            continue;
        };
        if !options.wants(Split::Unassigned, None) {
            continue;
        }
        let sequence = read_video(&video_dir, labels, keypoints, &config.project.class_names)?;
        if !visit(sequence)? {
            break;
        }
    }
    Ok(skipped)
}

fn data_dir(project: &Path, config: &ProjectConfig) -> PathBuf {
    let data = config.project.data_path.as_deref().unwrap_or("DATA");
    let data = Path::new(data);
    // Projects moved between machines keep an absolute path to their old place.
    if data.is_absolute() && !data.is_dir() {
        return project.join(data.file_name().unwrap_or(data.as_os_str()));
    }
    project.join(data)
}

fn read_video(
    video_dir: &Path,
    labels_path: &Path,
    keypoints_path: &Path,
    class_names: &[String],
) -> Result<Sequence> {
    let mut pose = crate::formats::dlc::csv::read(keypoints_path)?;
    pose.software = Some("DeepLabCut".to_string());
    let labels = read_labels(labels_path, class_names)?;
    if labels.len() != pose.frames() {
        return Err(PoseError::format(
            labels_path,
            "rows",
            format!(
                "{} frames, as in {}",
                pose.frames(),
                keypoints_path.display()
            ),
            format!("{} rows", labels.len()),
        ));
    }
    let id = super::file_name(video_dir);
    let mut sequence = Sequence::new(id, Split::Unassigned, pose);
    sequence.labels = Some(labels);
    sequence
        .metadata
        .insert("labels_file".into(), super::file_name(labels_path).into());
    Ok(sequence)
}

/// Read a DeepEthogram label CSV; its columns must be the project's classes, in order.
pub fn read_labels(path: &Path, class_names: &[String]) -> Result<Labels> {
    let (mut reader, header) = crate::input_file::open_csv(path, "a label CSV", true)?;
    if header.is_empty() {
        return Err(PoseError::format(
            path,
            "line 1",
            "a header row",
            "an empty file",
        ));
    }
    let columns: Vec<String> = header.iter().skip(1).map(str::to_string).collect();
    if !class_names.is_empty() && columns != class_names {
        return Err(PoseError::format(
            path,
            "line 1 (header)",
            format!("the project's classes {class_names:?}"),
            format!("{columns:?}"),
        ));
    }
    if columns.first().map(String::as_str) != Some("background") {
        return Err(PoseError::format(
            path,
            "line 1 (header)",
            "`background` as the first class",
            format!("{columns:?}"),
        ));
    }
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|e| {
            PoseError::format(path, format!("line {line}"), "a CSV row", e.to_string())
        })?;
        if record.len() != columns.len() + 1 {
            return Err(PoseError::format(
                path,
                format!("line {line}"),
                format!("{} cells (frame + one per class)", columns.len() + 1),
                format!("{} cells", record.len()),
            ));
        }
        let mut row = Vec::with_capacity(columns.len());
        for (c, cell) in record.iter().skip(1).enumerate() {
            row.push(match cell.trim().parse::<f64>() {
                Ok(1.0) => Some(true),
                Ok(0.0) => Some(false),
                Ok(-1.0) => None,
                _ => {
                    return Err(PoseError::format(
                        path,
                        format!("line {line}, column `{}`", columns[c]),
                        "1 (on), 0 (off) or -1 (not labelled)",
                        format!("`{cell}`"),
                    ));
                }
            });
        }
        rows.push(row);
    }
    Labels::new(columns, FrameLabels::Multi(rows))
}
