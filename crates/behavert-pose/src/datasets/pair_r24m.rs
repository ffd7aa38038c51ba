//! PAIR-R24M (docs/datasets.md#pair-r24m): `metadata.csv` (column `FolderPath`, one row per session) and
//! `<session>/markerDataset.csv` (one row per frame) in the dataset folder (or one below).
//!
//! Positions come from `absolutePosition_an{1,2}_<marker>_{x,y,z}` (marker names and order read
//! from the header); labels from `behaviorCoarse_an{1,2}`, `behaviorFine_an{1,2}` and
//! `interactionCat` (NaN = none). Category names are not published: a class is its id, the
//! vocabulary `"0"…"max"` over the loaded sessions. Frames whose `goodFrame_an{k}` is 0 get
//! that animal's positions set missing unless [`DatasetOptions::keep_bad_frames`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ndarray::Array4;

use super::{DatasetOptions, DatasetSpec, Sequence, Skipped, Split, Visit};
use crate::error::{PoseError, Result};
use crate::labels::{FrameLabels, Labels};
use crate::pose::{Pose, Space};

/// PAIR-R24M's fixed facts (marker names inferred from DANNCE's mapping; fps assumed 30).
pub const SPEC: DatasetSpec = DatasetSpec {
    name: "pair-r24m",
    fps: Some(30.0),
    space: Space::Xyz,
    individuals: &["an1", "an2"],
    keypoints: &[
        "HeadF",
        "HeadB",
        "HeadL",
        "SpineF",
        "SpineM",
        "SpineL",
        "Offset1",
        "Offset2",
        "HipL",
        "HipR",
        "ShoulderL",
        "ShoulderR",
    ],
    left_right_pairs: &[("HipL", "HipR"), ("ShoulderL", "ShoulderR")],
};

/// The label columns, in the order they are kept as label tracks.
pub const LABEL_COLUMNS: [&str; 5] = [
    "behaviorCoarse_an1",
    "behaviorCoarse_an2",
    "behaviorFine_an1",
    "behaviorFine_an2",
    "interactionCat",
];

const ANIMALS: [&str; 2] = ["an1", "an2"];

/// Visit every session in `metadata.csv`.
pub fn for_each(
    dir: &Path,
    options: &DatasetOptions,
    visit: &mut Visit<'_>,
) -> Result<Vec<Skipped>> {
    let primary = match options.task_or("coarse").as_str() {
        "coarse" => "behaviorCoarse_an1",
        "fine" => "behaviorFine_an1",
        "interaction" => "interactionCat",
        other => {
            return Err(PoseError::invalid(
                "PAIR-R24M task",
                "coarse, fine or interaction",
                format!("`{other}`"),
            ));
        }
    };
    let metadata = super::files_near(dir)?
        .into_iter()
        .find(|p| super::file_name(p) == "metadata.csv")
        .ok_or_else(|| super::nothing_found(dir, "PAIR-R24M `metadata.csv`"))?;
    let root = metadata.parent().unwrap_or(dir).to_path_buf();
    // Vocabulary sizes need every session's ids: read all sessions' raw ids first, then label.
    let mut sessions = Vec::new();
    let mut skipped = Vec::new();
    for folder in session_folders(&metadata)? {
        let session = resolve(&root, &folder);
        let csv = session.join("markerDataset.csv");
        if !csv.is_file() {
            skipped.push(Skipped {
                path: csv,
                reason: "listed in metadata.csv but not found".into(),
            });
            continue;
        }
        if !options.wants(Split::Unassigned, None) {
            continue;
        }
        sessions.push(read_session(&csv, options.keep_bad_frames)?);
        if options.limit.is_some_and(|l| sessions.len() >= l) {
            break;
        }
    }
    let mut max_id: BTreeMap<&str, u32> = BTreeMap::new();
    for session in &sessions {
        for (name, ids) in &session.labels {
            let top = ids.iter().flatten().copied().max().unwrap_or(0);
            let family = family(name);
            let entry = max_id.entry(family).or_insert(0);
            *entry = (*entry).max(top);
        }
    }
    for session in sessions {
        let mut sequence = session.sequence;
        for (name, ids) in session.labels {
            let size = max_id.get(family(&name)).copied().unwrap_or(0) + 1;
            let vocabulary = (0..size).map(|i| i.to_string()).collect();
            let labels = Labels::new(vocabulary, FrameLabels::Single(ids))?;
            if name == primary {
                sequence.labels = Some(labels.clone());
            }
            sequence.extra_labels.push((name, labels));
        }
        if !visit(sequence)? {
            break;
        }
    }
    Ok(skipped)
}

/// Label columns of one kind share a vocabulary.
fn family(column: &str) -> &'static str {
    if column.starts_with("behaviorCoarse") {
        "coarse"
    } else if column.starts_with("behaviorFine") {
        "fine"
    } else {
        "interaction"
    }
}

fn session_folders(path: &Path) -> Result<Vec<String>> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| PoseError::io(path, e.into()))?;
    let headers = reader
        .headers()
        .map_err(|e| PoseError::format(path, "line 1", "a header row", e.to_string()))?
        .clone();
    let column = headers
        .iter()
        .position(|h| h == "FolderPath")
        .ok_or_else(|| {
            PoseError::format(
                path,
                "line 1 (header)",
                "a `FolderPath` column",
                format!("{:?}", headers.iter().collect::<Vec<_>>()),
            )
        })?;
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            PoseError::format(path, format!("line {}", i + 2), "a CSV row", e.to_string())
        })?;
        if let Some(folder) = record.get(column).filter(|f| !f.is_empty()) {
            out.push(folder.to_string());
        }
    }
    Ok(out)
}

/// A session folder as listed (relative, or an absolute path from the machine that wrote it:
/// then its last component under the dataset root).
fn resolve(root: &Path, folder: &str) -> PathBuf {
    let listed = Path::new(folder);
    if listed.is_dir() {
        return listed.to_path_buf();
    }
    let last = folder
        .trim_end_matches(['/', '\\'])
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(folder);
    let relative = root.join(folder);
    if relative.is_dir() {
        relative
    } else {
        root.join(last)
    }
}

struct Session {
    sequence: Sequence,
    labels: Vec<(String, Vec<Option<u32>>)>,
}

/// Read one `markerDataset.csv`.
fn read_session(path: &Path, keep_bad_frames: bool) -> Result<Session> {
    let (mut reader, headers) = crate::input_file::open_csv(path, "a PAIR-R24M marker CSV", false)?;
    let headers: Vec<String> = headers.iter().map(str::to_string).collect();
    // Markers in header order, from animal 1's absolute positions.
    let mut markers: Vec<String> = Vec::new();
    let mut slots = Vec::new(); // (column, animal, marker, axis)
    for (column, name) in headers.iter().enumerate() {
        let Some(rest) = name.strip_prefix("absolutePosition_") else {
            continue;
        };
        let parsed = rest.split_once('_').and_then(|(animal, tail)| {
            let animal = ANIMALS.iter().position(|a| *a == animal)?;
            let (marker, axis) = tail.rsplit_once('_')?;
            let axis = ["x", "y", "z"].iter().position(|a| *a == axis)?;
            Some((animal, marker, axis))
        });
        let Some((animal, marker, axis)) = parsed else {
            return Err(PoseError::format(
                path,
                format!("header column {} `{name}`", column + 1),
                "absolutePosition_an{1,2}_<marker>_{x,y,z}",
                format!("`{name}`"),
            ));
        };
        let k = match markers.iter().position(|m| m == marker) {
            Some(k) => k,
            None => {
                markers.push(marker.to_string());
                markers.len() - 1
            }
        };
        slots.push((column, animal, k, axis));
    }
    if markers.is_empty() {
        return Err(PoseError::format(
            path,
            "line 1 (header)",
            "absolutePosition_an{1,2}_<marker>_{x,y,z} columns",
            format!("{} columns, none of them positions", headers.len()),
        ));
    }
    let find = |name: &str| headers.iter().position(|h| h == name);
    let good: Vec<Option<usize>> = ANIMALS
        .iter()
        .map(|a| find(&format!("goodFrame_{a}")))
        .collect();
    let label_columns: Vec<(String, usize)> = LABEL_COLUMNS
        .iter()
        .filter_map(|c| find(c).map(|i| (c.to_string(), i)))
        .collect();

    let mut values: Vec<f32> = Vec::new();
    let mut labels: Vec<Vec<Option<u32>>> = vec![Vec::new(); label_columns.len()];
    let mut bad_frames = [0usize; 2];
    let per_frame = ANIMALS.len() * markers.len() * 3;
    let mut record = csv::StringRecord::new();
    let mut frame = 0usize;
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            PoseError::format(
                path,
                format!("line {}", frame + 2),
                "a CSV row",
                e.to_string(),
            )
        })?;
        if !more {
            break;
        }
        let line = frame + 2;
        let number = |column: usize| -> Result<f64> {
            let cell = record.get(column).unwrap_or("").trim();
            if cell.is_empty() {
                return Ok(f64::NAN);
            }
            cell.parse::<f64>().map_err(|_| {
                PoseError::format(
                    path,
                    format!("line {line}, column `{}`", headers[column]),
                    "a number (empty = missing)",
                    format!("`{cell}`"),
                )
            })
        };
        if record.len() != headers.len() {
            return Err(PoseError::format(
                path,
                format!("line {line}"),
                format!("{} cells, as the header", headers.len()),
                format!("{} cells", record.len()),
            ));
        }
        let start = values.len();
        values.resize(start + per_frame, f32::NAN);
        for &(column, animal, k, axis) in &slots {
            values[start + (animal * markers.len() + k) * 3 + axis] = number(column)? as f32;
        }
        for (animal, column) in good.iter().enumerate() {
            if let Some(column) = column
                && number(*column)? == 0.0
            {
                bad_frames[animal] += 1;
                if !keep_bad_frames {
                    let from = start + animal * markers.len() * 3;
                    values[from..from + markers.len() * 3].fill(f32::NAN);
                }
            }
        }
        for (j, (name, column)) in label_columns.iter().enumerate() {
            let v = number(*column)?;
            labels[j].push(if v.is_nan() {
                None
            } else if v >= 0.0 && v.fract() == 0.0 {
                Some(v as u32)
            } else {
                return Err(PoseError::format(
                    path,
                    format!("line {line}, column `{name}`"),
                    "a non-negative integer category id (empty = none)",
                    v.to_string(),
                ));
            });
        }
        frame += 1;
    }
    if frame == 0 {
        return Err(PoseError::format(
            path,
            "rows",
            "at least one frame",
            "a header only",
        ));
    }
    let positions = Array4::from_shape_vec((frame, ANIMALS.len(), markers.len(), 3), values)
        .map_err(|e| PoseError::format(path, "rows", "one pose per row", e.to_string()))?;
    let mut pose = Pose::new(positions, super::owned(&ANIMALS), markers)?;
    pose.fps = SPEC.fps;
    pose.source = Some(path.to_path_buf());
    pose.software = Some("PAIR-R24M".to_string());
    let session = path.parent().map(super::file_name).unwrap_or_default();
    let mut sequence = Sequence::new(session.clone(), Split::Unassigned, pose);
    // `20210205_Recording_SR1_SR6m_wvid_social_new`: the pair is the two `SR…` fields.
    let pair: Vec<&str> = session.split('_').filter(|p| p.starts_with("SR")).collect();
    if !pair.is_empty() {
        sequence.group = Some(pair.join("_"));
    }
    for (animal, count) in ANIMALS.iter().zip(bad_frames) {
        sequence
            .metadata
            .insert(format!("bad_frames_{animal}"), count.into());
    }
    Ok(Session {
        sequence,
        labels: label_columns
            .into_iter()
            .map(|(n, _)| n)
            .zip(labels)
            .collect(),
    })
}
