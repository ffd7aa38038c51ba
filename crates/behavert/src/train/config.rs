//! The training config: every option of `behavert pretrain` / `finetune`, read from
//! `configs/training/*.toml` and overridden by flags, checked before any work starts.

use std::path::PathBuf;

use behavert_pose::augment::AugmentConfig;
use behavert_pose::datasets::DatasetKind;
use behavert_pose::preprocess::PreprocessConfig;
use behavert_pose::synth::SimulationConfig;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{Architecture, HeadKind, HeadLevel, ModelSize, Precision};

/// A whole training run's settings; the resolved copy is saved as `RUN/config.toml`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainingConfig {
    /// Network size and starting point.
    pub model: ModelSection,
    /// Where the pose tracks (and labels) come from.
    pub data: DataSection,
    /// How poses become features (stored with the checkpoint for inference).
    pub preprocess: PreprocessConfig,
    /// Window length and stride.
    pub window: WindowSection,
    /// AdamW and gradient clipping.
    pub optimizer: OptimizerSection,
    /// Learning-rate schedule.
    pub schedule: ScheduleSection,
    /// Loop length, batching, evaluation, checkpoints, early stopping, seed.
    pub training: LoopSection,
    /// Masked-frame pretraining.
    pub pretrain: MaskingSection,
    /// Augmentation of training windows (never validation), redrawn every epoch from the
    /// seed; all off by default.
    pub augment: AugmentConfig,
    /// Output heads trained by fine-tuning (multi-task when several).
    pub heads: Vec<HeadSection>,
}

/// `[model]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSection {
    /// Size preset for a model trained from scratch.
    pub size: ModelSize,
    /// A checkpoint directory to start from (pretrained encoder for fine-tuning).
    pub pretrained: Option<PathBuf>,
    /// Train only the heads (linear probe); the encoder and embeddings stay as loaded.
    pub freeze_encoder: bool,
}

impl Default for ModelSection {
    fn default() -> Self {
        Self {
            size: ModelSize::Tiny,
            pretrained: None,
            freeze_encoder: false,
        }
    }
}

/// Where the data comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataSource {
    /// The seeded simulator of `behavert_pose::synth`.
    #[default]
    Simulated,
    /// A dataset loader (`dataset`, `data_dir`, `task`).
    Dataset,
    /// Pose files (`inputs`), read with their detected format, with optional labels CSVs.
    Files,
}

/// `[data]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataSection {
    /// Which source.
    pub source: DataSource,
    /// Simulator settings; each recording gets its own seed derived from `simulation.seed`.
    pub simulation: SimulationConfig,
    /// Simulated training recordings.
    pub recordings: usize,
    /// Simulated held-out recordings (different seeds), for validation.
    pub validation_recordings: usize,
    /// The dataset: calms21, mabe22, sbea, deepethogram, pair-r24m or mabe2025 (role labels, with `roles`).
    pub dataset: Option<DatasetKind>,
    /// The dataset's folder.
    pub data_dir: Option<PathBuf>,
    /// The dataset's task (e.g. calms21 `task1`).
    pub task: Option<String>,
    /// Only the dataset's sequences of this group: a CalMS21 task-3 behaviour (one binary
    /// problem, as the benchmark scores them) or task-2 annotator.
    pub group: Option<String>,
    /// Stop after this many dataset sequences.
    pub limit: Option<usize>,
    /// Pose files for `source = "files"`.
    pub inputs: Vec<PathBuf>,
    /// Labels CSVs for `inputs`, one per file in the same order (none = unlabelled).
    pub labels: Vec<PathBuf>,
    /// Fraction of training recordings held out for validation (checkpoint choice, early
    /// stopping); a dataset's official test split is never trained or validated on.
    pub validation_fraction: f64,
    /// Fraction of each training recording's frames that keep their labels (one contiguous
    /// stretch at a seeded position): few-label fine-tuning. 1 = every label.
    pub label_fraction: f64,
    /// Stretches the kept labels of a recording are split into (each in its own equal part of
    /// the recording, at a seeded position): 1 = one contiguous stretch.
    pub label_stretches: usize,
    /// Label who did what to whom: the model reads every recording from each ordered pair of
    /// animals (agent, target, the others; see `behavert_pose::pair_views`) and learns the
    /// agent's directed and solo behaviours. Labels are role labels (`frame,agent,target,
    /// behaviour` or MABe 2025 bouts); the head must be a frame multilabel head.
    pub roles: bool,
    /// With `roles`: the most animals one recording may have (the model's individual slots);
    /// the most in the training recordings, and at least 2, when absent.
    pub slots: Option<usize>,
    /// More recordings from other sources (`[[data.extra]]` tables, each a `[data]` of its own
    /// without `extra`), mixed into training and validation: e.g. a dataset and the user's
    /// own files. All need the main source's individuals and keypoints.
    pub extra: Vec<DataSection>,
}

impl Default for DataSection {
    fn default() -> Self {
        Self {
            source: DataSource::Simulated,
            simulation: SimulationConfig::default(),
            recordings: 8,
            validation_recordings: 2,
            dataset: None,
            data_dir: None,
            task: None,
            group: None,
            limit: None,
            inputs: Vec::new(),
            labels: Vec::new(),
            validation_fraction: 0.2,
            label_fraction: 1.0,
            label_stretches: 1,
            roles: false,
            slots: None,
            extra: Vec::new(),
        }
    }
}

/// Checks that `v` is a fraction: in (0, 1] when `low_open`, else in [0, 1].
fn fraction(place: &str, v: f64, low_open: bool) -> Result<()> {
    let ok = v.is_finite() && v <= 1.0 && if low_open { v > 0.0 } else { v >= 0.0 };
    if ok {
        Ok(())
    } else {
        let range = if low_open { "(0, 1]" } else { "[0, 1]" };
        Err(Error::config(place, format!("a fraction in {range}"), v))
    }
}

impl DataSection {
    /// Checks the settings of this one source; `place` names it in errors (`data`,
    /// `data.extra[0]`).
    fn validate_source(&self, place: &str) -> Result<()> {
        fraction(
            &format!("{place}.validation_fraction"),
            self.validation_fraction,
            false,
        )?;
        match self.source {
            DataSource::Simulated if self.recordings == 0 => Err(Error::config(
                format!("{place}.recordings"),
                "a positive integer",
                0,
            )),
            DataSource::Dataset if self.dataset.is_none() || self.data_dir.is_none() => {
                Err(Error::config(
                    place,
                    "`dataset` and `data_dir` for source = \"dataset\"",
                    "one of them missing",
                ))
            }
            DataSource::Simulated | DataSource::Files if self.group.is_some() => {
                Err(Error::config(
                    format!("{place}.group"),
                    "a group only with source = \"dataset\"",
                    format!("{:?}", self.group.as_deref().unwrap_or_default()),
                ))
            }
            DataSource::Files if self.inputs.is_empty() => Err(Error::config(
                format!("{place}.inputs"),
                "at least one pose file for source = \"files\"",
                "none",
            )),
            DataSource::Files
                if !self.labels.is_empty() && self.labels.len() != self.inputs.len() =>
            {
                Err(Error::config(
                    format!("{place}.labels"),
                    format!("one labels file per input ({} inputs)", self.inputs.len()),
                    self.labels.len(),
                ))
            }
            _ => Ok(()),
        }
    }
}

/// `[window]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WindowSection {
    /// Frames per training window; at most the model's positions minus the CLS token.
    pub length: usize,
    /// Frames between training-window starts (validation uses non-overlapping windows).
    pub stride: usize,
    /// More window lengths to train on besides `length` (multi-scale training), each with the
    /// stride scaled like its length. Validation and inference use `length`.
    pub extra_lengths: Vec<usize>,
}

impl Default for WindowSection {
    fn default() -> Self {
        Self {
            length: 64,
            stride: 32,
            extra_lengths: Vec::new(),
        }
    }
}

impl WindowSection {
    /// Every training `(length, stride)`: `length` first, then the extra lengths with the
    /// stride in the same proportion (at least 1 frame).
    pub fn scales(&self) -> Vec<(usize, usize)> {
        std::iter::once((self.length, self.stride))
            .chain(self.extra_lengths.iter().map(|&extra| {
                let stride = (self.stride as f64 * extra as f64 / self.length as f64).round();
                (extra, (stride as usize).clamp(1, extra))
            }))
            .collect()
    }
}

/// `[optimizer]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimizerSection {
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
    /// AdamW first-moment decay.
    pub beta_1: f64,
    /// AdamW second-moment decay.
    pub beta_2: f64,
    /// Largest L2 norm of the gradient (see `grad_clip_scope`); absent = no clipping.
    pub grad_clip_norm: Option<f64>,
    /// Whether `grad_clip_norm` bounds the norm over all parameters together (rescaling every
    /// gradient by one factor, as PyTorch's `clip_grad_norm_`) or each parameter tensor's
    /// own (burn's built-in clipping, which changes the update's direction).
    pub grad_clip_scope: ClipScope,
    /// Layer-wise learning-rate decay: encoder layer `i` of `L` trains at
    /// `lr · decay^(L − i)`, the embeddings at `lr · decay^(L + 1)`, the heads at `lr`.
    /// 1 = the same rate everywhere.
    pub layer_lr_decay: f64,
}

impl Default for OptimizerSection {
    fn default() -> Self {
        Self {
            learning_rate: 1e-3,
            weight_decay: 0.01,
            beta_1: 0.9,
            beta_2: 0.999,
            grad_clip_norm: Some(1.0),
            grad_clip_scope: ClipScope::Global,
            layer_lr_decay: 1.0,
        }
    }
}

/// What a gradient-norm bound applies to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClipScope {
    /// The norm of all gradients together.
    #[default]
    Global,
    /// Each parameter tensor's gradient on its own.
    PerTensor,
}

/// Shape of the decay after warm-up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decay {
    /// Half a cosine from the peak to `min_lr_ratio · peak`.
    #[default]
    Cosine,
    /// A straight line from the peak to `min_lr_ratio · peak`.
    Linear,
    /// Stay at the peak.
    Constant,
}

/// `[schedule]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScheduleSection {
    /// Steps of linear warm-up from 0 to the peak rate.
    pub warmup_steps: u64,
    /// Decay after warm-up, over the remaining steps.
    pub decay: Decay,
    /// Final rate as a fraction of the peak.
    pub min_lr_ratio: f64,
    /// Steps at the start that train only the heads (embeddings and encoder held), so a new
    /// head's first, random gradients do not disturb a pretrained encoder (linear probe, then
    /// fine-tune).
    pub heads_only_steps: u64,
}

impl Default for ScheduleSection {
    fn default() -> Self {
        Self {
            warmup_steps: 20,
            decay: Decay::Cosine,
            min_lr_ratio: 0.0,
            heads_only_steps: 0,
        }
    }
}

/// What early stopping and the best checkpoint watch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    /// Validation macro-F1 of the first classification head (higher is better).
    #[default]
    F1Macro,
    /// Validation loss (lower is better).
    Loss,
}

/// `[training]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoopSection {
    /// Seed of the device, initialisation, data order and masking.
    pub seed: u64,
    /// Windows per batch.
    pub batch_size: usize,
    /// Passes over the training windows.
    pub epochs: usize,
    /// Stop after this many optimizer steps (before `epochs` are done).
    pub max_steps: Option<u64>,
    /// Validate every this many steps (and after the last); 0 = after every epoch.
    pub eval_every: u64,
    /// Write `last/` every this many steps (and at the end); 0 = only at evaluations and the end.
    pub checkpoint_every: u64,
    /// Stop after this many evaluations without improvement; 0 = never stop early.
    pub early_stopping_patience: usize,
    /// What the best checkpoint and early stopping watch.
    pub monitor: Monitor,
    /// Batches prepared ahead by the data worker thread.
    pub prefetch: usize,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// The arithmetic of the encoder's linear products: f32, or bf16 (mixed precision: bf16
    /// operands summed in f32, on CPUs with AVX-512 BF16; parameters and optimizer f32).
    pub precision: Precision,
}

impl Default for LoopSection {
    fn default() -> Self {
        Self {
            seed: 0,
            batch_size: 16,
            epochs: 10,
            max_steps: None,
            eval_every: 0,
            checkpoint_every: 100,
            early_stopping_patience: 0,
            monitor: Monitor::F1Macro,
            prefetch: 4,
            progress: true,
            precision: Precision::F32,
        }
    }
}

/// `[pretrain]`: which frames are masked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaskingSection {
    /// Fraction of each window's real frames chosen for reconstruction.
    pub mask_fraction: f64,
    /// Fraction of the chosen frames that come in contiguous spans (the rest are single frames).
    pub span_fraction: f64,
    /// Longest span, frames.
    pub max_span: usize,
    /// Which features of a masked frame the reconstruction loss covers.
    pub reconstruct: Reconstruct,
    /// Frames of the centred moving average the reconstruction target is smoothed over (odd;
    /// 0 or 1 for the raw features). The input stays raw.
    pub target_smoothing: usize,
    /// Share of the chosen frames left as they are (still reconstructed), as BERT's 10%: the
    /// model cannot tell which frames it is scored on, so every frame's output stays a
    /// representation of that frame, as fine-tuning needs, not only the hidden ones.
    pub unchanged_fraction: f64,
    /// Share of the chosen frames replaced by another frame of the batch (BERT's random 10%).
    pub random_fraction: f64,
}

impl Default for MaskingSection {
    fn default() -> Self {
        Self {
            mask_fraction: 0.15,
            span_fraction: 0.5,
            max_span: 8,
            reconstruct: Reconstruct::All,
            target_smoothing: 0,
            unchanged_fraction: 0.1,
            random_fraction: 0.1,
        }
    }
}

/// The features `[pretrain]` reconstructs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reconstruct {
    /// Every feature.
    #[default]
    All,
    /// Positions (aligned coordinates) and measures (distances, speeds, lengths, angles),
    /// not the derived velocities, which are mostly tracker jitter once differenced.
    Coordinates,
    /// The frame's own features: not observation flags or confidence (which say where the
    /// tracker failed, not how the animals moved) and not rolling context (which the
    /// neighbouring frames give away).
    Frame,
}

/// Where a head's targets come from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetSource {
    /// The primary per-frame behaviour labels (single- or multi-label).
    #[default]
    Labels,
    /// The numeric per-frame targets (MABe22 tasks), one output per task.
    Targets,
    /// The sequence's group (sequence heads): e.g. CalMS21 annotator, SBeA animals.
    Group,
    /// The most frequent labelled behaviour of each window (sequence heads).
    Dominant,
}

/// Per-frame classification loss.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassLoss {
    /// (Weighted) cross-entropy.
    #[default]
    CrossEntropy,
    /// Focal loss `−(1 − p)^γ log p`, for rare behaviours.
    Focal,
}

/// Class weights of the classification loss.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeighting {
    /// Every class counts the same per frame.
    #[default]
    None,
    /// Inverse training frequency, normalised so the labelled frames' mean weight is 1.
    InverseFrequency,
    /// The square root of inverse frequency, likewise normalised: rare classes count more,
    /// but less so, trading less recall on them for more precision.
    SqrtInverseFrequency,
}

/// `[[heads]]`: one trained output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeadSection {
    /// Head name (its tensors are `heads.<name>.*`).
    pub name: String,
    /// Per frame or per clip.
    pub level: HeadLevel,
    /// Multiclass, multilabel or regression.
    pub kind: HeadKind,
    /// Where the targets come from.
    pub source: TargetSource,
    /// Class names in output order; from the data when empty. Data labels outside it are an
    /// error.
    pub vocabulary: Vec<String>,
    /// Weight of this head's loss in the multi-task sum.
    pub loss_weight: f64,
    /// Cross-entropy or focal loss (multiclass heads).
    pub loss: ClassLoss,
    /// Focal-loss exponent γ.
    pub focal_gamma: f64,
    /// Class weights: of each class (multiclass heads), or of a behaviour's frames on against
    /// its frames off (multilabel heads, as PyTorch's `pos_weight`).
    pub class_weights: ClassWeighting,
}

impl Default for HeadSection {
    fn default() -> Self {
        Self {
            name: "behaviour".into(),
            level: HeadLevel::Frame,
            kind: HeadKind::Multiclass,
            source: TargetSource::Labels,
            vocabulary: Vec::new(),
            loss_weight: 1.0,
            loss: ClassLoss::CrossEntropy,
            focal_gamma: 2.0,
            class_weights: ClassWeighting::None,
        }
    }
}

impl TrainingConfig {
    /// A config from TOML text; `origin` names it in errors. Unknown keys are refused.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| {
            let place = match e.span() {
                Some(span) => {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    format!("{origin} line {line}")
                }
                None => origin.to_string(),
            };
            Error::config(
                place,
                "a training config (configs/training/*.toml)",
                e.message(),
            )
        })
    }

    /// Reads a config file.
    pub fn load(path: &std::path::Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// The config as TOML, as saved in `RUN/config.toml`.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# not serialisable: {e}\n"))
    }

    /// Checks every value that does not depend on the data; `fine_tuning` adds head checks.
    pub fn validate(&self, fine_tuning: bool) -> Result<()> {
        let positive = |place: &str, v: f64| {
            if v > 0.0 && v.is_finite() {
                Ok(())
            } else {
                Err(Error::config(place, "a positive number", v))
            }
        };
        let o = &self.optimizer;
        positive("optimizer.learning_rate", o.learning_rate)?;
        if !(o.weight_decay >= 0.0 && o.weight_decay.is_finite()) {
            return Err(Error::config(
                "optimizer.weight_decay",
                "a number ≥ 0",
                o.weight_decay,
            ));
        }
        for (key, beta) in [
            ("optimizer.beta_1", o.beta_1),
            ("optimizer.beta_2", o.beta_2),
        ] {
            if !(0.0..1.0).contains(&beta) {
                return Err(Error::config(key, "a number in [0, 1)", beta));
            }
        }
        if let Some(norm) = o.grad_clip_norm {
            positive("optimizer.grad_clip_norm", norm)?;
        }
        fraction("optimizer.layer_lr_decay", o.layer_lr_decay, true)?;
        fraction("schedule.min_lr_ratio", self.schedule.min_lr_ratio, false)?;
        let t = &self.training;
        // Upper bounds far beyond any real use: a typo must not become a huge allocation.
        for (key, value, most) in [
            ("training.batch_size", t.batch_size, 1 << 16),
            ("training.epochs", t.epochs, 1 << 20),
            ("training.prefetch", t.prefetch, 256),
            ("window.length", self.window.length, 1 << 16),
            ("window.stride", self.window.stride, 1 << 16),
        ] {
            if !(1..=most).contains(&value) {
                return Err(Error::config(
                    key,
                    format!("a positive integer up to {most}"),
                    value,
                ));
            }
        }
        if t.max_steps == Some(0) {
            return Err(Error::config("training.max_steps", "a positive integer", 0));
        }
        if self.window.stride > self.window.length {
            return Err(Error::config(
                "window.stride",
                format!("at most window.length ({})", self.window.length),
                self.window.stride,
            ));
        }
        for (i, &extra) in self.window.extra_lengths.iter().enumerate() {
            if extra == 0
                || extra == self.window.length
                || self.window.extra_lengths[..i].contains(&extra)
            {
                return Err(Error::config(
                    "window.extra_lengths",
                    "positive lengths, each once and other than window.length",
                    format!("{:?}", self.window.extra_lengths),
                ));
            }
        }
        let m = &self.pretrain;
        fraction("pretrain.mask_fraction", m.mask_fraction, true)?;
        fraction("pretrain.span_fraction", m.span_fraction, false)?;
        fraction("pretrain.unchanged_fraction", m.unchanged_fraction, false)?;
        fraction("pretrain.random_fraction", m.random_fraction, false)?;
        if m.unchanged_fraction + m.random_fraction > 1.0 {
            return Err(Error::config(
                "pretrain.unchanged_fraction + pretrain.random_fraction",
                "at most 1 (they share the chosen frames)",
                m.unchanged_fraction + m.random_fraction,
            ));
        }
        if m.max_span == 0 {
            return Err(Error::config("pretrain.max_span", "a positive integer", 0));
        }
        if m.target_smoothing > 1 && m.target_smoothing.is_multiple_of(2) {
            return Err(Error::config(
                "pretrain.target_smoothing",
                "an odd number of frames (a centred average), or 0 for none",
                m.target_smoothing,
            ));
        }
        let d = &self.data;
        fraction("data.label_fraction", d.label_fraction, true)?;
        if d.label_stretches == 0 {
            return Err(Error::config(
                "data.label_stretches",
                "a positive integer",
                0,
            ));
        }
        d.validate_source("data")?;
        if d.roles && d.source == DataSource::Dataset && d.dataset != Some(DatasetKind::Mabe2025) {
            return Err(Error::config(
                "data.dataset",
                "mabe2025 with data.roles = true (the one dataset labelled with roles)",
                format!("{:?}", d.dataset.map(|k| k.name())),
            ));
        }
        if let Some(slots) = d.slots
            && !(d.roles && (2..=64).contains(&slots))
        {
            return Err(Error::config(
                "data.slots",
                "2 to 64 animals, with data.roles = true",
                slots,
            ));
        }
        for (i, extra) in d.extra.iter().enumerate() {
            let place = format!("data.extra[{i}]");
            extra.validate_source(&place)?;
            // Few-label settings are run-wide; in an extra table they would be silently unused.
            let run_wide = [
                (
                    "label_fraction",
                    extra.label_fraction != 1.0,
                    extra.label_fraction.to_string(),
                ),
                (
                    "label_stretches",
                    extra.label_stretches != 1,
                    extra.label_stretches.to_string(),
                ),
                ("roles", extra.roles, extra.roles.to_string()),
                ("slots", extra.slots.is_some(), format!("{:?}", extra.slots)),
            ];
            if let Some((key, _, value)) = run_wide.into_iter().find(|(_, set, _)| *set) {
                return Err(Error::config(
                    format!("{place}.{key}"),
                    format!("no {key} here: data.{key} applies to every source"),
                    value,
                ));
            }
            if !extra.extra.is_empty() {
                return Err(Error::config(
                    format!("{place}.extra"),
                    "no nested [[data.extra]] (list every source under [data])",
                    format!("{} nested tables", extra.extra.len()),
                ));
            }
        }
        if self.model.pretrained.is_none() {
            Architecture::preset(self.model.size)?;
        }
        if fine_tuning {
            self.validate_heads()?;
            if d.roles
                && let Some((i, head)) = self.heads.iter().enumerate().find(|(_, h)| {
                    (h.level, h.kind, h.source)
                        != (HeadLevel::Frame, HeadKind::Multilabel, TargetSource::Labels)
                })
            {
                return Err(Error::config(
                    format!("heads[{i}] ({})", head.name),
                    "a frame multilabel head on the labels with data.roles = true (an agent \
                     may do several behaviours at once)",
                    format!(
                        "a {:?} {:?} head on {:?}",
                        head.level, head.kind, head.source
                    ),
                ));
            }
        }
        Ok(())
    }

    fn validate_heads(&self) -> Result<()> {
        if self.heads.is_empty() {
            return Err(Error::config(
                "heads",
                "at least one [[heads]] table for fine-tuning",
                "none",
            ));
        }
        for (i, head) in self.heads.iter().enumerate() {
            let place = |key: &str| format!("heads[{i}] ({}).{key}", head.name);
            if !(head.loss_weight >= 0.0 && head.loss_weight.is_finite()) {
                return Err(Error::config(
                    place("loss_weight"),
                    "a number ≥ 0",
                    head.loss_weight,
                ));
            }
            if !(head.focal_gamma >= 0.0 && head.focal_gamma.is_finite()) {
                return Err(Error::config(
                    place("focal_gamma"),
                    "a number ≥ 0",
                    head.focal_gamma,
                ));
            }
            #[allow(clippy::match_like_matches_macro)] // one arm per valid combination reads better
            let fits = match (head.level, head.kind, head.source) {
                (
                    HeadLevel::Frame,
                    HeadKind::Multiclass | HeadKind::Multilabel,
                    TargetSource::Labels,
                ) => true,
                (HeadLevel::Frame, HeadKind::Regression, TargetSource::Targets) => true,
                (
                    HeadLevel::Sequence,
                    HeadKind::Multiclass,
                    TargetSource::Group | TargetSource::Dominant,
                ) => true,
                _ => false,
            };
            if !fits {
                return Err(Error::config(
                    place("source"),
                    "labels for frame multiclass/multilabel heads, targets for frame regression \
                     heads, group or dominant for sequence multiclass heads",
                    format!(
                        "{:?} for a {:?} {:?} head",
                        head.source, head.level, head.kind
                    ),
                ));
            }
            if let Some(dup) = head
                .vocabulary
                .iter()
                .enumerate()
                .find(|(j, name)| head.vocabulary[..*j].contains(name))
            {
                return Err(Error::config(
                    place("vocabulary"),
                    "each class name once",
                    format!("{:?} twice", dup.1),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let err = TrainingConfig::from_toml("[optimizer]\nlearning_rat = 1e-3\n", "t.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("learning_rat") && err.contains("t.toml line 2"),
            "{err}"
        );
        let config = TrainingConfig::from_toml("[optimizer]\nlearning_rate = -1.0\n", "t").unwrap();
        let err = config.validate(false).unwrap_err().to_string();
        assert!(
            err.contains("optimizer.learning_rate") && err.contains("-1"),
            "{err}"
        );
    }

    /// `[training] precision`: f32 by default, bf16 read and written back, anything else named.
    #[test]
    fn training_precision_is_read_written_and_checked() {
        assert_eq!(TrainingConfig::default().training.precision, Precision::F32);
        let config = TrainingConfig::from_toml("[training]\nprecision = \"bf16\"\n", "t").unwrap();
        assert_eq!(config.training.precision, Precision::Bf16);
        let again = TrainingConfig::from_toml(&config.to_toml(), "again").unwrap();
        assert_eq!(again.training.precision, Precision::Bf16);
        let err = TrainingConfig::from_toml("[training]\nprecision = \"fp16\"\n", "t.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("fp16") && err.contains("t.toml line 2"),
            "{err}"
        );
    }

    #[test]
    fn extra_sources_are_checked_like_the_main_one_and_round_trip() {
        let text = "[data]\nrecordings = 4\n\n[[data.extra]]\nsource = \"files\"\n\
                    inputs = [\"a.csv\"]\n\n[[data.extra]]\nsource = \"files\"\n";
        let config = TrainingConfig::from_toml(text, "t.toml").unwrap();
        assert_eq!(config.data.extra.len(), 2);
        assert_eq!(config.data.extra[0].inputs, [PathBuf::from("a.csv")]);
        let err = config.validate(false).unwrap_err().to_string();
        assert!(err.contains("data.extra[1].inputs"), "{err}");
        let mut fixed = config.clone();
        fixed.data.extra.pop();
        fixed.validate(false).unwrap();
        let mut partial = fixed.clone();
        partial.data.extra[0].label_fraction = 0.5;
        let err = partial.validate(false).unwrap_err().to_string();
        assert!(err.contains("data.extra[0].label_fraction"), "{err}");
        let mut stretched = fixed.clone();
        stretched.data.extra[0].label_stretches = 3;
        let err = stretched.validate(false).unwrap_err().to_string();
        assert!(err.contains("data.extra[0].label_stretches"), "{err}");
        let mut grouped = fixed.clone();
        grouped.data.extra[0].group = Some("approach".into());
        let err = grouped.validate(false).unwrap_err().to_string();
        assert!(
            err.contains("data.extra[0].group") && err.contains("source = \"dataset\""),
            "{err}"
        );
        let back = TrainingConfig::from_toml(&fixed.to_toml(), "saved").unwrap();
        assert_eq!(back, fixed);
    }

    #[test]
    fn extra_window_lengths_get_proportional_strides_and_must_be_new() {
        let config = TrainingConfig::from_toml(
            "[window]\nlength = 64\nstride = 32\nextra_lengths = [16, 255]\n",
            "t",
        )
        .unwrap();
        config.validate(false).unwrap();
        assert_eq!(config.window.scales(), [(64, 32), (16, 8), (255, 128)]);
        for bad in ["[64]", "[32, 32]", "[0]"] {
            let text = format!("[window]\nlength = 64\nextra_lengths = {bad}\n");
            let err = TrainingConfig::from_toml(&text, "t")
                .unwrap()
                .validate(false)
                .unwrap_err()
                .to_string();
            assert!(err.contains("window.extra_lengths"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_default_round_trips_through_toml() {
        let config = TrainingConfig {
            heads: vec![HeadSection::default()],
            ..Default::default()
        };
        config.validate(true).unwrap();
        let back = TrainingConfig::from_toml(&config.to_toml(), "saved").unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn pretrain_targets_default_to_all_raw_features_and_smoothing_must_be_centred() {
        let old = TrainingConfig::from_toml("[pretrain]\nmask_fraction = 0.4\n", "t").unwrap();
        assert_eq!(old.pretrain.reconstruct, Reconstruct::All);
        assert_eq!(old.pretrain.target_smoothing, 0);
        let new = TrainingConfig::from_toml(
            "[pretrain]\nreconstruct = \"coordinates\"\ntarget_smoothing = 5\n",
            "t",
        )
        .unwrap();
        assert_eq!(new.pretrain.reconstruct, Reconstruct::Coordinates);
        new.validate(false).unwrap();
        let even = TrainingConfig::from_toml("[pretrain]\ntarget_smoothing = 4\n", "t").unwrap();
        let err = even.validate(false).unwrap_err().to_string();
        assert!(err.contains("pretrain.target_smoothing"), "{err}");
        let over = TrainingConfig::from_toml(
            "[pretrain]\nunchanged_fraction = 0.6\nrandom_fraction = 0.5\n",
            "t",
        )
        .unwrap();
        let err = over.validate(false).unwrap_err().to_string();
        assert!(
            err.contains("pretrain.unchanged_fraction + pretrain.random_fraction")
                && err.contains("1.1"),
            "{err}"
        );
    }
}
