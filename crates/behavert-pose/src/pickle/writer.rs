//! Protocol-0 pickles, as PyTables stores the attributes of a DeepLabCut HDF5 file.

use super::PickleValue;
use super::opcodes::*;
use super::vm::latin1;

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
