//! Training (docs/architecture.md#training): masked-frame pretraining and fine-tuning (multi-task, transfer),
//! with schedules, checkpoints, resume and metrics logs.
//!
//! `trainer` holds the loop; `pretrain` and `finetune` the objectives; `losses`, `masking`,
//! `schedule` and `adamw` the maths; `sources` and `data` the data; `state` the run
//! directory.

pub mod adamw;
pub mod config;
pub mod data;
pub mod finetune;
pub mod losses;
pub mod masking;
pub mod pretrain;
pub mod progress;
pub mod schedule;
pub mod sources;
pub mod state;
pub mod trainer;

pub use crate::checkpoint::Mode;
pub use config::TrainingConfig;
pub use trainer::{Evaluation, RunOptions, RunSummary, resume, train};
