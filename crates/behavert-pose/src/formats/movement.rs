//! `movement` netCDF files (`ds.to_netcdf()`, docs/datasets.md#calms212): data variables `position`
//! (time, space, keypoints, individuals) and `confidence`, with coordinates named either in the
//! plural (`keypoints`, `individuals`; movement < 0.17, LISBET) or the singular (`keypoint`,
//! `individual`). Axis names come from netCDF's `_Netcdf4Coordinates`/`_Netcdf4Dimid`
//! attributes, falling back to the sizes of the dimension datasets.

use std::path::Path;

use ndarray::{Array3, Array4};

use super::sleap::analysis::permute;
use crate::error::{PoseError, Result};
use crate::hdf5::H5;
use crate::pose::Pose;

/// True when the file has a `position` variable (and is not a SLEAP file).
pub fn sniff(h5: &H5) -> bool {
    h5.has_dataset("position") && h5.has_dataset("time")
}

/// Canonical axis name for each spelling.
fn canonical(dim: &str) -> Option<&'static str> {
    Some(match dim {
        "time" => "time",
        "space" => "space",
        "keypoints" | "keypoint" => "keypoint",
        "individuals" | "individual" => "individual",
        _ => return None,
    })
}

const DIMS: [&str; 4] = ["time", "space", "keypoint", "individual"];

fn dim_dataset(h5: &H5, dim: &str) -> Option<String> {
    let spellings: &[&str] = match dim {
        "keypoint" => &["keypoint", "keypoints"],
        "individual" => &["individual", "individuals"],
        other => &[if other == "time" { "time" } else { "space" }],
    };
    spellings
        .iter()
        .find(|s| h5.has_dataset(s))
        .map(|s| s.to_string())
}

/// The canonical axis names of `variable`, from netCDF attributes or dimension sizes.
fn axes_of(h5: &H5, variable: &str, shape: &[usize]) -> Result<Vec<String>> {
    if let Some(ids) = h5.dataset_attr_f64s(variable, "_Netcdf4Coordinates") {
        let mut names = Vec::new();
        for id in &ids {
            let found = DIMS.iter().find_map(|d| {
                let ds = dim_dataset(h5, d)?;
                (h5.dataset_attr_f64(&ds, "_Netcdf4Dimid") == Some(*id)).then(|| d.to_string())
            });
            match found {
                Some(n) => names.push(n),
                None => break,
            }
        }
        if names.len() == shape.len() {
            return Ok(names);
        }
    }
    // By size, in movement's order where sizes tie (e.g. 2 individuals in 2-D).
    let mut names = Vec::new();
    let mut used = Vec::new();
    for &size in shape {
        let pick = DIMS.iter().find(|d| {
            !used.contains(*d)
                && dim_dataset(h5, d)
                    .and_then(|ds| h5.shape(&ds).ok())
                    .is_some_and(|s| s.first() == Some(&size))
        });
        match pick {
            Some(d) => {
                used.push(*d);
                names.push(d.to_string());
            }
            None => {
                return Err(PoseError::format(
                    h5.path(),
                    format!("variable `{variable}`"),
                    "axes matching the time/space/keypoint(s)/individual(s) coordinates",
                    format!("shape {shape:?}"),
                ));
            }
        }
    }
    Ok(names)
}

/// Read a `movement` netCDF file.
pub fn read(path: &Path) -> Result<Pose> {
    let h5 = H5::open(path)?;
    let (data, shape) = h5.read_f64("position")?;
    if shape.len() != 4 {
        return Err(PoseError::format(
            path,
            "variable `position`",
            "4 dimensions (time, space, keypoints, individuals)",
            format!("shape {shape:?}"),
        ));
    }
    let axes = axes_of(&h5, "position", &shape)?;
    if let Some(unknown) = axes.iter().find(|a| canonical(a).is_none()) {
        return Err(PoseError::format(
            path,
            "variable `position`",
            "dimensions time, space, keypoint(s), individual(s)",
            format!("`{unknown}`"),
        ));
    }
    let (data, s) = permute(
        &data,
        &shape,
        &axes,
        &["time", "individual", "keypoint", "space"],
    )
    .ok_or_else(|| {
        PoseError::format(
            path,
            "variable `position`",
            "axes time, space, keypoint(s), individual(s)",
            format!("{axes:?} for shape {shape:?}"),
        )
    })?;
    let names = |dim: &str, n: usize, prefix: &str| -> Result<Vec<String>> {
        match dim_dataset(&h5, dim) {
            Some(ds) => {
                let v = h5.read_strings(&ds)?;
                if v.len() != n {
                    return Err(PoseError::format(
                        path,
                        format!("coordinate `{ds}`"),
                        format!("{n} names"),
                        format!("{} names", v.len()),
                    ));
                }
                Ok(v)
            }
            None => Ok((0..n).map(|i| format!("{prefix}{i}")).collect()),
        }
    };
    let individuals = names("individual", s[1], "id_")?;
    let keypoints = names("keypoint", s[2], "keypoint_")?;
    let positions = Array4::from_shape_vec(
        (s[0], s[1], s[2], s[3]),
        data.into_iter().map(|v| v as f32).collect(),
    )
    .map_err(|e| {
        PoseError::format(
            path,
            "variable `position`",
            "a consistent shape",
            e.to_string(),
        )
    })?;
    let mut pose = Pose::new(positions, individuals, keypoints).map_err(|e| {
        PoseError::format(
            path,
            "variable `position`",
            "names matching the axes",
            e.to_string(),
        )
    })?;
    if h5.has_dataset("confidence") {
        let (conf, cshape) = h5.read_f64("confidence")?;
        let caxes = axes_of(&h5, "confidence", &cshape)?;
        let (f, i, k) = (s[0], s[1], s[2]);
        let bad = || {
            PoseError::format(
                path,
                "variable `confidence`",
                "axes time, [keypoint(s),] individual(s)",
                format!("{caxes:?} for shape {cshape:?}"),
            )
        };
        let conf: Vec<f64> = if caxes.iter().any(|a| a == "keypoint") {
            permute(&conf, &cshape, &caxes, &["time", "individual", "keypoint"])
                .ok_or_else(bad)?
                .0
        } else {
            // movement ≥ 0.17 may store one confidence per individual: repeat it per keypoint.
            let per = permute(&conf, &cshape, &caxes, &["time", "individual"])
                .ok_or_else(bad)?
                .0;
            if per.len() != f * i {
                return Err(bad());
            }
            (0..f * i * k).map(|n| per[n / k]).collect()
        };
        if conf.len() != f * i * k {
            return Err(PoseError::format(
                path,
                "variable `confidence`",
                format!("{} values", f * i * k),
                format!("shape {cshape:?}"),
            ));
        }
        let conf = Array3::from_shape_vec((f, i, k), conf.into_iter().map(|v| v as f32).collect())
            .map_err(|e| {
                PoseError::format(
                    path,
                    "variable `confidence`",
                    "a consistent shape",
                    e.to_string(),
                )
            })?;
        pose = pose.with_confidence(conf)?;
    }
    pose.fps = h5
        .group_attr_f64("", "fps")
        .filter(|f| f.is_finite() && *f > 0.0);
    pose.software = h5
        .group_attr_string("", "source_software")
        .filter(|s| !s.is_empty())
        .or(Some("movement".to_string()));
    pose.source = Some(path.to_path_buf());
    Ok(pose)
}
