//! `training.json`: what inference needs beside the weights to label a recording as training
//! saw it — heads and their vocabularies, preprocessing, normalisation, feature names, window
//! length — and where the checkpoint came from.

use std::collections::BTreeMap;
use std::path::Path;

use behavert_pose::preprocess::{NormalisationStats, PreprocessConfig};
use behavert_pose::role_labels::Role;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::HeadConfig;

/// Which objective a run optimises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Masked-frame reconstruction.
    Pretrain,
    /// Supervised heads.
    Finetune,
}

impl Mode {
    /// The mode's name, as the command line and logs spell it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Pretrain => "pretrain",
            Mode::Finetune => "finetune",
        }
    }
}

/// Name of the training metadata file in a checkpoint directory.
pub const TRAINING_FILE: &str = "training.json";

/// One head's output names, as inference needs them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeadVocabulary {
    /// The head.
    pub head: HeadConfig,
    /// Class names in output order (empty for regression heads).
    pub vocabulary: Vec<String>,
}

/// How a model trained on pairs of animals (`data.roles`) reads a recording: each ordered pair
/// as a view of `slots` individuals (`behavert_pose::pair_views`), one output per behaviour.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoleModel {
    /// Individual slots of a view: the most animals a recording may have.
    pub slots: usize,
    /// Each behaviour with its role, in the head's output order.
    pub behaviours: Vec<(String, Role)>,
}

/// `training.json`: everything inference needs to reproduce preprocessing, and where the
/// checkpoint came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    /// The objective the checkpoint was trained with.
    pub mode: Mode,
    /// Heads with their vocabularies.
    pub heads: Vec<HeadVocabulary>,
    /// Preprocessing of the poses.
    pub preprocess: PreprocessConfig,
    /// Standardisation of the features.
    pub normalisation: NormalisationStats,
    /// Feature names, in column order.
    pub feature_names: Vec<String>,
    /// Frames per window the model was trained on.
    pub window_length: usize,
    /// Set when the model labels who did what to whom: it reads pair views of a recording.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<RoleModel>,
    /// Seed of the run.
    pub seed: u64,
    /// Optimizer steps taken.
    pub step: u64,
    /// Latest metrics (`split/name` → value).
    pub metrics: BTreeMap<String, f64>,
    /// Versions of the software that wrote it.
    pub versions: BTreeMap<String, String>,
}

impl TrainingInfo {
    /// Reads `dir/training.json`.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join(TRAINING_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        serde_json::from_str(&text)
            .map_err(|e| Error::run_dir(&path, "a BehavERT training.json", e))
    }

    /// The versions recorded in a new `training.json`.
    pub fn current_versions() -> BTreeMap<String, String> {
        BTreeMap::from([
            (
                "behavert".to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
            ("burn".to_string(), "0.22.1".to_string()),
        ])
    }
}
