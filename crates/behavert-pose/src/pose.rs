//! The [`Pose`] type: keypoint positions of every tracked individual in every frame.

use std::path::PathBuf;

use ndarray::{Array3, Array4, ArrayView2, Axis};

use crate::error::{PoseError, Result};

/// Number of spatial coordinates per keypoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Space {
    /// x, y (image or arena coordinates).
    #[serde(rename = "2D")]
    Xy,
    /// x, y, z.
    #[serde(rename = "3D")]
    Xyz,
}

impl Space {
    /// Coordinates per keypoint: 2 or 3.
    pub fn dims(self) -> usize {
        match self {
            Space::Xy => 2,
            Space::Xyz => 3,
        }
    }

    /// The space with `dims` coordinates, if there is one.
    pub fn from_dims(dims: usize) -> Option<Self> {
        match dims {
            2 => Some(Space::Xy),
            3 => Some(Space::Xyz),
            _ => None,
        }
    }
}

impl std::fmt::Display for Space {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Space::Xy => "2D",
            Space::Xyz => "3D",
        })
    }
}

/// Largest coordinate magnitude read as a position. Beyond it a value is a tracking or file
/// error, not a place in an arena, and its square would overflow `f32` in distances and
/// normalisation, turning a whole window's outputs into NaN.
pub const MAX_COORDINATE: f32 = 1e7;

/// Most frames a file may claim: a day at 100 frames/s is 8.64 million. A larger count or
/// frame number is damage or a hostile file, and would be allocated before anything else
/// went wrong.
pub const MAX_FRAMES: usize = 10_000_000;

/// Most keypoint positions (frames × individuals × keypoints) one pose may hold: 2 GB of 2D
/// coordinates, far beyond a day of ten animals with 20 keypoints at 100 frames/s.
pub const MAX_KEYPOINT_FRAMES: usize = 1 << 28;

/// Refuses a pose of `frames × individuals × keypoints` read from `path` at `place` whose size
/// is beyond [`MAX_FRAMES`] or [`MAX_KEYPOINT_FRAMES`], before anything that big is allocated.
pub(crate) fn check_size(
    path: &std::path::Path,
    place: &str,
    frames: usize,
    individuals: usize,
    keypoints: usize,
) -> Result<()> {
    let total = frames
        .checked_mul(individuals)
        .and_then(|n| n.checked_mul(keypoints));
    if frames <= MAX_FRAMES && total.is_some_and(|n| n <= MAX_KEYPOINT_FRAMES) {
        return Ok(());
    }
    Err(PoseError::format(
        path,
        place,
        format!("at most {MAX_FRAMES} frames and {MAX_KEYPOINT_FRAMES} keypoint positions in all"),
        format!("{frames} frames × {individuals} individuals × {keypoints} keypoints"),
    ))
}

/// Pose tracks of one recording.
///
/// Positions are `[frames, individuals, keypoints, space]` with NaN for a missing keypoint;
/// confidence, where the tracker wrote one, is `[frames, individuals, keypoints]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Pose {
    /// `[frames, individuals, keypoints, space]`, NaN = missing.
    pub positions: Array4<f32>,
    /// `[frames, individuals, keypoints]` tracker confidence, where the file has it.
    pub confidence: Option<Array3<f32>>,
    /// One name per individual (animal, track), in axis order.
    pub individuals: Vec<String>,
    /// One name per keypoint (body part, node), in axis order.
    pub keypoints: Vec<String>,
    /// Frames per second, when the file or the user says.
    pub fps: Option<f64>,
    /// The file the pose was read from.
    pub source: Option<PathBuf>,
    /// The software that wrote the file ("DeepLabCut", "SLEAP", …).
    pub software: Option<String>,
}

impl Pose {
    /// A pose from positions and names, checking that the names match the axes.
    pub fn new(
        positions: Array4<f32>,
        individuals: Vec<String>,
        keypoints: Vec<String>,
    ) -> Result<Self> {
        let (_, n_individuals, n_keypoints, space) = positions.dim();
        if individuals.len() != n_individuals {
            return Err(PoseError::invalid(
                "pose individuals",
                format!("{n_individuals} names (one per individual)"),
                format!("{} names", individuals.len()),
            ));
        }
        if keypoints.len() != n_keypoints {
            return Err(PoseError::invalid(
                "pose keypoints",
                format!("{n_keypoints} names (one per keypoint)"),
                format!("{} names", keypoints.len()),
            ));
        }
        if Space::from_dims(space).is_none() {
            return Err(PoseError::invalid(
                "pose space",
                "2 or 3 coordinates per keypoint",
                format!("{space}"),
            ));
        }
        Ok(Self {
            positions,
            confidence: None,
            individuals,
            keypoints,
            fps: None,
            source: None,
            software: None,
        })
    }

    /// Attach per-keypoint confidence, checking its shape.
    pub fn with_confidence(mut self, confidence: Array3<f32>) -> Result<Self> {
        let (frames, individuals, keypoints, _) = self.positions.dim();
        if confidence.dim() != (frames, individuals, keypoints) {
            return Err(PoseError::invalid(
                "pose confidence",
                format!("shape [{frames}, {individuals}, {keypoints}]"),
                format!("shape {:?}", confidence.shape()),
            ));
        }
        self.confidence = Some(confidence);
        Ok(self)
    }

    /// Marks missing every keypoint with an infinite or implausibly large coordinate (beyond
    /// ±[`MAX_COORDINATE`]) and every infinite confidence; returns how many keypoint-frames
    /// lost their position.
    pub fn drop_unusable_values(&mut self) -> usize {
        let mut dropped = 0;
        for mut point in self.positions.lanes_mut(Axis(3)) {
            // NaN (already missing) compares false; infinities compare true.
            if point.iter().any(|v| v.abs() > MAX_COORDINATE) {
                point.fill(f32::NAN);
                dropped += 1;
            }
        }
        if let Some(confidence) = &mut self.confidence {
            confidence
                .iter_mut()
                .filter(|c| c.is_infinite())
                .for_each(|c| *c = f32::NAN);
        }
        dropped
    }

    /// Number of frames.
    pub fn frames(&self) -> usize {
        self.positions.dim().0
    }

    /// Coordinates per keypoint.
    pub fn space(&self) -> Space {
        Space::from_dims(self.positions.dim().3).expect("checked in Pose::new")
    }

    /// Features per frame once flattened: individuals × keypoints × space.
    pub fn features_per_frame(&self) -> usize {
        let (_, i, k, s) = self.positions.dim();
        i * k * s
    }

    /// Positions as a `[frames, features]` view (individual-major, then keypoint, then axis).
    pub fn flat_frames(&self) -> ArrayView2<'_, f32> {
        let frames = self.frames();
        self.positions
            .view()
            .into_shape_with_order((frames, self.features_per_frame()))
            .expect("standard-layout positions")
    }

    /// Fraction of frames in which each `(individual, keypoint)` is missing (any coordinate NaN),
    /// as `[individuals][keypoints]`.
    pub fn missing_fraction(&self) -> Vec<Vec<f64>> {
        let (frames, individuals, keypoints, _) = self.positions.dim();
        let mut missing = vec![vec![0usize; keypoints]; individuals];
        for frame in self.positions.outer_iter() {
            for (i, individual) in frame.outer_iter().enumerate() {
                for (k, point) in individual.outer_iter().enumerate() {
                    if point.iter().any(|v| v.is_nan()) {
                        missing[i][k] += 1;
                    }
                }
            }
        }
        let denominator = frames.max(1) as f64;
        missing
            .into_iter()
            .map(|row| row.into_iter().map(|m| m as f64 / denominator).collect())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::s;

    fn names(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    }

    #[test]
    fn names_must_match_axes() {
        let positions = Array4::<f32>::zeros((5, 2, 3, 2));
        assert!(Pose::new(positions.clone(), names("m", 2), names("k", 3)).is_ok());
        let err = Pose::new(positions.clone(), names("m", 1), names("k", 3)).unwrap_err();
        assert!(err.to_string().contains("2 names"), "{err}");
        assert!(Pose::new(positions, names("m", 2), names("k", 4)).is_err());
        let four_d = Array4::<f32>::zeros((5, 1, 1, 4));
        assert!(Pose::new(four_d, names("m", 1), names("k", 1)).is_err());
    }

    #[test]
    fn flat_frames_are_individual_then_keypoint_then_axis() {
        let mut positions = Array4::<f32>::zeros((1, 2, 3, 2));
        positions[[0, 1, 2, 1]] = 7.0;
        let pose = Pose::new(positions, names("m", 2), names("k", 3)).unwrap();
        let flat = pose.flat_frames();
        assert_eq!(flat.dim(), (1, 12));
        assert_eq!(flat[[0, 11]], 7.0);
    }

    #[test]
    fn missing_fraction_counts_frames_with_any_nan_coordinate() {
        let mut positions = Array4::<f32>::zeros((4, 1, 2, 2));
        positions[[0, 0, 1, 0]] = f32::NAN;
        positions[[3, 0, 1, 1]] = f32::NAN;
        let pose = Pose::new(positions, names("m", 1), names("k", 2)).unwrap();
        assert_eq!(pose.missing_fraction(), vec![vec![0.0, 0.5]]);
    }

    #[test]
    fn infinite_and_absurd_coordinates_become_missing_keypoints() {
        let mut positions = Array4::<f32>::ones((3, 1, 2, 2));
        positions[[0, 0, 0, 1]] = f32::INFINITY;
        positions[[1, 0, 1, 0]] = -1e30;
        positions[[2, 0, 1, 0]] = f32::NAN;
        let mut pose = Pose::new(positions, names("m", 1), names("k", 2))
            .unwrap()
            .with_confidence(Array3::from_elem((3, 1, 2), f32::INFINITY))
            .unwrap();
        assert_eq!(pose.drop_unusable_values(), 2);
        let missing = |f: usize, k: usize| {
            pose.positions
                .slice(s![f, 0, k, ..])
                .iter()
                .all(|v| v.is_nan())
        };
        assert!(missing(0, 0) && missing(1, 1));
        // Plausible values and the already missing one are left as they were.
        assert_eq!(pose.positions[[0, 0, 1, 0]], 1.0);
        assert!(pose.positions[[2, 0, 1, 0]].is_nan() && pose.positions[[2, 0, 1, 1]] == 1.0);
        assert!(pose.confidence.unwrap().iter().all(|c| c.is_nan()));
    }
}
