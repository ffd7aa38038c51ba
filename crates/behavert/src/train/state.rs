//! The run directory: `config.toml`, `metrics.csv`, `last/` and `best/` checkpoints with
//! `training.json`, and the resume state of `last/` (optimizer, data position, parameter ids).
//!
//! A checkpoint directory is written whole beside its destination and swapped in by renames,
//! so a kill at any moment leaves either the old or the new checkpoint.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::ModuleOptimizer;
use burn::tensor::{Bytes, Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::checkpoint::metrics_log::{self, METRICS_FILE, MetricsRow};
use crate::checkpoint::{
    TRAINING_FILE, TrainingInfo, load_checkpoint, save_checkpoint, write_atomically,
};
use crate::error::{Error, Result};
use crate::model::BehavErt;

/// Resume position in `last/`.
pub const RESUME_FILE: &str = "resume.json";
/// Optimizer state (burnpack) in `last/`.
pub const OPTIMIZER_FILE: &str = "optimizer.bpk";
/// The resolved config of a run.
pub const CONFIG_FILE: &str = "config.toml";

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

    /// Appends one row to `metrics.csv`.
    pub fn log_metrics(&self, row: &MetricsRow) -> Result<()> {
        metrics_log::append(&self.path.join(METRICS_FILE), row)
    }

    /// Drops metrics rows after `step` (a resumed run logs them again).
    pub fn truncate_metrics(&self, step: u64) -> Result<()> {
        metrics_log::truncate(&self.path.join(METRICS_FILE), step)
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
