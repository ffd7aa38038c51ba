//! The run directory: `config.toml`, `metrics.csv`, `last/` and `best/` checkpoints with
//! `training.json`, and the resume state of `last/` (optimizer, data position, parameter ids).
//!
//! A checkpoint directory is written whole beside its destination and swapped in by renames,
//! so a kill at any moment leaves either the old or the new checkpoint.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use behavert_pose::preprocess::{NormalisationStats, PreprocessConfig};
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::ModuleOptimizer;
use burn::tensor::{Bytes, Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::checkpoint::write_atomically;
use crate::model::{BehavErt, HeadConfig, load_checkpoint, save_checkpoint};

/// Name of the training metadata file in a checkpoint directory.
pub const TRAINING_FILE: &str = "training.json";
/// Resume position in `last/`.
pub const RESUME_FILE: &str = "resume.json";
/// Optimizer state (burnpack) in `last/`.
pub const OPTIMIZER_FILE: &str = "optimizer.bpk";
/// The resolved config of a run.
pub const CONFIG_FILE: &str = "config.toml";
/// The metrics log of a run.
pub const METRICS_FILE: &str = "metrics.csv";

/// One head's output names, as inference needs them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeadVocabulary {
    /// The head.
    pub head: HeadConfig,
    /// Class names in output order (empty for regression heads).
    pub vocabulary: Vec<String>,
}

/// `training.json`: everything inference needs to reproduce preprocessing, and where the
/// checkpoint came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    /// `pretrain` or `finetune`.
    pub mode: String,
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

/// Where training stands: enough to continue a killed run exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResumeState {
    /// Optimizer steps taken.
    pub step: u64,
    /// Epoch of the next batch.
    pub epoch: u64,
    /// Index of the next batch in its epoch.
    pub batch: usize,
    /// Best monitored value so far.
    pub best: Option<f64>,
    /// Evaluations since the best one.
    pub evals_since_best: usize,
    /// Parameter path → the id the optimizer state is keyed by.
    pub param_ids: BTreeMap<String, u64>,
}

/// Collects `path → id` of every float parameter.
#[derive(Default)]
struct IdCollector {
    path: Vec<String>,
    ids: BTreeMap<String, u64>,
}

impl ModuleVisitor for IdCollector {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.ids.insert(self.path.join("."), param.id.val());
    }
}

/// Gives every float parameter the id recorded for its path, so a reloaded model matches the
/// saved optimizer state (burn keys it by random parameter ids).
struct IdRestorer<'a> {
    path: Vec<String>,
    ids: &'a BTreeMap<String, u64>,
}

impl ModuleMapper for IdRestorer<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let id = self
            .ids
            .get(&self.path.join("."))
            .map_or(id, |&saved| ParamId::from(saved));
        Param::from_mapped_value(id, tensor, mapper)
    }
}

/// `path → id` of every parameter of `model`.
pub fn param_ids(model: &BehavErt) -> BTreeMap<String, u64> {
    let mut collector = IdCollector::default();
    model.visit(&mut collector);
    collector.ids
}

/// File in a run directory that the process training into it holds an exclusive lock on.
pub const LOCK_FILE: &str = ".lock";

/// The run directory of one training run, locked against every other process for as long as
/// this value (or a clone) lives.
#[derive(Clone, Debug)]
pub struct RunDir {
    /// Its path.
    pub path: PathBuf,
    _lock: Arc<std::fs::File>,
}

impl RunDir {
    /// A new run directory: refused if it already holds a run (use `--resume`). A run killed
    /// before its first checkpoint left nothing to resume, so it is started again in place.
    pub fn create(path: &Path) -> Result<Self> {
        std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
        let run = Self::locked(path)?;
        if path.join(CONFIG_FILE).exists() {
            if run.has_checkpoint() {
                return Err(Error::run_dir(
                    path,
                    "a new or empty run directory (continue a run with --resume)",
                    "an existing run",
                ));
            }
            tracing::warn!(run = %path.display(), "restarting a run that stopped before its first checkpoint");
            for stale in [CONFIG_FILE, METRICS_FILE] {
                match std::fs::remove_file(path.join(stale)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(Error::io(path.join(stale), e));
                    }
                    _ => {}
                }
            }
        }
        Ok(run)
    }

    /// An existing run directory to resume.
    pub fn open(path: &Path) -> Result<Self> {
        if !path.join(CONFIG_FILE).is_file() {
            return Err(Error::run_dir(
                path,
                "a run directory with config.toml",
                "none",
            ));
        }
        let run = Self::locked(path)?;
        if !run.has_checkpoint() {
            return Err(Error::run_dir(
                path,
                "a checkpoint to resume from (last/)",
                "none: the run stopped before its first checkpoint; run the same command \
                 without --resume to start it again in this directory",
            ));
        }
        Ok(run)
    }

    /// `path` with its lock taken: a second training process in one run directory would mix
    /// checkpoints and duplicate metrics rows.
    fn locked(path: &Path) -> Result<Self> {
        let lock_path = path.join(LOCK_FILE);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        match lock.try_lock() {
            Ok(()) => Ok(Self {
                path: path.to_path_buf(),
                _lock: Arc::new(lock),
            }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::run_dir(
                path,
                "a run directory no other behavert process is training in",
                "one in use (wait for the other run to end, or choose another --output-dir)",
            )),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&lock_path, e)),
        }
    }

    /// Whether a checkpoint was ever saved here (a `last/` or `best/`, or one being swapped).
    fn has_checkpoint(&self) -> bool {
        [self.last(), self.best(), self.last().with_extension("old")]
            .iter()
            .any(|dir| dir.exists())
    }

    /// `RUN/last/`.
    pub fn last(&self) -> PathBuf {
        self.path.join("last")
    }

    /// `RUN/best/`.
    pub fn best(&self) -> PathBuf {
        self.path.join("best")
    }

    /// Writes the resolved config.
    pub fn write_config(&self, text: &str) -> Result<()> {
        write_atomically(&self.path.join(CONFIG_FILE), text.as_bytes())
    }

    /// Appends one row to `metrics.csv` (header first in a new file).
    pub fn log_metrics(&self, row: &MetricsRow) -> Result<()> {
        let path = self.path.join(METRICS_FILE);
        let new = !path.exists();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let mut text = String::new();
        if new {
            text.push_str(MetricsRow::HEADER);
            text.push('\n');
        }
        text.push_str(&row.to_csv());
        text.push('\n');
        file.write_all(text.as_bytes())
            .map_err(|e| Error::io(&path, e))
    }

    /// Drops metrics rows after `step` (a resumed run logs them again).
    pub fn truncate_metrics(&self, step: u64) -> Result<()> {
        let path = self.path.join(METRICS_FILE);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(());
        };
        let kept: Vec<&str> = text
            .lines()
            .enumerate()
            .filter(|(i, line)| {
                *i == 0
                    || line
                        .split(',')
                        .next()
                        .and_then(|s| s.parse::<u64>().ok())
                        .is_some_and(|s| s <= step)
            })
            .map(|(_, l)| l)
            .collect();
        write_atomically(&path, (kept.join("\n") + "\n").as_bytes())
    }

    /// Writes a checkpoint directory `dir` whole: model, `training.json`, and for `last/` the
    /// resume state and optimizer.
    pub fn save(
        &self,
        dir: &Path,
        model: &BehavErt,
        info: &TrainingInfo,
        resume: Option<(&ResumeState, &ModuleOptimizer)>,
    ) -> Result<()> {
        let _span =
            tracing::debug_span!("checkpoint", dir = %dir.display(), step = info.step).entered();
        let staging = dir.with_extension("new");
        let old = dir.with_extension("old");
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        save_checkpoint(model, &staging)?;
        let json = |v: &dyn erased::Json| v.to_json();
        write_atomically(&staging.join(TRAINING_FILE), json(info).as_bytes())?;
        if let Some((state, optimizer)) = resume {
            write_atomically(&staging.join(RESUME_FILE), json(state).as_bytes())?;
            let bytes = optimizer
                .into_bytes()
                .map_err(|e| Error::run_dir(&staging, "a serialisable optimizer state", e))?;
            write_atomically(&staging.join(OPTIMIZER_FILE), &bytes)?;
        }
        if dir.exists() {
            if old.exists() {
                std::fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
            }
            std::fs::rename(dir, &old).map_err(|e| Error::io(dir, e))?;
        }
        std::fs::rename(&staging, dir).map_err(|e| Error::io(dir, e))?;
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
        }
        Ok(())
    }

    /// Loads `last/` (or the previous one if a kill interrupted the swap) onto `device`:
    /// model with its saved parameter ids, optimizer state and position.
    pub fn load_last(
        &self,
        device: &Device,
        optimizer: ModuleOptimizer,
    ) -> Result<(BehavErt, ModuleOptimizer, ResumeState)> {
        let mut dir = self.last();
        if !dir.join(RESUME_FILE).is_file() && dir.with_extension("old").join(RESUME_FILE).is_file()
        {
            dir = dir.with_extension("old");
        }
        let path = dir.join(RESUME_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let state: ResumeState =
            serde_json::from_str(&text).map_err(|e| Error::run_dir(&path, "a resume state", e))?;
        let model = load_checkpoint(&dir, device)?;
        let model = model.map(&mut IdRestorer {
            path: Vec::new(),
            ids: &state.param_ids,
        });
        let path = dir.join(OPTIMIZER_FILE);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let optimizer = optimizer
            .from_bytes(Bytes::from_bytes_vec(bytes))
            .map_err(|e| Error::run_dir(&path, "an optimizer state (burnpack)", e))?;
        Ok((model, optimizer, state))
    }
}

/// Serialisation to pretty JSON of the files above.
mod erased {
    /// A value written as pretty JSON.
    pub trait Json {
        /// Pretty JSON text.
        fn to_json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_json(&self) -> String {
            serde_json::to_string_pretty(self).unwrap_or_default()
        }
    }
}

/// One line of `metrics.csv`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricsRow {
    /// Optimizer step.
    pub step: u64,
    /// Epoch.
    pub epoch: u64,
    /// `train` or `validation`.
    pub split: &'static str,
    /// Mean loss.
    pub loss: f64,
    /// Macro-F1 of the first classification head (validation).
    pub f1_macro: Option<f64>,
    /// Learning rate (train rows).
    pub lr: Option<f64>,
    /// Mean time the worker took to build a batch, ms (train rows).
    pub data_ms: Option<f64>,
    /// Mean time the trainer waited for a batch, ms (train rows).
    pub wait_ms: Option<f64>,
    /// Mean optimizer-step time, ms (train rows).
    pub step_ms: Option<f64>,
}

impl MetricsRow {
    /// Column names.
    pub const HEADER: &'static str = "step,epoch,split,loss,f1_macro,lr,data_ms,wait_ms,step_ms";

    fn to_csv(&self) -> String {
        let opt = |v: Option<f64>| v.map(|v| format!("{v:.6}")).unwrap_or_default();
        format!(
            "{},{},{},{:.6},{},{},{},{},{}",
            self.step,
            self.epoch,
            self.split,
            self.loss,
            opt(self.f1_macro),
            self.lr.map(|v| format!("{v:.3e}")).unwrap_or_default(),
            opt(self.data_ms),
            opt(self.wait_ms),
            opt(self.step_ms)
        )
    }
}
