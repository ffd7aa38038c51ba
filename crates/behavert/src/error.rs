//! Typed errors of the model crate.

use std::path::PathBuf;

/// Result of a model operation.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

/// Everything that can go wrong building, running, loading or saving a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The operating system refused a read or write.
    // The cause is in the message rather than a `source`, so error chains do not repeat it.
    #[error("{}: {cause}", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// A configuration value is out of range or inconsistent.
    #[error("{place}: expected {expected}, found {found}")]
    Config {
        place: String,
        expected: String,
        found: String,
    },
    /// A checkpoint file does not hold what the configuration promises.
    #[error("{}: {place}: expected {expected}, found {found}", path.display())]
    Checkpoint {
        path: PathBuf,
        place: String,
        expected: String,
        found: String,
    },
    /// An input tensor does not fit the model.
    #[error("model input {place}: expected {expected}, found {found}")]
    Input {
        place: String,
        expected: String,
        found: String,
    },
    /// A device name the build cannot serve.
    #[error("device {name:?}: {reason}")]
    Device { name: String, reason: String },
}

impl ModelError {
    /// An I/O failure on `path`.
    pub fn io(path: impl Into<PathBuf>, cause: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            cause,
        }
    }

    /// A configuration error at `place`.
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

    /// A checkpoint error in `path` at `place`.
    pub fn checkpoint(
        path: impl Into<PathBuf>,
        place: impl Into<String>,
        expected: impl Into<String>,
        found: impl std::fmt::Display,
    ) -> Self {
        Self::Checkpoint {
            path: path.into(),
            place: place.into(),
            expected: expected.into(),
            found: found.to_string(),
        }
    }

    /// An input error at `place`.
    pub fn input(
        place: impl Into<String>,
        expected: impl Into<String>,
        found: impl std::fmt::Display,
    ) -> Self {
        Self::Input {
            place: place.into(),
            expected: expected.into(),
            found: found.to_string(),
        }
    }
}
