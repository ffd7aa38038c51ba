//! A small pickle virtual machine (protocols 0–5) that builds plain values and never imports or
//! runs code: it knows the few globals numpy and pandas data need (`ndarray`/`dtype`/`scalar`
//! reconstruction, `_codecs.encode` for protocol-2 bytes, `set`/`frozenset`/`bytearray`) and
//! refuses every other global by name.
//!
//! Used for PyTables' protocol-0 attributes in DeepLabCut HDF5 files and for object `.npy`
//! files (MABe22 dicts), docs/formats/npy.md, docs/formats/deeplabcut.md.

pub(crate) mod opcodes;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use opcodes::*;

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

/// A numpy array of fixed-size elements.
#[derive(Clone, Debug, PartialEq)]
pub struct NdArray {
    /// Element type.
    pub dtype: Dtype,
    /// Shape (empty = 0-d).
    pub shape: Vec<usize>,
    /// True when `bytes` are in column-major (Fortran) order.
    pub fortran_order: bool,
    /// The elements' bytes.
    pub bytes: Vec<u8>,
}

/// A numpy element type: kind (`f`, `i`, `u`, `b`, `c`, `S`, `U`, `V`, `O`), size, byte order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dtype {
    /// numpy kind character.
    pub kind: char,
    /// Bytes per element.
    pub size: usize,
    /// True for big-endian data.
    pub big_endian: bool,
}

impl Dtype {
    /// Parse a numpy type string such as `<f4`, `|u1`, `>i8`, `f8`, `O8`, `b1`, `?`.
    pub fn parse(descr: &str) -> Option<Self> {
        let (big_endian, rest) = match descr.as_bytes().first()? {
            b'<' | b'=' | b'|' => (false, &descr[1..]),
            b'>' | b'!' => (true, &descr[1..]),
            _ => (false, descr),
        };
        if rest == "?" {
            return Some(Self {
                kind: 'b',
                size: 1,
                big_endian,
            });
        }
        let mut chars = rest.chars();
        let kind = chars.next()?;
        let size: usize = match chars.as_str() {
            "" if kind == 'O' => 8,
            "" => return None,
            digits => digits.parse().ok()?,
        };
        let size = if kind == 'U' { size * 4 } else { size };
        matches!(
            kind,
            'f' | 'i' | 'u' | 'b' | 'c' | 'S' | 'U' | 'V' | 'O' | 'M' | 'm'
        )
        .then_some(Self {
            kind,
            size,
            big_endian,
        })
    }

    /// The numpy type string (`<f4`).
    pub fn descr(&self) -> String {
        let order = if self.size == 1 || matches!(self.kind, 'S' | 'V' | 'O') {
            '|'
        } else if self.big_endian {
            '>'
        } else {
            '<'
        };
        let size = if self.kind == 'U' {
            self.size / 4
        } else {
            self.size
        };
        format!("{order}{}{size}", self.kind)
    }
}

impl NdArray {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// True when the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every element as f64, in C order (bool/int/uint/float dtypes), or `None` for other kinds
    /// or a byte count that does not match the shape.
    pub fn to_f64(&self) -> Option<Vec<f64>> {
        let size = self.dtype.size;
        if size == 0 || self.bytes.len() != self.len().checked_mul(size)? {
            return None;
        }
        let be = self.dtype.big_endian;
        let mut out = Vec::with_capacity(self.len());
        for chunk in self.bytes.chunks_exact(size) {
            let mut b = [0u8; 8];
            b[..size.min(8)].copy_from_slice(&chunk[..size.min(8)]);
            if be {
                b[..size.min(8)].reverse();
            }
            let v = match (self.dtype.kind, size) {
                ('f', 8) => f64::from_le_bytes(b),
                ('f', 4) => f32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
                ('f', 2) => half_to_f64(u16::from_le_bytes([b[0], b[1]])),
                ('i', 1) => b[0] as i8 as f64,
                ('i', 2) => i16::from_le_bytes([b[0], b[1]]) as f64,
                ('i', 4) => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
                ('i', 8) => i64::from_le_bytes(b) as f64,
                ('u' | 'b', 1) => b[0] as f64,
                ('u', 2) => u16::from_le_bytes([b[0], b[1]]) as f64,
                ('u', 4) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f64,
                ('u', 8) => u64::from_le_bytes(b) as f64,
                _ => return None,
            };
            out.push(v);
        }
        if self.fortran_order && self.shape.len() > 1 {
            out = fortran_to_c(&out, &self.shape);
        }
        Some(out)
    }
}

fn half_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let frac = (h & 0x3ff) as f64;
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 if frac == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        _ => sign * (1.0 + frac / 1024.0) * 2f64.powi(exp - 15),
    }
}

/// Reorder column-major `values` of `shape` into row-major order.
pub fn fortran_to_c<T: Copy>(values: &[T], shape: &[usize]) -> Vec<T> {
    let n = values.len();
    let mut out = Vec::with_capacity(n);
    let mut index = vec![0usize; shape.len()];
    for _ in 0..n {
        // Position of the C-order multi-index in Fortran order.
        let mut offset = 0;
        let mut stride = 1;
        for (d, &i) in index.iter().enumerate() {
            offset += i * stride;
            stride *= shape[d];
        }
        out.push(values[offset]);
        for d in (0..shape.len()).rev() {
            index[d] += 1;
            if index[d] < shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
    out
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
    Vm {
        data,
        pos: 0,
        op_at: 0,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        expansion_left: std::cell::Cell::new(
            MIN_EXPANSION.saturating_add((data.len() as u64).saturating_mul(EXPANSION_FACTOR)),
        ),
    }
    .run()
}

/// Whether `value` is or holds (at any depth) the container at `target`. Python lets a list
/// hold itself; here such a cycle would leak and make every later walk of the value endless,
/// so no container may receive a value that reaches it. Shared containers are visited once.
fn reaches(value: &Value, target: *const u8) -> bool {
    // Only containers can lead anywhere; cloning one clones its `Rc`, not its contents.
    let container = |v: &&Value| matches!(v, Value::List(_) | Value::Dict(_) | Value::Tuple(_));
    let mut visited = std::collections::HashSet::new();
    let mut stack: Vec<Value> = std::iter::once(value).filter(container).cloned().collect();
    while let Some(value) = stack.pop() {
        let at: *const u8 = match &value {
            Value::List(list) => Rc::as_ptr(list).cast(),
            Value::Dict(dict) => Rc::as_ptr(dict).cast(),
            Value::Tuple(items) => Rc::as_ptr(items).cast(),
            _ => continue,
        };
        if at == target {
            return true;
        }
        if !visited.insert(at) {
            continue;
        }
        match &value {
            Value::List(list) => stack.extend(list.borrow().iter().filter(container).cloned()),
            Value::Dict(dict) => stack.extend(
                dict.borrow()
                    .iter()
                    .flat_map(|(k, v)| [k, v])
                    .filter(container)
                    .cloned(),
            ),
            Value::Tuple(items) => stack.extend(items.iter().filter(container).cloned()),
            _ => {}
        }
    }
    false
}

// Internal values: containers are shared so the memo sees later appends, as in Python.
#[derive(Clone, Debug)]
enum Value {
    Plain(PickleValue),
    List(Rc<RefCell<Vec<Value>>>),
    Dict(Rc<RefCell<Vec<(Value, Value)>>>),
    Tuple(Rc<Vec<Value>>),
    Global(Global),
    DtypeObj(Rc<RefCell<Dtype>>),
    // An ndarray created by `_reconstruct`, waiting for its BUILD state.
    PendingArray(Rc<RefCell<Option<PickleValue>>>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Global {
    Reconstruct,
    NdarrayType,
    Dtype,
    Scalar,
    CodecsEncode,
    Set,
    Bytearray,
    /// `numpy.core.numeric._frombuffer(buffer, dtype, shape, order)`: how numpy pickles arrays
    /// under protocol 5 (in-band buffers).
    FromBuffer,
}

fn global(module: &str, name: &str) -> Option<Global> {
    Some(match (module, name) {
        ("numpy.core.multiarray" | "numpy._core.multiarray", "_reconstruct") => Global::Reconstruct,
        ("numpy", "ndarray") => Global::NdarrayType,
        ("numpy", "dtype") => Global::Dtype,
        ("numpy.core.multiarray" | "numpy._core.multiarray", "scalar") => Global::Scalar,
        ("_codecs", "encode") => Global::CodecsEncode,
        ("builtins" | "__builtin__", "set" | "frozenset") => Global::Set,
        ("builtins" | "__builtin__", "bytearray") => Global::Bytearray,
        ("numpy.core.numeric" | "numpy._core.numeric", "_frombuffer") => Global::FromBuffer,
        _ => return None,
    })
}

const MAX_DEPTH: usize = 512;

/// The decoded value may take this many bytes per byte of pickle, plus [`MIN_EXPANSION`]: a
/// real file stores each object once, while one that references the same container over and
/// over (DUP, memo gets) would expand exponentially into a tree.
const EXPANSION_FACTOR: u64 = 64;
const MIN_EXPANSION: u64 = 64 << 20;

struct Vm<'a> {
    data: &'a [u8],
    pos: usize,
    op_at: usize,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<u64, Value>,
    /// Bytes the decoded values may still take (see [`EXPANSION_FACTOR`]).
    expansion_left: std::cell::Cell<u64>,
}

type R<T> = Result<T, PickleError>;

impl<'a> Vm<'a> {
    fn err<T>(&self, expected: impl Into<String>, found: impl Into<String>) -> R<T> {
        Err(PickleError {
            offset: self.op_at,
            expected: expected.into(),
            found: found.into(),
        })
    }

    fn take(&mut self, n: usize) -> R<&'a [u8]> {
        if n > self.data.len() - self.pos {
            return self.err(
                format!("{n} more bytes"),
                format!("the end of the data ({} left)", self.data.len() - self.pos),
            );
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self) -> R<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> R<u16> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> R<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> R<u64> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }
    fn len64(&mut self) -> R<usize> {
        let n = self.u64()?;
        usize::try_from(n).or_else(|_| self.err("a length that fits memory", n.to_string()))
    }

    fn line(&mut self) -> R<&'a str> {
        let rest = &self.data[self.pos..];
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return self.err("a newline-terminated argument", "the end of the data");
        };
        self.pos += end + 1;
        let line = &rest[..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        std::str::from_utf8(line).or_else(|_| self.err("an ASCII argument", "non-UTF-8 bytes"))
    }

    fn pop(&mut self) -> R<Value> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return self.err("a value on the stack", "an empty stack");
        }
        self.stack
            .pop()
            .map_or_else(|| self.err("a value on the stack", "an empty stack"), Ok)
    }

    fn top(&mut self) -> R<&mut Value> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return self.err("a value on the stack", "an empty stack");
        }
        let at = self.op_at;
        self.stack.last_mut().ok_or(PickleError {
            offset: at,
            expected: "a value".into(),
            found: "an empty stack".into(),
        })
    }

    fn pop_mark(&mut self) -> R<Vec<Value>> {
        let Some(mark) = self.marks.pop() else {
            return self.err("a MARK before this opcode", "no MARK");
        };
        Ok(self.stack.split_off(mark.min(self.stack.len())))
    }

    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn push_plain(&mut self, v: PickleValue) {
        self.stack.push(Value::Plain(v));
    }

    fn memo_get(&mut self, key: u64) -> R<()> {
        match self.memo.get(&key) {
            Some(v) => {
                let v = v.clone();
                self.push(v);
                Ok(())
            }
            None => self.err(format!("memo entry {key}"), "no such entry"),
        }
    }

    fn memo_put(&mut self, key: u64) -> R<()> {
        let v = self.top()?.clone();
        self.memo.insert(key, v);
        Ok(())
    }

    fn run(mut self) -> R<PickleValue> {
        loop {
            self.op_at = self.pos;
            let op = self.u8()?;
            match op {
                STOP => {
                    let v = self.pop()?;
                    return self.finish(v, 0);
                }
                MARK => self.marks.push(self.stack.len()),
                POP => {
                    self.pop()?;
                }
                POP_MARK => {
                    self.pop_mark()?;
                }
                DUP => {
                    let v = self.top()?.clone();
                    self.push(v);
                }
                NONE => self.push_plain(PickleValue::None),
                NEWTRUE => self.push_plain(PickleValue::Bool(true)),
                NEWFALSE => self.push_plain(PickleValue::Bool(false)),
                INT => {
                    let line = self.line()?;
                    let v = match line {
                        "01" => PickleValue::Bool(true),
                        "00" => PickleValue::Bool(false),
                        s => PickleValue::Int(
                            s.parse()
                                .or_else(|_| self.err("an integer", format!("`{s}`")))?,
                        ),
                    };
                    self.push_plain(v);
                }
                LONG => {
                    let line = self.line()?;
                    let s = line.strip_suffix('L').unwrap_or(line);
                    let v = s.parse().or_else(|_| {
                        self.err("an integer that fits 64 bits", format!("`{line}`"))
                    })?;
                    self.push_plain(PickleValue::Int(v));
                }
                BININT => {
                    let v = self.u32()? as i32;
                    self.push_plain(PickleValue::Int(v as i64));
                }
                BININT1 => {
                    let v = self.u8()?;
                    self.push_plain(PickleValue::Int(v as i64));
                }
                BININT2 => {
                    let v = self.u16()?;
                    self.push_plain(PickleValue::Int(v as i64));
                }
                LONG1 => {
                    let n = self.u8()? as usize;
                    let v = self.long(n)?;
                    self.push_plain(PickleValue::Int(v));
                }
                LONG4 => {
                    let n = self.u32()? as usize;
                    let v = self.long(n)?;
                    self.push_plain(PickleValue::Int(v));
                }
                FLOAT => {
                    let line = self.line()?;
                    let v = line
                        .trim()
                        .parse()
                        .or_else(|_| self.err("a float", format!("`{line}`")))?;
                    self.push_plain(PickleValue::Float(v));
                }
                BINFLOAT => {
                    let b = self.take(8)?;
                    let v = f64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
                    self.push_plain(PickleValue::Float(v));
                }
                STRING => {
                    let line = self.line()?;
                    let s = self.py_string_literal(line)?;
                    self.push_plain(PickleValue::Str(s));
                }
                BINSTRING => {
                    let n = self.u32()? as usize;
                    let b = self.take(n)?;
                    self.push_plain(PickleValue::Str(latin1(b)));
                }
                SHORT_BINSTRING => {
                    let n = self.u8()? as usize;
                    let b = self.take(n)?;
                    self.push_plain(PickleValue::Str(latin1(b)));
                }
                UNICODE => {
                    let line = self.line()?;
                    let s = raw_unicode_escape(line).map_or_else(
                        || self.err("a raw-unicode-escape string", format!("`{line}`")),
                        Ok,
                    )?;
                    self.push_plain(PickleValue::Str(s));
                }
                BINUNICODE => {
                    let n = self.u32()? as usize;
                    let s = self.utf8(n)?;
                    self.push_plain(PickleValue::Str(s));
                }
                SHORT_BINUNICODE => {
                    let n = self.u8()? as usize;
                    let s = self.utf8(n)?;
                    self.push_plain(PickleValue::Str(s));
                }
                BINUNICODE8 => {
                    let n = self.len64()?;
                    let s = self.utf8(n)?;
                    self.push_plain(PickleValue::Str(s));
                }
                BINBYTES => {
                    let n = self.u32()? as usize;
                    let b = self.take(n)?.to_vec();
                    self.push_plain(PickleValue::Bytes(b));
                }
                SHORT_BINBYTES => {
                    let n = self.u8()? as usize;
                    let b = self.take(n)?.to_vec();
                    self.push_plain(PickleValue::Bytes(b));
                }
                BINBYTES8 | BYTEARRAY8 => {
                    let n = self.len64()?;
                    let b = self.take(n)?.to_vec();
                    self.push_plain(PickleValue::Bytes(b));
                }
                EMPTY_LIST => self.push(Value::List(Rc::default())),
                LIST => {
                    let items = self.pop_mark()?;
                    self.push(Value::List(Rc::new(RefCell::new(items))));
                }
                EMPTY_DICT => self.push(Value::Dict(Rc::default())),
                DICT => {
                    let items = self.pop_mark()?;
                    let pairs = self.pairs(items)?;
                    self.push(Value::Dict(Rc::new(RefCell::new(pairs))));
                }
                EMPTY_TUPLE => self.push(Value::Tuple(Rc::new(Vec::new()))),
                TUPLE => {
                    let items = self.pop_mark()?;
                    self.push(Value::Tuple(Rc::new(items)));
                }
                TUPLE1..=TUPLE3 => {
                    let n = (op - 0x84) as usize;
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.pop()?);
                    }
                    items.reverse();
                    self.push(Value::Tuple(Rc::new(items)));
                }
                EMPTY_SET => self.push(Value::List(Rc::default())),
                FROZENSET => {
                    let items = self.pop_mark()?;
                    self.push(Value::List(Rc::new(RefCell::new(items))));
                }
                APPEND => {
                    let v = self.pop()?;
                    self.append(vec![v])?;
                }
                APPENDS | ADDITEMS => {
                    let items = self.pop_mark()?;
                    self.append(items)?;
                }
                SETITEM => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    self.set_items(vec![(k, v)])?;
                }
                SETITEMS => {
                    let items = self.pop_mark()?;
                    let pairs = self.pairs(items)?;
                    self.set_items(pairs)?;
                }
                PUT => {
                    let line = self.line()?;
                    let key = line
                        .parse()
                        .or_else(|_| self.err("a memo index", format!("`{line}`")))?;
                    self.memo_put(key)?;
                }
                BINPUT => {
                    let key = self.u8()? as u64;
                    self.memo_put(key)?;
                }
                LONG_BINPUT => {
                    let key = self.u32()? as u64;
                    self.memo_put(key)?;
                }
                MEMOIZE => {
                    let key = self.memo.len() as u64;
                    self.memo_put(key)?;
                }
                GET => {
                    let line = self.line()?;
                    let key = line
                        .parse()
                        .or_else(|_| self.err("a memo index", format!("`{line}`")))?;
                    self.memo_get(key)?;
                }
                BINGET => {
                    let key = self.u8()? as u64;
                    self.memo_get(key)?;
                }
                LONG_BINGET => {
                    let key = self.u32()? as u64;
                    self.memo_get(key)?;
                }
                GLOBAL => {
                    let module = self.line()?;
                    let name = self.line()?;
                    let g = self.resolve(module, name)?;
                    self.push(Value::Global(g));
                }
                STACK_GLOBAL => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (
                        Value::Plain(PickleValue::Str(module)),
                        Value::Plain(PickleValue::Str(name)),
                    ) = (module, name)
                    else {
                        return self
                            .err("module and name strings for STACK_GLOBAL", "other values");
                    };
                    let g = self.resolve(&module, &name)?;
                    self.push(Value::Global(g));
                }
                REDUCE => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let v = self.reduce(callable, args)?;
                    self.push(v);
                }
                NEWOBJ => {
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    let v = self.reduce(cls, args)?;
                    self.push(v);
                }
                BUILD => {
                    let state = self.pop()?;
                    let target = self.top()?.clone();
                    self.build(target, state)?;
                }
                PROTO => {
                    let proto = self.u8()?;
                    if proto > 5 {
                        return self.err("pickle protocol 0 to 5", format!("protocol {proto}"));
                    }
                }
                FRAME => {
                    self.u64()?;
                }
                READONLY_BUFFER => {}
                PERSID | BINPERSID => {
                    return self.err(
                        "plain data",
                        "a persistent id (PERSID), which needs the writer's own loader",
                    );
                }
                INST | OBJ | NEWOBJ_EX => {
                    return self.err(
                        "plain data",
                        "an object built from a class (INST/OBJ/NEWOBJ_EX)",
                    );
                }
                EXT1..=EXT4 => {
                    return self.err("plain data", "an extension-registry reference (EXT)");
                }
                NEXT_BUFFER => {
                    return self.err("plain data", "an out-of-band buffer (NEXT_BUFFER)");
                }
                other => return self.err("a pickle opcode", format!("byte 0x{other:02x}")),
            }
        }
    }

    fn resolve(&self, module: &str, name: &str) -> R<Global> {
        global(module, name).map_or_else(
            || self.err("a numpy/pandas data global (numpy _reconstruct, ndarray, dtype, scalar; _codecs.encode; set)", format!("global `{module}.{name}`, which is refused")),
            Ok,
        )
    }

    fn long(&mut self, n: usize) -> R<i64> {
        if n > 8 {
            return self.err(
                "an integer that fits 64 bits",
                format!("a {n}-byte integer"),
            );
        }
        let b = self.take(n)?;
        if n == 0 {
            return Ok(0);
        }
        let negative = b[n - 1] & 0x80 != 0;
        let mut buf = [if negative { 0xff } else { 0 }; 8];
        buf[..n].copy_from_slice(b);
        Ok(i64::from_le_bytes(buf))
    }

    fn utf8(&mut self, n: usize) -> R<String> {
        let b = self.take(n)?;
        match std::str::from_utf8(b) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => self.err("UTF-8 text", "invalid UTF-8"),
        }
    }

    fn py_string_literal(&self, line: &str) -> R<String> {
        let inner = line
            .strip_prefix('\'')
            .and_then(|s| s.strip_suffix('\''))
            .or_else(|| line.strip_prefix('"').and_then(|s| s.strip_suffix('"')));
        let Some(inner) = inner else {
            return self.err("a quoted string", format!("`{line}`"));
        };
        let mut out = Vec::new();
        let bytes = inner.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'\\' || i + 1 == bytes.len() {
                out.push(bytes[i]);
                i += 1;
                continue;
            }
            i += 1;
            match bytes[i] {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'0' => out.push(0),
                b'x' if i + 2 < bytes.len() + 1 => {
                    let hex = inner
                        .get(i + 1..i + 3)
                        .and_then(|h| u8::from_str_radix(h, 16).ok());
                    match hex {
                        Some(v) => {
                            out.push(v);
                            i += 2;
                        }
                        None => return self.err("a \\x escape", format!("`{line}`")),
                    }
                }
                other => out.push(other),
            }
            i += 1;
        }
        Ok(latin1(&out))
    }

    fn pairs(&self, items: Vec<Value>) -> R<Vec<(Value, Value)>> {
        if !items.len().is_multiple_of(2) {
            return self.err("key/value pairs", format!("{} items", items.len()));
        }
        let mut it = items.into_iter();
        let mut pairs = Vec::new();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            pairs.push((k, v));
        }
        Ok(pairs)
    }

    fn append(&mut self, items: Vec<Value>) -> R<()> {
        match self.top()? {
            Value::List(list) => {
                let target = Rc::as_ptr(list).cast::<u8>();
                if items.iter().any(|item| reaches(item, target)) {
                    return self.err("a list that does not contain itself", "a cycle");
                }
                list.borrow_mut().extend(items);
                Ok(())
            }
            _ => self.err("a list to append to", "another value"),
        }
    }

    fn set_items(&mut self, pairs: Vec<(Value, Value)>) -> R<()> {
        match self.top()? {
            Value::Dict(dict) => {
                let target = Rc::as_ptr(dict).cast::<u8>();
                if pairs
                    .iter()
                    .any(|(k, v)| reaches(k, target) || reaches(v, target))
                {
                    return self.err("a dict that does not contain itself", "a cycle");
                }
                dict.borrow_mut().extend(pairs);
                Ok(())
            }
            _ => self.err("a dict to set items in", "another value"),
        }
    }

    fn args(&self, args: Value) -> R<Vec<Value>> {
        match args {
            Value::Tuple(items) => Ok(items.as_ref().clone()),
            _ => self.err("an argument tuple", "another value"),
        }
    }

    fn reduce(&mut self, callable: Value, args: Value) -> R<Value> {
        let Value::Global(g) = callable else {
            return self.err("a known global to call", "another value");
        };
        let args = self.args(args)?;
        match g {
            Global::Reconstruct | Global::NdarrayType => Ok(Value::PendingArray(Rc::default())),
            Global::Dtype => {
                let code = match args.first() {
                    Some(Value::Plain(PickleValue::Str(s))) => s.clone(),
                    _ => return self.err("a dtype code string such as 'f8'", "another value"),
                };
                match Dtype::parse(&code) {
                    Some(dtype) => Ok(Value::DtypeObj(Rc::new(RefCell::new(dtype)))),
                    None => self.err("a numpy dtype code", format!("`{code}`")),
                }
            }
            Global::Scalar => {
                let (Some(Value::DtypeObj(dtype)), Some(data)) = (args.first(), args.get(1)) else {
                    return self.err("(dtype, bytes) for numpy scalar", "other arguments");
                };
                let dtype = dtype.borrow().clone();
                let bytes = match data {
                    Value::Plain(PickleValue::Bytes(b)) => b.clone(),
                    Value::Plain(PickleValue::Str(s)) => {
                        s.chars().map(|c| c as u32 as u8).collect()
                    }
                    _ => return self.err("the scalar's bytes", "another value"),
                };
                let array = NdArray {
                    dtype,
                    shape: Vec::new(),
                    fortran_order: false,
                    bytes,
                };
                Ok(Value::Plain(scalar_value(array)))
            }
            Global::CodecsEncode => match args.first() {
                Some(Value::Plain(PickleValue::Str(s))) => {
                    if s.chars().any(|c| c as u32 > 255) {
                        return self.err("latin-1 text to encode", "characters above U+00FF");
                    }
                    Ok(Value::Plain(PickleValue::Bytes(
                        s.chars().map(|c| c as u32 as u8).collect(),
                    )))
                }
                _ => self.err("a string for _codecs.encode", "another value"),
            },
            Global::Set => match args.into_iter().next() {
                Some(Value::List(l)) => Ok(Value::List(l)),
                Some(Value::Tuple(t)) => Ok(Value::List(Rc::new(RefCell::new(t.as_ref().clone())))),
                None => Ok(Value::List(Rc::default())),
                _ => self.err("a list for set()", "another value"),
            },
            Global::FromBuffer => self.frombuffer(&args),
            Global::Bytearray => match args.into_iter().next() {
                Some(Value::Plain(PickleValue::Bytes(b))) => {
                    Ok(Value::Plain(PickleValue::Bytes(b)))
                }
                Some(Value::Plain(PickleValue::Str(s))) => Ok(Value::Plain(PickleValue::Bytes(
                    s.chars().map(|c| c as u32 as u8).collect(),
                ))),
                None => Ok(Value::Plain(PickleValue::Bytes(Vec::new()))),
                _ => self.err("bytes for bytearray()", "another value"),
            },
        }
    }

    fn build(&mut self, target: Value, state: Value) -> R<()> {
        match target {
            Value::DtypeObj(dtype) => {
                // State (version, byteorder, subdescr, names, fields, elsize, alignment, flags):
                // the type code came with REDUCE, only the byte order and flexible size come here.
                let state = self.args(state)?;
                if let Some(Value::Plain(PickleValue::Str(order))) = state.get(1) {
                    let mut d = dtype.borrow_mut();
                    d.big_endian = order == ">";
                }
                if let Some(Value::Plain(PickleValue::Int(elsize))) = state.get(5)
                    && *elsize > 0
                {
                    let mut d = dtype.borrow_mut();
                    if matches!(d.kind, 'S' | 'U' | 'V') {
                        d.size = *elsize as usize;
                    }
                }
                if let Some(fields) = state.get(3)
                    && !matches!(fields, Value::Plain(PickleValue::None))
                {
                    return self.err(
                        "a plain (non-structured) dtype",
                        "a structured dtype with named fields",
                    );
                }
                Ok(())
            }
            Value::PendingArray(slot) => {
                let state = self.args(state)?;
                // (version, shape, dtype, is_fortran, data); very old numpy omits the version.
                let state = if state.len() == 5 {
                    &state[1..]
                } else {
                    &state[..]
                };
                let [shape, dtype, fortran, data] = state else {
                    return self.err(
                        "an ndarray state (version, shape, dtype, fortran, data)",
                        format!("a {}-tuple", state.len()),
                    );
                };
                let shape = self.shape(shape)?;
                let Value::DtypeObj(dtype) = dtype else {
                    return self.err("a numpy dtype in the ndarray state", "another value");
                };
                let dtype = dtype.borrow().clone();
                let fortran_order = matches!(
                    fortran,
                    Value::Plain(PickleValue::Bool(true)) | Value::Plain(PickleValue::Int(1))
                );
                let count: usize = shape
                    .iter()
                    .try_fold(1usize, |a, &d| a.checked_mul(d))
                    .map_or_else(
                        || self.err("a shape that fits memory", format!("{shape:?}")),
                        Ok,
                    )?;
                let value = if dtype.kind == 'O' {
                    let items = match data {
                        Value::List(l) => l.borrow().clone(),
                        _ => {
                            return self
                                .err("a list of objects for an object array", "another value");
                        }
                    };
                    if items.len() != count {
                        return self.err(
                            format!("{count} objects for shape {shape:?}"),
                            format!("{} objects", items.len()),
                        );
                    }
                    let mut plain = Vec::with_capacity(items.len());
                    for item in items {
                        plain.push(self.finish(item, 1)?);
                    }
                    if fortran_order && shape.len() > 1 {
                        plain = fortran_to_c(&(0..plain.len()).collect::<Vec<_>>(), &shape)
                            .into_iter()
                            .map(|i| plain[i].clone())
                            .collect();
                    }
                    PickleValue::ObjectArray {
                        shape,
                        items: plain,
                    }
                } else {
                    let bytes = match data {
                        Value::Plain(PickleValue::Bytes(b)) => b.clone(),
                        Value::Plain(PickleValue::Str(s)) => {
                            s.chars().map(|c| c as u32 as u8).collect()
                        }
                        _ => return self.err("the array's raw bytes", "another value"),
                    };
                    let expected = count.saturating_mul(dtype.size);
                    if bytes.len() != expected {
                        return self.err(
                            format!("{expected} bytes for shape {shape:?} of {}", dtype.descr()),
                            format!("{} bytes", bytes.len()),
                        );
                    }
                    PickleValue::NdArray(NdArray {
                        dtype,
                        shape,
                        fortran_order,
                        bytes,
                    })
                };
                *slot.borrow_mut() = Some(value);
                Ok(())
            }
            _ => self.err(
                "a numpy array or dtype to BUILD",
                "another value (objects with state are refused)",
            ),
        }
    }

    /// An array pickled under protocol 5: `(buffer, dtype, shape, order)`, order 'C' or 'F'.
    fn frombuffer(&self, args: &[Value]) -> R<Value> {
        let [data, Value::DtypeObj(dtype), shape, order] = args else {
            return self.err(
                "(buffer, dtype, shape, order) for numpy _frombuffer",
                format!("{} other arguments", args.len()),
            );
        };
        let Value::Plain(PickleValue::Bytes(bytes)) = data else {
            return self.err("the array's buffer bytes", "another value");
        };
        let shape = self.shape(shape)?;
        let fortran_order = match order {
            Value::Plain(PickleValue::Str(o)) if o == "C" || o == "F" => o == "F",
            _ => return self.err("order 'C' or 'F'", "another value"),
        };
        let dtype = dtype.borrow().clone();
        let expected = shape.iter().try_fold(dtype.size, |a, &d| a.checked_mul(d));
        if expected != Some(bytes.len()) {
            return self.err(
                format!(
                    "{expected:?} bytes for shape {shape:?} of {}",
                    dtype.descr()
                ),
                format!("{} bytes", bytes.len()),
            );
        }
        Ok(Value::Plain(PickleValue::NdArray(NdArray {
            dtype,
            shape,
            fortran_order,
            bytes: bytes.clone(),
        })))
    }

    fn shape(&self, v: &Value) -> R<Vec<usize>> {
        let Value::Tuple(items) = v else {
            return self.err("a shape tuple", "another value");
        };
        items
            .iter()
            .map(|d| match d {
                Value::Plain(PickleValue::Int(n)) if *n >= 0 => Ok(*n as usize),
                _ => self.err("non-negative dimensions", "another value"),
            })
            .collect()
    }

    fn finish(&self, v: Value, depth: usize) -> R<PickleValue> {
        if depth > MAX_DEPTH {
            return self.err(
                format!("nesting below {MAX_DEPTH} levels"),
                "deeper nesting (or a self-referencing container)",
            );
        }
        let payload = match &v {
            Value::Plain(PickleValue::Str(t)) => t.len(),
            Value::Plain(PickleValue::Bytes(b)) => b.len(),
            Value::Plain(PickleValue::NdArray(a)) => a.bytes.len(),
            _ => 0,
        };
        let cost = (std::mem::size_of::<PickleValue>() + payload) as u64;
        match self.expansion_left.get().checked_sub(cost) {
            Some(left) => self.expansion_left.set(left),
            None => {
                return self.err(
                    format!(
                        "data that decodes to at most {EXPANSION_FACTOR} times its size \
                         (plus {} MiB)",
                        MIN_EXPANSION >> 20
                    ),
                    "references that repeat the same objects until the result would not fit",
                );
            }
        }
        Ok(match v {
            Value::Plain(p) => p,
            Value::List(l) => PickleValue::List(
                l.borrow()
                    .iter()
                    .map(|x| self.finish(x.clone(), depth + 1))
                    .collect::<R<_>>()?,
            ),
            Value::Tuple(t) => PickleValue::Tuple(
                t.iter()
                    .map(|x| self.finish(x.clone(), depth + 1))
                    .collect::<R<_>>()?,
            ),
            Value::Dict(d) => PickleValue::Dict(
                d.borrow()
                    .iter()
                    .map(|(k, v)| {
                        Ok((
                            self.finish(k.clone(), depth + 1)?,
                            self.finish(v.clone(), depth + 1)?,
                        ))
                    })
                    .collect::<R<_>>()?,
            ),
            Value::PendingArray(slot) => match slot.borrow().clone() {
                Some(p) => p,
                None => return self.err("an ndarray with its BUILD state", "an unfinished array"),
            },
            Value::DtypeObj(d) => PickleValue::Str(d.borrow().descr()),
            Value::Global(g) => return self.err("data", format!("a bare global ({g:?})")),
        })
    }
}

fn scalar_value(a: NdArray) -> PickleValue {
    let n = a.dtype.size;
    match a.dtype.kind {
        'b' => PickleValue::Bool(a.bytes.first().is_some_and(|&b| b != 0)),
        'i' | 'u' if (1..=8).contains(&n) && a.bytes.len() == n => {
            let mut b = [0u8; 8];
            b[..n].copy_from_slice(&a.bytes);
            if a.dtype.big_endian {
                b[..n].reverse();
            }
            let raw = u64::from_le_bytes(b);
            if a.dtype.kind == 'i' {
                let shift = 64 - 8 * n as u32;
                PickleValue::Int(((raw << shift) as i64) >> shift)
            } else if let Ok(v) = i64::try_from(raw) {
                PickleValue::Int(v)
            } else {
                PickleValue::NdArray(a)
            }
        }
        'f' => match a.to_f64().and_then(|v| v.first().copied()) {
            Some(v) => PickleValue::Float(v),
            None => PickleValue::NdArray(a),
        },
        _ => PickleValue::NdArray(a),
    }
}

fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

/// Python's `raw-unicode-escape`: `\uXXXX` and `\UXXXXXXXX` escapes, other bytes Latin-1.
fn raw_unicode_escape(line: &str) -> Option<String> {
    let bytes = line.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 1 < bytes.len()
            && (bytes[i + 1] == b'u' || bytes[i + 1] == b'U')
        {
            let n = if bytes[i + 1] == b'u' { 4 } else { 8 };
            let hex = line.get(i + 2..i + 2 + n)?;
            out.push(char::from_u32(u32::from_str_radix(hex, 16).ok()?)?);
            i += 2 + n;
        } else {
            out.push(bytes[i] as char);
            i += 1;
        }
    }
    Some(out)
}

/// Encode `value` as a protocol-0 (text) pickle, as PyTables stores non-native attributes.
/// Arrays are not supported and are written as `None`.
pub fn dumps_protocol0(value: &PickleValue) -> Vec<u8> {
    let mut out = Vec::new();
    write0(value, &mut out);
    out.push(STOP);
    out
}

fn write0(value: &PickleValue, out: &mut Vec<u8>) {
    match value {
        PickleValue::None | PickleValue::NdArray(_) | PickleValue::ObjectArray { .. } => {
            out.push(NONE)
        }
        PickleValue::Bool(b) => out.extend_from_slice(if *b { b"I01\n" } else { b"I00\n" }),
        PickleValue::Int(i) => out.extend_from_slice(format!("I{i}\n").as_bytes()),
        PickleValue::Float(f) => out.extend_from_slice(format!("F{f:?}\n").as_bytes()),
        PickleValue::Str(s) => {
            out.push(UNICODE);
            for c in s.chars() {
                // raw-unicode-escape: only the backslash and line breaks need escaping; other
                // non-ASCII characters are escaped too so the attribute stays ASCII.
                if c.is_ascii() && c != '\\' && c != '\n' && c != '\r' {
                    out.push(c as u8);
                } else if (c as u32) <= 0xffff {
                    out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes());
                } else {
                    out.extend_from_slice(format!("\\U{:08x}", c as u32).as_bytes());
                }
            }
            out.push(b'\n');
        }
        PickleValue::Bytes(b) => {
            // Python 3 reads protocol-0 `S` strings as text; DeepLabCut attributes never hold bytes.
            write0(&PickleValue::Str(latin1(b)), out);
        }
        PickleValue::List(items) => {
            out.extend_from_slice(&[MARK, LIST]);
            for item in items {
                write0(item, out);
                out.push(APPEND);
            }
        }
        PickleValue::Tuple(items) => {
            out.push(MARK);
            for item in items {
                write0(item, out);
            }
            out.push(TUPLE);
        }
        PickleValue::Dict(items) => {
            out.extend_from_slice(&[MARK, DICT]);
            for (k, v) in items {
                write0(k, out);
                write0(v, out);
                out.push(SETITEM);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_0_pytables_attribute_decodes() {
        // PyTables `non_index_axes` of a DeepLabCut file (docs/formats/deeplabcut.md).
        let p = b"(lp0\n(I1\n(lp1\n(VPranav\np2\nVsnout\np3\nVx\np4\ntp5\na(g2\ng3\nVy\np6\ntp7\natp8\na.";
        let v = loads(p).unwrap();
        let axes = v.as_seq().unwrap();
        let (axis, columns) = match &axes[0] {
            PickleValue::Tuple(t) => (t[0].as_i64().unwrap(), t[1].as_seq().unwrap().to_vec()),
            other => panic!("{other:?}"),
        };
        assert_eq!(axis, 1);
        assert_eq!(
            columns[1],
            PickleValue::Tuple(vec![
                PickleValue::Str("Pranav".into()),
                PickleValue::Str("snout".into()),
                PickleValue::Str("y".into())
            ])
        );
    }

    #[test]
    fn memo_sees_appends_made_after_put() {
        // l = []; pickle.dumps([l, l]) after filling l: the memo refers to the filled list.
        let p = b"\x80\x02]q\x00(]q\x01K\x01ah\x01e.";
        let one = PickleValue::List(vec![PickleValue::Int(1)]);
        assert_eq!(
            loads(p).unwrap(),
            PickleValue::List(vec![one.clone(), one.clone()])
        );
        let p = b"(lp0\n(lp1\nI1\naag1\na.";
        assert_eq!(loads(p).unwrap(), PickleValue::List(vec![one.clone(), one]));
    }

    #[test]
    fn unknown_globals_are_refused_by_name() {
        let p = b"cos\nsystem\n(S'echo hi'\ntR.";
        let err = loads(p).unwrap_err();
        assert!(err.found.contains("os.system"), "{err}");
    }

    #[test]
    fn numpy_protocol_2_array_with_codecs_bytes() {
        // pickle.dumps(np.array([1.5, -2.0], dtype='<f4'), protocol=2)
        let p = b"\x80\x02cnumpy._core.multiarray\n_reconstruct\nq\x00cnumpy\nndarray\nq\x01K\x00\x85q\x02c_codecs\nencode\nq\x03X\x01\x00\x00\x00bq\x04X\x06\x00\x00\x00latin1q\x05\x86q\x06Rq\x07\x87q\x08Rq\t(K\x01K\x02\x85q\ncnumpy\ndtype\nq\x0bX\x02\x00\x00\x00f4q\x0c\x89\x88\x87q\rRq\x0e(K\x03X\x01\x00\x00\x00<q\x0fNNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tq\x10b\x89h\x03X\n\x00\x00\x00\x00\x00\xc3\x80?\x00\x00\x00\xc3\x80q\x11h\x05\x86q\x12Rq\x13tq\x14b.";
        let v = loads(p).unwrap();
        let PickleValue::NdArray(a) = v else {
            panic!("{v:?}")
        };
        assert_eq!(a.shape, vec![2]);
        assert_eq!(a.dtype.descr(), "<f4");
        assert_eq!(a.to_f64().unwrap(), vec![1.5, -2.0]);
    }

    #[test]
    fn numpy_protocol_4_scalars_and_big_endian_fortran_array() {
        // pickle.dumps({'a': np.int64(5), 'b': np.float32(2.5),
        //               'c': np.array([[1,2,3],[4,5,6]], dtype='>i2', order='F')}, 4)
        let p = b"\x80\x04\x95\x1a\x01\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94\x8c\x16numpy._core.multiarray\x94\x8c\x06scalar\x94\x93\x94\x8c\x05numpy\x94\x8c\x05dtype\x94\x93\x94\x8c\x02i8\x94\x89\x88\x87\x94R\x94(K\x03\x8c\x01<\x94NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t\x94bC\x08\x05\x00\x00\x00\x00\x00\x00\x00\x94\x86\x94R\x94\x8c\x01b\x94h\x04h\x07\x8c\x02f4\x94\x89\x88\x87\x94R\x94(K\x03h\x0bNNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t\x94bC\x04\x00\x00 @\x94\x86\x94R\x94\x8c\x01c\x94h\x02\x8c\x0c_reconstruct\x94\x93\x94h\x05\x8c\x07ndarray\x94\x93\x94K\x00\x85\x94C\x01b\x94\x87\x94R\x94(K\x01K\x02K\x03\x86\x94h\x07\x8c\x02i2\x94\x89\x88\x87\x94R\x94(K\x03\x8c\x01>\x94NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t\x94b\x88C\x0c\x00\x01\x00\x04\x00\x02\x00\x05\x00\x03\x00\x06\x94t\x94bu.";
        let v = loads(p).unwrap();
        assert_eq!(v.get("a"), Some(&PickleValue::Int(5)));
        assert_eq!(v.get("b"), Some(&PickleValue::Float(2.5)));
        let Some(PickleValue::NdArray(c)) = v.get("c") else {
            panic!("{v:?}")
        };
        assert_eq!(
            (c.shape.clone(), c.dtype.descr(), c.fortran_order),
            (vec![2, 3], ">i2".to_string(), true)
        );
        assert_eq!(c.to_f64().unwrap(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn numpy_protocol_5_frombuffer_fortran_and_bool() {
        // pickle.dumps({'a': np.array([[1,2,3],[4,5,6]], dtype='<f8', order='F'),
        //               'b': np.array([True, False])}, protocol=5)
        let p = b"\x80\x05\x95\xf3\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94\x8c\x13numpy._core.numeric\x94\x8c\x0b_frombuffer\x94\x93\x94(\x960\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xf0?\x00\x00\x00\x00\x00\x00\x10@\x00\x00\x00\x00\x00\x00\x00@\x00\x00\x00\x00\x00\x00\x14@\x00\x00\x00\x00\x00\x00\x08@\x00\x00\x00\x00\x00\x00\x18@\x94\x8c\x05numpy\x94\x8c\x05dtype\x94\x93\x94\x8c\x02f8\x94\x89\x88\x87\x94R\x94(K\x03\x8c\x01<\x94NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t\x94bK\x02K\x03\x86\x94\x8c\x01F\x94t\x94R\x94\x8c\x01b\x94h\x04(\x96\x02\x00\x00\x00\x00\x00\x00\x00\x01\x00\x94h\x08\x8c\x02b1\x94\x89\x88\x87\x94R\x94(K\x03\x8c\x01|\x94NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t\x94bK\x02\x85\x94\x8c\x01C\x94t\x94R\x94u.";
        let v = loads(p).unwrap();
        let Some(PickleValue::NdArray(a)) = v.get("a") else {
            panic!("{v:?}")
        };
        assert!(a.fortran_order);
        assert_eq!(a.to_f64().unwrap(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let Some(PickleValue::NdArray(b)) = v.get("b") else {
            panic!("{v:?}")
        };
        assert_eq!(b.to_f64().unwrap(), vec![1.0, 0.0]);
    }

    #[test]
    fn protocol_0_writer_round_trips() {
        let v = PickleValue::List(vec![
            PickleValue::Tuple(vec![
                PickleValue::Int(1),
                PickleValue::List(vec![PickleValue::Tuple(vec![
                    PickleValue::Str("sc\\o,r\u{e9}\n".into()),
                    PickleValue::None,
                    PickleValue::Float(0.5),
                    PickleValue::Bool(true),
                ])]),
            ]),
            PickleValue::Dict(vec![(PickleValue::Str("k".into()), PickleValue::Int(-3))]),
        ]);
        assert_eq!(loads(&dumps_protocol0(&v)).unwrap(), v);
    }

    #[test]
    fn fortran_order_is_reordered() {
        assert_eq!(
            fortran_to_c(&[1, 4, 2, 5, 3, 6], &[2, 3]),
            vec![1, 2, 3, 4, 5, 6]
        );
    }

    #[test]
    fn containers_holding_themselves_are_refused() {
        // l = [], l.append(l);  d = {}, d[1] = d;  outer = [], inner = [outer],
        // outer.extend([inner]): Python allows all three.
        for bytes in [
            &b"]q\x00h\x00a."[..],
            b"}q\x00K\x01h\x00s.",
            b"]q\x00(]q\x01h\x00ae.",
        ] {
            let err = loads(bytes).unwrap_err().to_string();
            assert!(err.contains("cycle"), "{err}");
        }
        // inner = []; [inner, inner]: shared, but no cycle.
        assert!(loads(b"](]q\x00h\x00e.").is_ok());
    }

    #[test]
    fn shared_objects_that_would_expand_exponentially_are_refused() {
        // t = (); then 60 times t = (t, t): 85 bytes of pickle, 2^60 leaves as a tree.
        let mut bytes = b"\x80\x02)".to_vec();
        bytes.extend(b"2\x86".repeat(60));
        bytes.push(b'.');
        let err = loads(&bytes).unwrap_err().to_string();
        assert!(err.contains("repeat the same objects"), "{err}");
        // The same sharing a few times over is data like any other.
        let mut small = b"\x80\x02)".to_vec();
        small.extend(b"2\x86".repeat(8));
        small.push(b'.');
        assert!(loads(&small).is_ok());
    }

    #[test]
    fn random_bytes_and_truncations_never_panic() {
        let good: &[u8] = b"\x80\x04\x95\x1f\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x01a\x94K\x01\x8c\x01b\x94]\x94(G?\xf8\x00\x00\x00\x00\x00\x00N\x88eu.";
        assert!(loads(good).is_ok());
        for cut in 0..good.len() {
            let _ = loads(&good[..cut]);
        }
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..20_000 {
            let mut bytes = good.to_vec();
            for _ in 0..3 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let i = (state as usize) % bytes.len();
                bytes[i] = (state >> 32) as u8;
            }
            let _ = loads(&bytes);
            let len = (state >> 40) as usize % 64;
            let noise: Vec<u8> = (0..len)
                .map(|i| (state >> (i % 56)) as u8 ^ i as u8)
                .collect();
            let _ = loads(&noise);
        }
    }
}
