//! [`PoseLayout`]: the names and shape of a pose, against which configs resolve keypoint names.

use crate::error::{PoseError, Result};
use crate::pose::{Pose, Space};

/// Axis names, in coordinate order.
const AXES: [&str; 3] = ["x", "y", "z"];

/// Individuals, keypoints and space of a pose: what a config's names refer to.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PoseLayout {
    /// Individual names, in axis order.
    pub individuals: Vec<String>,
    /// Keypoint names, in axis order.
    pub keypoints: Vec<String>,
    /// 2D or 3D.
    pub space: Space,
}

impl PoseLayout {
    /// The layout of `pose`.
    pub fn of(pose: &Pose) -> Self {
        Self {
            individuals: pose.individuals.clone(),
            keypoints: pose.keypoints.clone(),
            space: pose.space(),
        }
    }

    /// Coordinates per frame once flattened: individuals × keypoints × space.
    pub fn coordinates(&self) -> usize {
        self.individuals.len() * self.keypoints.len() * self.space.dims()
    }

    /// Index of keypoint `name`; the error names the config `field` that asked for it.
    pub fn keypoint(&self, name: &str, field: &str) -> Result<usize> {
        self.keypoints
            .iter()
            .position(|k| k == name)
            .ok_or_else(|| {
                PoseError::invalid(
                    field,
                    format!("a keypoint name, one of {:?}", self.keypoints),
                    format!("{name:?}"),
                )
            })
    }

    /// Index of individual `name`; the error names the config `field` that asked for it.
    pub fn individual(&self, name: &str, field: &str) -> Result<usize> {
        self.individuals
            .iter()
            .position(|i| i == name)
            .ok_or_else(|| {
                PoseError::invalid(
                    field,
                    format!("an individual name, one of {:?}", self.individuals),
                    format!("{name:?}"),
                )
            })
    }

    /// Names of the flattened coordinates, `individual.keypoint.axis`, in `flat_frames` order.
    pub fn coordinate_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.coordinates());
        for individual in &self.individuals {
            for keypoint in &self.keypoints {
                for axis in &AXES[..self.space.dims()] {
                    names.push(format!("{individual}.{keypoint}.{axis}"));
                }
            }
        }
        names
    }

    /// Check that `pose` has this layout's shape and keypoint names (individual names may
    /// differ between files: trackers name tracks freely).
    pub fn check(&self, pose: &Pose, context: &str) -> Result<()> {
        let (_, individuals, keypoints, dims) = pose.positions.dim();
        let expected = (
            self.individuals.len(),
            self.keypoints.len(),
            self.space.dims(),
        );
        if (individuals, keypoints, dims) != expected {
            return Err(PoseError::invalid(
                context,
                format!(
                    "a pose of {} individuals, {} keypoints, {} coordinates",
                    expected.0, expected.1, expected.2
                ),
                format!("{individuals} individuals, {keypoints} keypoints, {dims} coordinates"),
            ));
        }
        if pose.keypoints != self.keypoints {
            return Err(PoseError::invalid(
                context,
                format!("keypoints {:?}", self.keypoints),
                format!("{:?}", pose.keypoints),
            ));
        }
        Ok(())
    }
}

/// Axis name of coordinate `d` (x, y, z).
pub(crate) fn axis_name(d: usize) -> &'static str {
    AXES[d]
}
