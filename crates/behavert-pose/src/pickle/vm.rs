//! The pickle virtual machine: reads opcodes, keeps the stack, marks and memo, and resolves
//! the few globals it knows; what a numpy object's REDUCE and BUILD make is in `reconstruct`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::numpy::{Dtype, NdArray, scalar_value};
use super::opcodes::*;
use super::{PickleError, PickleValue};

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
pub(super) enum Value {
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
pub(super) enum Global {
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

pub(super) const MAX_DEPTH: usize = 512;

/// The decoded value may take this many bytes per byte of pickle, plus [`MIN_EXPANSION`]: a
/// real file stores each object once, while one that references the same container over and
/// over (DUP, memo gets) would expand exponentially into a tree.
pub(super) const EXPANSION_FACTOR: u64 = 64;
pub(super) const MIN_EXPANSION: u64 = 16 << 20;

pub(super) struct Vm<'a> {
    pub(super) data: &'a [u8],
    pub(super) pos: usize,
    pub(super) op_at: usize,
    pub(super) stack: Vec<Value>,
    pub(super) marks: Vec<usize>,
    pub(super) memo: HashMap<u64, Value>,
    /// Bytes the decoded values may still take (see [`EXPANSION_FACTOR`]).
    pub(super) expansion_left: std::cell::Cell<u64>,
}

pub(super) type R<T> = Result<T, PickleError>;

impl<'a> Vm<'a> {
    /// A machine at the start of `data`.
    pub(super) fn new(data: &'a [u8]) -> Self {
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
    }
}

impl<'a> Vm<'a> {
    pub(super) fn err<T>(&self, expected: impl Into<String>, found: impl Into<String>) -> R<T> {
        Err(PickleError {
            offset: self.op_at,
            expected: expected.into(),
            found: found.into(),
        })
    }

    pub(super) fn take(&mut self, n: usize) -> R<&'a [u8]> {
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

    pub(super) fn u8(&mut self) -> R<u8> {
        Ok(self.take(1)?[0])
    }
    pub(super) fn u16(&mut self) -> R<u16> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    pub(super) fn u32(&mut self) -> R<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub(super) fn u64(&mut self) -> R<u64> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }
    pub(super) fn len64(&mut self) -> R<usize> {
        let n = self.u64()?;
        usize::try_from(n).or_else(|_| self.err("a length that fits memory", n.to_string()))
    }

    pub(super) fn line(&mut self) -> R<&'a str> {
        let rest = &self.data[self.pos..];
        let Some(end) = rest.iter().position(|&b| b == b'\n') else {
            return self.err("a newline-terminated argument", "the end of the data");
        };
        self.pos += end + 1;
        let line = &rest[..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        std::str::from_utf8(line).or_else(|_| self.err("an ASCII argument", "non-UTF-8 bytes"))
    }

    pub(super) fn pop(&mut self) -> R<Value> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return self.err("a value on the stack", "an empty stack");
        }
        self.stack
            .pop()
            .map_or_else(|| self.err("a value on the stack", "an empty stack"), Ok)
    }

    pub(super) fn top(&mut self) -> R<&mut Value> {
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

    pub(super) fn pop_mark(&mut self) -> R<Vec<Value>> {
        let Some(mark) = self.marks.pop() else {
            return self.err("a MARK before this opcode", "no MARK");
        };
        Ok(self.stack.split_off(mark.min(self.stack.len())))
    }

    pub(super) fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    pub(super) fn push_plain(&mut self, v: PickleValue) {
        self.stack.push(Value::Plain(v));
    }

    pub(super) fn memo_get(&mut self, key: u64) -> R<()> {
        match self.memo.get(&key) {
            Some(v) => {
                let v = v.clone();
                self.push(v);
                Ok(())
            }
            None => self.err(format!("memo entry {key}"), "no such entry"),
        }
    }

    pub(super) fn memo_put(&mut self, key: u64) -> R<()> {
        let v = self.top()?.clone();
        self.memo.insert(key, v);
        Ok(())
    }

    pub(super) fn run(mut self) -> R<PickleValue> {
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

    pub(super) fn resolve(&self, module: &str, name: &str) -> R<Global> {
        global(module, name).map_or_else(
            || self.err("a numpy/pandas data global (numpy _reconstruct, ndarray, dtype, scalar; _codecs.encode; set)", format!("global `{module}.{name}`, which is refused")),
            Ok,
        )
    }

    pub(super) fn long(&mut self, n: usize) -> R<i64> {
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

    pub(super) fn utf8(&mut self, n: usize) -> R<String> {
        let b = self.take(n)?;
        match std::str::from_utf8(b) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => self.err("UTF-8 text", "invalid UTF-8"),
        }
    }

    pub(super) fn py_string_literal(&self, line: &str) -> R<String> {
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

    pub(super) fn pairs(&self, items: Vec<Value>) -> R<Vec<(Value, Value)>> {
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

    pub(super) fn append(&mut self, items: Vec<Value>) -> R<()> {
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

    pub(super) fn set_items(&mut self, pairs: Vec<(Value, Value)>) -> R<()> {
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

    pub(super) fn args(&self, args: Value) -> R<Vec<Value>> {
        match args {
            Value::Tuple(items) => Ok(items.as_ref().clone()),
            _ => self.err("an argument tuple", "another value"),
        }
    }

    pub(super) fn reduce(&mut self, callable: Value, args: Value) -> R<Value> {
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
}

pub(super) fn latin1(b: &[u8]) -> String {
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
