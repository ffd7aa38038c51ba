//! Typed errors: every failure on user data names the file, the place, what was expected and
//! what was found.

use std::path::{Path, PathBuf};

/// What was expected at a place and what was found there: the core of every error on user
/// data, in both crates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// Where: a line and column, a dataset, a config key (empty when the path says it all).
    pub place: String,
    /// What should be there, in the user's words.
    pub expected: String,
    /// What is there.
    pub found: String,
}

impl Mismatch {
    /// A mismatch at `place`.
    pub fn new(
        place: impl Into<String>,
        expected: impl Into<String>,
        found: impl std::fmt::Display,
    ) -> Self {
        Self {
            place: place.into(),
            expected: expected.into(),
            found: found.to_string(),
        }
    }
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.place.is_empty() {
            write!(f, "{}: ", self.place)?;
        }
        write!(f, "expected {}, found {}", self.expected, self.found)
    }
}

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
    #[error("{}: {mismatch}", path.display())]
    Format { path: PathBuf, mismatch: Mismatch },
    /// The data is well-formed but inconsistent (mismatched lengths, unknown names…).
    #[error("{0}")]
    Invalid(Mismatch),
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
            mismatch: Mismatch::new(place, expected, found.into()),
        }
    }

    /// Inconsistent data described by `context`.
    pub fn invalid(
        context: impl Into<String>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> Self {
        Self::Invalid(Mismatch::new(context, expected, found.into()))
    }
}
