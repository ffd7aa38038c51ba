//! Inference with a trained checkpoint: per-frame behaviour probabilities (frame and sequence
//! heads) and embeddings for pose files of any length, and the CSV files users open.

mod clip_summary;
pub mod evaluate;
mod evaluate_roles;
mod overlap;
pub mod predictions;
mod predictor;
pub mod roles;

pub use clip_summary::ClipSummary;
pub use evaluate::{EvaluateOptions, EvaluationSummary, LabelledRecording, evaluate};
pub use evaluate_roles::{
    RoleEvaluateOptions, RoleEvaluationSummary, RoleRecording, evaluate_roles,
};
pub use overlap::OverlapAverager;
pub use predictor::{FrameBlock, InferOptions, OutputHead, Predictions, Predictor};
