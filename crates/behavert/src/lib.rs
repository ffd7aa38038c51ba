//! BehavERT: a BERT encoder over pose frames, its checkpoints, training and evaluation.
//!
//! Data flows one way: pose files are read by `behavert-pose`, turned into tensors here, and
//! the `behavert` command line drives both.

pub mod allocator;
pub mod checkpoint;

pub mod device;
pub mod error;
pub mod eval;
pub mod fuzzing;
pub mod infer;
pub mod model;
pub mod train;

pub use error::{Error, Mismatch, Result};
