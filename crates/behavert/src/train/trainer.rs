//! The training loop shared by pretraining and fine-tuning: setup (data, preprocessing,
//! model, optimizer), then epochs of prefetched batches through [`train_step`], with
//! evaluation, early stopping, checkpoints and resume.
//!
//! The loop is written here rather than taken from burn's `Learner` because of what it must
//! guarantee: a run killed at any moment resumes to bit-identical weights (data order,
//! masking, augmentation and dropout are drawn from seeds of the step and epoch, and the
//! optimizer state and data position are checkpointed together); batches are built on a
//! worker thread ahead of the step; checkpoints are written whole in the PyTorch reference's
//! layout; and `metrics.csv` keeps this project's columns.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use behavert_pose::augment::{AugmentConfig, Augmenter};
use behavert_pose::preprocess::{
    NormalisationStats, PoseLayout, PreprocessConfig, Preprocessor, StatsAccumulator,
};
use burn::grad_clipping::GradientClippingConfig;
use burn::module::{Module, ModuleVisitor, Param, ParamGroup};
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLearningRate;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};

use super::adamw::AdamW;
use super::config::{ClipScope, Monitor, TrainingConfig};
use super::finetune::{self, HeadPlan};
use super::schedule::{LrSchedule, module_scheduler};
use super::sources::{Sources, load_sources};
use super::state::{ResumeState, RunDir, param_ids};
use super::{pretrain, progress::Progress};
use crate::checkpoint::metrics_log::MetricsRow;
use crate::checkpoint::{HeadVocabulary, Mode, TrainingInfo, load_checkpoint, load_config};
use crate::error::{Error, Result};
use crate::model::{Architecture, BehavErt, HeadConfig, ModelConfig};
use crate::train::data::{
    AugmentPlan, Batch, Corpus, MaskPlan, Prefetcher, WindowRef, batches_per_epoch, derive_seed,
    epoch_batches,
};

/// What a training step minimises.
#[derive(Clone, Debug)]
pub enum Objective {
    /// Masked-frame reconstruction, with each feature's loss weight.
    Pretrain(Vec<f32>),
    /// The heads' weighted losses.
    Finetune(Vec<HeadPlan>),
}

impl Objective {
    /// The loss of `batch`.
    pub fn loss(
        &self,
        model: &BehavErt,
        batch: &Batch,
        device: &Device,
    ) -> Result<burn::tensor::Tensor<1>> {
        match self {
            Objective::Pretrain(weights) => pretrain::loss(model, batch, weights, device),
            Objective::Finetune(plans) => finetune::loss(model, plans, batch, device),
        }
    }
}

/// One optimizer step on one batch: forward, loss, backward, optional global-norm clipping,
/// AdamW update. Independent of the loop, so a multi-device strategy can call it per device.
pub fn train_step(
    model: BehavErt,
    optimizer: &mut ModuleOptimizer,
    lr: ModuleLearningRate,
    objective: &Objective,
    batch: &Batch,
    device: &Device,
    global_clip: Option<f64>,
) -> Result<(BehavErt, f32)> {
    let loss = objective.loss(&model, batch, device)?;
    let value = loss.clone().into_scalar::<f32>();
    let mut grads = GradientsParams::from_grads(loss.backward(), &model);
    if let Some(max_norm) = global_clip {
        clip_global_norm(&model, &mut grads, max_norm);
    }
    Ok((optimizer.step(lr, model, grads), value))
}

/// Rescales every gradient of `model` by `min(1, max_norm / ‖g‖)`, `‖g‖` the L2 norm over all
/// parameters together; returns `‖g‖`.
pub fn clip_global_norm(model: &BehavErt, grads: &mut GradientsParams, max_norm: f64) -> f64 {
    struct SumSquares<'a> {
        grads: &'a GradientsParams,
        total: Option<Tensor<1>>,
    }
    impl ModuleVisitor for SumSquares<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.grads.get::<D>(param.id) {
                let s = g.square().sum();
                self.total = Some(match self.total.take() {
                    Some(t) => t + s,
                    None => s,
                });
            }
        }
    }
    struct Scale<'a> {
        grads: &'a mut GradientsParams,
        factor: f32,
    }
    impl ModuleVisitor for Scale<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.grads.remove::<D>(param.id) {
                self.grads.register(param.id, g.mul_scalar(self.factor));
            }
        }
    }
    let mut sum = SumSquares { grads, total: None };
    model.visit(&mut sum);
    let norm = sum
        .total
        .map_or(0.0, |t| f64::from(t.into_scalar::<f32>()).sqrt());
    if norm > max_norm {
        let mut scale = Scale {
            grads,
            factor: (max_norm / (norm + 1e-6)) as f32,
        };
        model.visit(&mut scale);
    }
    norm
}

/// Validation numbers of one evaluation.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Evaluation {
    /// Mean validation loss.
    pub loss: f64,
    /// Macro-F1 of the first classification head.
    pub f1_macro: Option<f64>,
    /// Macro-F1 per classification head.
    pub per_head: Vec<(String, f64)>,
}

/// What a finished (or stopped) run reports.
#[derive(Clone, Debug, Default)]
pub struct RunSummary {
    /// The run directory.
    pub run_dir: PathBuf,
    /// Optimizer steps taken in total.
    pub steps: u64,
    /// Best monitored value.
    pub best: Option<f64>,
    /// Last evaluation.
    pub last_evaluation: Option<Evaluation>,
    /// Mean time to build a batch on the worker, ms.
    pub data_ms: f64,
    /// Mean time the trainer waited for a batch, ms.
    pub wait_ms: f64,
    /// Mean optimizer-step time, ms.
    pub step_ms: f64,
    /// True when early stopping ended the run.
    pub stopped_early: bool,
}

/// Options that are not part of the config.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Stop (as if killed) right after the checkpoint of this step; for crash-safety tests.
    pub stop_after: Option<u64>,
}

/// Everything prepared before the first step.
struct Setup {
    config: TrainingConfig,
    mode: Mode,
    train: Arc<Corpus>,
    validation: Vec<Batch>,
    train_windows: Vec<WindowRef>,
    augmenter: Option<Augmenter>,
    objective: Objective,
    model_config: ModelConfig,
    info: TrainingInfo,
    pretrained: Option<PathBuf>,
}

/// The architecture and, for a pretrained start, its checkpoint's preprocessing.
fn starting_point(config: &TrainingConfig) -> Result<(usize, Option<(TrainingInfo, ModelConfig)>)> {
    match &config.model.pretrained {
        Some(dir) => {
            let model_config = load_config(dir)?;
            let info = TrainingInfo::load(dir)?;
            Ok((model_config.max_frames(), Some((info, model_config))))
        }
        None => {
            let arch = Architecture::preset(config.model.size)?;
            Ok((arch.max_position_embeddings.saturating_sub(1), None))
        }
    }
}

fn setup(mode: Mode, config: TrainingConfig) -> Result<Setup> {
    let _span = tracing::info_span!("setup", mode = mode.name()).entered();
    config.validate(mode == Mode::Finetune)?;
    let (max_frames, pretrained) = starting_point(&config)?;
    check_window_lengths(&config, max_frames)?;
    let seed = config.training.seed;
    let sources = load_sources(&config.data, seed)?;
    let mut plans = match mode {
        Mode::Finetune => finetune::plan_heads(&config.heads, &sources)?,
        Mode::Pretrain => Vec::new(),
    };
    let corpora = build_corpora(
        mode,
        &config,
        &sources,
        &plans,
        pretrained.as_ref().map(|(info, _)| info),
    )?;
    finetune::weigh_classes(&mut plans, &corpora.train);
    let heads: Vec<_> = plans.iter().map(HeadPlan::head_config).collect();
    let model_config = model_config_for(
        &config,
        pretrained.as_ref().map(|(_, model)| model),
        heads,
        corpora.train.features,
    )?;
    let train_windows = training_windows(&config, &corpora.train, mode)?;
    let validation = validation_batches(&config, &corpora.validation, mode)?;
    let info = TrainingInfo {
        mode,
        heads: plans
            .iter()
            .map(|p| HeadVocabulary {
                head: p.head_config(),
                vocabulary: p.vocabulary(),
            })
            .collect(),
        preprocess: corpora.preprocess,
        normalisation: corpora.stats,
        feature_names: corpora.preprocessor.feature_names().to_vec(),
        window_length: config.window.length,
        roles: sources.roles.clone(),
        seed,
        step: 0,
        metrics: BTreeMap::new(),
        versions: TrainingInfo::current_versions(),
    };
    tracing::info!(
        train_windows = train_windows.len(),
        validation_batches = validation.len(),
        features = corpora.train.features,
        "data ready"
    );
    let objective = match mode {
        Mode::Pretrain => Objective::Pretrain(pretrain::feature_weights(
            corpora.preprocessor.feature_kinds(),
            config.pretrain.reconstruct,
        )),
        Mode::Finetune => Objective::Finetune(plans),
    };
    Ok(Setup {
        pretrained: config.model.pretrained.clone(),
        config,
        mode,
        train: Arc::new(corpora.train),
        validation,
        train_windows,
        augmenter: corpora.augmenter,
        objective,
        model_config,
        info,
    })
}

/// Every window length fits the model's learned positions.
fn check_window_lengths(config: &TrainingConfig, max_frames: usize) -> Result<()> {
    let lengths = std::iter::once(("window.length", config.window.length)).chain(
        config
            .window
            .extra_lengths
            .iter()
            .map(|&extra| ("window.extra_lengths", extra)),
    );
    for (place, length) in lengths {
        if length > max_frames {
            return Err(Error::config(
                place,
                format!("at most {max_frames} frames (the model's max_position_embeddings − 1)"),
                length,
            ));
        }
    }
    Ok(())
}

/// The training and validation recordings preprocessed, and how.
struct Corpora {
    preprocess: PreprocessConfig,
    preprocessor: Preprocessor,
    stats: NormalisationStats,
    train: Corpus,
    validation: Corpus,
    augmenter: Option<Augmenter>,
}

/// Preprocesses both splits: with the pretrained checkpoint's preprocessing and statistics
/// when there is one (its encoder only understands features made that way), else with the
/// config's and statistics fitted on the training recordings.
fn build_corpora(
    mode: Mode,
    config: &TrainingConfig,
    sources: &Sources,
    plans: &[HeadPlan],
    pretrained: Option<&TrainingInfo>,
) -> Result<Corpora> {
    let layout = PoseLayout::of(&sources.train[0].pose);
    let preprocess =
        pretrained.map_or_else(|| config.preprocess.clone(), |info| info.preprocess.clone());
    let preprocessor = Preprocessor::new(&preprocess, &layout)?;
    let stats = match pretrained {
        Some(info) => info.normalisation.clone(),
        None => fit_stats(&preprocessor, sources)?,
    };
    let specs: Vec<_> = plans.iter().map(|p| p.spec.clone()).collect();
    let mut train = Corpus::build(&sources.train, &preprocessor, &stats, &specs)?;
    // Off unless asked: augmented windows are featurised per batch instead of once.
    let augmenter = if config.augment == AugmentConfig::default() {
        None
    } else {
        train.keep_poses(&sources.train, &preprocessor)?;
        Some(Augmenter::new(&config.augment, &layout)?)
    };
    let mut validation = Corpus::build(&sources.validation, &preprocessor, &stats, &specs)?;
    let smoothing = config.pretrain.target_smoothing;
    if mode == Mode::Pretrain && smoothing > 1 {
        // Augmented training windows are smoothed per batch instead.
        if augmenter.is_none() {
            train.smooth_targets(smoothing);
        }
        validation.smooth_targets(smoothing);
    }
    Ok(Corpora {
        preprocess,
        preprocessor,
        stats,
        train,
        validation,
        augmenter,
    })
}

/// The network's config: the pretrained checkpoint's with this run's heads, or the size
/// preset's for `features` inputs.
fn model_config_for(
    config: &TrainingConfig,
    pretrained: Option<&ModelConfig>,
    heads: Vec<HeadConfig>,
    features: usize,
) -> Result<ModelConfig> {
    let model_config = match pretrained {
        Some(pre) => {
            if pre.input_dim != features {
                return Err(Error::config(
                    "model.pretrained",
                    format!("a checkpoint for {features} features per frame"),
                    pre.input_dim,
                ));
            }
            let outputs_of = |name: &str| {
                heads
                    .iter()
                    .find(|h| h.name == name)
                    .map_or(0, |h| h.outputs)
            };
            let mut c = pre.clone();
            c.num_frame_classes = outputs_of("frame");
            c.num_sequence_classes = outputs_of("sequence");
            c.heads = Some(heads);
            c
        }
        None => ModelConfig::new(&Architecture::preset(config.model.size)?, features, heads),
    };
    model_config.validate("model config")?;
    Ok(model_config)
}

/// Training windows at every scale (fine-tuning: only windows with labels).
fn training_windows(config: &TrainingConfig, train: &Corpus, mode: Mode) -> Result<Vec<WindowRef>> {
    let labelled_only = mode == Mode::Finetune;
    let windows: Vec<WindowRef> = config
        .window
        .scales()
        .into_iter()
        .flat_map(|(length, stride)| train.windows(length, stride, labelled_only))
        .collect();
    if windows.is_empty() {
        return Err(Error::data(
            "training windows",
            "at least one window (with labels, for fine-tuning)",
            "none",
        ));
    }
    Ok(windows)
}

/// Validation batches, built once: side-by-side windows, masked with a fixed seed when
/// pretraining so every evaluation scores the same frames.
fn validation_batches(
    config: &TrainingConfig,
    validation: &Corpus,
    mode: Mode,
) -> Result<Vec<Batch>> {
    let length = config.window.length;
    let mask = (mode == Mode::Pretrain).then(|| MaskPlan {
        section: config.pretrain.clone(),
        seed: derive_seed(config.training.seed, &[5]),
    });
    validation
        .windows(length, length, false)
        .chunks(config.training.batch_size)
        .enumerate()
        .map(|(i, w)| Batch::assemble(validation, w, mask.as_ref().map(|m| (m, i as u64)), None))
        .collect()
}

fn fit_stats(preprocessor: &Preprocessor, sources: &Sources) -> Result<NormalisationStats> {
    let mut acc = StatsAccumulator::new(preprocessor.feature_count());
    for source in &sources.train {
        acc.add(
            &preprocessor
                .with_arena_of(&source.pose)?
                .prepare(&source.pose)?,
        )?;
    }
    Ok(acc.finish())
}

/// A fresh model: seeded initialisation, pretrained weights where given, frozen encoder for a
/// linear probe.
fn initial_model(setup: &Setup, device: &Device) -> Result<BehavErt> {
    device.seed(setup.config.training.seed);
    let mut model = BehavErt::new(&setup.model_config, device)?;
    if let Some(dir) = &setup.pretrained {
        let loaded = load_checkpoint(dir, device)?;
        model.embeddings = loaded.embeddings;
        model.encoder = loaded.encoder;
        model.heads.pooler = loaded.heads.pooler;
        model.heads.reconstruction = loaded.heads.reconstruction;
        if setup.mode == Mode::Pretrain {
            model.heads.frame = loaded.heads.frame;
            model.heads.sequence = loaded.heads.sequence;
        }
    }
    Ok(freeze_if_asked(model, &setup.config))
}

/// `model` training in the configured precision, where this machine runs it.
fn in_precision(mut model: BehavErt, config: &TrainingConfig) -> Result<BehavErt> {
    model.set_training_precision(config.training.precision)?;
    Ok(model)
}

fn freeze_if_asked(model: BehavErt, config: &TrainingConfig) -> BehavErt {
    if config.model.freeze_encoder {
        model.freeze_group(ParamGroup::from_any_predicates(vec![
            "embeddings.",
            "encoder.",
        ]))
    } else {
        model
    }
}

fn optimizer(config: &TrainingConfig) -> ModuleOptimizer {
    let o = &config.optimizer;
    // burn's default ε, which runs before this optimizer was ours trained with.
    let epsilon = 1e-5;
    let adamw = AdamW::new(
        o.beta_1 as f32,
        o.beta_2 as f32,
        epsilon,
        o.weight_decay as f32,
    );
    let optimizer = ModuleOptimizer::from(adamw);
    match o
        .grad_clip_norm
        .filter(|_| o.grad_clip_scope == ClipScope::PerTensor)
    {
        Some(norm) => {
            optimizer.with_grad_clipping(GradientClippingConfig::Norm(norm as f32).init())
        }
        None => optimizer,
    }
}

/// Trains from scratch (or from `model.pretrained`) into the new run directory `output`.
pub fn train(
    mode: Mode,
    config: TrainingConfig,
    output: &Path,
    device: &Device,
    options: &RunOptions,
) -> Result<RunSummary> {
    let setup = setup(mode, config)?;
    let device = device.clone().autodiff();
    // Before the run directory: a precision this machine cannot run leaves nothing behind.
    let model = in_precision(initial_model(&setup, &device)?, &setup.config)?;
    let run = RunDir::create(output)?;
    run.write_config(&setup.config.to_toml())?;
    let state = ResumeState {
        step: 0,
        epoch: 0,
        batch: 0,
        best: None,
        evals_since_best: 0,
        param_ids: BTreeMap::new(),
    };
    let optimizer = optimizer(&setup.config);
    run_loop(setup, run, model, optimizer, state, &device, options)
}

/// Continues the run in `run_dir` from its `last/` checkpoint: same config, model, optimizer
/// state and data position.
pub fn resume(run_dir: &Path, device: &Device, options: &RunOptions) -> Result<RunSummary> {
    let run = RunDir::open(run_dir)?;
    let config = TrainingConfig::load(&run_dir.join(super::state::CONFIG_FILE))?;
    let info = TrainingInfo::load(&run.last())
        .or_else(|_| TrainingInfo::load(&run.last().with_extension("old")))?;
    let setup = setup(info.mode, config)?;
    let device = device.clone().autodiff();
    let (model, optimizer, state) = run.load_last(&device, optimizer(&setup.config))?;
    let model = in_precision(freeze_if_asked(model, &setup.config), &setup.config)?;
    run.truncate_metrics(state.step)?;
    tracing::info!(step = state.step, epoch = state.epoch, "resuming");
    run_loop(setup, run, model, optimizer, state, &device, options)
}

/// Running means of the timings between two log rows.
#[derive(Default)]
struct Timings {
    n: u64,
    loss: f64,
    data: f64,
    wait: f64,
    step: f64,
    total_n: u64,
    total_data: f64,
    total_wait: f64,
    total_step: f64,
}

impl Timings {
    fn add(&mut self, loss: f64, data: f64, wait: f64, step: f64) {
        self.n += 1;
        self.loss += loss;
        self.data += data;
        self.wait += wait;
        self.step += step;
        self.total_n += 1;
        self.total_data += data;
        self.total_wait += wait;
        self.total_step += step;
    }

    fn mean(&self, v: f64) -> f64 {
        v / self.n.max(1) as f64
    }

    fn reset(&mut self) {
        self.n = 0;
        self.loss = 0.0;
        self.data = 0.0;
        self.wait = 0.0;
        self.step = 0.0;
    }
}

/// Steps between train rows of `metrics.csv`.
const LOG_EVERY: u64 = 10;

#[allow(clippy::too_many_arguments)]
fn run_loop(
    setup: Setup,
    run: RunDir,
    mut model: BehavErt,
    mut optimizer: ModuleOptimizer,
    mut state: ResumeState,
    device: &Device,
    options: &RunOptions,
) -> Result<RunSummary> {
    let config = &setup.config;
    let t = &config.training;
    let seed = t.seed;
    let per_epoch = batches_per_epoch(&setup.train_windows, t.batch_size) as u64;
    let total = (per_epoch * t.epochs as u64).min(t.max_steps.unwrap_or(u64::MAX));
    let schedule = LrSchedule::new(&config.schedule, config.optimizer.learning_rate, total);
    let mut scheduler = module_scheduler(
        &schedule,
        state.step,
        config.optimizer.layer_lr_decay,
        setup.model_config.num_hidden_layers,
        config.schedule.heads_only_steps,
    );
    let progress = Progress::new(total, state.step, t.progress, setup.mode.name());
    let mut timings = Timings::default();
    let mut last_eval: Option<Evaluation> = None;
    let mut stopped_early = false;
    // A run checkpointed at its last step was evaluated there just before: resuming it must
    // not evaluate and log that step again.
    let mut evaluated_at = (state.step >= total).then_some(state.step);
    let mut info = setup.info.clone();

    let global_clip = config
        .optimizer
        .grad_clip_norm
        .filter(|_| config.optimizer.grad_clip_scope == ClipScope::Global);
    'epochs: while state.epoch < t.epochs as u64 && state.step < total {
        let epoch = state.epoch;
        let _span = tracing::info_span!("epoch", epoch).entered();
        let batches = epoch_batches(&setup.train_windows, t.batch_size, seed, epoch);
        let mask = (setup.mode == Mode::Pretrain).then(|| MaskPlan {
            section: config.pretrain.clone(),
            seed: derive_seed(seed, &[4, epoch]),
        });
        let augment = setup.augmenter.clone().map(|augmenter| AugmentPlan {
            augmenter,
            seed: derive_seed(seed, &[6, epoch]),
        });
        let prefetcher = Prefetcher::spawn(
            setup.train.clone(),
            batches,
            state.batch,
            mask,
            augment,
            t.prefetch,
        );
        let mut waited = Instant::now();
        for item in prefetcher {
            let item = item?;
            let wait_ms = waited.elapsed().as_secs_f64() * 1e3;
            let started = Instant::now();
            let _step_span = tracing::debug_span!("step", step = state.step).entered();
            // Dropout draws from the device RNG; reseeding per step makes a resumed run draw
            // exactly what the uninterrupted one did.
            device.seed(derive_seed(seed, &[2, state.step]));
            let lr = scheduler.step();
            let (next, loss) = train_step(
                model,
                &mut optimizer,
                lr,
                &setup.objective,
                &item.batch,
                device,
                global_clip,
            )?;
            model = next;
            if !loss.is_finite() {
                return Err(Error::Diverged {
                    step: state.step,
                    value: loss,
                });
            }
            let step_ms = started.elapsed().as_secs_f64() * 1e3;
            state.step += 1;
            state.batch = item.index + 1;
            if state.batch as u64 >= per_epoch {
                state.epoch += 1;
                state.batch = 0;
            }
            let data_ms = item.build_time.as_secs_f64() * 1e3;
            timings.add(f64::from(loss), data_ms, wait_ms, step_ms);
            progress.step(
                epoch,
                f64::from(loss),
                item.batch.size() as f64 / (step_ms / 1e3),
                data_ms,
                step_ms,
            );
            if state.step.is_multiple_of(LOG_EVERY) || state.step == total {
                let lr = schedule.at(state.step - 1);
                log_training_row(&run, &mut info, &mut timings, state.step, epoch, lr)?;
            }
            let epoch_done = state.batch == 0;
            let eval_now = if t.eval_every > 0 {
                state.step.is_multiple_of(t.eval_every) || state.step == total
            } else {
                epoch_done || state.step == total
            };
            if eval_now {
                last_eval = evaluate(&setup, &run, &model, &mut state, &mut info, epoch, device)?
                    .or(last_eval);
                evaluated_at = Some(state.step);
                if let Some(e) = &last_eval {
                    progress.note(format!(
                        "step {} validation loss {:.4}{}",
                        state.step,
                        e.loss,
                        e.f1_macro
                            .map_or_else(String::new, |f1| format!(" macro-F1 {f1:.3}"))
                    ));
                }
                if t.early_stopping_patience > 0
                    && state.evals_since_best >= t.early_stopping_patience
                {
                    stopped_early = true;
                }
            }
            let checkpoint_now = (t.checkpoint_every > 0
                && state.step.is_multiple_of(t.checkpoint_every))
                || eval_now;
            if checkpoint_now {
                save_last(&run, &model, &optimizer, &mut state, &mut info)?;
            }
            if options.stop_after == Some(state.step) {
                if !checkpoint_now {
                    save_last(&run, &model, &optimizer, &mut state, &mut info)?;
                }
                progress.finish();
                return Ok(summary(&run, &state, last_eval, &timings, stopped_early));
            }
            if stopped_early || state.step >= total {
                break 'epochs;
            }
            waited = Instant::now();
        }
    }
    if evaluated_at != Some(state.step) {
        let epoch = state.epoch;
        last_eval =
            evaluate(&setup, &run, &model, &mut state, &mut info, epoch, device)?.or(last_eval);
    }
    save_last(&run, &model, &optimizer, &mut state, &mut info)?;
    if setup.validation.is_empty() {
        run.save(&run.best(), &model, &info, None)?;
    }
    progress.finish();
    Ok(summary(&run, &state, last_eval, &timings, stopped_early))
}

/// Scores `model` on the validation batches, logs the row, and saves `best/` when the
/// monitored value improved; `None` without validation data.
fn evaluate(
    setup: &Setup,
    run: &RunDir,
    model: &BehavErt,
    state: &mut ResumeState,
    info: &mut TrainingInfo,
    epoch: u64,
    device: &Device,
) -> Result<Option<Evaluation>> {
    if setup.validation.is_empty() {
        return Ok(None);
    }
    let _span = tracing::info_span!("evaluate", step = state.step).entered();
    let valid = model.valid();
    let eval_device = device.clone().inner();
    let evaluation = match &setup.objective {
        Objective::Pretrain(weights) => Evaluation {
            loss: pretrain::evaluate(&valid, &setup.validation, weights, &eval_device)?,
            ..Default::default()
        },
        Objective::Finetune(plans) => {
            let scores = finetune::evaluate(&valid, plans, &setup.validation, &eval_device)?;
            Evaluation {
                loss: scores.loss,
                f1_macro: scores.f1_macro.first().map(|(_, f)| *f),
                per_head: scores.f1_macro,
            }
        }
    };
    run.log_metrics(&MetricsRow {
        step: state.step,
        epoch,
        split: "validation",
        loss: evaluation.loss,
        f1_macro: evaluation.f1_macro,
        ..Default::default()
    })?;
    info.metrics
        .insert("validation/loss".into(), evaluation.loss);
    for (name, f1) in &evaluation.per_head {
        info.metrics
            .insert(format!("validation/{name}/f1_macro"), *f1);
    }
    let value = match (setup.config.training.monitor, evaluation.f1_macro) {
        (Monitor::F1Macro, Some(f1)) => f1,
        _ => -evaluation.loss,
    };
    tracing::info!(step = state.step, loss = evaluation.loss, f1_macro = ?evaluation.f1_macro, "validation");
    if state.best.is_none_or(|best| value > best) {
        state.best = Some(value);
        state.evals_since_best = 0;
        info.step = state.step;
        run.save(&run.best(), model, info, None)?;
    } else {
        state.evals_since_best += 1;
    }
    Ok(Some(evaluation))
}

/// Logs the mean loss and timings since the last row, and starts a new mean.
fn log_training_row(
    run: &RunDir,
    info: &mut TrainingInfo,
    timings: &mut Timings,
    step: u64,
    epoch: u64,
    lr: f64,
) -> Result<()> {
    let loss = timings.mean(timings.loss);
    run.log_metrics(&MetricsRow {
        step,
        epoch,
        split: "train",
        loss,
        lr: Some(lr),
        data_ms: Some(timings.mean(timings.data)),
        wait_ms: Some(timings.mean(timings.wait)),
        step_ms: Some(timings.mean(timings.step)),
        ..Default::default()
    })?;
    info.metrics.insert("train/loss".into(), loss);
    tracing::info!(
        step,
        loss,
        data_ms = timings.mean(timings.data),
        wait_ms = timings.mean(timings.wait),
        step_ms = timings.mean(timings.step),
        "train"
    );
    timings.reset();
    Ok(())
}

fn save_last(
    run: &RunDir,
    model: &BehavErt,
    optimizer: &ModuleOptimizer,
    state: &mut ResumeState,
    info: &mut TrainingInfo,
) -> Result<()> {
    state.param_ids = param_ids(model);
    info.step = state.step;
    run.save(&run.last(), model, info, Some((state, optimizer)))
}

fn summary(
    run: &RunDir,
    state: &ResumeState,
    last_evaluation: Option<Evaluation>,
    t: &Timings,
    stopped_early: bool,
) -> RunSummary {
    let n = t.total_n.max(1) as f64;
    RunSummary {
        run_dir: run.path.clone(),
        steps: state.step,
        best: state.best,
        last_evaluation,
        data_ms: t.total_data / n,
        wait_ms: t.total_wait / n,
        step_ms: t.total_step / n,
        stopped_early,
    }
}

/// Reads a run's preprocessing from a checkpoint: what inference uses.
pub fn checkpoint_preprocessing(
    dir: &Path,
) -> Result<(PreprocessConfig, NormalisationStats, usize)> {
    let info = TrainingInfo::load(dir)?;
    Ok((info.preprocess, info.normalisation, info.window_length))
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Bool, Distribution, TensorData};

    use super::*;
    use crate::model::{ModelInput, ModelSize};

    #[test]
    fn global_clipping_bounds_the_norm_over_all_parameters() {
        let _turn = crate::device::generator_turn();
        let device = Device::flex().autodiff();
        device.seed(0);
        let config = ModelConfig::new(
            &Architecture::preset(ModelSize::Tiny).unwrap(),
            5,
            Vec::new(),
        );
        let model = BehavErt::new(&config, &device).unwrap();
        let input = ModelInput {
            keypoints: Tensor::random([2, 8, 5], Distribution::Normal(0.0, 1.0), &device),
            valid: Tensor::<2, Bool>::from_data(TensorData::new(vec![true; 16], [2, 8]), &device),
            masked: None,
        };
        let loss = model.encode(&input).unwrap().powi_scalar(2).sum() * 100.0;
        let mut grads = GradientsParams::from_grads(loss.backward(), &model);
        let before = clip_global_norm(&model, &mut grads, 0.5);
        assert!(before > 0.5, "{before}");
        let after = clip_global_norm(&model, &mut grads, f64::MAX);
        assert!((after - 0.5).abs() < 1e-3, "{before} → {after}");
    }
}
