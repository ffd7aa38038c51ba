//! Inference with a trained checkpoint: per-frame behaviour probabilities and embeddings for
//! pose files of any length, and the CSV files users open.

pub mod evaluate;
mod overlap;
pub mod predictions;
mod predictor;

pub use evaluate::{EvaluateOptions, EvaluationSummary, LabelledRecording, evaluate};
pub use overlap::OverlapAverager;
pub use predictor::{FrameBlock, FrameHead, InferOptions, Predictions, Predictor};
