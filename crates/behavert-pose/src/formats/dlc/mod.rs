//! DeepLabCut tables (docs/formats/deeplabcut.md): the column MultiIndex shared by the CSV and HDF5 files,
//! and how its columns map onto a [`Pose`].

pub mod csv;
pub mod h5;

use std::path::Path;

use ndarray::{Array3, Array4};

use crate::error::{PoseError, Result};
use crate::pose::Pose;

/// Individual name given to the one animal of a single-animal file (as `movement` does).
pub const SINGLE_INDIVIDUAL: &str = "individual_0";

/// The header cells of one value column.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DlcColumn {
    /// Level `scorer` (network name, or the labeller).
    pub scorer: String,
    /// Level `individuals`, in multi-animal files.
    pub individual: Option<String>,
    /// Level `bodyparts`.
    pub bodypart: String,
    /// Level `coords`: x, y, z or likelihood (anything else is skipped, e.g. Lightning Pose's
    /// `set` column).
    pub coord: String,
}

/// Where the values of one column go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    Coord {
        individual: usize,
        keypoint: usize,
        axis: usize,
    },
    Likelihood {
        individual: usize,
        keypoint: usize,
    },
    Skip,
}

/// The pose axes a table's columns describe.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub individuals: Vec<String>,
    pub keypoints: Vec<String>,
    pub space: usize,
    pub has_likelihood: bool,
    pub slots: Vec<Slot>,
}

/// Map columns onto `[individuals, keypoints, space]`; `place(j)` names column `j` in errors.
pub(crate) fn layout(
    path: &Path,
    columns: &[DlcColumn],
    place: impl Fn(usize) -> String,
) -> Result<Layout> {
    let mut individuals: Vec<String> = Vec::new();
    let mut keypoints: Vec<String> = Vec::new();
    let mut space = 2;
    let mut has_likelihood = false;
    let mut slots = Vec::with_capacity(columns.len());
    let mut seen = std::collections::HashSet::new();
    for (j, column) in columns.iter().enumerate() {
        let axis = match column.coord.as_str() {
            "x" => Some(0),
            "y" => Some(1),
            "z" => Some(2),
            "likelihood" => None,
            _ => {
                slots.push(Slot::Skip);
                continue;
            }
        };
        if column.bodypart.is_empty() {
            return Err(PoseError::format(
                path,
                place(j),
                "a body part name",
                "an empty cell",
            ));
        }
        let individual = column.individual.as_deref().unwrap_or(SINGLE_INDIVIDUAL);
        if !seen.insert((
            individual.to_string(),
            column.bodypart.clone(),
            column.coord.clone(),
        )) {
            return Err(PoseError::format(
                path,
                place(j),
                "each (individual, body part, coordinate) once",
                format!(
                    "a second ({individual}, {}, {})",
                    column.bodypart, column.coord
                ),
            ));
        }
        let i = index_of(&mut individuals, individual);
        let k = index_of(&mut keypoints, &column.bodypart);
        slots.push(match axis {
            Some(axis) => {
                space = space.max(axis + 1);
                Slot::Coord {
                    individual: i,
                    keypoint: k,
                    axis,
                }
            }
            None => {
                has_likelihood = true;
                Slot::Likelihood {
                    individual: i,
                    keypoint: k,
                }
            }
        });
    }
    if keypoints.is_empty() {
        return Err(PoseError::format(
            path,
            "column header",
            "columns with coords x and y",
            format!("{} columns, none of them x/y/likelihood", columns.len()),
        ));
    }
    Ok(Layout {
        individuals,
        keypoints,
        space,
        has_likelihood,
        slots,
    })
}

fn index_of(names: &mut Vec<String>, name: &str) -> usize {
    match names.iter().position(|n| n == name) {
        Some(i) => i,
        None => {
            names.push(name.to_string());
            names.len() - 1
        }
    }
}

/// Scatter row-major `values` (`rows × slots.len()`, NaN = empty) into a pose.
pub(crate) fn to_pose(layout: Layout, values: &[f32], rows: usize) -> Result<Pose> {
    let (ni, nk, ns) = (
        layout.individuals.len(),
        layout.keypoints.len(),
        layout.space,
    );
    let mut positions = Array4::<f32>::from_elem((rows, ni, nk, ns), f32::NAN);
    let mut confidence = layout
        .has_likelihood
        .then(|| Array3::<f32>::from_elem((rows, ni, nk), f32::NAN));
    let width = layout.slots.len();
    if let (Some(pos), Some(conf)) = (positions.as_slice_mut(), confidence.as_mut()) {
        let conf = conf.as_slice_mut().expect("fresh array is contiguous");
        scatter(
            &layout.slots,
            values,
            width,
            rows,
            (ni, nk, ns),
            pos,
            Some(conf),
        );
    } else if let Some(pos) = positions.as_slice_mut() {
        scatter(&layout.slots, values, width, rows, (ni, nk, ns), pos, None);
    }
    let mut pose = Pose::new(positions, layout.individuals, layout.keypoints)?;
    if let Some(conf) = confidence {
        pose = pose.with_confidence(conf)?;
    }
    Ok(pose)
}

fn scatter(
    slots: &[Slot],
    values: &[f32],
    width: usize,
    rows: usize,
    (ni, nk, ns): (usize, usize, usize),
    pos: &mut [f32],
    mut conf: Option<&mut [f32]>,
) {
    for (r, row) in values.chunks_exact(width.max(1)).take(rows).enumerate() {
        for (slot, &v) in slots.iter().zip(row) {
            match *slot {
                Slot::Coord {
                    individual,
                    keypoint,
                    axis,
                } => {
                    pos[((r * ni + individual) * nk + keypoint) * ns + axis] = v;
                }
                Slot::Likelihood {
                    individual,
                    keypoint,
                } => {
                    if let Some(conf) = conf.as_deref_mut() {
                        conf[(r * ni + individual) * nk + keypoint] = v;
                    }
                }
                Slot::Skip => {}
            }
        }
    }
}

/// The columns a pose is written as: product(individuals, keypoints, coords), single-animal
/// style (no `individuals` level) only for one unnamed individual, so names survive.
pub(crate) fn columns_for(pose: &Pose, scorer: &str) -> Vec<DlcColumn> {
    let mut coords: Vec<&str> = ["x", "y", "z"][..pose.space().dims()].to_vec();
    if pose.confidence.is_some() {
        coords.push("likelihood");
    }
    let multi = pose.individuals.len() > 1
        || pose
            .individuals
            .first()
            .is_some_and(|i| i != SINGLE_INDIVIDUAL);
    let mut columns = Vec::new();
    for individual in &pose.individuals {
        for keypoint in &pose.keypoints {
            for coord in &coords {
                columns.push(DlcColumn {
                    scorer: scorer.to_string(),
                    individual: multi.then(|| individual.clone()),
                    bodypart: keypoint.clone(),
                    coord: coord.to_string(),
                });
            }
        }
    }
    columns
}

/// Row-major values of a pose in the order of [`columns_for`].
pub(crate) fn row_values(pose: &Pose, frame: usize, out: &mut Vec<f32>) {
    out.clear();
    let (_, ni, nk, ns) = pose.positions.dim();
    for i in 0..ni {
        for k in 0..nk {
            for s in 0..ns {
                out.push(pose.positions[[frame, i, k, s]]);
            }
            if let Some(conf) = &pose.confidence {
                out.push(conf[[frame, i, k]]);
            }
        }
    }
}

/// The scorer written into output files (DeepLabCut needs one; the source's is not kept).
pub(crate) fn scorer_of(_pose: &Pose) -> String {
    "BehavERT".to_string()
}
