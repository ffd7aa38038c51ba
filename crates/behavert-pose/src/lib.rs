//! Pose data for BehavERT: the [`Pose`] and [`Labels`] types, the readers and writers of the
//! files pose trackers write, preprocessing, augmentation and a simulator of interacting animals.
//!
//! This crate has no deep-learning dependency: everything here is plain arrays and files.
//! Reading a file: [`formats::read`] (format detected from content) or [`formats::read_one`];
//! writing: [`formats::write`]; summarising: [`inspect::PoseSummary`].

pub mod atomic;
pub mod augment;
pub mod datasets;
pub mod error;
pub mod formats;
#[doc(hidden)]
pub mod fuzzing;
pub mod hdf5;
mod input_file;
pub mod inspect;
pub mod label_files;
pub mod labels;
pub mod pair_views;
pub mod parquet_table;
pub mod pickle;
pub mod pose;
pub mod preprocess;
pub mod role_labels;
pub mod synth;
pub mod window;

pub use error::{Mismatch, PoseError, Result};
pub use formats::Format;
pub use inspect::PoseSummary;
pub use labels::{FrameLabels, Labels, Targets};
pub use pose::{Pose, Space};
