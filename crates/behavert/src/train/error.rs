//! Typed errors of training: bad configs are caught before any work starts.

use std::path::PathBuf;

/// Result of a training operation.
pub type Result<T, E = TrainError> = std::result::Result<T, E>;

/// Everything that can stop a training run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A config value is missing, unknown, out of range or inconsistent with the data.
    #[error("{place}: expected {expected}, found {found}")]
    Config {
        place: String,
        expected: String,
        found: String,
    },
    /// The data cannot be trained on (no windows, no labels, shapes that disagree).
    #[error("training data: {place}: expected {expected}, found {found}")]
    Data {
        place: String,
        expected: String,
        found: String,
    },
    /// A run directory or resume state that does not hold what it should.
    #[error("{}: expected {expected}, found {found}", path.display())]
    RunDir {
        path: PathBuf,
        expected: String,
        found: String,
    },
    /// The operating system refused a read or write.
    #[error("{}: {cause}", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// The model refused its config, input or checkpoint.
    #[error(transparent)]
    Model(#[from] crate::error::ModelError),
    /// The pose pipeline refused the data.
    #[error(transparent)]
    Pose(#[from] behavert_pose::error::PoseError),
    /// A metric could not be computed.
    #[error(transparent)]
    Eval(#[from] crate::eval::error::EvalError),
    /// A plot, report or training log could not be written or read.
    #[error(transparent)]
    Output(#[from] crate::eval::output::OutputError),
    /// The loss stopped being a number.
    #[error("step {step}: the loss is {value}; lower the learning rate or check the data")]
    Diverged { step: u64, value: f32 },
}

impl TrainError {
    /// A config error at `place`.
    pub fn config(
        place: impl Into<String>,
        expected: impl Into<String>,
        found: impl std::fmt::Display,
    ) -> Self {
        Self::Config {
            place: place.into(),
            expected: expected.into(),
            found: found.to_string(),
        }
    }

    /// A data error at `place`.
    pub fn data(
        place: impl Into<String>,
        expected: impl Into<String>,
        found: impl std::fmt::Display,
    ) -> Self {
        Self::Data {
            place: place.into(),
            expected: expected.into(),
            found: found.to_string(),
        }
    }

    /// A run-directory error at `path`.
    pub fn run_dir(
        path: impl Into<PathBuf>,
        expected: impl Into<String>,
        found: impl std::fmt::Display,
    ) -> Self {
        Self::RunDir {
            path: path.into(),
            expected: expected.into(),
            found: found.to_string(),
        }
    }

    /// An I/O failure on `path`.
    pub fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            cause,
        }
    }
}
