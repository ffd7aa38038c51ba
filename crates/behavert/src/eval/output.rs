//! Errors and atomic file writing shared by the plots and `report.html`.
//!
//! The metrics' [`EvalError`] is `Clone + PartialEq` and so cannot carry an `io::Error`;
//! everything that touches files or draws reports an [`OutputError`] instead.

use std::path::{Path, PathBuf};

use super::error::EvalError;

/// Result of writing a plot, a report or reading a training log.
pub type OutputResult<T> = std::result::Result<T, OutputError>;

/// Everything that can go wrong while reading a training log or writing plots and reports.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A file could not be read, written or renamed into place.
    // The cause is in the message rather than a `source`, so error chains do not repeat it.
    #[error("{}: {cause}", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
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
    /// The data to plot or report is inconsistent.
    #[error(transparent)]
    Eval(#[from] EvalError),
}

impl OutputError {
    /// An I/O failure on `path`.
    pub fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            cause,
        }
    }

    /// A drawing failure of the `plot` plot.
    pub fn draw(plot: &str, message: impl std::fmt::Display) -> Self {
        Self::Draw {
            plot: plot.to_string(),
            message: message.to_string(),
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory published under
/// `path` only if nothing has that name, so a reader never sees a half-written file, a failed
/// write leaves no debris (the temporary file is removed when dropped) and no file is ever
/// replaced.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> OutputResult<()> {
    behavert_pose::atomic::write_with(path, |out| {
        out.write_all(bytes)
            .map_err(|e| behavert_pose::PoseError::io(path, e))
    })
    .map_err(|e| OutputError::io(path, std::io::Error::other(e)))
}
