//! numpy arrays as the pickle VM rebuilds them: element types, raw bytes, and the
//! conversions readers need.

use super::PickleValue;

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

pub(super) fn scalar_value(a: NdArray) -> PickleValue {
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
