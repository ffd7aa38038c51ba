//! The one error type of this crate: every failure names what it is about — a file, a config
//! key, a recording — what was expected there and what was found ([`Mismatch`], shared with
//! `behavert-pose`).

use std::path::PathBuf;

pub use behavert_pose::Mismatch;

/// Result of the model, training, inference and evaluation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The operating system refused a read or write.
    // The cause is in the message rather than a `source`, so error chains do not repeat it.
    #[error("{}: {cause}", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// A config value (model, training, command-line option) is out of its range.
    #[error("{0}")]
    Config(Mismatch),
    /// The data (poses, labels, targets) does not fit what the model or run needs.
    #[error("{0}")]
    Data(Mismatch),
    /// A checkpoint or run folder, or a file in one, is damaged or does not match.
    #[error("{}: {mismatch}", path.display())]
    File { path: PathBuf, mismatch: Mismatch },
    /// Tensors handed to the network have the wrong shape.
    #[error("model input {0}")]
    Input(Mismatch),
    /// The requested compute device is not available.
    #[error("device {name:?}: {reason}")]
    Device { name: String, reason: String },
    /// Training produced a non-finite loss.
    #[error("step {step}: the loss is {value}; lower the learning rate or check the data")]
    Diverged { step: u64, value: f32 },
    /// Reading or preprocessing pose data failed.
    #[error(transparent)]
    Pose(#[from] behavert_pose::PoseError),
    /// Two inputs of a metric or plot that must describe the same frames differ in length.
    #[error("{what}: lengths differ: {left} vs {right}")]
    LengthMismatch {
        what: String,
        left: usize,
        right: usize,
    },
    /// Nothing to score: no frames, or every frame unlabelled.
    #[error("{what}: no labelled frames to score")]
    Empty { what: String },
    /// A class id is not below the number of classes.
    #[error("{what}: class id {id} at frame {frame} is not below the number of classes {classes}")]
    LabelOutOfRange {
        what: String,
        frame: usize,
        id: u32,
        classes: usize,
    },
    /// A score, probability or feature is NaN or infinite.
    #[error("{what}: value at index {index} is not finite ({value})")]
    NonFinite {
        what: String,
        index: usize,
        value: f64,
    },
    /// The plotting library refused to draw (bad canvas, font or coordinates).
    #[error("drawing the {plot} plot failed: {message}")]
    Draw { plot: String, message: String },
    /// A PNG could not be encoded.
    #[error("encoding {what} as PNG failed: {message}")]
    Png { what: String, message: String },
    /// A `metrics.csv` training log does not follow its schema.
    #[error("{source_name}, line {line}: {message}")]
    TrainingLog {
        source_name: String,
        line: u64,
        message: String,
    },
}

impl Error {
    /// An I/O failure on `path`.
    pub fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            cause,
        }
    }

    /// A config value at `place` (e.g. `optimizer.learning_rate`) that is not `expected`.
    pub fn config(
        place: impl Into<String>,
        expected: impl Into<String>,
        found: impl std::fmt::Display,
    ) -> Self {
        Self::Config(Mismatch::new(place, expected, found))
    }

    /// Data at `place` (a recording, its labels) that is not `expected`.
    pub fn data(
        place: impl Into<String>,
        expected: impl Into<String>,
        found: impl std::fmt::Display,
    ) -> Self {
        Self::Data(Mismatch::new(place, expected, found))
    }

    /// A file of a checkpoint whose `place` is not `expected`.
    pub fn checkpoint(
        path: impl Into<PathBuf>,
        place: impl Into<String>,
        expected: impl Into<String>,
        found: impl std::fmt::Display,
    ) -> Self {
        Self::File {
            path: path.into(),
            mismatch: Mismatch::new(place, expected, found),
        }
    }

    /// A run or output folder (or a file in it) that is not `expected`.
    pub fn run_dir(
        path: impl Into<PathBuf>,
        expected: impl Into<String>,
        found: impl std::fmt::Display,
    ) -> Self {
        Self::checkpoint(path, "", expected, found)
    }

    /// Lengths of `what` differ.
    pub fn length(what: impl Into<String>, left: usize, right: usize) -> Self {
        Self::LengthMismatch {
            what: what.into(),
            left,
            right,
        }
    }

    /// Nothing to score in `what`.
    pub fn empty(what: impl Into<String>) -> Self {
        Self::Empty { what: what.into() }
    }

    /// A drawing failure of the `plot` plot.
    pub fn draw(plot: &str, message: impl std::fmt::Display) -> Self {
        Self::Draw {
            plot: plot.to_string(),
            message: message.to_string(),
        }
    }

    /// A model input at `place` with the wrong shape.
    pub fn input(
        place: impl Into<String>,
        expected: impl Into<String>,
        found: impl std::fmt::Display,
    ) -> Self {
        Self::Input(Mismatch::new(place, expected, found))
    }
}
