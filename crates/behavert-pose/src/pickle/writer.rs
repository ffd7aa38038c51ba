//! The one pickle writer, for every pickle the project writes: protocol 0 (text), as PyTables
//! stores the attributes of a DeepLabCut HDF5 file, and protocols 3–4 (binary), as `np.save`
//! stores an object array such as a MABe22 submission. Arrays are written as numpy pickles them
//! (`_reconstruct`, then `BUILD` with shape, dtype and the raw bytes), streamed from their source
//! so a large array is never copied to be written.

use std::io::{self, Write};

use ndarray::{ArrayBase, Data, Dimension};

use super::PickleValue;
use super::numpy::Dtype;
use super::opcodes::*;
use super::vm::latin1;

/// The pickle protocols the writer speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// Protocol 0: printable text, no arrays (PyTables' attributes).
    Text,
    /// Protocol 3: binary, byte strings up to 4 GiB (what `np.save` uses).
    Binary3,
    /// Protocol 4: binary, byte strings beyond 4 GiB.
    Binary4,
}

impl Protocol {
    /// The binary protocol `np.save` would use for arrays of at most `largest` bytes.
    pub fn binary_for(largest: usize) -> Self {
        if largest > u32::MAX as usize {
            Self::Binary4
        } else {
            Self::Binary3
        }
    }

    fn binary(self) -> bool {
        self != Self::Text
    }
}

/// Something the writer can encode.
pub trait Pickle {
    /// Push `self` onto the unpickler's stack.
    fn pickle(&self, p: &mut Pickler<'_>) -> io::Result<()>;
}

/// Encode `value` into `out` with `protocol`, ending with `STOP`.
pub fn dump(out: &mut dyn Write, protocol: Protocol, value: &dyn Pickle) -> io::Result<()> {
    let mut p = Pickler { out, protocol };
    match protocol {
        Protocol::Text => {}
        Protocol::Binary3 => p.out.write_all(&[PROTO, 3])?,
        Protocol::Binary4 => p.out.write_all(&[PROTO, 4])?,
    }
    value.pickle(&mut p)?;
    p.op(STOP)
}

/// Encode `value` with `protocol` into a new buffer.
pub fn dumps(protocol: Protocol, value: &dyn Pickle) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    dump(&mut out, protocol, value)?;
    Ok(out)
}

/// Writes opcodes for one protocol; [`Pickle`] implementations call it.
pub struct Pickler<'w> {
    out: &'w mut dyn Write,
    protocol: Protocol,
}

/// CPython batches `APPENDS` and `SETITEMS` by this many items.
const BATCH: usize = 1000;

impl Pickler<'_> {
    fn op(&mut self, code: u8) -> io::Result<()> {
        self.out.write_all(&[code])
    }

    /// `None`.
    pub fn none(&mut self) -> io::Result<()> {
        self.op(NONE)
    }

    /// `True` or `False`.
    pub fn bool(&mut self, b: bool) -> io::Result<()> {
        match (self.protocol.binary(), b) {
            (true, true) => self.op(NEWTRUE),
            (true, false) => self.op(NEWFALSE),
            (false, true) => self.out.write_all(b"I01\n"),
            (false, false) => self.out.write_all(b"I00\n"),
        }
    }

    /// An integer.
    pub fn int(&mut self, v: i64) -> io::Result<()> {
        if !self.protocol.binary() {
            return writeln!(self.out, "I{v}");
        }
        if let Ok(small) = u8::try_from(v) {
            self.out.write_all(&[BININT1, small])
        } else if let Ok(word) = i32::try_from(v) {
            self.op(BININT)?;
            self.out.write_all(&word.to_le_bytes())
        } else {
            self.out.write_all(&[LONG1, 8])?;
            self.out.write_all(&v.to_le_bytes())
        }
    }

    /// A float.
    pub fn float(&mut self, v: f64) -> io::Result<()> {
        if self.protocol.binary() {
            self.op(BINFLOAT)?;
            self.out.write_all(&v.to_be_bytes())
        } else {
            // Python's float() reads Rust's shortest round-trip form, `inf` and `NaN` included.
            writeln!(self.out, "F{v:?}")
        }
    }

    /// A text string.
    pub fn str(&mut self, s: &str) -> io::Result<()> {
        if self.protocol.binary() {
            self.sized(BINUNICODE, BINUNICODE8, s.len())?;
            return self.out.write_all(s.as_bytes());
        }
        self.op(UNICODE)?;
        for c in s.chars() {
            // raw-unicode-escape: only the backslash and line breaks need escaping; other
            // non-ASCII characters are escaped too so the attribute stays ASCII.
            if c.is_ascii() && c != '\\' && c != '\n' && c != '\r' {
                self.out.write_all(&[c as u8])?;
            } else if (c as u32) <= 0xffff {
                write!(self.out, "\\u{:04x}", c as u32)?;
            } else {
                write!(self.out, "\\U{:08x}", c as u32)?;
            }
        }
        self.out.write_all(b"\n")
    }

    /// A byte string, its bytes written by `write` (exactly `len` of them).
    fn bytes_with(
        &mut self,
        len: usize,
        write: &mut dyn FnMut(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()> {
        if let Ok(short) = u8::try_from(len) {
            self.out.write_all(&[SHORT_BINBYTES, short])?;
        } else {
            self.sized(BINBYTES, BINBYTES8, len)?;
        }
        write(self.out)
    }

    /// A byte string. Protocol 0 writes it as text: Python 3 reads protocol-0 byte strings as
    /// text anyway, and DeepLabCut's attributes never hold bytes.
    pub fn bytes(&mut self, b: &[u8]) -> io::Result<()> {
        if self.protocol.binary() {
            self.bytes_with(b.len(), &mut |out| out.write_all(b))
        } else {
            self.str(&latin1(b))
        }
    }

    /// A 4-byte length after `op4`, or an 8-byte one after `op8` where protocol 4 allows it.
    fn sized(&mut self, op4: u8, op8: u8, len: usize) -> io::Result<()> {
        if let Ok(len) = u32::try_from(len) {
            self.op(op4)?;
            self.out.write_all(&len.to_le_bytes())
        } else if self.protocol == Protocol::Binary4 {
            self.op(op8)?;
            self.out.write_all(&(len as u64).to_le_bytes())
        } else {
            Err(unsupported(format!(
                "{len} bytes in one item (pickle protocol 3 holds at most 4 GiB)"
            )))
        }
    }

    /// `GLOBAL module.name` (protocol 0's text form, which every protocol reads).
    pub fn global(&mut self, module: &str, name: &str) -> io::Result<()> {
        self.op(GLOBAL)?;
        writeln!(self.out, "{module}\n{name}")
    }

    /// A tuple of `items`.
    pub fn tuple(&mut self, items: &[&dyn Pickle]) -> io::Result<()> {
        let short = [EMPTY_TUPLE, TUPLE1, TUPLE2, TUPLE3].get(items.len());
        match short.filter(|_| self.protocol.binary()) {
            Some(&code) => {
                for item in items {
                    item.pickle(self)?;
                }
                self.op(code)
            }
            None => {
                self.op(MARK)?;
                for item in items {
                    item.pickle(self)?;
                }
                self.op(TUPLE)
            }
        }
    }

    /// A list of `items`.
    pub fn list(&mut self, items: &[&dyn Pickle]) -> io::Result<()> {
        if !self.protocol.binary() {
            self.out.write_all(&[MARK, LIST])?;
            for item in items {
                item.pickle(self)?;
                self.op(APPEND)?;
            }
            return Ok(());
        }
        self.op(EMPTY_LIST)?;
        for batch in items.chunks(BATCH) {
            self.op(MARK)?;
            for item in batch {
                item.pickle(self)?;
            }
            self.op(APPENDS)?;
        }
        Ok(())
    }

    /// A dict of `entries`, in their order.
    pub fn dict(&mut self, entries: &[(&dyn Pickle, &dyn Pickle)]) -> io::Result<()> {
        if !self.protocol.binary() {
            self.out.write_all(&[MARK, DICT])?;
            for (key, value) in entries {
                key.pickle(self)?;
                value.pickle(self)?;
                self.op(SETITEM)?;
            }
            return Ok(());
        }
        self.op(EMPTY_DICT)?;
        for batch in entries.chunks(BATCH) {
            self.op(MARK)?;
            for (key, value) in batch {
                key.pickle(self)?;
                value.pickle(self)?;
            }
            self.op(SETITEMS)?;
        }
        Ok(())
    }

    /// A numpy array as numpy pickles one: `_reconstruct(ndarray, (0,), b'b')`, then its state
    /// `(1, shape, dtype, fortran_order, data)`, `data` pushed by `data`.
    fn ndarray(
        &mut self,
        shape: &[usize],
        dtype: &Dtype,
        fortran_order: bool,
        data: &dyn Fn(&mut Self) -> io::Result<()>,
    ) -> io::Result<()> {
        if !self.protocol.binary() {
            return Err(unsupported("a numpy array in a protocol-0 pickle".into()));
        }
        let flags = match dtype.kind {
            'b' | 'i' | 'u' | 'f' | 'c' => 0,
            'O' => 63, // numpy's flags for object dtypes (references, item refcount, …)
            kind => {
                return Err(unsupported(format!(
                    "numpy arrays of kind '{kind}' (the writer knows numbers and objects)"
                )));
            }
        };
        self.global("numpy.core.multiarray", "_reconstruct")?;
        self.tuple(&[&Global("numpy", "ndarray"), &Tuple(&[&0i64]), &BytesB])?;
        self.op(REDUCE)?;
        // BUILD's state, streamed: `data` must come last and is not a `Pickle` value.
        self.op(MARK)?;
        self.int(1)?;
        let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let dims: Vec<&dyn Pickle> = dims.iter().map(|d| d as &dyn Pickle).collect();
        self.tuple(&dims)?;
        self.dtype(dtype, flags)?;
        self.bool(fortran_order)?;
        data(self)?;
        self.op(TUPLE)?;
        self.op(BUILD)
    }

    /// `dtype(descr, False, True)` and its state `(3, byte order, None, None, None, -1, -1, flags)`.
    fn dtype(&mut self, dtype: &Dtype, flags: i64) -> io::Result<()> {
        let descr = dtype.descr();
        let (order, kind_and_size) = descr.split_at(1);
        self.global("numpy", "dtype")?;
        self.tuple(&[&kind_and_size, &false, &true])?;
        self.op(REDUCE)?;
        self.tuple(&[
            &3i64,
            &order,
            &PickleValue::None,
            &PickleValue::None,
            &PickleValue::None,
            &-1i64,
            &-1i64,
            &flags,
        ])?;
        self.op(BUILD)
    }
}

fn unsupported(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, format!("cannot pickle {what}"))
}

/// `GLOBAL module.name` as a value.
struct Global(&'static str, &'static str);

impl Pickle for Global {
    fn pickle(&self, p: &mut Pickler<'_>) -> io::Result<()> {
        p.global(self.0, self.1)
    }
}

/// A tuple of borrowed values.
struct Tuple<'a>(&'a [&'a dyn Pickle]);

impl Pickle for Tuple<'_> {
    fn pickle(&self, p: &mut Pickler<'_>) -> io::Result<()> {
        p.tuple(self.0)
    }
}

/// `b'b'`, the placeholder dtype code `ndarray` is reconstructed with.
struct BytesB;

impl Pickle for BytesB {
    fn pickle(&self, p: &mut Pickler<'_>) -> io::Result<()> {
        p.bytes(b"b")
    }
}

/// A dict of borrowed keys and values, in their order.
pub struct Dict<'a>(pub &'a [(&'a dyn Pickle, &'a dyn Pickle)]);

impl Pickle for Dict<'_> {
    fn pickle(&self, p: &mut Pickler<'_>) -> io::Result<()> {
        p.dict(self.0)
    }
}

/// A numpy object array (`dtype('O')`) of borrowed items in C order; `np.save` of a dict
/// writes a 0-d one holding the dict.
pub struct ObjectArray<'a> {
    /// Array shape (empty = 0-d).
    pub shape: &'a [usize],
    /// The elements.
    pub items: &'a [&'a dyn Pickle],
}

impl Pickle for ObjectArray<'_> {
    fn pickle(&self, p: &mut Pickler<'_>) -> io::Result<()> {
        let object = Dtype {
            kind: 'O',
            size: 8,
            big_endian: false,
        };
        p.ndarray(self.shape, &object, false, &|p| p.list(self.items))
    }
}

impl Pickle for PickleValue {
    fn pickle(&self, p: &mut Pickler<'_>) -> io::Result<()> {
        fn refs(items: &[PickleValue]) -> Vec<&dyn Pickle> {
            items.iter().map(|i| i as &dyn Pickle).collect()
        }
        match self {
            PickleValue::None => p.none(),
            PickleValue::Bool(b) => p.bool(*b),
            PickleValue::Int(i) => p.int(*i),
            PickleValue::Float(f) => p.float(*f),
            PickleValue::Str(s) => p.str(s),
            PickleValue::Bytes(b) => p.bytes(b),
            PickleValue::List(items) => p.list(&refs(items)),
            PickleValue::Tuple(items) => p.tuple(&refs(items)),
            PickleValue::Dict(entries) => {
                let entries: Vec<(&dyn Pickle, &dyn Pickle)> = entries
                    .iter()
                    .map(|(k, v)| (k as &dyn Pickle, v as &dyn Pickle))
                    .collect();
                p.dict(&entries)
            }
            PickleValue::NdArray(array) => {
                p.ndarray(&array.shape, &array.dtype, array.fortran_order, &|p| {
                    p.bytes(&array.bytes)
                })
            }
            PickleValue::ObjectArray { shape, items } => ObjectArray {
                shape,
                items: &refs(items),
            }
            .pickle(p),
        }
    }
}

/// A float32 ndarray of any shape, streamed in C order as little-endian `<f4`.
impl<S: Data<Elem = f32>, D: Dimension> Pickle for ArrayBase<S, D> {
    fn pickle(&self, p: &mut Pickler<'_>) -> io::Result<()> {
        let f4 = Dtype {
            kind: 'f',
            size: 4,
            big_endian: false,
        };
        p.ndarray(self.shape(), &f4, false, &|p| {
            p.bytes_with(self.len() * 4, &mut |out| {
                let mut buf = Vec::with_capacity(1 << 16);
                for v in self.iter() {
                    buf.extend_from_slice(&v.to_le_bytes());
                    if buf.len() >= 1 << 16 {
                        out.write_all(&buf)?;
                        buf.clear();
                    }
                }
                out.write_all(&buf)
            })
        })
    }
}

impl Pickle for i64 {
    fn pickle(&self, p: &mut Pickler<'_>) -> io::Result<()> {
        p.int(*self)
    }
}

impl Pickle for bool {
    fn pickle(&self, p: &mut Pickler<'_>) -> io::Result<()> {
        p.bool(*self)
    }
}

impl Pickle for &str {
    fn pickle(&self, p: &mut Pickler<'_>) -> io::Result<()> {
        p.str(self)
    }
}
