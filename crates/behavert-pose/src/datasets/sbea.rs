//! SBeA (docs/datasets.md#sbea): one `<rec>-<animals>-<date>-id3d.mat` per recording (MAT v5), in the
//! dataset folder or one folder below. `coords3d` is `(T, animals × 48)`: animal m in columns
//! `[48m, 48m + 48)`, keypoint k at `3k, 3k+1, 3k+2` = x, y, z. `name3d` (char matrix, one
//! animal per row) names the animals; without it the names come from the file name
//! (`A1A6` → `A1`, `A6`). No behaviour labels, no official split.

use std::path::Path;

use ndarray::Array4;

use super::mat::{self, MatData};
use super::{DatasetOptions, DatasetSpec, Sequence, Skipped, Split, Visit};
use crate::error::{PoseError, Result};
use crate::pose::{Pose, Space};

/// SBeA's fixed facts (fps and units are not stated by the release: 30 fps, mm assumed).
pub const SPEC: DatasetSpec = DatasetSpec {
    name: "sbea",
    fps: Some(30.0),
    space: Space::Xyz,
    individuals: &[],
    keypoints: &[
        "nose",
        "left_ear",
        "right_ear",
        "neck",
        "left_front_limb",
        "right_front_limb",
        "left_hind_limb",
        "right_hind_limb",
        "left_front_claw",
        "right_front_claw",
        "left_hind_claw",
        "right_hind_claw",
        "back",
        "root_tail",
        "mid_tail",
        "tip_tail",
    ],
    left_right_pairs: &[
        ("left_ear", "right_ear"),
        ("left_front_limb", "right_front_limb"),
        ("left_hind_limb", "right_hind_limb"),
        ("left_front_claw", "right_front_claw"),
        ("left_hind_claw", "right_hind_claw"),
    ],
};

/// Columns per animal: 16 keypoints × (x, y, z).
const COLUMNS_PER_ANIMAL: usize = 48;
const SUFFIX: &str = "-id3d.mat";

/// Visit every `*-id3d.mat` recording.
pub fn for_each(
    dir: &Path,
    options: &DatasetOptions,
    visit: &mut Visit<'_>,
) -> Result<Vec<Skipped>> {
    let files: Vec<_> = if dir.is_file() {
        vec![dir.to_path_buf()]
    } else {
        super::files_near(dir)?
            .into_iter()
            .filter(|p| super::file_name(p).ends_with(SUFFIX))
            .collect()
    };
    if files.is_empty() {
        return Err(super::nothing_found(dir, "SBeA recordings `*-id3d.mat`"));
    }
    for path in files {
        let sequence = read(&path)?;
        if !options.wants(sequence.split, sequence.group.as_deref()) {
            continue;
        }
        if !visit(sequence)? {
            break;
        }
    }
    Ok(Vec::new())
}

/// Read one `*-id3d.mat` recording.
pub fn read(path: &Path) -> Result<Sequence> {
    let variables = mat::read(path)?;
    let coords = variables
        .iter()
        .find(|v| v.name == "coords3d")
        .ok_or_else(|| {
            PoseError::format(
                path,
                "variables",
                "a `coords3d` variable",
                format!(
                    "{:?}",
                    variables.iter().map(|v| &v.name).collect::<Vec<_>>()
                ),
            )
        })?;
    let (MatData::Numeric(values), &[frames, columns]) = (&coords.data, &coords.dims[..]) else {
        return Err(PoseError::format(
            path,
            "`coords3d`",
            "a 2-D numeric matrix (frames, animals × 48)",
            format!("dimensions {:?}", coords.dims),
        ));
    };
    if columns == 0 || columns % COLUMNS_PER_ANIMAL != 0 || frames == 0 {
        return Err(PoseError::format(
            path,
            "`coords3d`",
            "(frames > 0, animals × 48) columns: 16 keypoints × x, y, z per animal",
            format!("({frames}, {columns})"),
        ));
    }
    let animals = columns / COLUMNS_PER_ANIMAL;
    // Row-major (T, animals*48) is exactly [T][animal][keypoint][xyz].
    let positions = Array4::from_shape_vec(
        (frames, animals, SPEC.keypoints.len(), 3),
        values.iter().map(|&v| v as f32).collect(),
    )
    .map_err(|e| {
        PoseError::format(
            path,
            "`coords3d`",
            "values matching the shape",
            e.to_string(),
        )
    })?;
    let stem = super::file_name(path);
    let id = stem.strip_suffix(SUFFIX).unwrap_or(&stem).to_string();
    let parts: Vec<&str> = id.split('-').collect();
    let from_file = variables.iter().find_map(|v| match (&v.name[..], &v.data) {
        ("name3d", MatData::Char(rows)) => Some(
            rows.iter()
                .map(|r| r.trim().to_string())
                .collect::<Vec<_>>(),
        ),
        _ => None,
    });
    let individuals = from_file
        .filter(|n| n.len() == animals && n.iter().all(|s| !s.is_empty()))
        .or_else(|| {
            parts
                .get(1)
                .map(|p| split_animals(p))
                .filter(|n| n.len() == animals)
        })
        .unwrap_or_else(|| (0..animals).map(|i| format!("animal_{i}")).collect());
    let mut pose = Pose::new(positions, individuals, super::owned(SPEC.keypoints))?;
    pose.fps = SPEC.fps;
    pose.source = Some(path.to_path_buf());
    pose.software = Some("SBeA".to_string());
    let mut sequence = Sequence::new(id.clone(), Split::Unassigned, pose);
    sequence.group = parts.get(1).map(|s| s.to_string());
    if let [recording, _, date, ..] = parts[..] {
        sequence
            .metadata
            .insert("recording".into(), recording.into());
        sequence.metadata.insert("date".into(), date.into());
    }
    Ok(sequence)
}

/// `A1A6` → `["A1", "A6"]`: a new name starts at a letter that follows a digit.
pub fn split_animals(field: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut previous_digit = false;
    for c in field.chars() {
        if names.is_empty() || (previous_digit && c.is_ascii_alphabetic()) {
            names.push(String::new());
        }
        if let Some(last) = names.last_mut() {
            last.push(c);
        }
        previous_digit = c.is_ascii_digit();
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn animal_names_split_at_letter_after_digit() {
        assert_eq!(split_animals("A1A6"), vec!["A1", "A6"]);
        assert_eq!(split_animals("WT12KO3"), vec!["WT12", "KO3"]);
    }
}
