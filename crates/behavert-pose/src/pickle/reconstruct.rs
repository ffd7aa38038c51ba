//! numpy objects rebuilt the way numpy pickles them: an array's or dtype's BUILD state, and
//! `_frombuffer`; and the end of a run, where shared containers become plain values.

use super::PickleValue;
use super::numpy::{NdArray, fortran_to_c};
use super::vm::{EXPANSION_FACTOR, MAX_DEPTH, MIN_EXPANSION, R, Value, Vm};

impl Vm<'_> {
    pub(super) fn build(&mut self, target: Value, state: Value) -> R<()> {
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
    pub(super) fn frombuffer(&self, args: &[Value]) -> R<Value> {
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

    pub(super) fn shape(&self, v: &Value) -> R<Vec<usize>> {
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

    pub(super) fn finish(&self, v: Value, depth: usize) -> R<PickleValue> {
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
