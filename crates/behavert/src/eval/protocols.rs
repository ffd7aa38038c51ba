//! The official benchmark protocols, scored as the published baselines and evaluators do
//! (see `docs/benchmarks.md`).
//!
//! - CalMS21 tasks 1 and 2: argmax predictions over softmax probabilities, frames pooled over
//!   every test video, F1 and one-vs-rest AP per class, headline = mean over classes
//!   excluding `other`.
//! - CalMS21 task 3: each behaviour is its own binary (other, behaviour) problem; headline =
//!   mean over the behaviours of their F1 and AP.
//! - MABe22 representation learning: a linear probe per task on frozen per-frame embeddings,
//!   following the evaluator *code* (which differs from its README): for each seed a ridge
//!   model (α = 1) is fit on the labelled frames of a 90% share of the training *clips*; each
//!   model predicts every labelled test frame; classification predictions are combined as
//!   `mean over seeds > 0` — a frame is positive when *any* seed says so (predictions are
//!   0/1) — and scored by F1 of the positive class; regression predictions are averaged and
//!   scored by MSE. The evaluator fits `RidgeClassifier(class_weight="balanced", alpha=1.0)`
//!   for every α it sweeps (its α argument is ignored for classifiers).

use std::ops::Range;

use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::checks::{all_finite, same_len};
use super::classification::{ClassScores, binary_scores};
use super::numpy_rng::train_test_split_indices;
use super::regression::mean_squared_error;
use super::report::MetricsReport;
use super::ridge::{ClassWeight, Ridge, RidgeClassifier};
use crate::error::{Error, Result};

/// Index of the first largest value of each row (`numpy.argmax(axis=1)`).
pub fn argmax_rows(probs: ArrayView2<f64>) -> Result<Vec<u32>> {
    all_finite("probabilities", probs.iter())?;
    if probs.ncols() == 0 {
        return Err(Error::data("probability columns", "at least 1", 0));
    }
    Ok(probs
        .axis_iter(Axis(0))
        .map(|row| {
            let mut best = 0;
            for (k, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = k;
                }
            }
            best as u32
        })
        .collect())
}

/// A CalMS21 result: the two headline numbers and the full report behind them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calms21Score {
    /// Mean F1 over classes excluding `other` (the published "F1").
    pub f1: f64,
    /// Mean AP over classes excluding `other` (the published "MAP").
    pub map: f64,
    /// Everything else, including accuracy (reported, not official).
    pub report: MetricsReport,
}

/// CalMS21 task 1 or 2: `truth` and `probs[[frame, class]]` pooled over every test video.
/// The vocabulary must contain `other` (or `background`), which the headline leaves out.
pub fn calms21_task12(
    vocabulary: &[String],
    truth: &[Option<u32>],
    probs: ArrayView2<f64>,
) -> Result<Calms21Score> {
    same_len(
        "probability columns and vocabulary",
        probs.ncols(),
        vocabulary.len(),
    )?;
    let pred = argmax_rows(probs)?;
    let report = MetricsReport::compute(vocabulary, truth, &pred, Some(probs))?;
    let headline = report.macro_excluding_other.clone().ok_or_else(|| {
        Error::data(
            "CalMS21 vocabulary",
            "an `other` class and at least one behaviour",
            format!("{vocabulary:?}"),
        )
    })?;
    Ok(Calms21Score {
        f1: headline.f1,
        map: headline.mean_average_precision.unwrap_or(0.0),
        report,
    })
}

/// One CalMS21 task-3 behaviour: truth 0 = other, 1 = the behaviour; `probs` columns the same.
#[derive(Clone, Debug)]
pub struct Calms21BinaryTask<'a> {
    /// Behaviour name.
    pub name: &'a str,
    /// Per-frame truth (`None` = unlabelled), pooled over the task's test videos.
    pub truth: &'a [Option<u32>],
    /// Per-frame probabilities `[frame, (other, behaviour)]`.
    pub probs: ArrayView2<'a, f64>,
}

/// CalMS21 task 3 result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calms21Task3Score {
    /// Mean F1 of the behaviours.
    pub f1: f64,
    /// Mean AP of the behaviours.
    pub map: f64,
    /// Per behaviour: its name and task-1-style score (F1/AP of the behaviour class).
    pub tasks: Vec<(String, Calms21Score)>,
}

/// CalMS21 task 3: the mean over the binary tasks of the behaviour's F1 and AP.
pub fn calms21_task3(tasks: &[Calms21BinaryTask]) -> Result<Calms21Task3Score> {
    if tasks.is_empty() {
        return Err(Error::empty("CalMS21 task 3 behaviours"));
    }
    let scored = tasks
        .iter()
        .map(|t| {
            let vocabulary = ["other".to_string(), t.name.to_string()];
            calms21_task12(&vocabulary, t.truth, t.probs)
                .map(|s| (t.name.to_string(), s))
                .map_err(|e| match e {
                    Error::Empty { what } => Error::empty(format!("{}: {what}", t.name)),
                    e => e,
                })
        })
        .collect::<Result<Vec<_>>>()?;
    let n = scored.len() as f64;
    Ok(Calms21Task3Score {
        f1: scored.iter().map(|(_, s)| s.f1).sum::<f64>() / n,
        map: scored.iter().map(|(_, s)| s.map).sum::<f64>() / n,
        tasks: scored,
    })
}

/// Seeds of the MABe22 evaluator.
pub const MABE22_SEEDS: [u32; 3] = [42, 43, 44];
/// Share of training clips each seed holds out (and never uses).
pub const MABE22_TEST_SIZE: f64 = 0.1;
/// Regularisation of the reported score.
pub const MABE22_ALPHA: f64 = 1.0;
/// Largest embedding a submission may have.
pub const MABE22_MAX_DIMS: usize = 128;

/// Kind of a MABe22 hidden task (the label file's "Discrete" / "Continious").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Mabe22TaskKind {
    /// Binary labels 0/1, scored by F1 of class 1.
    Discrete,
    /// Real-valued labels, scored by MSE.
    Continuous,
}

/// One MABe22 task: per-frame labels over the whole embedding array, NaN = unlabelled.
#[derive(Clone, Debug)]
pub struct Mabe22Task<'a> {
    /// Task name, e.g. `chases`.
    pub name: &'a str,
    /// Discrete or continuous.
    pub kind: Mabe22TaskKind,
    /// Whether the task is also scored per clip (experiment_day, strain, lights).
    pub sequence_level: bool,
    /// One label per embedding row.
    pub labels: &'a [f64],
}

/// Which frames train each seed's probe and which are scored, as clip frame ranges (the
/// `frame_number_map` entries).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mabe22Split {
    /// For each seed, the training clips it fits on.
    pub train_clips: Vec<Vec<Range<usize>>>,
    /// Test clips (public + private), scored together.
    pub test_clips: Vec<Range<usize>>,
}

impl Mabe22Split {
    /// The evaluator's split: for each seed, `train_test_split(train_clips, test_size=0.1,
    /// random_state=seed)` keeps the train share (`train_clips` in the order of the split file).
    pub fn official(
        train_clips: &[Range<usize>],
        test_clips: &[Range<usize>],
        seeds: &[u32],
    ) -> Result<Self> {
        let train_clips = seeds
            .iter()
            .map(|&seed| {
                let (train, _) =
                    train_test_split_indices(train_clips.len(), MABE22_TEST_SIZE, seed)?;
                Ok(train.iter().map(|&i| train_clips[i].clone()).collect())
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            train_clips,
            test_clips: test_clips.to_vec(),
        })
    }
}

/// Score of one MABe22 task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mabe22TaskScore {
    /// Task name.
    pub name: String,
    /// Discrete (F1) or continuous (MSE).
    pub kind: Mabe22TaskKind,
    /// The reported score: F1 or MSE of the seed-combined predictions on all test frames.
    pub score: f64,
    /// Score of each seed's predictions alone.
    pub per_seed: Vec<f64>,
    /// Mean of `per_seed` (the evaluator's "no ensemble" score).
    pub no_ensemble: f64,
    /// For sequence-level tasks: the score over clips after averaging labels and combined
    /// predictions within each clip (thresholded at 0.5 for discrete tasks).
    pub pooled: Option<f64>,
    /// Labelled test frames scored.
    pub test_frames: usize,
}

/// Frames covered by `clips`, ascending and each once (a boolean mask, as the evaluator builds).
fn frames_of(clips: &[Range<usize>], rows: usize) -> Result<Vec<usize>> {
    let mut mask = vec![false; rows];
    for clip in clips {
        if clip.start > clip.end || clip.end > rows {
            return Err(Error::data(
                "clip frame range",
                format!("a range within 0..{rows}"),
                format!("{clip:?}"),
            ));
        }
        mask[clip.clone()].fill(true);
    }
    Ok((0..rows).filter(|&f| mask[f]).collect())
}

/// Rows `frames` of `x` as f64.
fn rows_of<T: Copy + Into<f64>>(x: &ArrayView2<T>, frames: &[usize]) -> Array2<f64> {
    Array2::from_shape_fn((frames.len(), x.ncols()), |(i, j)| x[[frames[i], j]].into())
}

/// Linear probe of one MABe22 task on `embeddings[[frame, dim]]` (at most 128 finite dims).
pub fn mabe22_task_score<T: Copy + Into<f64>>(
    embeddings: ArrayView2<T>,
    task: &Mabe22Task,
    split: &Mabe22Split,
    alpha: f64,
) -> Result<Mabe22TaskScore> {
    let rows = embeddings.nrows();
    if embeddings.ncols() > MABE22_MAX_DIMS {
        return Err(Error::data(
            "embedding dimensions",
            format!("at most {MABE22_MAX_DIMS}"),
            embeddings.ncols(),
        ));
    }
    same_len("embedding rows and labels", rows, task.labels.len())?;
    if split.train_clips.is_empty() {
        return Err(Error::empty("seeds of the MABe22 split"));
    }
    let labelled = |clips: &[Range<usize>]| -> Result<Vec<usize>> {
        Ok(frames_of(clips, rows)?
            .into_iter()
            .filter(|&f| !task.labels[f].is_nan())
            .collect())
    };
    let discrete = task.kind == Mabe22TaskKind::Discrete;
    if discrete
        && let Some((index, &value)) = task
            .labels
            .iter()
            .enumerate()
            .find(|(_, v)| !v.is_nan() && **v != 0.0 && **v != 1.0)
    {
        return Err(Error::data(
            format!("{} label at frame {index}", task.name),
            "0, 1 or NaN",
            value,
        ));
    }
    let test = labelled(&split.test_clips)?;
    if test.is_empty() {
        return Err(Error::empty(format!("{}: test frames", task.name)));
    }
    let x_test = rows_of(&embeddings, &test);
    let y_test: Vec<f64> = test.iter().map(|&f| task.labels[f]).collect();
    let mut per_seed_pred: Vec<Vec<f64>> = Vec::new();
    for (seed, clips) in split.train_clips.iter().enumerate() {
        let train = labelled(clips)?;
        if train.is_empty() {
            return Err(Error::empty(format!(
                "{}: training frames of seed {seed}",
                task.name
            )));
        }
        let x_train = rows_of(&embeddings, &train);
        let pred = if discrete {
            let y: Vec<u32> = train.iter().map(|&f| task.labels[f] as u32).collect();
            let model = RidgeClassifier::fit(x_train.view(), &y, ClassWeight::Balanced, alpha)?;
            model
                .predict(x_test.view())?
                .into_iter()
                .map(f64::from)
                .collect()
        } else {
            let y = Array2::from_shape_fn((train.len(), 1), |(i, _)| task.labels[train[i]]);
            let model = Ridge::fit(x_train.view(), y.view(), None, alpha)?;
            model.predict(x_test.view())?.column(0).to_vec()
        };
        per_seed_pred.push(pred);
    }
    let seeds = per_seed_pred.len() as f64;
    let combined: Vec<f64> = (0..test.len())
        .map(|i| {
            let mean = per_seed_pred.iter().map(|p| p[i]).sum::<f64>() / seeds;
            if discrete {
                f64::from(u8::from(mean > 0.0))
            } else {
                mean
            }
        })
        .collect();
    let metric = |truth: &[f64], pred: &[f64]| -> Result<f64> {
        if discrete {
            let t: Vec<Option<bool>> = truth.iter().map(|&v| Some(v == 1.0)).collect();
            let p: Vec<bool> = pred.iter().map(|&v| v == 1.0).collect();
            binary_scores(&t, &p).map(|s: ClassScores| s.f1)
        } else {
            mean_squared_error(truth, pred)
        }
    };
    let per_seed = per_seed_pred
        .iter()
        .map(|p| metric(&y_test, p))
        .collect::<Result<Vec<f64>>>()?;
    let pooled = if task.sequence_level {
        // Per clip: mean label and mean combined prediction over its labelled frames. The
        // evaluator walks clips in split-file order against predictions in frame order; we
        // index by frame, which is what it intends and equals it when the orders agree.
        let position: std::collections::HashMap<usize, usize> =
            test.iter().enumerate().map(|(i, &f)| (f, i)).collect();
        let (mut t, mut p) = (Vec::new(), Vec::new());
        for clip in &split.test_clips {
            let idx: Vec<usize> = clip
                .clone()
                .filter_map(|f| position.get(&f).copied())
                .collect();
            if idx.is_empty() {
                continue;
            }
            let n = idx.len() as f64;
            let mt = idx.iter().map(|&i| y_test[i]).sum::<f64>() / n;
            let mp = idx.iter().map(|&i| combined[i]).sum::<f64>() / n;
            if discrete {
                t.push(f64::from(u8::from(mt >= 0.5)));
                p.push(f64::from(u8::from(mp >= 0.5)));
            } else {
                t.push(mt);
                p.push(mp);
            }
        }
        Some(metric(&t, &p)?)
    } else {
        None
    };
    Ok(Mabe22TaskScore {
        name: task.name.to_string(),
        kind: task.kind,
        score: metric(&y_test, &combined)?,
        no_ensemble: per_seed.iter().sum::<f64>() / seeds,
        per_seed,
        pooled,
        test_frames: test.len(),
    })
}

/// MABe22 summary over tasks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mabe22Summary {
    /// Mean F1 over discrete tasks.
    pub mean_f1: Option<f64>,
    /// Mean MSE over continuous tasks.
    pub mean_mse: Option<f64>,
    /// Mean F1 over discrete frame-level tasks.
    pub frame_level_f1: Option<f64>,
    /// Mean F1 over discrete sequence-level tasks.
    pub sequence_level_f1: Option<f64>,
    /// The task scores summarised.
    pub tasks: Vec<Mabe22TaskScore>,
}

/// Means of the task scores by kind and level (`None` where no task qualifies).
pub fn mabe22_summary(tasks: Vec<Mabe22TaskScore>, sequence_level: &[&str]) -> Mabe22Summary {
    let mean = |filter: &dyn Fn(&Mabe22TaskScore) -> bool| {
        let v: Vec<f64> = tasks
            .iter()
            .filter(|t| filter(t))
            .map(|t| t.score)
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let discrete = |t: &Mabe22TaskScore| t.kind == Mabe22TaskKind::Discrete;
    let is_seq = |t: &Mabe22TaskScore| sequence_level.contains(&t.name.as_str());
    Mabe22Summary {
        mean_f1: mean(&discrete),
        mean_mse: mean(&|t| !discrete(t)),
        frame_level_f1: mean(&|t| discrete(t) && !is_seq(t)),
        sequence_level_f1: mean(&|t| discrete(t) && is_seq(t)),
        tasks,
    }
}
