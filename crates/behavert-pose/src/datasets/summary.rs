//! [`DatasetSummary`]: what `behavert inspect --dataset NAME DIR [--json]` prints, built one
//! sequence at a time so a streamed dataset is never held whole.

use std::collections::BTreeMap;
use std::fmt;

use super::{DatasetKind, Sequence, Skipped, Split};
use crate::labels::{FrameLabels, TargetKind};

/// Sequences and frames of one split.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SplitCount {
    /// The split.
    pub split: Split,
    /// Sequences in it.
    pub sequences: usize,
    /// Frames in it.
    pub frames: usize,
}

/// Frames labelled with one behaviour (class balance).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ClassCount {
    /// Behaviour name.
    pub name: String,
    /// Frames with this behaviour (on, for multi-label data).
    pub frames: usize,
    /// Share of labelled frames.
    pub fraction: f64,
}

/// Labelled frames of one numeric target (MABe22 tasks).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TargetCount {
    /// Task name.
    pub name: String,
    /// Discrete or continuous.
    pub kind: TargetKind,
    /// Frames with a value.
    pub labelled_frames: usize,
}

/// A dataset at a glance.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DatasetSummary {
    /// Dataset name.
    pub dataset: DatasetKind,
    /// Task loaded.
    pub task: String,
    /// Sequences and frames per split.
    pub splits: Vec<SplitCount>,
    /// All sequences.
    pub sequences: usize,
    /// All frames.
    pub frames: usize,
    /// Largest number of individuals in a sequence.
    pub individuals: usize,
    /// Keypoint names (of the first sequence).
    pub keypoints: Vec<String>,
    /// Coordinates per keypoint.
    pub space: Option<crate::pose::Space>,
    /// Frames per second (of the first sequence).
    pub fps: Option<f64>,
    /// Groups seen (annotators, behaviours, pairs…), with their sequence counts.
    pub groups: BTreeMap<String, usize>,
    /// Primary-label frames per behaviour, in vocabulary order.
    pub vocabulary: Vec<ClassCount>,
    /// Frames with a primary label.
    pub labelled_frames: usize,
    /// Frames of labelled sequences without a label (-1 / NaN).
    pub unlabelled_frames: usize,
    /// Numeric targets (MABe22) with their labelled frames.
    pub targets: Vec<TargetCount>,
    /// Share of (frame, individual, keypoint) observations that are missing.
    pub missing_fraction: f64,
    /// What the loader passed over.
    pub skipped: Vec<Skipped>,
}

/// Accumulates a [`DatasetSummary`] from sequences.
#[derive(Debug)]
pub struct SummaryBuilder {
    summary: DatasetSummary,
    classes: Vec<(String, usize)>,
    missing: u64,
    observations: u64,
}

impl SummaryBuilder {
    /// An empty summary of `dataset` / `task`.
    pub fn new(dataset: DatasetKind, task: String) -> Self {
        Self {
            summary: DatasetSummary {
                dataset,
                task,
                splits: Vec::new(),
                sequences: 0,
                frames: 0,
                individuals: 0,
                keypoints: Vec::new(),
                space: None,
                fps: None,
                groups: BTreeMap::new(),
                vocabulary: Vec::new(),
                labelled_frames: 0,
                unlabelled_frames: 0,
                targets: Vec::new(),
                missing_fraction: 0.0,
                skipped: Vec::new(),
            },
            classes: Vec::new(),
            missing: 0,
            observations: 0,
        }
    }

    /// Count one sequence.
    pub fn add(&mut self, sequence: &Sequence) {
        let s = &mut self.summary;
        let pose = &sequence.pose;
        let frames = pose.frames();
        if s.sequences == 0 {
            s.keypoints = pose.keypoints.clone();
            s.space = Some(pose.space());
            s.fps = pose.fps;
        }
        s.sequences += 1;
        s.frames += frames;
        s.individuals = s.individuals.max(pose.individuals.len());
        match s.splits.iter_mut().find(|c| c.split == sequence.split) {
            Some(c) => {
                c.sequences += 1;
                c.frames += frames;
            }
            None => {
                s.splits.push(SplitCount {
                    split: sequence.split,
                    sequences: 1,
                    frames,
                });
                s.splits.sort_by_key(|c| c.split);
            }
        }
        if let Some(group) = &sequence.group {
            *s.groups.entry(group.clone()).or_default() += 1;
        }
        let (_, individuals, keypoints, _) = pose.positions.dim();
        self.observations += (frames * individuals * keypoints) as u64;
        self.missing += pose
            .positions
            .rows()
            .into_iter()
            .filter(|p| p.iter().any(|v| v.is_nan()))
            .count() as u64;
        if let Some(labels) = &sequence.labels {
            let ids: Vec<usize> = labels
                .vocabulary
                .iter()
                .map(
                    |name| match self.classes.iter().position(|(n, _)| n == name) {
                        Some(i) => i,
                        None => {
                            self.classes.push((name.clone(), 0));
                            self.classes.len() - 1
                        }
                    },
                )
                .collect();
            for (class, count) in labels.class_counts().into_iter().enumerate() {
                self.classes[ids[class]].1 += count;
            }
            let unlabelled = match &labels.frames {
                FrameLabels::Single(v) => v.iter().filter(|id| id.is_none()).count(),
                FrameLabels::Multi(rows) => rows
                    .iter()
                    .filter(|r| r.iter().all(|on| on.is_none()))
                    .count(),
            };
            s.unlabelled_frames += unlabelled;
            s.labelled_frames += labels.len() - unlabelled;
        }
        if let Some(targets) = &sequence.targets {
            for (task, count) in targets.tasks.iter().zip(targets.labelled_counts()) {
                match s.targets.iter_mut().find(|t| t.name == task.name) {
                    Some(t) => t.labelled_frames += count,
                    None => s.targets.push(TargetCount {
                        name: task.name.clone(),
                        kind: task.kind,
                        labelled_frames: count,
                    }),
                }
            }
        }
    }

    /// The summary, with what the loader skipped.
    pub fn finish(mut self, skipped: Vec<Skipped>) -> DatasetSummary {
        let labelled = self.summary.labelled_frames.max(1) as f64;
        self.summary.vocabulary = self
            .classes
            .into_iter()
            .map(|(name, frames)| ClassCount {
                name,
                frames,
                fraction: frames as f64 / labelled,
            })
            .collect();
        self.summary.missing_fraction = self.missing as f64 / self.observations.max(1) as f64;
        self.summary.skipped = skipped;
        self.summary
    }
}

impl fmt::Display for DatasetSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "dataset      {} ({})", self.dataset, self.task)?;
        writeln!(
            f,
            "sequences    {} ({} frames{})",
            self.sequences,
            self.frames,
            self.fps
                .map(|fps| format!(", {:.1} min at {fps} fps", self.frames as f64 / fps / 60.0))
                .unwrap_or_default()
        )?;
        for c in &self.splits {
            writeln!(
                f,
                "  {:<11} {} sequences, {} frames",
                c.split, c.sequences, c.frames
            )?;
        }
        writeln!(
            f,
            "individuals  {}   space {}   missing {:.2}%",
            self.individuals,
            self.space.map_or("?".to_string(), |s| s.to_string()),
            100.0 * self.missing_fraction
        )?;
        writeln!(f, "keypoints    {}", self.keypoints.join(", "))?;
        if !self.groups.is_empty() {
            let groups: Vec<String> = self
                .groups
                .iter()
                .map(|(g, n)| format!("{g} ({n})"))
                .collect();
            writeln!(f, "groups       {}", groups.join(", "))?;
        }
        if !self.vocabulary.is_empty() {
            writeln!(
                f,
                "labels       {} labelled frames, {} unlabelled",
                self.labelled_frames, self.unlabelled_frames
            )?;
            for c in &self.vocabulary {
                writeln!(
                    f,
                    "  {:<24} {:>10} {:>7.2}%",
                    c.name,
                    c.frames,
                    100.0 * c.fraction
                )?;
            }
        }
        if !self.targets.is_empty() {
            writeln!(f, "targets")?;
            for t in &self.targets {
                let kind = match t.kind {
                    TargetKind::Discrete => "discrete",
                    TargetKind::Continuous => "continuous",
                };
                writeln!(
                    f,
                    "  {:<24} {:<10} {:>10} labelled frames",
                    t.name, kind, t.labelled_frames
                )?;
            }
        }
        for s in &self.skipped {
            writeln!(f, "skipped      {}: {}", s.path.display(), s.reason)?;
        }
        Ok(())
    }
}
