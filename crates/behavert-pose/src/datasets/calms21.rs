//! CalMS21 (docs/datasets.md#calms21): `calms21_task{1,2,3}_{train,test}.json` and
//! `calms21_unlabeled_videos_part{1..4}.json` (or the `.npy` files of `calms21_convert_to_npy.py`)
//! in the dataset folder or one folder below (as the zips unpack).
//!
//! Layout `{group: {sequence_id: {keypoints [T][2 mice][x, y][7], scores [T][2][7],
//! annotations [T], metadata {annotator-id, vocab}}}}`. Keypoints are transposed to
//! `[T][mouse][keypoint][x, y]`. JSON is parsed streaming: one sequence at a time is in memory,
//! its numbers parsed straight into one flat buffer (never a tree of nested lists).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use ndarray::{Array3, Array4};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{DatasetOptions, DatasetSpec, Sequence, Skipped, Split, Visit};
use crate::error::{PoseError, Result};
use crate::labels::{FrameLabels, Labels};
use crate::pickle::PickleValue;
use crate::pose::{Pose, Space};

/// CalMS21's fixed facts.
pub const SPEC: DatasetSpec = DatasetSpec {
    name: "calms21",
    fps: Some(30.0),
    space: Space::Xy,
    individuals: &["resident", "intruder"],
    keypoints: &[
        "nose",
        "left_ear",
        "right_ear",
        "neck",
        "left_hip",
        "right_hip",
        "tail",
    ],
    left_right_pairs: &[("left_ear", "right_ear"), ("left_hip", "right_hip")],
};

const MICE: usize = 2;
const KEYPOINTS: usize = 7;

/// Which CalMS21 files to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Task {
    /// Classic classification, one annotator.
    Task1,
    /// Annotation styles of five other annotators.
    Task2,
    /// Seven new behaviours, one binary problem each.
    Task3,
    /// The unlabelled videos (pretraining).
    Unlabelled,
}

impl Task {
    /// The task named in `options` (default task 1).
    pub fn parse(options: &DatasetOptions) -> Result<Self> {
        match options.task_or("task1").as_str() {
            "task1" | "1" => Ok(Task::Task1),
            "task2" | "2" => Ok(Task::Task2),
            "task3" | "3" => Ok(Task::Task3),
            "unlabeled" | "unlabelled" | "unlabeled_videos" => Ok(Task::Unlabelled),
            other => Err(PoseError::invalid(
                "CalMS21 task",
                "task1, task2, task3 or unlabeled",
                format!("`{other}`"),
            )),
        }
    }

    /// The name used in file names (`task1`…, `unlabeled`).
    pub fn name(self) -> &'static str {
        match self {
            Task::Task1 => "task1",
            Task::Task2 => "task2",
            Task::Task3 => "task3",
            Task::Unlabelled => "unlabeled",
        }
    }
}

/// The files of `task` in `dir`, with the split each holds. JSON wins over an npy file of the
/// same name (the npy files are a conversion of the JSON release).
pub fn files(dir: &Path, task: Task) -> Result<Vec<(PathBuf, Split)>> {
    let mut found: BTreeMap<String, (PathBuf, Split)> = BTreeMap::new();
    for path in super::files_near(dir)? {
        let name = super::file_name(&path);
        let Some((stem, ext)) = name.rsplit_once('.') else {
            continue;
        };
        if ext != "json" && ext != "npy" {
            continue;
        }
        let split = match task {
            Task::Unlabelled if stem.starts_with("calms21_unlabeled_videos_part") => {
                Split::Unlabelled
            }
            Task::Unlabelled => continue,
            _ => match stem.strip_prefix(&format!("calms21_{}_", task.name())) {
                Some("train") => Split::Train,
                Some("test") => Split::Test,
                _ => continue,
            },
        };
        if ext == "npy" && found.contains_key(stem) {
            continue;
        }
        found.insert(stem.to_string(), (path, split));
    }
    if found.is_empty() {
        return Err(super::nothing_found(
            dir,
            &format!(
                "CalMS21 files calms21_{}_*.json or .npy (here or one folder below)",
                task.name()
            ),
        ));
    }
    Ok(found.into_values().collect())
}

/// Visit the sequences of the task and split in `options`.
pub fn for_each(
    dir: &Path,
    options: &DatasetOptions,
    visit: &mut Visit<'_>,
) -> Result<Vec<Skipped>> {
    let task = Task::parse(options)?;
    for (path, split) in files(dir, task)? {
        if options.split.is_some_and(|s| s != split) {
            continue;
        }
        let more = if path.extension().is_some_and(|e| e == "npy") {
            read_npy(&path, split, options, visit)?
        } else {
            read_json(&path, split, options, visit)?
        };
        if !more {
            break;
        }
    }
    Ok(Vec::new())
}

/// Stream one CalMS21 JSON file; returns false when `visit` asked to stop.
pub fn read_json(
    path: &Path,
    split: Split,
    options: &DatasetOptions,
    visit: &mut Visit<'_>,
) -> Result<bool> {
    let file = std::fs::File::open(path).map_err(|e| PoseError::io(path, e))?;
    let state = RefCell::new(StreamState {
        place: Place::default(),
        failure: None,
        stopped: false,
    });
    let mut deserializer =
        serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 20, file));
    let seed = FileSeed {
        path,
        split,
        options,
        state: &state,
        visit,
    };
    let outcome = seed
        .deserialize(&mut deserializer)
        .and_then(|()| deserializer.end());
    let mut state = state.into_inner();
    if let Some(failure) = state.failure.take() {
        return Err(failure);
    }
    if state.stopped {
        return Ok(false);
    }
    outcome.map_err(|e| json_error(path, &state.place, &e))?;
    Ok(true)
}

/// Where the parser is, for error messages.
#[derive(Default, Clone)]
struct Place {
    group: Option<String>,
    sequence: Option<String>,
    field: Option<&'static str>,
}

impl Place {
    fn describe(&self) -> String {
        match (&self.group, &self.sequence, self.field) {
            (Some(g), Some(s), Some(f)) => format!("group `{g}`, sequence `{s}`, `{f}`"),
            (Some(g), Some(s), None) => format!("group `{g}`, sequence `{s}`"),
            (Some(g), None, _) => format!("group `{g}`"),
            _ => "top level".to_string(),
        }
    }

    fn expected(&self) -> &'static str {
        match self.field {
            Some("keypoints") => "keypoints nested [frames][2 mice][x, y][7 keypoints]",
            Some("scores") => "scores nested [frames][2 mice][7 keypoints]",
            Some("annotations") => "annotations: one integer class id per frame",
            Some("metadata") => "metadata {\"annotator-id\": int, \"vocab\": {name: id}}",
            _ if self.sequence.is_some() => {
                "a sequence record {keypoints, scores, annotations, metadata}"
            }
            _ if self.group.is_some() => "{sequence id: record}",
            _ => "{group: {sequence id: record}} (CalMS21 JSON)",
        }
    }
}

fn json_error(path: &Path, place: &Place, e: &serde_json::Error) -> PoseError {
    let message = e.to_string();
    let found = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(m, _)| m)
        .to_string();
    PoseError::format(
        path,
        format!(
            "{} (line {}, column {})",
            place.describe(),
            e.line(),
            e.column()
        ),
        place.expected(),
        found,
    )
}

struct StreamState {
    place: Place,
    /// An error raised while building a sequence (kept typed; serde only sees "stop").
    failure: Option<PoseError>,
    /// The visitor asked to stop.
    stopped: bool,
}

struct FileSeed<'a, 'v> {
    path: &'a Path,
    split: Split,
    options: &'a DatasetOptions,
    state: &'a RefCell<StreamState>,
    visit: &'a mut Visit<'v>,
}

impl<'de> DeserializeSeed<'de> for FileSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FileSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of groups")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        while let Some(group) = map.next_key::<String>()? {
            self.state.borrow_mut().place = Place {
                group: Some(group.clone()),
                ..Place::default()
            };
            map.next_value_seed(GroupSeed {
                group: &group,
                file: &mut *self.visit,
                path: self.path,
                split: self.split,
                options: self.options,
                state: self.state,
            })?;
        }
        Ok(())
    }
}

struct GroupSeed<'a, 'v> {
    group: &'a str,
    file: &'a mut Visit<'v>,
    path: &'a Path,
    split: Split,
    options: &'a DatasetOptions,
    state: &'a RefCell<StreamState>,
}

impl<'de> DeserializeSeed<'de> for GroupSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for GroupSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of sequences")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        let wanted_group = self.options.wants(self.split, Some(self.group));
        while let Some(id) = map.next_key::<String>()? {
            self.state.borrow_mut().place.sequence = Some(id.clone());
            if !wanted_group {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let record = map.next_value_seed(RecordSeed { state: self.state })?;
            self.state.borrow_mut().place.field = None;
            let outcome = record
                .into_sequence(self.path, &id, self.group, self.split)
                .and_then(|s| (self.file)(s));
            match outcome {
                Ok(true) => {}
                Ok(false) => {
                    self.state.borrow_mut().stopped = true;
                    return Err(de::Error::custom("stopped"));
                }
                Err(e) => {
                    self.state.borrow_mut().failure = Some(e);
                    return Err(de::Error::custom("stopped"));
                }
            }
        }
        Ok(())
    }
}

/// One record's numbers, as parsed.
#[derive(Default)]
struct RawRecord {
    keypoints: Option<Nested>,
    scores: Option<Nested>,
    annotations: Option<Vec<f64>>,
    annotator: Option<i64>,
    vocab: Option<Vec<(String, i64)>>,
}

struct RecordSeed<'a> {
    state: &'a RefCell<StreamState>,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = RawRecord;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<RawRecord, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = RawRecord;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a sequence record object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<RawRecord, A::Error> {
        let mut record = RawRecord::default();
        while let Some(key) = map.next_key::<String>()? {
            let field = match key.as_str() {
                "keypoints" => Some("keypoints"),
                "scores" => Some("scores"),
                "annotations" => Some("annotations"),
                "metadata" => Some("metadata"),
                _ => None,
            };
            self.state.borrow_mut().place.field = field;
            match field {
                Some("keypoints") => record.keypoints = Some(map.next_value_seed(NestedSeed(4))?),
                Some("scores") => record.scores = Some(map.next_value_seed(NestedSeed(3))?),
                Some("annotations") => {
                    record.annotations = Some(map.next_value_seed(NestedSeed(1))?.values)
                }
                Some("metadata") => {
                    let meta: Metadata = map.next_value()?;
                    record.annotator = meta.annotator;
                    record.vocab = meta.vocab.map(|v| v.into_iter().collect());
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(record)
    }
}

#[derive(serde::Deserialize)]
struct Metadata {
    #[serde(rename = "annotator-id")]
    annotator: Option<i64>,
    vocab: Option<BTreeMap<String, i64>>,
}

/// Numbers of a rectangular nested list, flattened in C order, with its shape.
struct Nested {
    values: Vec<f64>,
    shape: Vec<usize>,
}

/// Parses a list nested `.0` deep into a [`Nested`].
struct NestedSeed(usize);

impl<'de> DeserializeSeed<'de> for NestedSeed {
    type Value = Nested;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<Nested, D::Error> {
        let mut nested = Nested {
            values: Vec::new(),
            shape: vec![usize::MAX; self.0],
        };
        LevelSeed {
            level: 0,
            out: &mut nested,
        }
        .deserialize(d)?;
        // Levels below an empty list were never seen.
        for d in nested.shape.iter_mut() {
            if *d == usize::MAX {
                *d = 0;
            }
        }
        Ok(nested)
    }
}

struct LevelSeed<'a> {
    level: usize,
    out: &'a mut Nested,
}

impl<'de> DeserializeSeed<'de> for LevelSeed<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl LevelSeed<'_> {
    fn leaf<E: de::Error>(self, v: f64, shown: de::Unexpected) -> std::result::Result<(), E> {
        if self.level < self.out.shape.len() {
            return Err(E::invalid_type(shown, &self));
        }
        self.out.values.push(v);
        Ok(())
    }
}

impl<'de> Visitor<'de> for LevelSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let depth = self.out.shape.len();
        if self.level < depth {
            write!(f, "a list at nesting level {} of {depth}", self.level + 1)
        } else {
            write!(f, "a number at nesting level {} (the innermost)", depth + 1)
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<(), E> {
        self.leaf(v, de::Unexpected::Float(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<(), E> {
        self.leaf(v as f64, de::Unexpected::Signed(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<(), E> {
        self.leaf(v as f64, de::Unexpected::Unsigned(v))
    }

    // Python's json writes None for a missing value.
    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        self.leaf(f64::NAN, de::Unexpected::Unit)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let level = self.level;
        if level >= self.out.shape.len() {
            return Err(de::Error::invalid_type(de::Unexpected::Seq, &self));
        }
        let mut count = 0usize;
        while seq
            .next_element_seed(LevelSeed {
                level: level + 1,
                out: &mut *self.out,
            })?
            .is_some()
        {
            count += 1;
        }
        let known = &mut self.out.shape[level];
        if *known == usize::MAX {
            *known = count;
        } else if *known != count {
            return Err(de::Error::custom(format_args!(
                "a ragged list: {count} items at nesting level {} where an earlier list had {known}",
                level + 1
            )));
        }
        Ok(())
    }
}

impl RawRecord {
    fn into_sequence(self, path: &Path, id: &str, group: &str, split: Split) -> Result<Sequence> {
        let place = |field: &str| format!("group `{group}`, sequence `{id}`, `{field}`");
        let keypoints = self.keypoints.ok_or_else(|| {
            PoseError::format(path, place("keypoints"), "a `keypoints` entry", "none")
        })?;
        let frames = keypoints.shape[0];
        let flat_kp = Array4::from_shape_vec(
            (frames, MICE, 2, KEYPOINTS),
            keypoints.values.iter().map(|&v| v as f32).collect(),
        );
        let scores = self.scores.map(|s| (s.shape, s.values));
        let annotations = self.annotations;
        build_sequence(
            path,
            id,
            group,
            split,
            &keypoints.shape,
            flat_kp.ok(),
            scores,
            annotations,
            self.annotator,
            self.vocab,
        )
    }
}

/// The parts of a record, already numeric, into a [`Sequence`] (shared by JSON and npy).
#[allow(clippy::too_many_arguments)]
fn build_sequence(
    path: &Path,
    id: &str,
    group: &str,
    split: Split,
    kp_shape: &[usize],
    keypoints: Option<Array4<f32>>,
    scores: Option<(Vec<usize>, Vec<f64>)>,
    annotations: Option<Vec<f64>>,
    annotator: Option<i64>,
    vocab: Option<Vec<(String, i64)>>,
) -> Result<Sequence> {
    let place = |field: &str| format!("group `{group}`, sequence `{id}`, `{field}`");
    let keypoints = match keypoints {
        Some(k) if kp_shape[1..] == [MICE, 2, KEYPOINTS] && kp_shape[0] > 0 => k,
        _ => {
            return Err(PoseError::format(
                path,
                place("keypoints"),
                "shape [frames > 0, 2 mice, 2 (x, y), 7 keypoints]",
                format!("shape {kp_shape:?}"),
            ));
        }
    };
    let frames = kp_shape[0];
    // [T][mouse][xy][kp] -> [T][mouse][kp][xy].
    let positions = keypoints
        .permuted_axes([0, 1, 3, 2])
        .as_standard_layout()
        .into_owned();
    let mut pose = Pose::new(
        positions,
        super::owned(SPEC.individuals),
        super::owned(SPEC.keypoints),
    )?;
    pose.fps = SPEC.fps;
    pose.source = Some(path.to_path_buf());
    pose.software = Some("CalMS21".to_string());
    if let Some((shape, values)) = scores {
        if shape != [frames, MICE, KEYPOINTS] {
            return Err(PoseError::format(
                path,
                place("scores"),
                format!("shape [{frames}, 2, 7]"),
                format!("shape {shape:?}"),
            ));
        }
        let conf = Array3::from_shape_vec(
            (frames, MICE, KEYPOINTS),
            values.into_iter().map(|v| v as f32).collect(),
        )
        .map_err(|e| PoseError::format(path, place("scores"), "[T, 2, 7] values", e.to_string()))?;
        pose = pose.with_confidence(conf)?;
    }
    let mut sequence = Sequence::new(id, split, pose);
    sequence.group = Some(group.to_string());
    if let Some(a) = annotator {
        sequence.metadata.insert("annotator_id".into(), a.into());
    }
    if let Some(annotations) = annotations {
        let vocabulary = vocabulary(path, &place("metadata.vocab"), vocab)?;
        if annotations.len() != frames {
            return Err(PoseError::format(
                path,
                place("annotations"),
                format!("{frames} class ids, one per keypoint frame"),
                format!("{} ids", annotations.len()),
            ));
        }
        let mut ids = Vec::with_capacity(frames);
        for (frame, &v) in annotations.iter().enumerate() {
            if v.fract() != 0.0 || v < 0.0 || v as usize >= vocabulary.len() {
                return Err(PoseError::format(
                    path,
                    format!("{} frame {frame}", place("annotations")),
                    format!("a class id in 0..{} ({vocabulary:?})", vocabulary.len()),
                    v.to_string(),
                ));
            }
            ids.push(Some(v as u32));
        }
        sequence.labels = Some(Labels::new(vocabulary, FrameLabels::Single(ids))?);
    }
    Ok(sequence)
}

/// `{name: id}` into names ordered by id; ids must be 0..n.
fn vocabulary(path: &Path, place: &str, vocab: Option<Vec<(String, i64)>>) -> Result<Vec<String>> {
    let mut vocab = vocab.ok_or_else(|| {
        PoseError::format(
            path,
            place,
            "a `vocab` {name: id} for the annotations",
            "none",
        )
    })?;
    vocab.sort_by_key(|(_, id)| *id);
    if vocab.iter().enumerate().any(|(i, (_, id))| *id != i as i64) {
        return Err(PoseError::format(
            path,
            place,
            "class ids 0, 1, … n-1",
            format!("{vocab:?}"),
        ));
    }
    Ok(vocab.into_iter().map(|(name, _)| name).collect())
}

/// Read an npy conversion of a CalMS21 file (the same dict, lists turned into arrays).
pub fn read_npy(
    path: &Path,
    split: Split,
    options: &DatasetOptions,
    visit: &mut Visit<'_>,
) -> Result<bool> {
    let root = crate::formats::npy::read_object(path)?;
    let PickleValue::Dict(groups) = root else {
        return Err(PoseError::format(
            path,
            "top level",
            "a dict {group: {sequence id: record}}",
            root.kind(),
        ));
    };
    for (group, sequences) in groups {
        let group = group.as_str().unwrap_or_default().to_string();
        if !options.wants(split, Some(&group)) {
            continue;
        }
        let PickleValue::Dict(sequences) = sequences else {
            return Err(PoseError::format(
                path,
                format!("group `{group}`"),
                "a dict {sequence id: record}",
                sequences.kind(),
            ));
        };
        for (id, record) in sequences {
            let id = id.as_str().unwrap_or_default().to_string();
            let sequence = npy_record(path, &group, &id, split, record)?;
            if !visit(sequence)? {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

fn npy_record(
    path: &Path,
    group: &str,
    id: &str,
    split: Split,
    record: PickleValue,
) -> Result<Sequence> {
    let place = |field: &str| format!("group `{group}`, sequence `{id}`, `{field}`");
    let array = |field: &str| -> Result<Option<(Vec<usize>, Vec<f64>)>> {
        match record.get(field) {
            None => Ok(None),
            Some(PickleValue::NdArray(a)) => match a.to_f64() {
                Some(v) => Ok(Some((a.shape.clone(), v))),
                None => Err(PoseError::format(
                    path,
                    place(field),
                    "a numeric array",
                    format!("an array of {}", a.dtype.descr()),
                )),
            },
            Some(other) => Err(PoseError::format(
                path,
                place(field),
                "a numeric array",
                other.kind(),
            )),
        }
    };
    let (kp_shape, kp) = array("keypoints")?.ok_or_else(|| {
        PoseError::format(path, place("keypoints"), "a `keypoints` entry", "none")
    })?;
    let keypoints = (kp_shape.len() == 4)
        .then(|| {
            Array4::from_shape_vec(
                (kp_shape[0], kp_shape[1], kp_shape[2], kp_shape[3]),
                kp.into_iter().map(|v| v as f32).collect(),
            )
            .ok()
        })
        .flatten();
    let kp_shape = if kp_shape.len() == 4 {
        kp_shape
    } else {
        return Err(PoseError::format(
            path,
            place("keypoints"),
            "shape [frames, 2 mice, 2 (x, y), 7 keypoints]",
            format!("shape {kp_shape:?}"),
        ));
    };
    let scores = array("scores")?;
    let annotations = array("annotations")?.map(|(_, v)| v);
    let meta = record.get("metadata");
    let annotator = meta
        .and_then(|m| m.get("annotator-id"))
        .and_then(PickleValue::as_i64);
    let vocab = match meta.and_then(|m| m.get("vocab")) {
        Some(PickleValue::Dict(items)) => Some(
            items
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().unwrap_or_default().to_string(),
                        v.as_i64().unwrap_or(-1),
                    )
                })
                .collect(),
        ),
        _ => None,
    };
    build_sequence(
        path,
        id,
        group,
        split,
        &kp_shape,
        keypoints,
        scores,
        annotations,
        annotator,
        vocab,
    )
}

/// A CalMS21 file as an iterator of sequences, parsed on a background thread one sequence
/// ahead (for callers that want `for sequence in …` rather than a callback).
pub fn stream(path: &Path, split: Split) -> impl Iterator<Item = Result<Sequence>> + use<> {
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Result<Sequence>>(1);
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let options = DatasetOptions::default();
        let outcome = {
            let mut forward = |s: Sequence| Ok(sender.send(Ok(s)).is_ok());
            if path.extension().is_some_and(|e| e == "npy") {
                read_npy(&path, split, &options, &mut forward)
            } else {
                read_json(&path, split, &options, &mut forward)
            }
        };
        if let Err(e) = outcome {
            let _ = sender.send(Err(e));
        }
    });
    receiver.into_iter()
}
