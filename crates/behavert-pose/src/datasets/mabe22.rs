//! MABe22 (docs/datasets.md#mabe22-mouse-triplets): mouse triplets (and the fly groups' layout).
//!
//! Files (Caltech or AIcrowd names, any of them): train keypoints `mouse_triplet_train.npy` /
//! `user_train.npy`, test keypoints `mouse_triplet_test.npy` / `submission_keypoints.npy`,
//! test labels `mouse_triplets_test_labels.npy`, the frame map `frame_number_map.npy` /
//! `mouse_frame_number_map.npy`. Keypoint files are `np.save`d dicts `{'sequences': {id:
//! {'keypoints': (T, 3, 12, 2), 'annotations': (tasks, T)}}, 'vocabulary': [...]}`: already in
//! `[frame, mouse, keypoint, xy]` order. Test labels come in two layouts, both read:
//! `{'frame_number_map', 'label_array' (13, N), 'vocabulary', 'task_type'}` (the evaluator's)
//! and `{'annotations': {id: (13, T)}, 'vocabulary', 'task_type'}` (`example_labels.npy`).
//!
//! Submissions: [`write_submission`] and [`validate_submission`].

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use ndarray::{Array2, Array4, ArrayView2};

use super::{DatasetOptions, DatasetSpec, Sequence, Skipped, Split, Visit};
use crate::error::{PoseError, Result};
use crate::labels::{TargetKind, TargetTask, Targets};
use crate::pickle::{self, NdArray, PickleValue};
use crate::pose::{Pose, Space};

/// The mouse-triplet facts.
pub const SPEC: DatasetSpec = DatasetSpec {
    name: "mabe22",
    fps: Some(30.0),
    space: Space::Xy,
    individuals: &["mouse_0", "mouse_1", "mouse_2"],
    keypoints: &[
        "nose",
        "left_ear",
        "right_ear",
        "neck",
        "left_forepaw",
        "right_forepaw",
        "center_back",
        "left_hindpaw",
        "right_hindpaw",
        "tail_base",
        "tail_middle",
        "tail_tip",
    ],
    left_right_pairs: &[
        ("left_ear", "right_ear"),
        ("left_forepaw", "right_forepaw"),
        ("left_hindpaw", "right_hindpaw"),
    ],
};

/// The fly groups' keypoints: the first 19 of the 24 feature rows (the other 5 are ellipse
/// centre, orientation, axes, areas and appearance, not positions).
pub const FLY_KEYPOINTS: [&str; 19] = [
    "wing_right",
    "wing_left",
    "antennae_midpoint",
    "right_eye",
    "left_eye",
    "left_front_thorax",
    "right_front_thorax",
    "base_thorax",
    "tip_abdomen",
    "right_middle_femur_base",
    "right_middle_femur_tibia_joint",
    "left_middle_femur_base",
    "left_middle_femur_tibia_joint",
    "right_front_leg_tip",
    "right_middle_leg_tip",
    "right_back_leg_tip",
    "left_back_leg_tip",
    "left_middle_leg_tip",
    "left_front_leg_tip",
];

/// Frames per second of the fly videos.
pub const FLY_FPS: f64 = 150.0;
/// Feature rows per fly in the fly files.
const FLY_ROWS: usize = 24;
/// Largest embedding the mouse benchmark accepts.
pub const MOUSE_MAX_DIMS: usize = 128;
/// Tasks scored by regression, whatever a file's `task_type` says.
const CONTINUOUS_TASKS: [&str; 2] = ["experiment_day", "time_of_day"];

const TRAIN_FILES: [&str; 3] = [
    "mouse_triplet_train.npy",
    "user_train.npy",
    "mouse_user_train.npy",
];
const TEST_FILES: [&str; 3] = [
    "mouse_triplet_test.npy",
    "submission_keypoints.npy",
    "mouse_submission_keypoints.npy",
];
const LABEL_FILES: [&str; 2] = [
    "mouse_triplets_test_labels.npy",
    "mouse_submission_labels.npy",
];
const MAP_FILES: [&str; 2] = ["frame_number_map.npy", "mouse_frame_number_map.npy"];

/// The first of `names` present in `dir` or one folder below.
fn find(dir: &Path, names: &[&str]) -> Result<Option<PathBuf>> {
    let files = super::files_near(dir)?;
    Ok(names
        .iter()
        .find_map(|n| files.iter().find(|p| super::file_name(p) == *n))
        .cloned())
}

/// The frame map file in `dir` (`frame_number_map.npy` or `mouse_frame_number_map.npy`), for
/// writing a submission.
pub fn find_frame_number_map(dir: &Path) -> Result<Option<PathBuf>> {
    find(dir, &MAP_FILES)
}

/// Visit the train and test sequences (test ones carry the test labels as targets when the
/// label file is there).
pub fn for_each(
    dir: &Path,
    options: &DatasetOptions,
    visit: &mut Visit<'_>,
) -> Result<Vec<Skipped>> {
    let task = options.task_or("mouse");
    if task != "mouse" && task != "fly" {
        return Err(PoseError::invalid(
            "MABe22 task",
            "mouse or fly",
            format!("`{task}`"),
        ));
    }
    let train = find(dir, &TRAIN_FILES)?;
    let test = find(dir, &TEST_FILES)?;
    if train.is_none() && test.is_none() {
        return Err(super::nothing_found(
            dir,
            &format!(
                "MABe22 keypoint files ({} or {})",
                TRAIN_FILES.join(", "),
                TEST_FILES.join(", ")
            ),
        ));
    }
    let mut skipped = Vec::new();
    if let Some(path) = train.filter(|_| options.split.is_none_or(|s| s == Split::Train))
        && !read_keypoints(&path, Split::Train, None, visit)?
    {
        return Ok(skipped);
    }
    if let Some(path) = test.filter(|_| options.split.is_none_or(|s| s == Split::Test)) {
        let labels = match find(dir, &LABEL_FILES)? {
            Some(p) => Some(read_test_labels(&p)?),
            None => {
                skipped.push(Skipped {
                    path: dir.join(LABEL_FILES[0]),
                    reason: "no test label file: test sequences have no targets".into(),
                });
                None
            }
        };
        read_keypoints(&path, Split::Test, labels.as_ref(), visit)?;
    }
    Ok(skipped)
}

/// Read one keypoint file (train or test); `labels` attaches test targets by sequence id.
pub fn read_keypoints(
    path: &Path,
    split: Split,
    labels: Option<&TestLabels>,
    visit: &mut Visit<'_>,
) -> Result<bool> {
    let root = crate::formats::npy::read_object(path)?;
    let PickleValue::Dict(mut entries) = root else {
        return Err(PoseError::format(
            path,
            "top level",
            "a dict {'sequences': …, 'vocabulary': …}",
            root.kind(),
        ));
    };
    let vocabulary: Vec<String> = match entries
        .iter()
        .find(|(k, _)| k.as_str() == Some("vocabulary"))
    {
        Some((_, v)) => strings(path, "`vocabulary`", v)?,
        None => Vec::new(),
    };
    let position = entries
        .iter()
        .position(|(k, _)| k.as_str() == Some("sequences"))
        .ok_or_else(|| {
            PoseError::format(
                path,
                "top level",
                "a `sequences` key",
                format!(
                    "keys {:?}",
                    entries
                        .iter()
                        .map(|(k, _)| k.as_str().unwrap_or("?"))
                        .collect::<Vec<_>>()
                ),
            )
        })?;
    let (_, sequences) = entries.swap_remove(position);
    let PickleValue::Dict(sequences) = sequences else {
        return Err(PoseError::format(
            path,
            "`sequences`",
            "a dict {sequence id: {'keypoints': …}}",
            sequences.kind(),
        ));
    };
    // Consume the entries so each sequence's raw array is freed once converted.
    for (id, record) in sequences {
        let id = id.as_str().unwrap_or_default().to_string();
        let sequence = sequence(path, &id, split, record, &vocabulary, labels)?;
        if !visit(sequence)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn sequence(
    path: &Path,
    id: &str,
    split: Split,
    record: PickleValue,
    vocabulary: &[String],
    labels: Option<&TestLabels>,
) -> Result<Sequence> {
    let place = |field: &str| format!("sequence `{id}`, `{field}`");
    let keypoints = match record.get("keypoints") {
        Some(PickleValue::NdArray(a)) => a,
        Some(other) => {
            return Err(PoseError::format(
                path,
                place("keypoints"),
                "a numeric array",
                other.kind(),
            ));
        }
        None => {
            return Err(PoseError::format(
                path,
                place("keypoints"),
                "a `keypoints` entry",
                "none",
            ));
        }
    };
    let pose = pose(path, &place("keypoints"), keypoints)?;
    let frames = pose.frames();
    let mut sequence = Sequence::new(id, split, pose);
    if let Some(annotations) = record.get("annotations") {
        let values = matrix(path, &place("annotations"), annotations)?;
        let tasks = tasks_named(vocabulary, None);
        sequence.targets = Some(targets(
            path,
            &place("annotations"),
            tasks,
            values.view(),
            frames,
        )?);
    } else if let Some(labels) = labels
        && let Some(range) = labels.frame_number_map.get(id)
    {
        let values = labels.values.slice(ndarray::s![.., range.clone()]);
        sequence.targets = Some(targets(
            path,
            &format!("test labels of `{id}`"),
            labels.tasks.clone(),
            values,
            frames,
        )?);
    }
    Ok(sequence)
}

/// `(T, 3, 12, 2)` mouse or `(T, 11, 24, 2)` fly keypoints into a [`Pose`].
fn pose(path: &Path, place: &str, array: &NdArray) -> Result<Pose> {
    let shape = array.shape.clone();
    let wrong = || {
        PoseError::format(
            path,
            place,
            "shape (frames, 3 mice, 12 keypoints, 2) or fly (frames, 11 flies, 24 rows, 2)",
            format!("{shape:?} of {}", array.dtype.descr()),
        )
    };
    let [frames, individuals, rows, 2] = shape[..] else {
        return Err(wrong());
    };
    let values = array.to_f64().ok_or_else(wrong)?;
    let full = Array4::from_shape_vec(
        (frames, individuals, rows, 2),
        values.into_iter().map(|v| v as f32).collect(),
    )
    .map_err(|_| wrong())?;
    let (positions, keypoints, prefix, fps) = match (individuals, rows) {
        (3, 12) => (full, super::owned(SPEC.keypoints), "mouse", SPEC.fps),
        (_, FLY_ROWS) => (
            full.slice(ndarray::s![.., .., ..FLY_KEYPOINTS.len(), ..])
                .to_owned(),
            super::owned(&FLY_KEYPOINTS),
            "fly",
            Some(FLY_FPS),
        ),
        _ => return Err(wrong()),
    };
    let individuals = (0..individuals).map(|i| format!("{prefix}_{i}")).collect();
    let mut pose = Pose::new(positions, individuals, keypoints)?;
    pose.fps = fps;
    pose.source = Some(path.to_path_buf());
    pose.software = Some("MABe22".to_string());
    Ok(pose)
}

/// A 2-D numeric array as f32 `[rows, cols]`.
fn matrix(path: &Path, place: &str, value: &PickleValue) -> Result<Array2<f32>> {
    let PickleValue::NdArray(a) = value else {
        return Err(PoseError::format(
            path,
            place,
            "a 2-D numeric array",
            value.kind(),
        ));
    };
    let wrong = || {
        PoseError::format(
            path,
            place,
            "a 2-D numeric array (tasks, frames)",
            format!("shape {:?} of {}", a.shape, a.dtype.descr()),
        )
    };
    let [rows, cols] = a.shape[..] else {
        return Err(wrong());
    };
    let values = a.to_f64().ok_or_else(wrong)?;
    Array2::from_shape_vec((rows, cols), values.into_iter().map(|v| v as f32).collect())
        .map_err(|_| wrong())
}

/// `(tasks, frames)` values into [`Targets`] `[frames, tasks]`.
fn targets(
    path: &Path,
    place: &str,
    tasks: Vec<TargetTask>,
    values: ArrayView2<'_, f32>,
    frames: usize,
) -> Result<Targets> {
    let tasks = if tasks.len() == values.nrows() {
        tasks
    } else if tasks.is_empty() {
        // Train files without a vocabulary: name the rows.
        (0..values.nrows())
            .map(|i| TargetTask {
                name: format!("task_{i}"),
                kind: TargetKind::Discrete,
            })
            .collect()
    } else {
        return Err(PoseError::format(
            path,
            place,
            format!("{} rows, one per vocabulary entry", tasks.len()),
            format!("{} rows", values.nrows()),
        ));
    };
    if values.ncols() != frames {
        return Err(PoseError::format(
            path,
            place,
            format!("{frames} columns, one per keypoint frame"),
            format!("{} columns", values.ncols()),
        ));
    }
    Targets::new(tasks, values.t().as_standard_layout().into_owned())
}

fn tasks_named(names: &[String], types: Option<&[String]>) -> Vec<TargetTask> {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let continuous = match types.and_then(|t| t.get(i)) {
                // The release spells it "Continious".
                Some(t) => t.to_ascii_lowercase().starts_with("conti"),
                None => CONTINUOUS_TASKS.contains(&name.as_str()),
            };
            TargetTask {
                name: name.clone(),
                kind: if continuous {
                    TargetKind::Continuous
                } else {
                    TargetKind::Discrete
                },
            }
        })
        .collect()
}

fn strings(path: &Path, place: &str, value: &PickleValue) -> Result<Vec<String>> {
    value
        .as_seq()
        .and_then(|items| items.iter().map(|v| v.as_str().map(String::from)).collect())
        .ok_or_else(|| PoseError::format(path, place, "a list of strings", value.kind()))
}

/// Which rows of the concatenated test frames belong to each sequence, in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FrameNumberMap {
    entries: Vec<(String, std::ops::Range<usize>)>,
    index: HashMap<String, usize>,
}

impl FrameNumberMap {
    /// A map from `(id, start..stop)` entries, in order.
    pub fn new(entries: Vec<(String, std::ops::Range<usize>)>) -> Self {
        let index = entries
            .iter()
            .enumerate()
            .map(|(i, (id, _))| (id.clone(), i))
            .collect();
        Self { entries, index }
    }

    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no sequences.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The rows of sequence `id`.
    pub fn get(&self, id: &str) -> Option<std::ops::Range<usize>> {
        self.index.get(id).map(|&i| self.entries[i].1.clone())
    }

    /// The entries, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, std::ops::Range<usize>)> {
        self.entries.iter().map(|(id, r)| (id.as_str(), r.clone()))
    }

    /// Rows an embedding matrix needs: the largest stop.
    pub fn total_frames(&self) -> usize {
        self.entries.iter().map(|(_, r)| r.end).max().unwrap_or(0)
    }
}

/// Read `frame_number_map.npy` (`{id: (start, stop)}`).
pub fn read_frame_number_map(path: &Path) -> Result<FrameNumberMap> {
    let value = crate::formats::npy::read_object(path)?;
    frame_number_map(path, "top level", &value)
}

fn frame_number_map(path: &Path, place: &str, value: &PickleValue) -> Result<FrameNumberMap> {
    let PickleValue::Dict(items) = value else {
        return Err(PoseError::format(
            path,
            place,
            "a dict {id: (start, stop)}",
            value.kind(),
        ));
    };
    let mut entries = Vec::with_capacity(items.len());
    for (key, range) in items {
        let id = key
            .as_str()
            .ok_or_else(|| PoseError::format(path, place, "string sequence ids", key.kind()))?;
        let bounds = range
            .as_seq()
            .filter(|s| s.len() == 2)
            .and_then(|s| Some((s[0].as_i64()?, s[1].as_i64()?)))
            .filter(|(a, b)| 0 <= *a && a <= b);
        let Some((start, stop)) = bounds else {
            return Err(PoseError::format(
                path,
                format!("{place}, entry `{id}`"),
                "(start, stop) with 0 <= start <= stop",
                format!("{range:?}"),
            ));
        };
        entries.push((id.to_string(), start as usize..stop as usize));
    }
    Ok(FrameNumberMap::new(entries))
}

/// The hidden-task labels of the test sequences.
#[derive(Clone, Debug, PartialEq)]
pub struct TestLabels {
    /// Sequence id -> columns of `values`.
    pub frame_number_map: FrameNumberMap,
    /// The 13 tasks with their kinds.
    pub tasks: Vec<TargetTask>,
    /// `[tasks, frames]`, NaN = unlabelled.
    pub values: Array2<f32>,
}

/// Read a test-label file in either layout (see the module docs).
pub fn read_test_labels(path: &Path) -> Result<TestLabels> {
    let root = crate::formats::npy::read_object(path)?;
    let get = |key: &str| {
        root.get(key).ok_or_else(|| {
            PoseError::format(
                path,
                "top level",
                format!("a `{key}` key"),
                describe_keys(&root),
            )
        })
    };
    let names = strings(path, "`vocabulary`", get("vocabulary")?)?;
    let types = match root.get("task_type") {
        Some(v) => Some(strings(path, "`task_type`", v)?),
        None => None,
    };
    let tasks = tasks_named(&names, types.as_deref());
    let (map, values) = if let Some(array) = root.get("label_array") {
        let map = frame_number_map(path, "`frame_number_map`", get("frame_number_map")?)?;
        (map, matrix(path, "`label_array`", array)?)
    } else {
        let PickleValue::Dict(per_sequence) = get("annotations")? else {
            return Err(PoseError::format(
                path,
                "`annotations`",
                "a dict {id: (tasks, frames) array}",
                "another value",
            ));
        };
        let mut entries = Vec::new();
        let mut blocks = Vec::new();
        let mut start = 0;
        for (id, array) in per_sequence {
            let id = id.as_str().unwrap_or_default().to_string();
            let block = matrix(path, &format!("`annotations` of `{id}`"), array)?;
            entries.push((id, start..start + block.ncols()));
            start += block.ncols();
            blocks.push(block);
        }
        let views: Vec<_> = blocks.iter().map(|b| b.view()).collect();
        let values = ndarray::concatenate(ndarray::Axis(1), &views).map_err(|_| {
            PoseError::format(
                path,
                "`annotations`",
                format!("{} rows each", names.len()),
                "differing rows",
            )
        })?;
        (FrameNumberMap::new(entries), values)
    };
    if values.nrows() != tasks.len() {
        return Err(PoseError::format(
            path,
            "labels",
            format!("{} rows, one per vocabulary entry", tasks.len()),
            format!("{} rows", values.nrows()),
        ));
    }
    if map.total_frames() > values.ncols() {
        return Err(PoseError::format(
            path,
            "`frame_number_map`",
            format!("ranges within the {} labelled frames", values.ncols()),
            format!("a range ending at {}", map.total_frames()),
        ));
    }
    Ok(TestLabels {
        frame_number_map: map,
        tasks,
        values,
    })
}

fn describe_keys(value: &PickleValue) -> String {
    match value {
        PickleValue::Dict(items) => format!(
            "keys {:?}",
            items
                .iter()
                .map(|(k, _)| k.as_str().unwrap_or("?"))
                .collect::<Vec<_>>()
        ),
        other => other.kind().to_string(),
    }
}

/// What a valid submission holds.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SubmissionCheck {
    /// Embedding rows (frames).
    pub frames: usize,
    /// Embedding width.
    pub dims: usize,
    /// Sequences in the submitted frame map.
    pub sequences: usize,
}

/// Check a submission's parts against the official rules (hierAS-eval `validate_submission`):
/// the frame map equals the provided one, embeddings are a 2-D float32 array of at most
/// `max_dims` columns, all finite. Beyond the official checks (which index rows without
/// checking), rows must equal the map's total frames.
pub fn check_submission(
    expected: &FrameNumberMap,
    submitted: &FrameNumberMap,
    embeddings: &NdArray,
    max_dims: usize,
) -> std::result::Result<SubmissionCheck, String> {
    for (id, range) in expected.iter() {
        match submitted.get(id) {
            Some(r) if r == range => {}
            Some(r) => {
                return Err(format!(
                    "frame_number_map[`{id}`] is {r:?}, the provided map says {range:?}"
                ));
            }
            None => return Err(format!("frame_number_map has no entry `{id}`")),
        }
    }
    if submitted.len() != expected.len() {
        return Err(format!(
            "frame_number_map has {} entries, the provided map {}",
            submitted.len(),
            expected.len()
        ));
    }
    let [frames, dims] = embeddings.shape[..] else {
        return Err(format!(
            "embeddings have shape {:?}, not 2-D",
            embeddings.shape
        ));
    };
    if dims > max_dims {
        return Err(format!(
            "embeddings have {dims} dimensions, at most {max_dims} allowed"
        ));
    }
    if embeddings.dtype.kind != 'f' || embeddings.dtype.size != 4 {
        return Err(format!(
            "embeddings are {}, not float32",
            embeddings.dtype.descr()
        ));
    }
    if frames != expected.total_frames() {
        return Err(format!(
            "embeddings have {frames} rows, the frame map covers {}",
            expected.total_frames()
        ));
    }
    let be = embeddings.dtype.big_endian;
    if let Some(row) = embeddings.bytes.chunks_exact(4).position(|b| {
        let b = [b[0], b[1], b[2], b[3]];
        !(if be {
            f32::from_be_bytes(b)
        } else {
            f32::from_le_bytes(b)
        })
        .is_finite()
    }) {
        return Err(format!(
            "embeddings contain NaN or infinity (first at row {}, column {})",
            row / dims.max(1),
            row % dims.max(1)
        ));
    }
    Ok(SubmissionCheck {
        frames,
        dims,
        sequences: submitted.len(),
    })
}

/// Read a submission file and check it against `expected` (see [`check_submission`]).
pub fn validate_submission(
    path: &Path,
    expected: &FrameNumberMap,
    max_dims: usize,
) -> Result<SubmissionCheck> {
    let root = crate::formats::npy::read_object(path)?;
    let invalid = |found: String| {
        PoseError::format(
            path,
            "submission",
            "a submission passing the MABe22 rules",
            found,
        )
    };
    let map = frame_number_map(
        path,
        "`frame_number_map`",
        root.get("frame_number_map")
            .ok_or_else(|| invalid(format!("no `frame_number_map` ({})", describe_keys(&root))))?,
    )?;
    let embeddings = match root.get("embeddings") {
        Some(PickleValue::NdArray(a)) => a,
        Some(other) => return Err(invalid(format!("`embeddings` is {}", other.kind()))),
        None => {
            return Err(invalid(format!(
                "no `embeddings` ({})",
                describe_keys(&root)
            )));
        }
    };
    check_submission(expected, &map, embeddings, max_dims).map_err(invalid)
}

/// Write `{'frame_number_map': map, 'embeddings': float32 [frames, dims]}` as `np.save` does
/// (0-d object array in a `.npy`, pickle protocol 3 naming `numpy.core.multiarray`, which numpy 1.x and 2.x
/// both load; protocol 4 only when the embeddings exceed 4 GiB). The embeddings are checked
/// against the mouse rules first; the file is written atomically.
pub fn write_submission(
    path: &Path,
    frame_number_map: &FrameNumberMap,
    embeddings: &Array2<f32>,
) -> Result<()> {
    let (frames, dims) = embeddings.dim();
    let refuse = |found: String| {
        PoseError::invalid(
            format!("MABe22 submission {}", path.display()),
            format!(
                "embeddings [{} frames (the frame map's), at most {MOUSE_MAX_DIMS} dims], finite",
                frame_number_map.total_frames()
            ),
            found,
        )
    };
    if frames != frame_number_map.total_frames() || dims == 0 || dims > MOUSE_MAX_DIMS {
        return Err(refuse(format!("[{frames}, {dims}]")));
    }
    if let Some(i) = embeddings.iter().position(|v| !v.is_finite()) {
        return Err(refuse(format!(
            "NaN or infinity at row {}, column {}",
            i / dims,
            i % dims
        )));
    }
    crate::atomic::write_with(path, |out| {
        write_submission_to(out, frame_number_map, embeddings).map_err(|e| PoseError::io(path, e))
    })
}

fn write_submission_to(
    out: &mut dyn Write,
    map: &FrameNumberMap,
    embeddings: &Array2<f32>,
) -> std::io::Result<()> {
    // npy header for a 0-d object array, padded so the pickle starts on a 64-byte boundary.
    let mut header = "{'descr': '|O', 'fortran_order': False, 'shape': (), }".to_string();
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    out.write_all(crate::formats::npy::MAGIC)?;
    out.write_all(&[1, 0])?;
    out.write_all(&(header.len() as u16).to_le_bytes())?;
    out.write_all(header.as_bytes())?;

    let frame_number_map = PickleValue::Dict(
        map.entries
            .iter()
            .map(|(id, range)| {
                let bound = |b: usize| PickleValue::Int(b as i64);
                let range = PickleValue::Tuple(vec![bound(range.start), bound(range.end)]);
                (PickleValue::Str(id.clone()), range)
            })
            .collect(),
    );
    let submission = pickle::Dict(&[
        (&"frame_number_map", &frame_number_map),
        (&"embeddings", embeddings),
    ]);
    // np.save pickles the 0-d object array that holds the dict, not the dict itself.
    let array = pickle::ObjectArray {
        shape: &[],
        items: &[&submission],
    };
    let protocol = pickle::Protocol::binary_for(embeddings.len() * 4);
    pickle::dump(out, protocol, &array)
}
