//! Pose data for BehavERT: the [`Pose`] and [`Labels`] types, the readers and writers of the
//! files pose trackers write, preprocessing, augmentation and a simulator of interacting animals.
//!
//! This crate has no deep-learning dependency: everything here is plain arrays and files.

pub mod augment;
pub mod error;
pub mod labels;
pub mod pose;
pub mod preprocess;
pub mod synth;
pub mod window;

pub use error::{PoseError, Result};
pub use labels::{FrameLabels, Labels};
pub use pose::{Pose, Space};
