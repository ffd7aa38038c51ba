//! Pose file formats: detection from content, and one reader (and writer, where users need one)
//! per format. Each format lives in its own module; [`Format`] is the registry.
//!
//! [`read`] returns one [`Pose`] per recording; [`read_one`] is the common single-recording case.
//! A file holds several recordings only where the format allows it: an `.slp` file with several
//! videos, or an NWB file whose `PoseEstimation` containers do not share a time base. Several
//! `PoseEstimation` containers that do share one (one per animal, ndx-pose's convention) are
//! merged into one pose, one individual each.

pub mod anipose;
pub mod dlc;
pub mod lightning_pose;
pub mod movement;
pub mod npy;
pub mod nwb;
pub mod sleap;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use crate::error::{PoseError, Result};
use crate::hdf5::{self, H5};
use crate::pose::Pose;

/// Every pose file format this crate knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// DeepLabCut CSV (single- or multi-animal).
    DlcCsv,
    /// DeepLabCut HDF5 (pandas table or fixed layout).
    DlcH5,
    /// SLEAP analysis HDF5 (`*.analysis.h5`).
    SleapH5,
    /// SLEAP labels/predictions (`*.slp`).
    Slp,
    /// NWB with ndx-pose.
    Nwb,
    /// Anipose 3D CSV.
    Anipose,
    /// Lightning Pose CSV.
    LightningPose,
    /// `movement` netCDF.
    Movement,
    /// numpy `.npy` float array `[frames, individuals, keypoints, space]` (+ `.json` names).
    Npy,
}

/// One line per format: (format, name on the command line, writable).
const REGISTRY: [(Format, &str, bool); 9] = [
    (Format::DlcCsv, "dlc-csv", true),
    (Format::DlcH5, "dlc-h5", true),
    (Format::SleapH5, "sleap-h5", true),
    (Format::Slp, "slp", false),
    (Format::Nwb, "nwb", false),
    (Format::Anipose, "anipose", false),
    (Format::LightningPose, "lightning-pose", false),
    (Format::Movement, "movement", false),
    (Format::Npy, "npy", true),
];

impl Format {
    /// Every format, in registry order.
    pub fn all() -> impl Iterator<Item = Format> {
        REGISTRY.iter().map(|(f, _, _)| *f)
    }

    /// The command-line name (`dlc-csv`, `sleap-h5`, …).
    pub fn name(self) -> &'static str {
        REGISTRY
            .iter()
            .find(|(f, _, _)| *f == self)
            .map_or("?", |(_, n, _)| n)
    }

    /// True when [`write`] supports this format.
    pub fn writable(self) -> bool {
        REGISTRY.iter().any(|(f, _, w)| *f == self && *w)
    }

    /// The formats [`write`] supports.
    pub fn writable_formats() -> impl Iterator<Item = Format> {
        Self::all().filter(|f| f.writable())
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = PoseError;

    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim().to_ascii_lowercase();
        let alias = match wanted.as_str() {
            "sleap" | "sleap-analysis" | "analysis-h5" => "sleap-h5",
            "lightning" | "lp" => "lightning-pose",
            "netcdf" | "nc" => "movement",
            "dlc" => "dlc-csv",
            other => other,
        };
        REGISTRY
            .iter()
            .find(|(_, n, _)| *n == alias)
            .map(|(f, _, _)| *f)
            .ok_or_else(|| {
                PoseError::invalid(
                    "format name",
                    format!("one of {}", REGISTRY.map(|(_, n, _)| n).join(", ")),
                    format!("`{s}`"),
                )
            })
    }
}

/// The format of `path`, from its content (signature, header rows, HDF5 groups), not its name.
pub fn detect(path: &Path) -> Result<Format> {
    let mut start = [0u8; 4096];
    let n = hdf5::read_prefix(path, &mut start)?;
    let start = &start[..n];
    if n == 0 {
        return Err(PoseError::format(
            path,
            "file start",
            "a pose file",
            "an empty file",
        ));
    }
    if start.starts_with(npy::MAGIC) {
        return Ok(Format::Npy);
    }
    if hdf5::has_signature(start) {
        return detect_hdf5(path);
    }
    if dlc::csv::sniff(start) {
        return Ok(if lightning_pose::sniff(path)? {
            Format::LightningPose
        } else {
            Format::DlcCsv
        });
    }
    if anipose::sniff(start) {
        return Ok(Format::Anipose);
    }
    Err(PoseError::format(
        path,
        "file start",
        "a pose file (HDF5, .npy, or a CSV starting `scorer` or with Anipose `_x,_y,_z` columns)",
        describe_text(start),
    ))
}

fn detect_hdf5(path: &Path) -> Result<Format> {
    let h5 = H5::open(path)?;
    if dlc::h5::sniff(&h5) {
        return Ok(Format::DlcH5);
    }
    if sleap::slp::sniff(&h5) {
        return Ok(Format::Slp);
    }
    if sleap::analysis::sniff(&h5) {
        return Ok(Format::SleapH5);
    }
    if nwb::sniff(&h5) {
        return Ok(Format::Nwb);
    }
    if movement::sniff(&h5) {
        return Ok(Format::Movement);
    }
    let children = h5.children("").unwrap_or_default();
    Err(PoseError::format(
        path,
        "HDF5 root group",
        "a pose layout (pandas `pandas_type` group, SLEAP `tracks`, `.slp` `metadata`+`instances`, \
         NWB `PoseEstimationSeries`, or netCDF `position`)",
        format!(
            "groups {:?} and datasets {:?}",
            children.groups.iter().take(8).collect::<Vec<_>>(),
            children.datasets.iter().take(8).collect::<Vec<_>>()
        ),
    ))
}

fn describe_text(start: &[u8]) -> String {
    let line = start.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = &line[..line.len().min(60)];
    match std::str::from_utf8(line) {
        Ok(text)
            if !text
                .chars()
                .any(|c| c.is_control() && c != '\r' && c != '\t') =>
        {
            format!("first line `{}`", text.trim_end())
        }
        _ => hdf5::describe_bytes(&start[..start.len().min(16)]),
    }
}

/// Read every recording in `path`; `format` overrides detection.
pub fn read(path: &Path, format: Option<Format>) -> Result<Vec<Pose>> {
    let format = match format {
        Some(f) => f,
        None => detect(path)?,
    };
    let poses = match format {
        Format::DlcCsv => vec![dlc::csv::read(path)?],
        Format::DlcH5 => vec![dlc::h5::read(path)?],
        Format::SleapH5 => vec![sleap::analysis::read(path)?],
        Format::Slp => sleap::slp::read_all(path)?,
        Format::Nwb => nwb::read_all(path)?,
        Format::Anipose => vec![anipose::read(path)?],
        Format::LightningPose => vec![lightning_pose::read(path)?],
        Format::Movement => vec![movement::read(path)?],
        Format::Npy => vec![npy::read_pose(path)?],
    };
    Ok(poses.into_iter().map(usable).collect())
}

/// `pose` with infinite and absurd values made missing, and a warning naming its file if any
/// were: one `inf` must not turn every output of its windows into NaN.
pub(crate) fn usable(mut pose: Pose) -> Pose {
    let dropped = pose.drop_unusable_values();
    if dropped > 0 {
        tracing::warn!(
            file = %pose.source.as_deref().unwrap_or(Path::new("?")).display(),
            keypoint_frames = dropped,
            "infinite or out-of-range coordinates (beyond ±{}) treated as missing",
            crate::pose::MAX_COORDINATE
        );
    }
    pose
}

/// Read the one recording in `path`; a file holding several is an error naming how many.
pub fn read_one(path: &Path, format: Option<Format>) -> Result<Pose> {
    let mut poses = read(path, format)?;
    match poses.len() {
        1 => Ok(poses.remove(0)),
        n => Err(PoseError::format(
            path,
            "recordings",
            "one recording (use `formats::read` for files holding several)",
            format!("{n} recordings"),
        )),
    }
}

/// Every file [`write`] may create for `path` in `format` (the file and its sidecars).
pub fn output_paths(path: &Path, format: Format) -> Vec<std::path::PathBuf> {
    let mut paths = vec![path.to_path_buf()];
    if format == Format::Npy {
        paths.extend(npy::sidecar_paths(path));
    }
    paths
}

/// Write `pose` to `path` as `format` (atomically: a temporary file renamed into place).
pub fn write(pose: &Pose, path: &Path, format: Format) -> Result<()> {
    match format {
        Format::DlcCsv => dlc::csv::write(pose, path),
        Format::DlcH5 => dlc::h5::write(pose, path),
        Format::SleapH5 => sleap::analysis::write(pose, path),
        Format::Npy => npy::write_pose(pose, path),
        other => Err(PoseError::invalid(
            format!("writing {}", path.display()),
            format!(
                "a writable format ({})",
                Format::writable_formats()
                    .map(|f| f.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!("`{other}`, which is read-only"),
        )),
    }
}

/// How many frames a file may leave out between its rows: Anipose drops every frame it could
/// not triangulate, so most of a recording can be absent, but a few rows whose frame numbers
/// stand for hours of recording are a damaged index, not a sparse file.
const FRAMES_LEFT_OUT_PER_ROW: usize = 100;
/// Frames any file may leave out, whatever its rows: an hour at 30 fps.
const FRAMES_LEFT_OUT: usize = 108_000;

/// Checks that `rows` data rows whose last frame number is `last` leave out no more frames
/// than a real file does (see [`FRAMES_LEFT_OUT_PER_ROW`]), before the frames are laid out.
pub(crate) fn check_frames_left_out(
    path: &Path,
    place: &str,
    rows: usize,
    last: usize,
) -> Result<()> {
    let most = rows
        .saturating_mul(FRAMES_LEFT_OUT_PER_ROW)
        .saturating_add(FRAMES_LEFT_OUT);
    if last >= most {
        return Err(PoseError::format(
            path,
            place,
            format!(
                "frame numbers below {most} for {rows} rows (a file leaves out at most \
                 {FRAMES_LEFT_OUT_PER_ROW} frames per row, plus {FRAMES_LEFT_OUT})"
            ),
            format!("frame number {last}"),
        ));
    }
    Ok(())
}

/// Rows of `width` values moved to their frame numbers `frames` (one per row, increasing):
/// frames no row names come back missing (NaN), where a file left them out. The result holds
/// frames `0..=last`; callers check that size first.
pub(crate) fn place_rows(values: &[f32], width: usize, frames: &[usize]) -> Vec<f32> {
    let total = frames.last().map_or(0, |&last| last + 1);
    let mut placed = vec![f32::NAN; total * width];
    for (row, &f) in frames.iter().enumerate() {
        placed[f * width..(f + 1) * width].copy_from_slice(&values[row * width..(row + 1) * width]);
    }
    placed
}
