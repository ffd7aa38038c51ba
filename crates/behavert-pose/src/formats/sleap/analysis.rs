//! SLEAP analysis HDF5 (`*.analysis.h5`, docs/formats/sleap.md): `tracks` (track, xy, node, frame) in
//! the default "matlab" order, or whatever the `dims` attribute says; `point_scores`;
//! `track_occupancy` (frame, track); node and track names. Legacy files have only `tracks`,
//! `track_occupancy`, `node_names` and `track_names`.

use std::path::Path;

use ndarray::{Array3, Array4};
use rust_hdf5::{DatatypeMessage, H5File};

use crate::error::{PoseError, Result};
use crate::hdf5::H5;
use crate::pose::Pose;

const MATLAB_4D: [&str; 4] = ["track", "xy", "node", "frame"];
const MATLAB_3D: [&str; 3] = ["track", "node", "frame"];
const CANONICAL_4D: [&str; 4] = ["frame", "track", "node", "xy"];
const CANONICAL_3D: [&str; 3] = ["frame", "track", "node"];

/// True when the file has SLEAP analysis datasets.
pub fn sniff(h5: &H5) -> bool {
    // `tracks` alone decides: a file that lacks `node_names` is still a SLEAP export, and its
    // reader names what is missing.
    h5.has_dataset("tracks")
}

fn dims_of(h5: &H5, name: &str, default: &[&str]) -> Result<Vec<String>> {
    let Some(text) = h5.dataset_attr_string(name, "dims") else {
        // Legacy exports written with transpose=False kept SLEAP's internal order.
        if default.len() == 4 && h5.group_attr_f64("", "transpose") == Some(0.0) {
            return Ok(["frame", "node", "xy", "track"].map(String::from).to_vec());
        }
        return Ok(default.iter().map(|d| d.to_string()).collect());
    };
    let dims: Vec<String> = serde_json::from_str(&text).map_err(|e| {
        PoseError::format(
            h5.path(),
            format!("dataset `{name}` attribute `dims`"),
            "a JSON list of dimension names",
            format!("`{text}` ({e})"),
        )
    })?;
    let mut sorted = dims.clone();
    sorted.sort();
    let mut wanted: Vec<String> = default.iter().map(|d| d.to_string()).collect();
    wanted.sort();
    if sorted != wanted {
        return Err(PoseError::format(
            h5.path(),
            format!("dataset `{name}` attribute `dims`"),
            format!("the dimensions {default:?} in some order"),
            format!("{dims:?}"),
        ));
    }
    Ok(dims)
}

/// Reorder `data` of `shape` with axes named `from` into the axis order `to`; `None` when the
/// names are not a permutation of each other or the data does not fill the shape.
pub(crate) fn permute(
    data: &[f64],
    shape: &[usize],
    from: &[String],
    to: &[&str],
) -> Option<(Vec<f64>, Vec<usize>)> {
    if from.len() != to.len()
        || shape.len() != to.len()
        || data.len() != shape.iter().product::<usize>()
    {
        return None;
    }
    let axis_of: Vec<usize> = to
        .iter()
        .map(|t| from.iter().position(|f| f == t))
        .collect::<Option<_>>()?;
    let mut seen = axis_of.clone();
    seen.sort_unstable();
    seen.dedup();
    if seen.len() != to.len() {
        return None;
    }
    let out_shape: Vec<usize> = axis_of.iter().map(|&a| shape[a]).collect();
    let mut strides = vec![1usize; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        strides[d] = strides[d + 1] * shape[d + 1];
    }
    let n: usize = shape.iter().product();
    let mut out = Vec::with_capacity(n);
    let mut index = vec![0usize; out_shape.len()];
    for _ in 0..n {
        let offset: usize = index
            .iter()
            .zip(&axis_of)
            .map(|(&i, &a)| i * strides[a])
            .sum();
        out.push(data[offset]);
        for d in (0..out_shape.len()).rev() {
            index[d] += 1;
            if index[d] < out_shape[d] {
                break;
            }
            index[d] = 0;
        }
    }
    Some((out, out_shape))
}

/// Read a SLEAP analysis HDF5 file.
pub fn read(path: &Path) -> Result<Pose> {
    let h5 = H5::open(path)?;
    let (tracks, shape) = h5.read_f64("tracks")?;
    if shape.len() != 4 {
        return Err(PoseError::format(
            path,
            "dataset `tracks`",
            "4 dimensions (track, xy, node, frame)",
            format!("shape {shape:?}"),
        ));
    }
    let dims = dims_of(&h5, "tracks", &MATLAB_4D)?;
    let (tracks, shape) = permute(&tracks, &shape, &dims, &CANONICAL_4D).ok_or_else(|| {
        PoseError::format(
            path,
            "dataset `tracks`",
            "axes frame, track, node, xy",
            format!("dims {dims:?} for shape {shape:?}"),
        )
    })?;
    let (frames, n_tracks, n_nodes, space) = (shape[0], shape[1], shape[2], shape[3]);
    let nodes = h5.read_strings("node_names")?;
    if nodes.len() != n_nodes {
        return Err(PoseError::format(
            path,
            "dataset `node_names`",
            format!("{n_nodes} names (the node axis of `tracks`)"),
            format!("{} names", nodes.len()),
        ));
    }
    let mut track_names = if h5.has_dataset("track_names") {
        h5.read_strings("track_names")?
    } else {
        Vec::new()
    };
    if track_names.is_empty() {
        // Untracked exports leave `track_names` empty; movement names such tracks id_0, id_1…
        track_names = (0..n_tracks).map(|i| format!("id_{i}")).collect();
    }
    if track_names.len() != n_tracks {
        return Err(PoseError::format(
            path,
            "dataset `track_names`",
            format!("{n_tracks} names (the track axis of `tracks`)"),
            format!("{} names", track_names.len()),
        ));
    }
    if h5.has_dataset("track_occupancy") {
        let occupancy = h5.shape("track_occupancy")?;
        let dims = dims_of(&h5, "track_occupancy", &["frame", "track"])?;
        let frame_axis = dims.iter().position(|d| d == "frame").unwrap_or(0);
        if occupancy.len() != 2
            || occupancy[frame_axis] != frames
            || occupancy[1 - frame_axis] != n_tracks
        {
            return Err(PoseError::format(
                path,
                "dataset `track_occupancy`",
                format!("shape ({frames}, {n_tracks}) (frames, tracks)"),
                format!("shape {occupancy:?}"),
            ));
        }
    }
    let positions = Array4::from_shape_vec(
        (frames, n_tracks, n_nodes, space),
        tracks.into_iter().map(|v| v as f32).collect(),
    )
    .map_err(|e| {
        PoseError::format(
            path,
            "dataset `tracks`",
            "a consistent shape",
            e.to_string(),
        )
    })?;
    let mut pose = Pose::new(positions, track_names, nodes).map_err(|e| {
        PoseError::format(
            path,
            "dataset `tracks`",
            "2 or 3 coordinates on the xy axis",
            e.to_string(),
        )
    })?;
    if h5.has_dataset("point_scores") {
        let (scores, shape) = h5.read_f64("point_scores")?;
        let dims = dims_of(&h5, "point_scores", &MATLAB_3D)?;
        if shape.len() != 3 {
            return Err(PoseError::format(
                path,
                "dataset `point_scores`",
                "3 dimensions (track, node, frame)",
                format!("shape {shape:?}"),
            ));
        }
        let (scores, shape) = permute(&scores, &shape, &dims, &CANONICAL_3D).ok_or_else(|| {
            PoseError::format(
                path,
                "dataset `point_scores`",
                "axes frame, track, node",
                format!("dims {dims:?} for shape {shape:?}"),
            )
        })?;
        if shape != [frames, n_tracks, n_nodes] {
            return Err(PoseError::format(
                path,
                "dataset `point_scores`",
                format!(
                    "(frame, track, node) sizes [{frames}, {n_tracks}, {n_nodes}] like `tracks`"
                ),
                format!("{shape:?}"),
            ));
        }
        let conf = Array3::from_shape_vec(
            (frames, n_tracks, n_nodes),
            scores.into_iter().map(|v| v as f32).collect(),
        )
        .map_err(|e| {
            PoseError::format(
                path,
                "dataset `point_scores`",
                "a consistent shape",
                e.to_string(),
            )
        })?;
        pose = pose.with_confidence(conf)?;
    }
    pose.source = Some(path.to_path_buf());
    pose.software = Some("SLEAP".to_string());
    Ok(pose)
}

/// Write a 2-D pose as a SLEAP analysis HDF5 file ("matlab" preset, as SLEAP and sleap-io write
/// it, with `dims` attributes), gzip-compressed.
pub fn write(pose: &Pose, path: &Path) -> Result<()> {
    let (frames, ni, nk, ns) = pose.positions.dim();
    if ns != 2 {
        return Err(PoseError::invalid(
            format!("writing {}", path.display()),
            "a 2-D pose (SLEAP stores x, y)",
            format!("{ns} coordinates"),
        ));
    }
    let canonical: Vec<String> = CANONICAL_4D.iter().map(|s| s.to_string()).collect();
    let flat: Vec<f64> = pose.positions.iter().map(|&v| v as f64).collect();
    let bad = || PoseError::invalid("pose positions", "a contiguous array", "another layout");
    let (tracks, tracks_shape) =
        permute(&flat, &[frames, ni, nk, 2], &canonical, &MATLAB_4D).ok_or_else(bad)?;
    let scores: Vec<f64> = match &pose.confidence {
        Some(c) => c.iter().map(|&v| v as f64).collect(),
        None => vec![f64::NAN; frames * ni * nk],
    };
    let canonical3: Vec<String> = CANONICAL_3D.iter().map(|s| s.to_string()).collect();
    let (point_scores, scores_shape) =
        permute(&scores, &[frames, ni, nk], &canonical3, &MATLAB_3D).ok_or_else(bad)?;
    let mut occupancy = vec![0u8; frames * ni];
    for f in 0..frames {
        for i in 0..ni {
            occupancy[f * ni + i] = (0..nk).any(|k| pose.positions[[f, i, k, 0]].is_finite()) as u8;
        }
    }
    let instance_scores = vec![f64::NAN; ni * frames];
    let h5err = |e: rust_hdf5::Hdf5Error| PoseError::io(path, std::io::Error::other(e.to_string()));
    crate::atomic::write_by_name(path, |temp| {
        let file = H5File::create(temp).map_err(h5err)?;
        let root = file.root_group();
        root.set_attr_string("preset", "matlab").map_err(h5err)?;
        root.set_attr_string("format", "analysis").map_err(h5err)?;
        let f64_ds = |name: &str, data: &[f64], shape: &[usize], dims: &[&str]| -> Result<()> {
            let chunk: Vec<usize> = shape.iter().map(|&d| d.clamp(1, 4096)).collect();
            let ds = file
                .new_dataset::<f64>()
                .shape(shape)
                .chunk(&chunk)
                .deflate(9)
                .create(name)
                .map_err(h5err)?;
            ds.write_raw(data).map_err(h5err)?;
            set_dims(&ds, dims).map_err(h5err)
        };
        f64_ds("tracks", &tracks, &tracks_shape, &MATLAB_4D)?;
        f64_ds("point_scores", &point_scores, &scores_shape, &MATLAB_3D)?;
        f64_ds(
            "instance_scores",
            &instance_scores,
            &[ni, frames],
            &["track", "frame"],
        )?;
        f64_ds(
            "tracking_scores",
            &instance_scores,
            &[ni, frames],
            &["track", "frame"],
        )?;
        let occ = file
            .new_dataset::<u8>()
            .shape([frames, ni])
            .chunk(&[frames.clamp(1, 4096), ni.max(1)])
            .deflate(9)
            .create("track_occupancy")
            .map_err(h5err)?;
        occ.write_raw(&occupancy).map_err(h5err)?;
        set_dims(&occ, &["frame", "track"]).map_err(h5err)?;
        write_fixed_strings(&file, "track_names", &pose.individuals).map_err(h5err)?;
        write_fixed_strings(&file, "node_names", &pose.keypoints).map_err(h5err)?;
        file.close().map_err(h5err)
    })
}

fn set_dims(ds: &rust_hdf5::H5Dataset, dims: &[&str]) -> rust_hdf5::Result<()> {
    let json = serde_json::to_string(dims).unwrap_or_default();
    ds.new_attr::<rust_hdf5::types::VarLenUnicode>()
        .shape(())
        .create("dims")?
        .write_string(&json)
}

/// A fixed-length byte-string dataset, as SLEAP writes names (numpy `S` dtype).
fn write_fixed_strings(file: &H5File, name: &str, values: &[String]) -> rust_hdf5::Result<()> {
    let width = values.iter().map(|v| v.len()).max().unwrap_or(1).max(1);
    let mut bytes = Vec::with_capacity(width * values.len());
    for v in values {
        bytes.extend_from_slice(v.as_bytes());
        bytes.resize(bytes.len() + width - v.len(), 0);
    }
    let ds = file
        .new_dataset::<u8>()
        .datatype(DatatypeMessage::FixedString {
            size: width as u32,
            padding: 1,
            charset: 0,
        })
        .shape([values.len()])
        .create(name)?;
    ds.write_raw_bytes(&bytes)
}
