//! A small pickle virtual machine (protocols 0–5) that builds plain values and never imports or
//! runs code: it knows the few globals numpy and pandas data need (`ndarray`/`dtype`/`scalar`
//! reconstruction, `_codecs.encode` for protocol-2 bytes, `set`/`frozenset`/`bytearray`) and
//! refuses every other global by name.
//!
//! Used for PyTables' protocol-0 attributes in DeepLabCut HDF5 files and for object `.npy`
//! files (MABe22 dicts), docs/formats/npy.md, docs/formats/deeplabcut.md.

mod numpy;
pub(crate) mod opcodes;
mod reconstruct;
#[cfg(test)]
mod tests;
mod vm;
mod writer;

pub use numpy::{Dtype, NdArray, fortran_to_c};
pub use writer::{Dict, ObjectArray, Pickle, Pickler, Protocol, dump, dumps};

/// A decoded pickle value.
#[derive(Clone, Debug, PartialEq)]
pub enum PickleValue {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An integer that fits 64 bits.
    Int(i64),
    /// A float.
    Float(f64),
    /// A text string.
    Str(String),
    /// A byte string (also `bytearray`).
    Bytes(Vec<u8>),
    /// A list (also `set`, `frozenset`).
    List(Vec<PickleValue>),
    /// A tuple.
    Tuple(Vec<PickleValue>),
    /// A dict, in insertion order.
    Dict(Vec<(PickleValue, PickleValue)>),
    /// A numeric numpy array: raw element bytes in `dtype`'s byte order.
    NdArray(NdArray),
    /// A numpy object array (`dtype('O')`), elements in C order.
    ObjectArray {
        /// Array shape.
        shape: Vec<usize>,
        /// The elements.
        items: Vec<PickleValue>,
    },
}

impl PickleValue {
    /// The value under string key `key`, for dicts.
    pub fn get(&self, key: &str) -> Option<&PickleValue> {
        match self {
            PickleValue::Dict(items) => items
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The text of a `Str` (or ASCII `Bytes`).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            PickleValue::Str(s) => Some(s),
            PickleValue::Bytes(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    /// The items of a list, tuple or 1-d object array.
    pub fn as_seq(&self) -> Option<&[PickleValue]> {
        match self {
            PickleValue::List(v) | PickleValue::Tuple(v) => Some(v),
            PickleValue::ObjectArray { items, .. } => Some(items),
            _ => None,
        }
    }

    /// An integer (`Int`, `Bool`, or a 0-d integer array).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            PickleValue::Int(i) => Some(*i),
            PickleValue::Bool(b) => Some(*b as i64),
            PickleValue::NdArray(a) if a.len() == 1 && matches!(a.dtype.kind, 'i' | 'u' | 'b') => {
                a.to_f64()?.first().map(|v| *v as i64)
            }
            _ => None,
        }
    }

    /// A number as f64.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            PickleValue::Float(f) => Some(*f),
            PickleValue::NdArray(a) if a.len() == 1 => a.to_f64()?.first().copied(),
            other => other.as_i64().map(|i| i as f64),
        }
    }

    /// A short name of the value's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            PickleValue::None => "None",
            PickleValue::Bool(_) => "a bool",
            PickleValue::Int(_) => "an int",
            PickleValue::Float(_) => "a float",
            PickleValue::Str(_) => "a str",
            PickleValue::Bytes(_) => "bytes",
            PickleValue::List(_) => "a list",
            PickleValue::Tuple(_) => "a tuple",
            PickleValue::Dict(_) => "a dict",
            PickleValue::NdArray(_) => "a numeric array",
            PickleValue::ObjectArray { .. } => "an object array",
        }
    }
}

/// Why a pickle could not be decoded: where, what was expected, what was found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("pickle byte {offset}: expected {expected}, found {found}")]
pub struct PickleError {
    /// Byte offset of the failing opcode.
    pub offset: usize,
    /// What the VM expected there.
    pub expected: String,
    /// What it found.
    pub found: String,
}

/// Decode one pickle from `data` (stops at STOP; trailing bytes are ignored).
pub fn loads(data: &[u8]) -> Result<PickleValue, PickleError> {
    vm::Vm::new(data).run()
}
