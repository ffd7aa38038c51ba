//! Anipose 3D CSV (`pose-3d/<video>.csv`, docs/datasets.md#calms210): one header row; per body part
//! `bp_x, bp_y, bp_z, bp_error, bp_ncams, bp_score`, then `M_00…M_22`, `center_0…2`, `fnum`.

use std::path::Path;

use ndarray::{Array3, Array4};

use crate::error::{PoseError, Result};
use crate::pose::{MAX_FRAMES, Pose, check_size};

const SUFFIXES: [&str; 6] = ["_x", "_y", "_z", "_error", "_ncams", "_score"];

/// True when `start` (the first bytes of a file) looks like an Anipose 3D CSV header.
pub fn sniff(start: &[u8]) -> bool {
    let line = start.split(|&b| b == b'\n').next().unwrap_or_default();
    let Ok(line) = std::str::from_utf8(line) else {
        return false;
    };
    let cells: Vec<&str> = line.trim_end().split(',').collect();
    ["_x", "_y", "_z"]
        .iter()
        .all(|s| cells.iter().any(|c| c.ends_with(s)))
        && cells
            .iter()
            .any(|c| *c == "fnum" || c.ends_with("_score") || c.ends_with("_error"))
}

enum Target {
    Axis(usize, usize),
    Score(usize),
    Skip,
}

/// Read an Anipose 3D CSV file: one individual, keypoints in first-seen order, confidence from
/// the `_score` columns.
pub fn read(path: &Path) -> Result<Pose> {
    let bytes = crate::input_file::read_file(path)?;
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(PoseError::format(
            path,
            "line 1",
            "an Anipose header row",
            "an empty file",
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes.as_slice());
    let header = reader
        .headers()
        .map_err(|e| PoseError::format(path, "line 1", "a CSV header row", e.to_string()))?
        .clone();
    let mut keypoints: Vec<String> = Vec::new();
    let mut targets = Vec::with_capacity(header.len());
    let mut has = Vec::<[bool; 3]>::new();
    let fnum_column = header.iter().position(|c| c == "fnum");
    for (j, cell) in header.iter().enumerate() {
        if let Some(first) = header.iter().take(j).position(|c| c == cell)
            && !cell.is_empty()
        {
            return Err(PoseError::format(
                path,
                format!("line 1, column {}", j + 1),
                "each column once",
                format!("`{cell}` again (first in column {})", first + 1),
            ));
        }
        let Some(suffix) = SUFFIXES
            .iter()
            .find(|s| cell.ends_with(*s) && cell.len() > s.len())
        else {
            targets.push(Target::Skip);
            continue;
        };
        let name = &cell[..cell.len() - suffix.len()];
        // M_00 and center_0 are alignment columns, not body parts; they never carry these suffixes.
        let k = match keypoints.iter().position(|n| n == name) {
            Some(k) => k,
            None => {
                keypoints.push(name.to_string());
                has.push([false; 3]);
                keypoints.len() - 1
            }
        };
        targets.push(match *suffix {
            "_x" => Target::Axis(k, 0),
            "_y" => Target::Axis(k, 1),
            "_z" => Target::Axis(k, 2),
            "_score" => Target::Score(k),
            _ => Target::Skip,
        });
        if let Target::Axis(_, a) = targets[targets.len() - 1] {
            has[k][a] = true;
        }
    }
    if let Some(k) = has.iter().position(|h| !h.iter().all(|&b| b)) {
        return Err(PoseError::format(
            path,
            "line 1",
            format!("columns {0}_x, {0}_y and {0}_z", keypoints[k]),
            format!(
                "only {:?}",
                ["x", "y", "z"]
                    .iter()
                    .zip(has[k])
                    .filter(|(_, h)| *h)
                    .map(|(a, _)| *a)
                    .collect::<Vec<_>>()
            ),
        ));
    }
    if keypoints.is_empty() {
        return Err(PoseError::format(
            path,
            "line 1",
            "body-part columns ending _x, _y, _z",
            format!("{} columns without them", header.len()),
        ));
    }
    let nk = keypoints.len();
    let mut pos = Vec::new();
    let mut score = Vec::new();
    let has_score = targets.iter().any(|t| matches!(t, Target::Score(_)));
    let mut record = csv::StringRecord::new();
    let mut frames = 0;
    let mut frame_numbers = Vec::new();
    loop {
        let line = frames + 2;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(PoseError::format(
                    path,
                    format!("line {line}"),
                    format!("{} cells", header.len()),
                    e.to_string(),
                ));
            }
        }
        if record.len() != header.len() {
            return Err(PoseError::format(
                path,
                format!("line {line}"),
                format!("{} cells, as in the header", header.len()),
                format!("{} cells", record.len()),
            ));
        }
        pos.extend(std::iter::repeat_n(f32::NAN, nk * 3));
        score.extend(std::iter::repeat_n(f32::NAN, nk));
        let base = frames * nk;
        for (j, (cell, target)) in record.iter().zip(&targets).enumerate() {
            if matches!(target, Target::Skip) {
                continue;
            }
            let v = parse(cell).ok_or_else(|| {
                PoseError::format(
                    path,
                    format!("line {line}, column {} ({})", j + 1, &header[j]),
                    "a number or an empty cell",
                    format!("`{cell}`"),
                )
            })?;
            match *target {
                Target::Axis(k, a) => pos[(base + k) * 3 + a] = v,
                Target::Score(k) => score[base + k] = v,
                Target::Skip => {}
            }
        }
        if let Some(j) = fnum_column {
            let cell = record[j].trim();
            let previous = frame_numbers.last().copied();
            let frame = cell
                .parse::<usize>()
                .ok()
                .filter(|&f| f < MAX_FRAMES && previous.is_none_or(|p| f > p))
                .ok_or_else(|| {
                    PoseError::format(
                        path,
                        format!("line {line}, column {} (fnum)", j + 1),
                        match previous {
                            Some(p) => format!("a frame number above {p} (the row before)"),
                            None => format!("a frame number (0, 1, 2, …) below {MAX_FRAMES}"),
                        },
                        format!("`{cell}`"),
                    )
                })?;
            frame_numbers.push(frame);
        }
        frames += 1;
    }
    if frames == 0 {
        return Err(PoseError::format(
            path,
            "line 2",
            "at least one data row",
            "the end of the file",
        ));
    }
    // Rows sit at their `fnum`: frames Anipose could not triangulate are left out of the
    // file, and must come back as missing frames, not close the gap.
    let (frames, pos, score) = match frame_numbers.last() {
        Some(&last) if last + 1 != frames => {
            super::check_frames_left_out(path, "column fnum", frames, last)?;
            check_size(path, "column fnum", last + 1, 1, nk)?;
            (
                last + 1,
                super::place_rows(&pos, nk * 3, &frame_numbers),
                super::place_rows(&score, nk, &frame_numbers),
            )
        }
        _ => (frames, pos, score),
    };
    let positions = Array4::from_shape_vec((frames, 1, nk, 3), pos).map_err(|e| {
        PoseError::invalid("anipose positions", "a consistent shape", e.to_string())
    })?;
    let mut pose = Pose::new(
        positions,
        vec![super::dlc::SINGLE_INDIVIDUAL.to_string()],
        keypoints,
    )?;
    if has_score {
        let conf = Array3::from_shape_vec((frames, 1, nk), score).map_err(|e| {
            PoseError::invalid("anipose scores", "a consistent shape", e.to_string())
        })?;
        pose = pose.with_confidence(conf)?;
    }
    pose.source = Some(path.to_path_buf());
    pose.software = Some("Anipose".to_string());
    Ok(pose)
}

fn parse(cell: &str) -> Option<f32> {
    let cell = cell.trim();
    if cell.is_empty() {
        return Some(f32::NAN);
    }
    cell.parse::<f64>().ok().map(|v| v as f32)
}
