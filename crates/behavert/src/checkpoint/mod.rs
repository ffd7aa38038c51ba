//! A checkpoint folder, as training writes it and inference reads it
//! (docs/architecture.md#the-model-contract): the weights and `config.json` (`weights`),
//! `training.json` (`training_info`), and the run's training log `metrics.csv`
//! (`metrics_log`).

pub mod metrics_log;
mod training_info;
mod weights;

pub use training_info::{HeadVocabulary, Mode, RoleModel, TRAINING_FILE, TrainingInfo};
pub use weights::{
    CONFIG_FILE, WEIGHTS_FILE, load_checkpoint, load_config, save_checkpoint, write_atomically,
};
