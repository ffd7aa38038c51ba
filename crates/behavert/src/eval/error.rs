//! Typed errors of the metrics: bad input is reported, never a panic or a silent zero.

/// Result of a metric computation.
pub type Result<T, E = EvalError> = std::result::Result<T, E>;

/// Everything that can be wrong with the input of a metric.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EvalError {
    /// Two inputs that must describe the same frames have different lengths.
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
    /// A parameter or input value is outside what the metric accepts.
    #[error("{what}: expected {expected}, found {found}")]
    Invalid {
        what: String,
        expected: String,
        found: String,
    },
}

impl EvalError {
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

    /// A value of `what` is not what the metric accepts.
    pub fn invalid(
        what: impl Into<String>,
        expected: impl Into<String>,
        found: impl std::fmt::Display,
    ) -> Self {
        Self::Invalid {
            what: what.into(),
            expected: expected.into(),
            found: found.to_string(),
        }
    }
}

/// `Ok` when both lengths agree.
pub(crate) fn same_len(what: &str, left: usize, right: usize) -> Result<()> {
    if left == right {
        Ok(())
    } else {
        Err(EvalError::length(what, left, right))
    }
}

/// `Ok` when every value is finite.
pub(crate) fn all_finite<'a>(what: &str, values: impl IntoIterator<Item = &'a f64>) -> Result<()> {
    match values.into_iter().enumerate().find(|(_, v)| !v.is_finite()) {
        Some((index, &value)) => Err(EvalError::NonFinite {
            what: what.to_string(),
            index,
            value,
        }),
        None => Ok(()),
    }
}
