//! What each head is trained on: a recording before preprocessing ([`Source`]), the head's
//! kind of target ([`TargetSpec`]) and its values over one recording ([`TrackTargets`]).

use behavert_pose::labels::{FrameLabels, Labels, Targets, relabel};
use behavert_pose::pose::Pose;
use behavert_pose::role_labels::RoleLabels;

use crate::error::{Error, Result};

/// One recording before preprocessing, with whatever annotations it has.
#[derive(Clone, Debug)]
pub struct Source {
    /// Where it came from (dataset id, file, simulated seed).
    pub id: String,
    /// The pose tracks.
    pub pose: Pose,
    /// Per-frame behaviour labels.
    pub labels: Option<Labels>,
    /// Who did what to whom, for training on pairs of animals (`data.roles`).
    pub roles: Option<RoleLabels>,
    /// Numeric per-frame targets.
    pub targets: Option<Targets>,
    /// Sequence-level group name.
    pub group: Option<String>,
}

/// What one head is trained on, with its class names.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetSpec {
    /// One class per frame from the labels.
    FrameClasses { vocabulary: Vec<String> },
    /// Any subset of classes per frame from the labels.
    FrameMulti { vocabulary: Vec<String> },
    /// `tasks` numeric targets per frame.
    FrameValues { tasks: usize },
    /// One class per window: the recording's group.
    ClipGroup { vocabulary: Vec<String> },
    /// One class per window: its most frequent labelled behaviour.
    ClipDominant { vocabulary: Vec<String> },
}

impl TargetSpec {
    /// Outputs of the head.
    pub fn outputs(&self) -> usize {
        match self {
            Self::FrameValues { tasks } => *tasks,
            Self::FrameClasses { vocabulary }
            | Self::FrameMulti { vocabulary }
            | Self::ClipGroup { vocabulary }
            | Self::ClipDominant { vocabulary } => vocabulary.len(),
        }
    }
}

/// One head's targets over one recording.
#[derive(Clone, Debug, PartialEq)]
pub enum TrackTargets {
    /// Per-frame class ids (`None` = unlabelled).
    Classes(Vec<Option<u32>>),
    /// Per-frame values `[frames × outputs]`, NaN = unlabelled.
    Dense { outputs: usize, values: Vec<f32> },
    /// One class for the whole recording.
    Clip(Option<u32>),
    /// Per-frame classes; each window is labelled by its most frequent one.
    Dominant {
        classes: usize,
        frames: Vec<Option<u32>>,
    },
}

/// Index of `name` in `vocabulary`, or an error naming the head and recording.
fn class_of(vocabulary: &[String], name: &str, head: usize, source: &str) -> Result<u32> {
    vocabulary
        .iter()
        .position(|v| v == name)
        .map(|i| i as u32)
        .ok_or_else(|| unknown_class(vocabulary, name, head, source))
}

/// The error for a label `name` of `source` missing from head `head`'s vocabulary.
fn unknown_class(vocabulary: &[String], name: &str, head: usize, source: &str) -> Error {
    Error::config(
        format!("heads[{head}].vocabulary"),
        format!("every label of the data, e.g. {name:?} of {source} (vocabulary {vocabulary:?})"),
        format!("no {name:?}"),
    )
}

/// Per-frame class ids in the head's vocabulary; a used label outside it is an error.
fn frame_classes(
    labels: &Labels,
    vocabulary: &[String],
    head: usize,
    source: &str,
) -> Result<Vec<Option<u32>>> {
    let FrameLabels::Single(ids) = &labels.frames else {
        return Err(Error::data(
            format!("labels of {source}"),
            format!("one behaviour per frame for multiclass head {head}"),
            "multi-label annotations (use kind = \"multilabel\")",
        ));
    };
    relabel(labels, ids, vocabulary)
        .map_err(|unknown| unknown_class(vocabulary, &unknown.name, head, source))
}

impl TrackTargets {
    /// The targets of head `head` (described by `spec`) in `source`, whose pose has `frames`
    /// frames; absent annotations are all-unlabelled.
    pub fn of(spec: &TargetSpec, source: &Source, frames: usize, head: usize) -> Result<Self> {
        let id = source.id.as_str();
        let check_len = |n: usize, what: &str| {
            if n == frames {
                Ok(())
            } else {
                Err(Error::data(
                    format!("{what} of {id}"),
                    format!("{frames} frames like the pose"),
                    n,
                ))
            }
        };
        Ok(match spec {
            TargetSpec::FrameClasses { vocabulary } | TargetSpec::ClipDominant { vocabulary } => {
                let classes = match &source.labels {
                    Some(labels) => {
                        check_len(labels.len(), "labels")?;
                        frame_classes(labels, vocabulary, head, id)?
                    }
                    None => vec![None; frames],
                };
                match spec {
                    TargetSpec::FrameClasses { .. } => Self::Classes(classes),
                    _ => Self::Dominant {
                        classes: vocabulary.len(),
                        frames: classes,
                    },
                }
            }
            TargetSpec::FrameMulti { vocabulary } => {
                let outputs = vocabulary.len();
                let mut values = vec![f32::NAN; frames * outputs];
                if let Some(labels) = &source.labels {
                    check_len(labels.len(), "labels")?;
                    let columns: Vec<u32> = labels
                        .vocabulary
                        .iter()
                        .map(|name| class_of(vocabulary, name, head, id))
                        .collect::<Result<_>>()?;
                    match &labels.frames {
                        FrameLabels::Multi(rows) => {
                            for (f, row) in rows.iter().enumerate() {
                                for (c, on) in row.iter().enumerate() {
                                    if let Some(on) = on {
                                        values[f * outputs + columns[c] as usize] =
                                            f32::from(u8::from(*on));
                                    }
                                }
                            }
                        }
                        // A single-label frame says every other behaviour is off.
                        FrameLabels::Single(ids) => {
                            for (f, id) in ids.iter().enumerate() {
                                if let Some(id) = id {
                                    values[f * outputs..(f + 1) * outputs].fill(0.0);
                                    values[f * outputs + columns[*id as usize] as usize] = 1.0;
                                }
                            }
                        }
                    }
                }
                Self::Dense { outputs, values }
            }
            TargetSpec::FrameValues { tasks } => {
                let mut values = vec![f32::NAN; frames * tasks];
                if let Some(targets) = &source.targets {
                    check_len(targets.len(), "targets")?;
                    if targets.tasks.len() != *tasks {
                        return Err(Error::data(
                            format!("targets of {id}"),
                            format!("{tasks} tasks like the first recording"),
                            targets.tasks.len(),
                        ));
                    }
                    for ((f, t), v) in targets.values.indexed_iter() {
                        values[f * tasks + t] = *v;
                    }
                }
                Self::Dense {
                    outputs: *tasks,
                    values,
                }
            }
            TargetSpec::ClipGroup { vocabulary } => Self::Clip(match &source.group {
                Some(group) => Some(class_of(vocabulary, group, head, id)?),
                None => None,
            }),
        })
    }

    /// Labelled frames (or entries) in `range`.
    pub(super) fn labelled_in(&self, range: std::ops::Range<usize>) -> usize {
        match self {
            Self::Classes(ids) | Self::Dominant { frames: ids, .. } => {
                ids[range].iter().filter(|c| c.is_some()).count()
            }
            Self::Dense { outputs, values } => values[range.start * outputs..range.end * outputs]
                .iter()
                .filter(|v| v.is_finite())
                .count(),
            Self::Clip(c) => usize::from(c.is_some()),
        }
    }
}
