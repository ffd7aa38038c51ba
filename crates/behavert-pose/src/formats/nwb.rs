//! NWB files with ndx-pose 0.1.x and ≥ 0.2 (docs/datasets.md#calms211): `PoseEstimation` containers found
//! by their `neurodata_type` attribute (not by name), each holding one `PoseEstimationSeries`
//! per keypoint (`data` (T, 2|3), `confidence` (T,), `timestamps` — possibly a soft link to
//! another series' — or `starting_time` with a `rate`).
//!
//! One `PoseEstimation` is one individual. Containers with the same number of frames are merged
//! into one pose (individuals in file order); others become separate poses. A file with a single
//! container names its individual after the file's `identifier`, as `movement` does.

use std::path::Path;

use ndarray::{Array3, Array4};

use crate::error::{PoseError, Result};
use crate::hdf5::{H5, join};
use crate::pose::Pose;

/// True when the file holds at least one ndx-pose `PoseEstimation`.
pub fn sniff(h5: &H5) -> bool {
    !h5.find_groups_with_attr("neurodata_type", "PoseEstimation")
        .is_empty()
}

struct Subject {
    name: String,
    keypoints: Vec<String>,
    // [frames][keypoints][space] and [frames][keypoints]
    data: Vec<Vec<f64>>,
    confidence: Vec<Option<Vec<f64>>>,
    frames: usize,
    space: usize,
    fps: Option<f64>,
    software: Option<String>,
}

/// Read every `PoseEstimation` in the file; see the module docs for how they are grouped.
pub fn read_all(path: &Path) -> Result<Vec<Pose>> {
    let h5 = H5::open(path)?;
    let groups = h5.find_groups_with_attr("neurodata_type", "PoseEstimation");
    if groups.is_empty() {
        return Err(PoseError::format(
            path,
            "NWB file",
            "a group with neurodata_type `PoseEstimation` (ndx-pose)",
            "none",
        ));
    }
    let identifier = h5
        .read_strings("identifier")
        .ok()
        .and_then(|v| v.into_iter().next());
    let mut subjects = Vec::new();
    for group in &groups {
        let mut subject = read_subject(&h5, group)?;
        if groups.len() == 1
            && let Some(id) = &identifier
        {
            subject.name = id.clone();
        }
        subjects.push(subject);
    }
    let mut poses: Vec<Pose> = Vec::new();
    let mut batches: Vec<Vec<Subject>> = Vec::new();
    for subject in subjects {
        match batches
            .iter_mut()
            .find(|b| b[0].frames == subject.frames && b[0].space == subject.space)
        {
            Some(batch) => batch.push(subject),
            None => batches.push(vec![subject]),
        }
    }
    for batch in batches {
        poses.push(merge(path, batch)?);
    }
    Ok(poses)
}

/// Read the one recording of the file (several `PoseEstimation` with different lengths are an
/// error).
pub fn read(path: &Path) -> Result<Pose> {
    super::read_one(path, Some(super::Format::Nwb))
}

fn read_subject(h5: &H5, group: &str) -> Result<Subject> {
    let path = h5.path();
    let children = h5.children(group)?;
    let mut series: Vec<String> = children
        .groups
        .iter()
        .filter(|c| {
            h5.group_attr_string(&join(group, c), "neurodata_type")
                .as_deref()
                == Some("PoseEstimationSeries")
        })
        .cloned()
        .collect();
    // ndx-pose 0.1 keeps the keypoint order in `nodes`; 0.2 in the linked skeleton's `nodes`.
    // The skeleton link is named after the skeleton; find it by its neurodata_type.
    let skeleton = h5
        .soft_links(group)
        .into_iter()
        .map(|(_, target)| target)
        .find(|t| h5.group_attr_string(t, "neurodata_type").as_deref() == Some("Skeleton"))
        .unwrap_or_else(|| join(group, "skeleton"));
    for nodes_path in [join(group, "nodes"), join(&skeleton, "nodes")] {
        if let Ok(nodes) = h5.read_strings(&nodes_path) {
            let mut ordered: Vec<String> =
                nodes.into_iter().filter(|n| series.contains(n)).collect();
            if ordered.len() == series.len() {
                std::mem::swap(&mut series, &mut ordered);
                break;
            }
        }
    }
    if series.is_empty() {
        return Err(PoseError::format(
            path,
            format!("group `{group}`"),
            "PoseEstimationSeries groups (one per keypoint)",
            "none",
        ));
    }
    let mut data = Vec::new();
    let mut confidence = Vec::new();
    let mut frames = None;
    let mut space = None;
    let mut fps = None;
    for name in &series {
        let s = join(group, name);
        let (values, shape) = h5.read_f64(&join(&s, "data"))?;
        let (t, d) = match shape[..] {
            [t, d @ (2 | 3)] => (t, d),
            _ => {
                return Err(PoseError::format(
                    path,
                    format!("dataset `{s}/data`"),
                    "shape (frames, 2 or 3)",
                    format!("{shape:?}"),
                ));
            }
        };
        if *frames.get_or_insert(t) != t || *space.get_or_insert(d) != d {
            return Err(PoseError::format(
                path,
                format!("dataset `{s}/data`"),
                format!(
                    "shape ({}, {}) like the other series",
                    frames.unwrap_or(0),
                    space.unwrap_or(0)
                ),
                format!("{shape:?}"),
            ));
        }
        data.push(values);
        let conf_path = join(&s, "confidence");
        confidence.push(if h5.has_dataset(&conf_path) {
            let (c, cshape) = h5.read_f64(&conf_path)?;
            if c.len() != t {
                return Err(PoseError::format(
                    path,
                    format!("dataset `{conf_path}`"),
                    format!("{t} values (one per frame)"),
                    format!("shape {cshape:?}"),
                ));
            }
            Some(c)
        } else {
            None
        });
        if fps.is_none() {
            fps = series_fps(h5, &s, t)?;
        }
    }
    let software = h5
        .read_strings(&join(group, "source_software"))
        .ok()
        .and_then(|v| v.into_iter().next());
    Ok(Subject {
        name: group.rsplit('/').next().unwrap_or(group).to_string(),
        keypoints: series,
        data,
        confidence,
        frames: frames.unwrap_or(0),
        space: space.unwrap_or(2),
        fps,
        software,
    })
}

fn series_fps(h5: &H5, series: &str, frames: usize) -> Result<Option<f64>> {
    let start = join(series, "starting_time");
    if h5.has_dataset(&start) {
        return Ok(h5.dataset_attr_f64(&start, "rate"));
    }
    let ts = join(series, "timestamps");
    if !h5.has_dataset(&ts) {
        return Ok(None);
    }
    let (t, _) = h5.read_f64(&ts)?;
    if t.len() != frames {
        return Err(PoseError::format(
            h5.path(),
            format!("dataset `{ts}`"),
            format!("{frames} timestamps (one per frame)"),
            format!("{}", t.len()),
        ));
    }
    // movement's rule: the median rate between timestamps, rounded to 6 decimals.
    let mut rates: Vec<f64> = t
        .windows(2)
        .map(|w| 1.0 / (w[1] - w[0]))
        .filter(|r| r.is_finite())
        .collect();
    if rates.is_empty() {
        return Ok(None);
    }
    rates.sort_by(f64::total_cmp);
    let n = rates.len();
    let median = if n % 2 == 1 {
        rates[n / 2]
    } else {
        (rates[n / 2 - 1] + rates[n / 2]) / 2.0
    };
    Ok(Some((median * 1e6).round() / 1e6))
}

fn merge(path: &Path, subjects: Vec<Subject>) -> Result<Pose> {
    let mut keypoints: Vec<String> = Vec::new();
    for s in &subjects {
        for k in &s.keypoints {
            if !keypoints.contains(k) {
                keypoints.push(k.clone());
            }
        }
    }
    let (frames, space) = (subjects[0].frames, subjects[0].space);
    let (ni, nk) = (subjects.len(), keypoints.len());
    let mut positions = Array4::<f32>::from_elem((frames, ni, nk, space), f32::NAN);
    let has_conf = subjects
        .iter()
        .any(|s| s.confidence.iter().any(Option::is_some));
    let mut confidence = Array3::<f32>::from_elem((frames, ni, nk), f32::NAN);
    for (i, s) in subjects.iter().enumerate() {
        for (j, name) in s.keypoints.iter().enumerate() {
            let k = keypoints.iter().position(|n| n == name).unwrap_or(0);
            for f in 0..frames {
                for d in 0..space {
                    positions[[f, i, k, d]] = s.data[j][f * space + d] as f32;
                }
                if let Some(c) = &s.confidence[j] {
                    confidence[[f, i, k]] = c[f] as f32;
                }
            }
        }
    }
    let individuals = subjects.iter().map(|s| s.name.clone()).collect();
    let mut pose = Pose::new(positions, individuals, keypoints)?;
    if has_conf {
        pose = pose.with_confidence(confidence)?;
    }
    pose.fps = subjects.iter().find_map(|s| s.fps);
    pose.software = subjects
        .iter()
        .find_map(|s| s.software.clone())
        .or(Some("NWB".to_string()));
    pose.source = Some(path.to_path_buf());
    Ok(pose)
}

/// Merge single-individual poses (e.g. one NWB file per subject) into one multi-individual pose;
/// keypoints are the union in first-seen order, absent ones NaN.
pub fn merge_subjects(poses: Vec<Pose>) -> Result<Pose> {
    let Some(first) = poses.first() else {
        return Err(PoseError::invalid(
            "merging subjects",
            "at least one pose",
            "none",
        ));
    };
    let (frames, space) = (first.frames(), first.space().dims());
    let mut subjects = Vec::new();
    for pose in &poses {
        if pose.frames() != frames || pose.space().dims() != space {
            return Err(PoseError::invalid(
                format!("merging subject {:?}", pose.source),
                format!("{frames} frames in {space}-D like the first subject"),
                format!("{} frames in {}", pose.frames(), pose.space()),
            ));
        }
        for (i, name) in pose.individuals.iter().enumerate() {
            let data = (0..pose.keypoints.len())
                .map(|k| {
                    (0..frames)
                        .flat_map(|f| (0..space).map(move |d| (f, d)))
                        .map(|(f, d)| pose.positions[[f, i, k, d]] as f64)
                        .collect()
                })
                .collect();
            let confidence = (0..pose.keypoints.len())
                .map(|k| {
                    pose.confidence
                        .as_ref()
                        .map(|c| (0..frames).map(|f| c[[f, i, k]] as f64).collect())
                })
                .collect();
            subjects.push(Subject {
                name: name.clone(),
                keypoints: pose.keypoints.clone(),
                data,
                confidence,
                frames,
                space,
                fps: pose.fps,
                software: pose.software.clone(),
            });
        }
    }
    let source = first.source.clone().unwrap_or_default();
    merge(&source, subjects)
}
