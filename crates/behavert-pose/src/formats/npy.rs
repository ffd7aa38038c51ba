//! numpy `.npy` files (docs/formats/npy.md): plain numeric arrays (read and write) and object arrays
//! holding pickles (MABe22 / CalMS21 dicts), decoded by the [`crate::pickle`] VM.
//!
//! As a pose format, `OUT.npy` holds float32 `[frames, individuals, keypoints, space]` and
//! `OUT.json` beside it the names, fps and software; confidence, when present, goes to
//! `OUT.confidence.npy` `[frames, individuals, keypoints]`.

use std::path::{Path, PathBuf};

use ndarray::{Array3, Array4};

use crate::error::{PoseError, Result};
use crate::pickle::{self, Dtype, NdArray, PickleValue};
use crate::pose::Pose;

/// The 6 bytes every `.npy` file starts with.
pub const MAGIC: &[u8] = b"\x93NUMPY";

/// The content of a `.npy` file.
#[derive(Clone, Debug, PartialEq)]
pub enum Npy {
    /// A numeric (or fixed-size string) array.
    Array(NdArray),
    /// An object array, decoded from its pickle; a 0-d array (`np.save(path, a_dict)`) is
    /// unwrapped to its one item, as `np.load(...).item()` does.
    Object(PickleValue),
}

/// Read a `.npy` file of any dtype.
pub fn read(path: &Path) -> Result<Npy> {
    let bytes = crate::input_file::read_file(path)?;
    let (header, data_start) = parse_header(path, &bytes)?;
    let data = &bytes[data_start..];
    if header.dtype.kind == 'O' {
        let value = pickle::loads(data).map_err(|e| {
            PoseError::format(
                path,
                format!("pickle at byte {}", data_start + e.offset),
                e.expected,
                e.found,
            )
        })?;
        return Ok(Npy::Object(match value {
            PickleValue::ObjectArray { shape, mut items }
                if shape.is_empty() && items.len() == 1 =>
            {
                items.remove(0)
            }
            other => other,
        }));
    }
    let count = header
        .shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d));
    let expected = count.and_then(|c| c.checked_mul(header.dtype.size));
    match expected {
        Some(n) if n <= data.len() => Ok(Npy::Array(NdArray {
            dtype: header.dtype,
            shape: header.shape,
            fortran_order: header.fortran_order,
            bytes: data[..n].to_vec(),
        })),
        _ => Err(PoseError::format(
            path,
            format!("data at byte {data_start}"),
            format!(
                "{} bytes for shape {:?} of {}",
                expected.map_or("more".to_string(), |n| n.to_string()),
                header.shape,
                header.dtype.descr()
            ),
            format!("{} bytes (truncated file?)", data.len()),
        )),
    }
}

/// Read a `.npy` file holding a pickled object (`np.save(path, a_dict)`), as `np.load(path,
/// allow_pickle=True).item()` would.
pub fn read_object(path: &Path) -> Result<PickleValue> {
    match read(path)? {
        Npy::Object(v) => Ok(v),
        Npy::Array(a) => Err(PoseError::format(
            path,
            "header `descr`",
            "an object array ('|O')",
            format!("a numeric array of {}", a.dtype.descr()),
        )),
    }
}

struct Header {
    dtype: Dtype,
    fortran_order: bool,
    shape: Vec<usize>,
}

fn parse_header(path: &Path, bytes: &[u8]) -> Result<(Header, usize)> {
    if !bytes.starts_with(MAGIC) {
        return Err(PoseError::format(
            path,
            "file start",
            "the .npy signature \\x93NUMPY",
            crate::hdf5::describe_bytes(&bytes[..bytes.len().min(16)]),
        ));
    }
    let major = *bytes
        .get(6)
        .ok_or_else(|| truncated(path, "version", bytes.len()))?;
    let (len, start) = match major {
        1 => (
            bytes
                .get(8..10)
                .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize),
            10,
        ),
        2 | 3 => (
            bytes
                .get(8..12)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize),
            12,
        ),
        v => {
            return Err(PoseError::format(
                path,
                "byte 6 (format version)",
                "1, 2 or 3",
                v.to_string(),
            ));
        }
    };
    let len = len.ok_or_else(|| truncated(path, "header length", bytes.len()))?;
    let text = bytes
        .get(start..start + len)
        .ok_or_else(|| truncated(path, "header", bytes.len()))?;
    let text = String::from_utf8_lossy(text);
    let descr = dict_value(&text, "descr").ok_or_else(|| {
        PoseError::format(
            path,
            "header",
            "a `descr` entry",
            format!("`{}`", text.trim()),
        )
    })?;
    let descr = descr.trim();
    let dtype = descr
        .strip_prefix('\'')
        .and_then(|d| d.strip_suffix('\''))
        .and_then(Dtype::parse)
        .ok_or_else(|| {
            PoseError::format(
                path,
                "header `descr`",
                "a simple dtype such as '<f4' or '|O'",
                format!("`{descr}` (structured dtypes are not supported)"),
            )
        })?;
    let fortran_order = match dict_value(&text, "fortran_order").map(str::trim) {
        Some("True") => true,
        Some("False") => false,
        other => {
            return Err(PoseError::format(
                path,
                "header `fortran_order`",
                "True or False",
                format!("{other:?}"),
            ));
        }
    };
    let shape_text = dict_value(&text, "shape").unwrap_or("");
    let shape = shape_text
        .trim()
        .trim_start_matches('(')
        .trim_end_matches(')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse::<usize>())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|_| {
            PoseError::format(
                path,
                "header `shape`",
                "a tuple of sizes",
                format!("`{}`", shape_text.trim()),
            )
        })?;
    Ok((
        Header {
            dtype,
            fortran_order,
            shape,
        },
        start + len,
    ))
}

fn truncated(path: &Path, what: &str, len: usize) -> PoseError {
    PoseError::format(
        path,
        format!("header {what}"),
        "a complete .npy header",
        format!("a {len}-byte file"),
    )
}

/// The text of `key`'s value in a Python dict literal (up to the next top-level comma).
fn dict_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let at = text.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = text[at..].trim_start().strip_prefix(':')?;
    let mut depth = 0i32;
    let mut quoted = false;
    for (i, c) in rest.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '(' | '[' if !quoted => depth += 1,
            ')' | ']' if !quoted => depth -= 1,
            ',' | '}' if !quoted && depth == 0 => return Some(&rest[..i]),
            _ => {}
        }
    }
    None
}

/// Write a float32 array (C order) as a version-1.0 `.npy` file, atomically.
pub fn write_f32(path: &Path, shape: &[usize], data: &[f32]) -> Result<()> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_text = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_text}, }}");
    // numpy pads the header with spaces so the data starts on a 64-byte boundary.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    crate::atomic::write_with(path, |out| {
        let mut head = MAGIC.to_vec();
        head.extend_from_slice(&[1, 0]);
        head.extend_from_slice(&(header.len() as u16).to_le_bytes());
        head.extend_from_slice(header.as_bytes());
        out.write_all(&head).map_err(|e| PoseError::io(path, e))?;
        let mut buf = Vec::with_capacity(data.len() * 4);
        for v in data {
            buf.extend_from_slice(&v.to_le_bytes());
        }
        out.write_all(&buf).map_err(|e| PoseError::io(path, e))
    })
}

/// The names and metadata written beside a pose `.npy` file.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Sidecar {
    /// Axis order of the array.
    pub axes: Vec<String>,
    /// Individual names.
    pub individuals: Vec<String>,
    /// Keypoint names.
    pub keypoints: Vec<String>,
    /// Frames per second, if known.
    pub fps: Option<f64>,
    /// Software that produced the pose.
    pub software: Option<String>,
    /// File the pose was read from.
    pub source: Option<PathBuf>,
    /// File name of the confidence array, if written.
    pub confidence: Option<String>,
}

/// The files `write_pose` may create besides `path`: names and, with confidence, its array.
pub fn sidecar_paths(path: &Path) -> [PathBuf; 2] {
    [sidecar_path(path), confidence_path(path)]
}

fn sidecar_path(path: &Path) -> PathBuf {
    path.with_extension("json")
}

fn confidence_path(path: &Path) -> PathBuf {
    path.with_extension("confidence.npy")
}

/// Write a pose as `path` (float32 positions) + `path.json` (+ `path.confidence.npy`), as a
/// unit: the positions, the file a reader opens, come last, and a failure part-way (a full
/// disk, a file that appeared meanwhile) removes what this call wrote, so no half set is left
/// to be read wrongly or to block the next attempt.
pub fn write_pose(pose: &Pose, path: &Path) -> Result<()> {
    let mut written = Vec::new();
    let result = write_pose_files(pose, path, &mut written);
    if result.is_err() {
        for file in written {
            let _ = std::fs::remove_file(file);
        }
    }
    result
}

/// [`write_pose`]'s files, each pushed to `written` once it exists.
fn write_pose_files(pose: &Pose, path: &Path, written: &mut Vec<PathBuf>) -> Result<()> {
    let confidence = match &pose.confidence {
        Some(conf) => {
            let conf_path = confidence_path(path);
            let conf = conf.as_standard_layout();
            write_f32(
                &conf_path,
                conf.shape(),
                conf.as_slice().unwrap_or_default(),
            )?;
            written.push(conf_path.clone());
            conf_path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        }
        None => None,
    };
    let sidecar = Sidecar {
        axes: ["frames", "individuals", "keypoints", "space"]
            .map(String::from)
            .to_vec(),
        individuals: pose.individuals.clone(),
        keypoints: pose.keypoints.clone(),
        fps: pose.fps,
        software: pose.software.clone(),
        source: pose.source.clone(),
        confidence,
    };
    let json_path = sidecar_path(path);
    crate::atomic::write_with(&json_path, |out| {
        serde_json::to_writer_pretty(&mut *out, &sidecar)
            .map_err(|e| PoseError::io(&json_path, e.into()))?;
        out.write_all(b"\n")
            .map_err(|e| PoseError::io(&json_path, e))
    })?;
    written.push(json_path);
    let positions = pose.positions.as_standard_layout();
    write_f32(
        path,
        pose.positions.shape(),
        positions.as_slice().unwrap_or_default(),
    )?;
    written.push(path.to_path_buf());
    Ok(())
}

/// Read a pose `.npy` (4-d `[frames, individuals, keypoints, space]`, or 3-d for one
/// individual) with its `.json` names when present (default names otherwise).
pub fn read_pose(path: &Path) -> Result<Pose> {
    let array = match read(path)? {
        Npy::Array(a) => a,
        Npy::Object(v) => {
            return Err(PoseError::format(
                path,
                "header `descr`",
                "a numeric pose array",
                format!("an object array holding {}", v.kind()),
            ));
        }
    };
    let values = array.to_f64().ok_or_else(|| {
        PoseError::format(
            path,
            "header `descr`",
            "a numeric dtype",
            array.dtype.descr(),
        )
    })?;
    let shape = match array.shape[..] {
        [f, i, k, s] => (f, i, k, s),
        [f, k, s] => (f, 1, k, s),
        _ => {
            return Err(PoseError::format(
                path,
                "header `shape`",
                "[frames, individuals, keypoints, space] (or without individuals)",
                format!("{:?}", array.shape),
            ));
        }
    };
    let positions = Array4::from_shape_vec(shape, values.into_iter().map(|v| v as f32).collect())
        .map_err(|e| {
        PoseError::format(path, "data", "values matching the shape", e.to_string())
    })?;
    let sidecar_file = sidecar_path(path);
    let sidecar: Option<Sidecar> = if sidecar_file.is_file() {
        let text = std::fs::read(&sidecar_file).map_err(|e| PoseError::io(&sidecar_file, e))?;
        Some(serde_json::from_slice(&text).map_err(|e| {
            PoseError::format(
                &sidecar_file,
                format!("line {}", e.line()),
                "the pose sidecar JSON (individuals, keypoints…)",
                e.to_string(),
            )
        })?)
    } else {
        None
    };
    let names = |prefix: &str, n: usize| (0..n).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>();
    let individuals = sidecar
        .as_ref()
        .map_or_else(|| names("individual_", shape.1), |s| s.individuals.clone());
    let keypoints = sidecar
        .as_ref()
        .map_or_else(|| names("keypoint_", shape.2), |s| s.keypoints.clone());
    let mut pose = Pose::new(positions, individuals, keypoints).map_err(|e| match e {
        PoseError::Invalid(mismatch) => PoseError::Format {
            path: sidecar_file.clone(),
            mismatch,
        },
        other => other,
    })?;
    if let Some(sidecar) = &sidecar {
        pose.fps = sidecar.fps;
        pose.software = sidecar.software.clone();
        if let Some(name) = &sidecar.confidence {
            let conf_path = path.with_file_name(name);
            let conf = match read(&conf_path)? {
                Npy::Array(a) => a,
                Npy::Object(_) => {
                    return Err(PoseError::format(
                        &conf_path,
                        "header `descr`",
                        "a numeric array",
                        "an object array",
                    ));
                }
            };
            let values = conf.to_f64().unwrap_or_default();
            let conf = Array3::from_shape_vec(
                (shape.0, shape.1, shape.2),
                values.into_iter().map(|v| v as f32).collect(),
            )
            .map_err(|_| {
                PoseError::format(
                    &conf_path,
                    "header `shape`",
                    format!("[{}, {}, {}]", shape.0, shape.1, shape.2),
                    format!("{:?}", conf.shape),
                )
            })?;
            pose = pose.with_confidence(conf)?;
        }
    }
    pose.source = Some(path.to_path_buf());
    Ok(pose)
}
