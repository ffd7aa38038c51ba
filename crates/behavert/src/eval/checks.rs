//! Checks every metric makes of its inputs: bad input is reported, never a panic or a silent
//! zero.

use crate::error::{Error, Result};

/// `Ok` when both lengths agree.
pub(crate) fn same_len(what: &str, left: usize, right: usize) -> Result<()> {
    if left == right {
        Ok(())
    } else {
        Err(Error::length(what, left, right))
    }
}

/// `Ok` when every value is finite.
pub(crate) fn all_finite<'a>(what: &str, values: impl IntoIterator<Item = &'a f64>) -> Result<()> {
    match values.into_iter().enumerate().find(|(_, v)| !v.is_finite()) {
        Some((index, &value)) => Err(Error::NonFinite {
            what: what.to_string(),
            index,
            value,
        }),
        None => Ok(()),
    }
}
