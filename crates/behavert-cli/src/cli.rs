//! The command-line grammar: every subcommand, flag and default.

use std::path::PathBuf;

use behavert::model::{ModelSize, Precision};
use clap::{Args, Parser, Subcommand};

/// Learn animal behaviour from pose tracks with a BERT-style transformer.
#[derive(Debug, Parser)]
#[command(name = "behavert", version, about, long_about = None)]
pub struct Cli {
    /// Log verbosity: error, warn, info, debug or trace (RUST_LOG overrides).
    #[arg(long, global = true, default_value = "warn")]
    pub log_level: String,
    /// Compute device: cpu, or cuda / cuda:N / wgpu in builds with those features.
    #[arg(long, global = true, default_value = "cpu")]
    pub device: String,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// End to end on simulated animals: pretrain, fine-tune, evaluate, report.
    Demo(DemoArgs),
    /// What a pose file holds: frames, animals, keypoints, missing data.
    Inspect(InspectArgs),
    /// Self-supervised masked-frame pretraining on unlabelled pose tracks.
    Pretrain(TrainArgs),
    /// Supervised fine-tuning for behaviour labels, from a pretrained model or from scratch.
    Finetune(TrainArgs),
    /// Metrics, plots and an HTML report of a model on labelled data.
    Evaluate(EvaluateArgs),
    /// Per-frame behaviour predictions for pose files.
    Infer(InferArgs),
    /// Per-frame embeddings for pose files.
    Embed(EmbedArgs),
    /// Convert a pose file to another format.
    Convert(ConvertArgs),
    /// Configuration and parameter count of a checkpoint or a model size.
    ModelInfo(ModelInfoArgs),
}

/// Arguments of `behavert demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write checkpoints, predictions and the report.
    #[arg(long, default_value = "demo-output")]
    pub output_dir: PathBuf,
    /// A one-minute version for smoke tests.
    #[arg(long)]
    pub quick: bool,
}

/// Arguments of `behavert inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The pose file (or dataset directory with --dataset).
    pub path: PathBuf,
    /// Read the file as this format instead of detecting it.
    #[arg(long)]
    pub format: Option<String>,
    /// Inspect a dataset directory (calms21, mabe22, sbea, deepethogram, pair-r24m, mabe2025).
    #[arg(long)]
    pub dataset: Option<String>,
    /// The dataset's task (e.g. calms21 task1|task2|task3|unlabeled, mabe22 mouse|fly).
    #[arg(long, requires = "dataset")]
    pub task: Option<String>,
    /// Only the sequences of this group (e.g. a calms21 task3 behaviour).
    #[arg(long, requires = "dataset")]
    pub group: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `behavert pretrain` and `behavert finetune`; each flag overrides its config key.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// A training config (configs/training/*.toml or an experiment recipe).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// A dataset name (calms21, mabe22, …) [data.source = "dataset", data.dataset].
    #[arg(long)]
    pub dataset: Option<String>,
    /// Where the dataset's files are [data.data_dir].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The dataset task (e.g. task1) [data.task].
    #[arg(long)]
    pub task: Option<String>,
    /// Only the dataset's sequences of this group, e.g. one calms21 task3 behaviour
    /// [data.group].
    #[arg(long)]
    pub group: Option<String>,
    /// Pose files to train on, unlabelled [data.source = "files", data.inputs].
    #[arg(long, num_args = 1..)]
    pub input: Vec<PathBuf>,
    /// Labels CSVs for --input, one per file in order [data.labels].
    #[arg(long, num_args = 1.., requires = "input")]
    pub labels: Vec<PathBuf>,
    /// A pretrained checkpoint to start from [model.pretrained].
    #[arg(long)]
    pub pretrained: Option<PathBuf>,
    /// Model size: tiny, small or base [model.size].
    #[arg(long)]
    pub model_size: Option<ModelSize>,
    /// Train only the heads (linear probe) [model.freeze_encoder].
    #[arg(long)]
    pub freeze_encoder: bool,
    /// Run directory for checkpoints and logs (must not hold a run yet).
    #[arg(long)]
    pub output_dir: Option<PathBuf>,
    /// Continue a killed run from its last checkpoint.
    #[arg(long, conflicts_with = "output_dir")]
    pub resume: Option<PathBuf>,
    /// Passes over the training data [training.epochs].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Stop after this many steps [training.max_steps].
    #[arg(long)]
    pub max_steps: Option<u64>,
    /// Windows per batch [training.batch_size].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Peak learning rate [optimizer.learning_rate].
    #[arg(long, allow_hyphen_values = true)]
    pub learning_rate: Option<f64>,
    /// Seed of everything random [training.seed].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Frames per window [window.length].
    #[arg(long)]
    pub window: Option<usize>,
    /// More window lengths to train on (multi-scale), e.g. 128,256 [window.extra_lengths].
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub extra_window_lengths: Vec<usize>,
    /// Fraction of training frames that keep their labels [data.label_fraction].
    #[arg(long)]
    pub label_fraction: Option<f64>,
    /// No progress bar [training.progress = false].
    #[arg(long)]
    pub no_progress: bool,
    /// The encoder's linear products in f32, or bf16 (mixed precision: bf16 operands summed
    /// in f32, on CPUs with AVX-512 BF16; parameters and optimizer stay f32)
    /// [training.precision].
    #[arg(long)]
    pub precision: Option<Precision>,
}

/// Arguments of `behavert evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The checkpoint directory (a run's `best/` or `last/`).
    #[arg(long)]
    pub model: PathBuf,
    /// A dataset name (calms21, mabe22, sbea, deepethogram, pair-r24m); its test split is used.
    #[arg(long, requires = "data_dir", conflicts_with = "input")]
    pub dataset: Option<String>,
    /// Where the dataset's files are.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The dataset task (e.g. task1).
    #[arg(long, requires = "dataset")]
    pub task: Option<String>,
    /// Only the test sequences of this group (e.g. one calms21 task3 behaviour).
    #[arg(long, requires = "dataset")]
    pub group: Option<String>,
    /// Pose files to evaluate on (with --labels, one labels file per pose file).
    #[arg(long, num_args = 1.., required_unless_present = "dataset", requires = "labels")]
    pub input: Vec<PathBuf>,
    /// Labels CSVs (`frame,label` or DeepEthogram one-hot), in the order of --input.
    #[arg(long, num_args = 1..)]
    pub labels: Vec<PathBuf>,
    /// Where to write metrics.json, per_class.csv, predictions/, plots/ and report.html
    /// (must not exist yet, or be empty).
    #[arg(long)]
    pub output_dir: PathBuf,
    /// Shortest bout (frames) of the smoothed predictions (Viterbi pass), reported separately.
    #[arg(long, default_value_t = 5)]
    pub min_bout: usize,
    /// Overlap (IoU) for a predicted bout to match a true one.
    #[arg(long, default_value_t = 0.5)]
    pub bout_iou: f64,
    #[command(flatten)]
    pub windowing: WindowingArgs,
}

/// How pose files are read, laid into windows and run through the model (shared by `infer`,
/// `evaluate` and `embed`).
#[derive(Debug, Args)]
pub struct WindowingArgs {
    /// Read the inputs as this format instead of detecting it.
    #[arg(long)]
    pub format: Option<String>,
    /// Frames per second, for files that do not say (gives `time_s`).
    #[arg(long)]
    pub fps: Option<f64>,
    /// Frames between window starts (default: half the training window).
    #[arg(long)]
    pub stride: Option<usize>,
    /// Windows per forward pass.
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Arithmetic of the encoder's matrix products: f32 (equal to the reference) or bf16
    /// (faster, on CPUs with AVX-512 BF16; accuracy in docs/benchmarks.md).
    #[arg(long, default_value_t = Precision::F32)]
    pub precision: Precision,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// Arguments of `behavert infer`.
#[derive(Debug, Args)]
pub struct InferArgs {
    /// The checkpoint directory (a run's `best/` or `last/`).
    #[arg(long)]
    pub model: PathBuf,
    /// Pose files to label.
    #[arg(long, required = true, num_args = 1..)]
    pub input: Vec<PathBuf>,
    /// The predictions CSV to write (a directory when there are several inputs); the bouts go
    /// beside it as `<stem>_bouts.csv`.
    #[arg(long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub windowing: WindowingArgs,
}

/// Arguments of `behavert embed`.
#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// The checkpoint directory.
    #[arg(long)]
    pub model: PathBuf,
    /// Pose files to embed.
    #[arg(long, num_args = 1.., required_unless_present = "dataset", conflicts_with = "dataset")]
    pub input: Vec<PathBuf>,
    /// The embeddings .npy to write, float32 [frames, dim] (a directory for several inputs).
    #[arg(long, required_unless_present = "mabe22_submission")]
    pub output: Option<PathBuf>,
    /// Embed a dataset's test sequences instead of files (mabe22, for a submission).
    #[arg(long, requires_all = ["data_dir", "mabe22_submission"])]
    pub dataset: Option<String>,
    /// Where the dataset's files are.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Write a MABe22 challenge submission (frame map + at most 128-dim embeddings).
    #[arg(long, requires = "dataset", conflicts_with = "output")]
    pub mabe22_submission: Option<PathBuf>,
    #[command(flatten)]
    pub windowing: WindowingArgs,
}

/// Arguments of `behavert convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The pose file to convert.
    pub path: PathBuf,
    /// Target format: npy, dlc-csv, dlc-h5, sleap-h5.
    #[arg(long)]
    pub to: String,
    /// The file to write (never overwritten).
    #[arg(long)]
    pub output: PathBuf,
    /// Read the input as this format instead of detecting it.
    #[arg(long)]
    pub format: Option<String>,
}

/// Arguments of `behavert model-info`.
#[derive(Debug, Args)]
pub struct ModelInfoArgs {
    /// A checkpoint directory (config.json + model.safetensors).
    #[arg(required_unless_present = "size", conflicts_with = "size")]
    pub checkpoint: Option<PathBuf>,
    /// Describe a freshly initialised model of this size instead: tiny, small or base.
    #[arg(long)]
    pub size: Option<ModelSize>,
    /// Features per frame of the fresh model (with --size).
    #[arg(long, default_value_t = 28, requires = "size")]
    pub input_dim: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}
