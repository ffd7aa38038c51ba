//! The benchmark datasets (docs/datasets.md), loaded from their published files with
//! their official splits, keypoint order, vocabulary and groups.
//!
//! [`load`] reads a whole dataset into a [`Dataset`]; [`for_each`] hands over one
//! [`Sequence`] at a time (CalMS21's JSON files are hundreds of MB: they are parsed streaming
//! and never held whole); [`summarize`] builds the [`DatasetSummary`] behind
//! `behavert inspect --dataset`. Each dataset's fixed facts (fps, keypoints, left/right pairs)
//! are in its [`DatasetSpec`], mirrored by `configs/data/<dataset>.toml`.

pub mod calms21;
pub mod deepethogram;
pub mod mabe2025;
pub mod mabe22;
pub mod mat;
pub mod pair_r24m;
pub mod sbea;
mod summary;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use summary::{ClassCount, DatasetSummary, SplitCount, SummaryBuilder, TargetCount};

use crate::error::{PoseError, Result};
use crate::labels::{Labels, Targets};
use crate::pose::{Pose, Space};
use crate::role_labels::RoleLabels;

/// One of the five benchmark datasets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetKind {
    /// CalMS21: resident–intruder mouse pairs, 2D, tasks 1–3 + unlabelled videos.
    Calms21,
    /// MABe22: mouse triplets (and fly groups), 2D, 13 hidden tasks.
    Mabe22,
    /// SBeA: mouse pairs, 3D, 16 keypoints, no fixed labels.
    Sbea,
    /// A DeepEthogram project: per-video multi-label CSVs + DeepLabCut keypoints.
    #[serde(rename = "deepethogram")]
    DeepEthogram,
    /// PAIR-R24M: rat pairs, 3D motion capture, behaviour categories per frame.
    #[serde(rename = "pair-r24m")]
    PairR24m,
    /// MABe 2025: 2–4 mice per video from many labs, who did what to whom (role labels).
    #[serde(rename = "mabe2025")]
    Mabe2025,
}

impl DatasetKind {
    /// Every dataset, in a fixed order.
    pub fn all() -> [DatasetKind; 6] {
        [
            Self::Calms21,
            Self::Mabe22,
            Self::Sbea,
            Self::DeepEthogram,
            Self::PairR24m,
            Self::Mabe2025,
        ]
    }

    /// The command-line name (`calms21`, `mabe22`, `sbea`, `deepethogram`, `pair-r24m`, `mabe2025`).
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The dataset's fixed facts.
    pub fn spec(self) -> &'static DatasetSpec {
        match self {
            Self::Calms21 => &calms21::SPEC,
            Self::Mabe22 => &mabe22::SPEC,
            Self::Sbea => &sbea::SPEC,
            Self::DeepEthogram => &deepethogram::SPEC,
            Self::PairR24m => &pair_r24m::SPEC,
            Self::Mabe2025 => &mabe2025::SPEC,
        }
    }
}

impl std::fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for DatasetKind {
    type Err = PoseError;

    fn from_str(s: &str) -> Result<Self> {
        let key: String = s
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        Self::all()
            .into_iter()
            .find(|k| k.name().replace('-', "") == key)
            .ok_or_else(|| {
                PoseError::invalid(
                    "dataset name",
                    format!(
                        "one of {}",
                        Self::all().map(|k| k.name()).to_vec().join(", ")
                    ),
                    format!("`{s}`"),
                )
            })
    }
}

/// Fixed facts of a dataset: what `configs/data/<name>.toml` also says.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetSpec {
    /// Command-line name.
    pub name: &'static str,
    /// Frames per second (None where the release does not fix it).
    pub fps: Option<f64>,
    /// 2D or 3D.
    pub space: Space,
    /// Individual names, in axis order (empty where they come from the files).
    pub individuals: &'static [&'static str],
    /// Keypoint names, in axis order (empty where they come from the files).
    pub keypoints: &'static [&'static str],
    /// Mirror-image keypoint pairs, for reflection augmentation.
    pub left_right_pairs: &'static [(&'static str, &'static str)],
}

/// Which part of a dataset to load.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DatasetOptions {
    /// Dataset-specific task: CalMS21 `task1` (default) `task2` `task3` `unlabeled`; MABe22
    /// `mouse` (default) or `fly`; PAIR-R24M primary labels `coarse` (default), `fine` or
    /// `interaction`. Ignored by SBeA and DeepEthogram.
    pub task: Option<String>,
    /// Only this split (None = every split the dataset has).
    pub split: Option<Split>,
    /// Only sequences of this group (CalMS21 annotator group or task-3 behaviour).
    pub group: Option<String>,
    /// Stop after this many sequences (quick looks at big datasets).
    pub limit: Option<usize>,
    /// PAIR-R24M: keep positions of frames whose `goodFrame` is 0 (default: set them missing).
    pub keep_bad_frames: bool,
}

impl DatasetOptions {
    /// The task, lower-cased, or `default`.
    pub(crate) fn task_or<'a>(&'a self, default: &'a str) -> String {
        self.task.as_deref().unwrap_or(default).to_ascii_lowercase()
    }

    /// True when a sequence of `split` / `group` is wanted.
    pub(crate) fn wants(&self, split: Split, group: Option<&str>) -> bool {
        self.split.is_none_or(|s| s == split)
            && self
                .group
                .as_deref()
                .is_none_or(|g| group.is_some_and(|have| have == g))
    }
}

/// The official split a sequence belongs to.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Training data.
    Train,
    /// Test data (the benchmark's held-out part).
    Test,
    /// Unlabelled data released for pretraining (CalMS21 unlabelled videos).
    Unlabelled,
    /// The dataset defines no split for this sequence (SBeA, DeepEthogram, PAIR-R24M).
    Unassigned,
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Split::Train => "train",
            Split::Test => "test",
            Split::Unlabelled => "unlabelled",
            Split::Unassigned => "unassigned",
        })
    }
}

impl std::str::FromStr for Split {
    type Err = PoseError;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "train" => Ok(Split::Train),
            "test" => Ok(Split::Test),
            "unlabelled" | "unlabeled" => Ok(Split::Unlabelled),
            "unassigned" | "none" => Ok(Split::Unassigned),
            _ => Err(PoseError::invalid(
                "split",
                "train, test, unlabelled or unassigned",
                format!("`{s}`"),
            )),
        }
    }
}

/// One recording of a dataset with its annotations.
#[derive(Clone, Debug, PartialEq)]
pub struct Sequence {
    /// The dataset's own id (CalMS21 `task1/train/mouse001_task1_annotator1`, MABe22's 20-char
    /// key, SBeA `rec1-A1A6-20220822`, DeepEthogram video name, PAIR-R24M session folder).
    pub id: String,
    /// Official split.
    pub split: Split,
    /// Group: CalMS21 annotator group / task-3 behaviour, SBeA animals, PAIR-R24M pair.
    pub group: Option<String>,
    /// The pose tracks.
    pub pose: Pose,
    /// Per-frame behaviour labels (the task's primary labels), if the sequence has any.
    pub labels: Option<Labels>,
    /// Further named label tracks (PAIR-R24M: each animal's coarse and fine behaviour and the
    /// interaction category).
    pub extra_labels: Vec<(String, Labels)>,
    /// Numeric per-frame targets with NaN = unlabelled (MABe22's tasks).
    pub targets: Option<Targets>,
    /// Who did what to whom (MABe 2025's annotations), if the sequence has them.
    pub roles: Option<RoleLabels>,
    /// Everything else the files say about the sequence (annotator id, dates, file names…).
    pub metadata: BTreeMap<String, serde_json::Value>,
}

impl Sequence {
    /// A sequence with pose only.
    pub fn new(id: impl Into<String>, split: Split, pose: Pose) -> Self {
        Self {
            id: id.into(),
            split,
            group: None,
            pose: crate::formats::usable(pose),
            labels: None,
            extra_labels: Vec::new(),
            targets: None,
            roles: None,
            metadata: BTreeMap::new(),
        }
    }
}

/// A file or folder a loader passed over, and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// What was skipped.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// A loaded dataset.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// Which dataset.
    pub kind: DatasetKind,
    /// The task that was loaded (see [`DatasetOptions::task`]).
    pub task: String,
    /// The sequences, in file order.
    pub sequences: Vec<Sequence>,
    /// Behaviour names of the primary labels (union over sequences, first-seen order).
    pub vocabulary: Vec<String>,
    /// Frames per second.
    pub fps: Option<f64>,
    /// Individual names (of the first sequence).
    pub individuals: Vec<String>,
    /// Keypoint names (of the first sequence).
    pub keypoints: Vec<String>,
    /// Mirror-image keypoint pairs, for reflection augmentation.
    pub left_right_pairs: Vec<[String; 2]>,
    /// Files or folders passed over.
    pub skipped: Vec<Skipped>,
}

impl Dataset {
    /// Sequences of one split.
    pub fn split(&self, split: Split) -> impl Iterator<Item = &Sequence> {
        self.sequences.iter().filter(move |s| s.split == split)
    }

    /// Total frames over all sequences.
    pub fn frames(&self) -> usize {
        self.sequences.iter().map(|s| s.pose.frames()).sum()
    }
}

/// Receives sequences one at a time; return `Ok(false)` to stop early.
pub type Visit<'a> = dyn FnMut(Sequence) -> Result<bool> + 'a;

/// Load a dataset from its folder (the layout of each is in its module's docs).
pub fn load(kind: DatasetKind, dir: &Path, options: &DatasetOptions) -> Result<Dataset> {
    let mut sequences = Vec::new();
    let skipped = for_each(kind, dir, options, &mut |sequence| {
        sequences.push(sequence);
        Ok(true)
    })?;
    let spec = kind.spec();
    let first = sequences.first();
    let mut vocabulary: Vec<String> = Vec::new();
    for labels in sequences.iter().filter_map(|s| s.labels.as_ref()) {
        for name in &labels.vocabulary {
            if !vocabulary.contains(name) {
                vocabulary.push(name.clone());
            }
        }
    }
    Ok(Dataset {
        kind,
        task: task_name(kind, options),
        vocabulary,
        fps: first.and_then(|s| s.pose.fps).or(spec.fps),
        individuals: first.map_or_else(
            || spec.individuals.iter().map(|s| s.to_string()).collect(),
            |s| s.pose.individuals.clone(),
        ),
        keypoints: first.map_or_else(
            || spec.keypoints.iter().map(|s| s.to_string()).collect(),
            |s| s.pose.keypoints.clone(),
        ),
        left_right_pairs: left_right_pairs(spec, first.map(|s| &s.pose.keypoints[..])),
        skipped,
        sequences,
    })
}

/// Hand every sequence of a dataset to `visit`, one at a time, without keeping them; returns
/// what was skipped. CalMS21 JSON is parsed streaming, so memory stays at one sequence.
pub fn for_each(
    kind: DatasetKind,
    dir: &Path,
    options: &DatasetOptions,
    visit: &mut Visit<'_>,
) -> Result<Vec<Skipped>> {
    if !dir.exists() {
        return Err(PoseError::format(
            dir,
            "dataset folder",
            format!("the {kind} folder"),
            "nothing at this path",
        ));
    }
    let mut remaining = options.limit.unwrap_or(usize::MAX);
    if remaining == 0 {
        return Ok(Vec::new());
    }
    let mut limited = |sequence: Sequence| -> Result<bool> {
        remaining -= 1;
        Ok(visit(sequence)? && remaining > 0)
    };
    match kind {
        DatasetKind::Calms21 => calms21::for_each(dir, options, &mut limited),
        DatasetKind::Mabe22 => mabe22::for_each(dir, options, &mut limited),
        DatasetKind::Sbea => sbea::for_each(dir, options, &mut limited),
        DatasetKind::DeepEthogram => deepethogram::for_each(dir, options, &mut limited),
        DatasetKind::PairR24m => pair_r24m::for_each(dir, options, &mut limited),
        DatasetKind::Mabe2025 => mabe2025::for_each(dir, options, &mut limited),
    }
}

/// The summary `behavert inspect --dataset` prints, built one sequence at a time.
pub fn summarize(
    kind: DatasetKind,
    dir: &Path,
    options: &DatasetOptions,
) -> Result<DatasetSummary> {
    let mut builder = SummaryBuilder::new(kind, task_name(kind, options));
    let skipped = for_each(kind, dir, options, &mut |sequence| {
        builder.add(&sequence);
        Ok(true)
    })?;
    Ok(builder.finish(skipped))
}

fn task_name(kind: DatasetKind, options: &DatasetOptions) -> String {
    match kind {
        DatasetKind::Calms21 => calms21::Task::parse(options)
            .map(|t| t.name().to_string())
            .unwrap_or_else(|_| options.task_or("task1")),
        DatasetKind::Mabe22 => options.task_or("mouse"),
        DatasetKind::PairR24m => options.task_or("coarse"),
        DatasetKind::Sbea | DatasetKind::DeepEthogram => "pose".to_string(),
        DatasetKind::Mabe2025 => "roles".to_string(),
    }
}

/// The spec's left/right pairs whose both names are among `keypoints` (all of them when the
/// keypoints are not known yet).
fn left_right_pairs(spec: &DatasetSpec, keypoints: Option<&[String]>) -> Vec<[String; 2]> {
    spec.left_right_pairs
        .iter()
        .filter(|(l, r)| {
            keypoints.is_none_or(|k| k.iter().any(|n| n == l) && k.iter().any(|n| n == r))
        })
        .map(|(l, r)| [l.to_string(), r.to_string()])
        .collect()
}

/// Names as owned strings.
pub(crate) fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// Files directly in `dir` and in its immediate subfolders (releases unzip into a folder of
/// their own), sorted by path.
pub(crate) fn files_near(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in read_dir(dir)? {
        if entry.is_dir() {
            out.extend(read_dir(&entry)?.into_iter().filter(|p| p.is_file()));
        } else {
            out.push(entry);
        }
    }
    out.sort();
    Ok(out)
}

/// Entries of `dir`, sorted, with errors naming it.
pub(crate) fn read_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| PoseError::io(dir, e))? {
        out.push(entry.map_err(|e| PoseError::io(dir, e))?.path());
    }
    out.sort();
    Ok(out)
}

/// The file name of `path` as text.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// "No files found" for `what` in `dir`, listing a few of the names that are there.
pub(crate) fn nothing_found(dir: &Path, what: &str) -> PoseError {
    let names: Vec<String> = read_dir(dir)
        .unwrap_or_default()
        .iter()
        .take(10)
        .map(|p| file_name(p))
        .collect();
    PoseError::format(
        dir,
        "dataset folder",
        what,
        if names.is_empty() {
            "an empty folder".to_string()
        } else {
            format!("{names:?}")
        },
    )
}
