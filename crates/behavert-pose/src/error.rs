//! Typed errors: every failure on user data names the file, the place, what was expected and
//! what was found.

use std::path::{Path, PathBuf};

/// Result of an operation on pose data.
pub type Result<T, E = PoseError> = std::result::Result<T, E>;

/// Everything that can go wrong reading, writing or checking pose data.
#[derive(Debug, thiserror::Error)]
pub enum PoseError {
    /// The operating system refused a read or write.
    // The cause is in the message rather than a `source`, so error chains do not repeat it.
    #[error("{}: {cause}", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// The file's content is not what its format promises.
    #[error("{}: {place}: expected {expected}, found {found}", path.display())]
    Format {
        path: PathBuf,
        place: String,
        expected: String,
        found: String,
    },
    /// The data is well-formed but inconsistent (mismatched lengths, unknown names…).
    #[error("{context}: expected {expected}, found {found}")]
    Invalid {
        context: String,
        expected: String,
        found: String,
    },
}

impl PoseError {
    /// An I/O failure on `path`.
    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.as_ref().to_path_buf(),
            cause: source,
        }
    }

    /// A format violation in `path` at `place`.
    pub fn format(
        path: impl AsRef<Path>,
        place: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Self::Format {
            path: path.as_ref().to_path_buf(),
            place: place.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }

    /// Inconsistent data described by `context`.
    pub fn invalid(
        context: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            context: context.into(),
            expected: expected.into(),
            found: found.into(),
        }
    }
}
