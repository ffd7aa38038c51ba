//! The skeletons the simulator draws: CalMS21's 7 keypoints and MABe22's 12, with their arenas.

use crate::datasets::{calms21, mabe22};

/// Which dataset's keypoint layout (and arena) to simulate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Skeleton {
    /// CalMS21 mouse dyads: 7 keypoints, 1024 × 570 px frame.
    Calms21,
    /// MABe22 mouse triplets: 12 keypoints, 850 × 850 px arena.
    Mabe22,
}

impl Skeleton {
    /// Keypoint names in axis order.
    pub fn keypoints(self) -> &'static [&'static str] {
        match self {
            Skeleton::Calms21 => calms21::SPEC.keypoints,
            Skeleton::Mabe22 => mabe22::SPEC.keypoints,
        }
    }

    /// Left/right keypoint index pairs a tracker can confuse.
    pub fn mirror_pairs(self) -> &'static [(usize, usize)] {
        match self {
            Skeleton::Calms21 => &[(1, 2), (4, 5)],
            Skeleton::Mabe22 => &[(1, 2), (4, 5), (7, 8)],
        }
    }

    /// Width and height of the dataset's arena (its video frame), in pixels.
    pub fn default_arena(self) -> [f32; 2] {
        match self {
            Skeleton::Calms21 => [1024.0, 570.0],
            Skeleton::Mabe22 => [850.0, 850.0],
        }
    }

    /// Typical nose-to-tail-base length of an adult mouse at the dataset's scale, in pixels.
    pub fn default_body_length(self) -> f32 {
        match self {
            Skeleton::Calms21 => 110.0,
            Skeleton::Mabe22 => 80.0,
        }
    }
}
