//! A minimal MATLAB MAT v5 reader: numeric and char matrices, plain or zlib-compressed
//! (`miCOMPRESSED`, what MATLAB `save` and `savemat(do_compression=True)` write). Cells,
//! structs, objects and sparse matrices are listed but not decoded. MAT v7.3 files are HDF5
//! and are refused with a pointer to that.
//!
//! Why our own: the `matfile` crate drops char arrays (SBeA's `name3d`), and the subset SBeA
//! needs is small (MAT-File Format, MathWorks, chapter 1).

use std::io::Read;
use std::path::Path;

use crate::error::{PoseError, Result};

/// A decoded variable.
#[derive(Clone, Debug, PartialEq)]
pub struct MatVariable {
    /// Variable name.
    pub name: String,
    /// Dimensions as MATLAB reports them (rows, columns, …).
    pub dims: Vec<usize>,
    /// The values.
    pub data: MatData,
}

/// The values of a variable.
#[derive(Clone, Debug, PartialEq)]
pub enum MatData {
    /// A numeric matrix, converted to f64, in **row-major** order (the file stores
    /// column-major; this reader transposes 2-D matrices).
    Numeric(Vec<f64>),
    /// A char matrix: one string per row, trailing spaces kept.
    Char(Vec<String>),
    /// A class this reader does not decode (cell, struct, sparse…), by MATLAB class number.
    Other(u8),
}

// Data types (miXXX) and array classes (mxXXX_CLASS) from the format spec.
const MI_INT8: u32 = 1;
const MI_UINT8: u32 = 2;
const MI_INT16: u32 = 3;
const MI_UINT16: u32 = 4;
const MI_INT32: u32 = 5;
const MI_UINT32: u32 = 6;
const MI_SINGLE: u32 = 7;
const MI_DOUBLE: u32 = 9;
const MI_INT64: u32 = 12;
const MI_UINT64: u32 = 13;
const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;
const MI_UTF8: u32 = 16;
const MI_UTF16: u32 = 17;
const MI_UTF32: u32 = 18;
const MX_CHAR: u8 = 4;
const MX_DOUBLE: u8 = 6;
const MX_UINT64: u8 = 15;

/// Read every variable of a MAT v5 file.
pub fn read(path: &Path) -> Result<Vec<MatVariable>> {
    let bytes = crate::input_file::read_file(path)?;
    parse(path, &bytes)
}

/// Parse MAT v5 bytes (`path` names the file in errors).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<MatVariable>> {
    if bytes.len() < 128 {
        return Err(PoseError::format(
            path,
            "header",
            "a 128-byte MAT v5 header",
            format!("a {}-byte file", bytes.len()),
        ));
    }
    if bytes.starts_with(b"\x89HDF") || bytes[..116].windows(9).any(|w| w == b"MATLAB 7.3") {
        return Err(PoseError::format(
            path,
            "header",
            "a MAT v5 file",
            "a MAT v7.3 (HDF5) file: re-save with savemat or `save -v7`",
        ));
    }
    let big_endian = match &bytes[126..128] {
        b"IM" => false,
        b"MI" => true,
        other => {
            return Err(PoseError::format(
                path,
                "header bytes 126-127 (endian indicator)",
                "`IM` or `MI` (a MAT v5 file)",
                format!("{other:?}"),
            ));
        }
    };
    let reader = Reader { path, big_endian };
    let mut out = Vec::new();
    reader.elements(&bytes[128..], 128, &mut out)?;
    Ok(out)
}

struct Reader<'a> {
    path: &'a Path,
    big_endian: bool,
}

impl Reader<'_> {
    fn u32_at(&self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if self.big_endian {
            u32::from_be_bytes(a)
        } else {
            u32::from_le_bytes(a)
        }
    }

    fn bad(&self, offset: usize, expected: &str, found: impl Into<String>) -> PoseError {
        PoseError::format(self.path, format!("byte {offset}"), expected, found)
    }

    /// One tag: (type, size, header bytes, inline small data?).
    fn tag(&self, data: &[u8], at: usize, offset: usize) -> Result<(u32, usize, usize)> {
        let head = data.get(at..at + 8).ok_or_else(|| {
            self.bad(
                offset + at,
                "an 8-byte data element tag",
                "the end of the file (truncated?)",
            )
        })?;
        let first = self.u32_at(head);
        // Small data element: size in the upper 16 bits, data in the tag's second word.
        if first >> 16 != 0 {
            return Ok((first & 0xffff, (first >> 16) as usize, 4));
        }
        Ok((first, self.u32_at(&head[4..]) as usize, 8))
    }

    /// Top-level elements: matrices, possibly inside compressed elements.
    fn elements(&self, data: &[u8], offset: usize, out: &mut Vec<MatVariable>) -> Result<()> {
        let mut at = 0;
        while at + 8 <= data.len() {
            let (kind, size, head) = self.tag(data, at, offset)?;
            let start = at + head;
            let body = data.get(start..start + size).ok_or_else(|| {
                self.bad(
                    offset + at,
                    &format!("{size} bytes of element data"),
                    format!(
                        "{} bytes left (truncated file?)",
                        data.len().saturating_sub(start)
                    ),
                )
            })?;
            match kind {
                MI_COMPRESSED => {
                    let mut inflated = Vec::new();
                    flate2::read::ZlibDecoder::new(body)
                        .take(MAX_INFLATED + 1)
                        .read_to_end(&mut inflated)
                        .map_err(|e| {
                            self.bad(offset + at, "zlib-compressed data", e.to_string())
                        })?;
                    if inflated.len() as u64 > MAX_INFLATED {
                        return Err(self.bad(
                            offset + at,
                            &format!("at most {MAX_INFLATED} bytes once decompressed"),
                            "more (a decompression bomb?)",
                        ));
                    }
                    self.elements(&inflated, offset + start, out)?;
                }
                MI_MATRIX => out.push(self.matrix(body, offset + start)?),
                other => {
                    return Err(self.bad(
                        offset + at,
                        "a matrix (type 14) or compressed (type 15) element",
                        format!("data type {other}"),
                    ));
                }
            }
            // Compressed elements are not padded; others pad to 8 bytes.
            at = if kind == MI_COMPRESSED {
                start + size
            } else {
                start + size.div_ceil(8) * 8
            };
        }
        Ok(())
    }

    /// Sub-elements of a matrix: flags, dimensions, name, real part.
    fn matrix(&self, data: &[u8], offset: usize) -> Result<MatVariable> {
        if data.is_empty() {
            // Empty matrix element (savemat writes these for empty values).
            return Ok(MatVariable {
                name: String::new(),
                dims: vec![0, 0],
                data: MatData::Numeric(Vec::new()),
            });
        }
        let mut parts = Vec::new();
        let mut at = 0;
        while at + 8 <= data.len() && parts.len() < 4 {
            let (kind, size, head) = self.tag(data, at, offset)?;
            let start = at + head;
            let body = data.get(start..start + size).ok_or_else(|| {
                self.bad(
                    offset + at,
                    &format!("{size} bytes of matrix data"),
                    "fewer (truncated?)",
                )
            })?;
            parts.push((kind, body));
            at = if head == 4 {
                at + 8
            } else {
                start + size.div_ceil(8) * 8
            };
        }
        let [(_, flags), (_, dims), (_, name), rest @ ..] = &parts[..] else {
            return Err(self.bad(
                offset,
                "array flags, dimensions and name",
                "fewer sub-elements",
            ));
        };
        let class = *flags
            .first()
            .ok_or_else(|| self.bad(offset, "array flags", "none"))?;
        let class = if self.big_endian {
            flags.get(3).copied().unwrap_or(0)
        } else {
            class
        };
        let dims: Vec<usize> = dims
            .chunks_exact(4)
            .map(|b| self.u32_at(b) as usize)
            .collect();
        let name = String::from_utf8_lossy(name).into_owned();
        // The dimensions must describe exactly the values stored: they size what is built.
        let count = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        let exactly = |stored: usize| {
            if count == Some(stored) {
                Ok(())
            } else {
                Err(self.bad(
                    offset,
                    &format!("as many values as dimensions {dims:?} of `{name}` say"),
                    format!("{stored} values"),
                ))
            }
        };
        let data = match class {
            MX_CHAR => {
                let (kind, body) = rest.first().copied().unwrap_or((MI_UINT16, &[]));
                let codes = self.chars(kind, body, offset)?;
                exactly(codes.len())?;
                MatData::Char(char_rows(&codes, &dims))
            }
            MX_DOUBLE..=MX_UINT64 => {
                let (kind, body) = rest.first().copied().unwrap_or((MI_DOUBLE, &[]));
                let column_major = self.numbers(kind, body, offset)?;
                exactly(column_major.len())?;
                MatData::Numeric(crate::pickle::fortran_to_c(&column_major, &dims))
            }
            other => MatData::Other(other),
        };
        Ok(MatVariable { name, dims, data })
    }

    fn numbers(&self, kind: u32, b: &[u8], offset: usize) -> Result<Vec<f64>> {
        let size = match kind {
            MI_INT8 | MI_UINT8 => 1,
            MI_INT16 | MI_UINT16 => 2,
            MI_INT32 | MI_UINT32 | MI_SINGLE => 4,
            MI_DOUBLE | MI_INT64 | MI_UINT64 => 8,
            other => {
                return Err(self.bad(offset, "a numeric data type", format!("data type {other}")));
            }
        };
        Ok(b.chunks_exact(size)
            .map(|c| {
                let mut a = [0u8; 8];
                a[..size].copy_from_slice(c);
                if self.big_endian {
                    a[..size].reverse();
                }
                match kind {
                    MI_INT8 => a[0] as i8 as f64,
                    MI_UINT8 => a[0] as f64,
                    MI_INT16 => i16::from_le_bytes([a[0], a[1]]) as f64,
                    MI_UINT16 => u16::from_le_bytes([a[0], a[1]]) as f64,
                    MI_INT32 => i32::from_le_bytes([a[0], a[1], a[2], a[3]]) as f64,
                    MI_UINT32 => u32::from_le_bytes([a[0], a[1], a[2], a[3]]) as f64,
                    MI_SINGLE => f32::from_le_bytes([a[0], a[1], a[2], a[3]]) as f64,
                    MI_INT64 => i64::from_le_bytes(a) as f64,
                    MI_UINT64 => u64::from_le_bytes(a) as f64,
                    _ => f64::from_le_bytes(a),
                }
            })
            .collect())
    }

    /// Character codes, column-major.
    fn chars(&self, kind: u32, b: &[u8], offset: usize) -> Result<Vec<char>> {
        let code = |v: f64| char::from_u32(v as u32).unwrap_or('\u{fffd}');
        match kind {
            MI_UTF8 => Ok(String::from_utf8_lossy(b).chars().collect()),
            MI_UTF16 => Ok(self
                .numbers(MI_UINT16, b, offset)?
                .into_iter()
                .map(code)
                .collect()),
            MI_UTF32 => Ok(self
                .numbers(MI_UINT32, b, offset)?
                .into_iter()
                .map(code)
                .collect()),
            other => Ok(self
                .numbers(other, b, offset)?
                .into_iter()
                .map(code)
                .collect()),
        }
    }
}

/// Most bytes one compressed element may inflate to: 4 GiB.
const MAX_INFLATED: u64 = 4 << 30;

/// Column-major chars of a `rows × cols` char matrix into one string per row.
fn char_rows(codes: &[char], dims: &[usize]) -> Vec<String> {
    // An empty matrix is no rows, whatever its first dimension claims (it sizes the result).
    if codes.is_empty() {
        return Vec::new();
    }
    let rows = dims.first().copied().unwrap_or(0);
    let cols = codes.len().checked_div(rows).unwrap_or(0);
    (0..rows)
        .map(|r| (0..cols).filter_map(|c| codes.get(c * rows + r)).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_and_foreign_files_are_refused() {
        let path = Path::new("x.mat");
        assert!(parse(path, b"short").is_err());
        let mut header = vec![b' '; 128];
        header[126..128].copy_from_slice(b"XX");
        let err = parse(path, &header).unwrap_err().to_string();
        assert!(err.contains("endian"), "{err}");
        header[126..128].copy_from_slice(b"IM");
        // A matrix tag promising more bytes than there are.
        header.extend_from_slice(&14u32.to_le_bytes());
        header.extend_from_slice(&1000u32.to_le_bytes());
        let err = parse(path, &header).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
    }

    #[test]
    fn char_rows_read_column_major() {
        // ["A1", "B6"] stored column-major: A, B, 1, 6.
        assert_eq!(char_rows(&['A', 'B', '1', '6'], &[2, 2]), vec!["A1", "B6"]);
        // A huge empty matrix allocates nothing.
        assert!(char_rows(&[], &[usize::MAX, 0]).is_empty());
    }
}
