//! Per-frame behaviour labels with their vocabulary.

use crate::error::{PoseError, Result};

/// Per-frame annotations of one recording.
#[derive(Clone, Debug, PartialEq)]
pub enum FrameLabels {
    /// One behaviour per frame (index into the vocabulary); `None` = unlabelled.
    Single(Vec<Option<u32>>),
    /// Several behaviours may hold at once: `[frames][behaviours]`, `None` = unlabelled.
    Multi(Vec<Vec<Option<bool>>>),
}

/// Behaviour labels of one recording: the vocabulary and one annotation per frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Labels {
    /// Behaviour names; a label is an index into this list.
    pub vocabulary: Vec<String>,
    /// The per-frame annotations.
    pub frames: FrameLabels,
}

impl Labels {
    /// Labels checked against the vocabulary: every class id is in range, every multi-label row
    /// has one entry per behaviour.
    pub fn new(vocabulary: Vec<String>, frames: FrameLabels) -> Result<Self> {
        let classes = vocabulary.len();
        match &frames {
            FrameLabels::Single(ids) => {
                if let Some((frame, id)) = ids
                    .iter()
                    .enumerate()
                    .find_map(|(f, id)| id.filter(|&id| id as usize >= classes).map(|id| (f, id)))
                {
                    return Err(PoseError::invalid(
                        format!("label of frame {frame}"),
                        format!("a class id below {classes} (vocabulary {vocabulary:?})"),
                        id.to_string(),
                    ));
                }
            }
            FrameLabels::Multi(rows) => {
                if let Some((frame, row)) =
                    rows.iter().enumerate().find(|(_, r)| r.len() != classes)
                {
                    return Err(PoseError::invalid(
                        format!("labels of frame {frame}"),
                        format!("{classes} entries, one per behaviour"),
                        row.len().to_string(),
                    ));
                }
            }
        }
        Ok(Self { vocabulary, frames })
    }

    /// Number of annotated frames (labelled or not).
    pub fn len(&self) -> usize {
        match &self.frames {
            FrameLabels::Single(ids) => ids.len(),
            FrameLabels::Multi(rows) => rows.len(),
        }
    }

    /// True when no frame is annotated.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Frames per behaviour (frames with the behaviour on, for multi-label data).
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.vocabulary.len()];
        match &self.frames {
            FrameLabels::Single(ids) => ids
                .iter()
                .flatten()
                .for_each(|&id| counts[id as usize] += 1),
            FrameLabels::Multi(rows) => rows.iter().for_each(|row| {
                row.iter()
                    .enumerate()
                    .filter(|(_, on)| **on == Some(true))
                    .for_each(|(c, _)| counts[c] += 1)
            }),
        }
        counts
    }
}

/// Whether a per-frame target is a class (scored by F1) or a number (scored by MSE).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// Class ids stored as numbers (MABe22 "Discrete").
    Discrete,
    /// A real value (MABe22 "Continious" [sic]).
    Continuous,
}

/// One named per-frame target.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TargetTask {
    /// Task name, e.g. `time_of_day`.
    pub name: String,
    /// Discrete or continuous.
    pub kind: TargetKind,
}

/// Several numeric per-frame targets (MABe22's hidden tasks): `values` is `[frames, tasks]`,
/// NaN = unlabelled.
#[derive(Clone, Debug, PartialEq)]
pub struct Targets {
    /// The tasks, in column order.
    pub tasks: Vec<TargetTask>,
    /// `[frames, tasks]`, NaN where a frame is not labelled for a task.
    pub values: ndarray::Array2<f32>,
}

impl Targets {
    /// Targets checked for one column per task.
    pub fn new(tasks: Vec<TargetTask>, values: ndarray::Array2<f32>) -> Result<Self> {
        if values.ncols() != tasks.len() {
            return Err(PoseError::invalid(
                "targets",
                format!("{} columns, one per task", tasks.len()),
                values.ncols().to_string(),
            ));
        }
        Ok(Self { tasks, values })
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.values.nrows()
    }

    /// True when there are no frames.
    pub fn is_empty(&self) -> bool {
        self.values.nrows() == 0
    }

    /// Labelled (non-NaN) frames per task.
    pub fn labelled_counts(&self) -> Vec<usize> {
        self.values
            .columns()
            .into_iter()
            .map(|c| c.iter().filter(|v| !v.is_nan()).count())
            .collect()
    }
}

/// A behaviour used on `frames` frames that a vocabulary lacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownLabel {
    /// The behaviour.
    pub name: String,
    /// Frames labelled with it.
    pub frames: usize,
}

/// Per-frame class ids `ids` of `labels` (one behaviour per frame) mapped into `vocabulary`;
/// behaviours no frame uses may be missing from it.
pub fn relabel(
    labels: &Labels,
    ids: &[Option<u32>],
    vocabulary: &[String],
) -> std::result::Result<Vec<Option<u32>>, UnknownLabel> {
    let counts = labels.class_counts();
    let map = labels
        .vocabulary
        .iter()
        .zip(&counts)
        .map(
            |(name, &frames)| match vocabulary.iter().position(|v| v == name) {
                Some(c) => Ok(Some(c as u32)),
                None if frames == 0 => Ok(None),
                None => Err(UnknownLabel {
                    name: name.clone(),
                    frames,
                }),
            },
        )
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(ids
        .iter()
        .map(|id| id.and_then(|i| map[i as usize]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vec<String> {
        ["attack", "investigation", "other"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn out_of_range_class_is_refused_with_its_frame() {
        let err =
            Labels::new(vocabulary(), FrameLabels::Single(vec![Some(0), Some(3)])).unwrap_err();
        assert!(err.to_string().contains("frame 1"), "{err}");
    }

    #[test]
    fn class_counts_skip_unlabelled_frames() {
        let labels = Labels::new(
            vocabulary(),
            FrameLabels::Single(vec![Some(2), None, Some(2), Some(0)]),
        )
        .unwrap();
        assert_eq!(labels.class_counts(), vec![1, 0, 2]);
        let multi = Labels::new(
            vocabulary(),
            FrameLabels::Multi(vec![vec![Some(true), Some(false), None]; 2]),
        )
        .unwrap();
        assert_eq!(multi.class_counts(), vec![2, 0, 0]);
    }
}
