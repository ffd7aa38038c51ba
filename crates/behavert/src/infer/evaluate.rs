//! A checkpoint against labelled recordings: predictions per recording, frame and bout
//! metrics (raw and after Viterbi smoothing), plots and `report.html` in one folder.

use std::path::{Path, PathBuf};

use behavert_pose::labels::{FrameLabels, Labels};
use behavert_pose::pose::Pose;
use ndarray::{Array2, Axis, concatenate};
use serde::Serialize;

use super::predictions::PredictionWriter;
use super::predictor::{FrameBlock, InferOptions, Predictor};
use crate::checkpoint::metrics_log::METRICS_FILE;
use crate::error::{Error, Result};
use crate::eval::html::{ReportInputs, RunInfo, utc_now, write_report};
use crate::eval::plots::{self, EmbeddingPlot, Ethogram, PlotInputs};
use crate::eval::projection::DEFAULT_MAX_POINTS;
use crate::eval::report::{MetricsReport, RecordingScores};
use crate::eval::smoothing::viterbi_smooth;
use crate::eval::training_log::TrainingLog;
use crate::model::{HeadKind, HeadLevel};

/// One recording with its annotations.
#[derive(Clone, Debug)]
pub struct LabelledRecording {
    /// A name for files and the report (file stem or dataset id).
    pub name: String,
    /// The pose tracks.
    pub pose: Pose,
    /// Per-frame behaviour labels, as long as the pose.
    pub labels: Labels,
}

/// How the evaluation is run.
#[derive(Clone, Debug)]
pub struct EvaluateOptions {
    /// Windows.
    pub infer: InferOptions,
    /// Shortest bout of the smoothed predictions, in frames.
    pub min_bout: usize,
    /// IoU for a predicted bout to match a true one.
    pub bout_iou: f64,
    /// What the report says was evaluated (dataset and split, or files).
    pub dataset: String,
    /// The command line, for the report.
    pub command: String,
}

/// Where the results went and the headline numbers.
#[derive(Clone, Debug, Serialize)]
pub struct EvaluationSummary {
    /// The output folder.
    pub output_dir: PathBuf,
    /// Frames with a label, over all recordings.
    pub labelled_frames: usize,
    /// Macro-F1 over every behaviour.
    pub f1_macro: f64,
    /// Macro-F1 excluding `other`/`background`-like classes, when there are some.
    pub f1_macro_excluding_other: Option<f64>,
    /// Macro-F1 after smoothing.
    pub smoothed_f1_macro: f64,
    /// Files written.
    pub files: Vec<PathBuf>,
}

/// `metrics.json`.
#[derive(Serialize)]
struct MetricsFile<'a> {
    model: String,
    /// The arithmetic of the forward passes: f32 or bf16.
    precision: String,
    head: &'a str,
    vocabulary: &'a [String],
    recordings: Vec<RecordingEntry>,
    frame: &'a MetricsReport,
    smoothed: SmoothedEntry<'a>,
}

#[derive(Serialize)]
struct RecordingEntry {
    name: String,
    frames: usize,
    labelled_frames: usize,
    predictions: String,
}

#[derive(Serialize)]
struct SmoothedEntry<'a> {
    method: &'static str,
    min_bout: usize,
    switch_penalty: f64,
    report: &'a MetricsReport,
}

/// One recording's outputs, kept for the metrics.
struct Scored {
    truth: Vec<Option<u32>>,
    pred: Vec<u32>,
    smoothed: Vec<u32>,
    probs: Array2<f64>,
    embeddings: Option<Array2<f32>>,
}

/// Evaluates the first multiclass frame head of `predictor` on `recordings` and writes
/// everything into `output_dir` (which must not exist yet, or be empty). The folder is
/// written beside it and published whole at the end: a killed evaluation leaves no half
/// folder, and of two evaluations into one folder exactly one succeeds.
pub fn evaluate(
    predictor: &Predictor,
    model_dir: &Path,
    recordings: &[LabelledRecording],
    options: &EvaluateOptions,
    output_dir: &Path,
) -> Result<EvaluationSummary> {
    let _span = tracing::info_span!("evaluate", recordings = recordings.len()).entered();
    refuse_used_output_dir(output_dir)?;
    let staging = staging_dir(output_dir)?;
    let written = write_evaluation(predictor, model_dir, recordings, options, staging.path())?;
    publish_dir(staging, output_dir)?;
    Ok(EvaluationSummary {
        output_dir: output_dir.to_path_buf(),
        files: written
            .files
            .iter()
            .map(|f| output_dir.join(f.strip_prefix(&written.output_dir).unwrap_or(f)))
            .collect(),
        ..written
    })
}

/// [`evaluate`]'s work: every output file written into `output_dir`, a new empty folder.
fn write_evaluation(
    predictor: &Predictor,
    model_dir: &Path,
    recordings: &[LabelledRecording],
    options: &EvaluateOptions,
    output_dir: &Path,
) -> Result<EvaluationSummary> {
    let (head_index, head) = predictor
        .heads()
        .iter()
        .enumerate()
        .find(|(_, h)| h.level() == HeadLevel::Frame && h.kind() == HeadKind::Multiclass)
        .ok_or_else(|| {
            Error::data(
                model_dir.display().to_string(),
                "a model with a multiclass frame head to evaluate",
                "none",
            )
        })?;
    let vocabulary = head.output_names();
    if recordings.is_empty() {
        return Err(Error::data(
            "evaluation",
            "at least one labelled recording",
            "none",
        ));
    }
    let predictions_dir = output_dir.join("predictions");
    std::fs::create_dir_all(&predictions_dir).map_err(|e| Error::io(&predictions_dir, e))?;

    let min_bout = options.min_bout.max(1);
    let mut scored = Vec::with_capacity(recordings.len());
    let mut entries = Vec::with_capacity(recordings.len());
    let mut files = Vec::new();
    let infer = InferOptions {
        embeddings: true,
        ..options.infer
    };
    for (r, recording) in recordings.iter().enumerate() {
        let file = predictions_dir.join(format!("{}.csv", file_name(&recording.name, r)));
        let (score, entry) = score_recording(
            predictor,
            head_index,
            &vocabulary,
            recording,
            &infer,
            min_bout,
            &file,
        )?;
        let bouts = super::predictions::bouts_path(&file);
        files.extend([file, bouts]);
        scored.push(score);
        entries.push(entry);
    }

    let report_of = |smoothed: bool| -> Result<MetricsReport> {
        let views: Vec<RecordingScores> = scored
            .iter()
            .filter(|s| s.truth.iter().any(Option::is_some))
            .map(|s| RecordingScores {
                truth: &s.truth,
                pred: if smoothed { &s.smoothed } else { &s.pred },
                probs: Some(s.probs.view()),
            })
            .collect();
        MetricsReport::evaluate_recordings(&vocabulary, &views, options.bout_iou)
    };
    let frame = report_of(false)?;
    let smoothed = report_of(true)?;

    let metrics_path = output_dir.join("metrics.json");
    let json = serde_json::to_string_pretty(&MetricsFile {
        model: model_dir.display().to_string(),
        precision: predictor.precision().to_string(),
        head: head.name(),
        vocabulary: &vocabulary,
        recordings: entries,
        frame: &frame,
        smoothed: SmoothedEntry {
            method: "viterbi",
            min_bout,
            switch_penalty: 0.0,
            report: &smoothed,
        },
    })
    .map_err(|e| Error::data("metrics.json", "serialisable metrics", e))?;
    crate::eval::output::write_atomic(&metrics_path, json.as_bytes())?;
    files.push(metrics_path);
    let per_class = output_dir.join("per_class.csv");
    let mut table = Vec::new();
    frame
        .write_per_class_csv(&mut table)
        .map_err(|e| Error::io(&per_class, e))?;
    crate::eval::output::write_atomic(&per_class, &table)?;
    files.push(per_class);

    // The longest labelled recording shows best on the ethogram.
    let shown = scored
        .iter()
        .enumerate()
        .max_by_key(|(_, s)| s.truth.iter().filter(|t| t.is_some()).count())
        .map(|(i, _)| i)
        .unwrap_or(0);
    let fps = recordings[shown].pose.fps.unwrap_or(30.0);
    let ethogram = Ethogram::truth_vs_prediction(
        vocabulary.clone(),
        fps,
        &scored[shown].truth,
        &scored[shown].pred,
    )?;
    let curves = training_curves(model_dir);
    let embedding_plot = embedding_plot(&scored, &vocabulary)?;
    let plot_inputs = PlotInputs {
        metrics: &frame,
        ethogram: Some(&ethogram),
        curves: curves.as_ref(),
        embeddings: embedding_plot.as_ref(),
    };
    files.extend(plots::write_all(&output_dir.join("plots"), &plot_inputs)?);
    let extra = vec![
        ("recordings".to_string(), recordings.len().to_string()),
        ("head".to_string(), head.name().to_string()),
        ("precision".to_string(), predictor.precision().to_string()),
        (
            format!("smoothed macro-F1 (Viterbi, min bout {min_bout} frames)"),
            format!("{:.3}", smoothed.macro_all.f1),
        ),
        ("ethogram".to_string(), recordings[shown].name.clone()),
        (
            "bout IoU threshold".to_string(),
            options.bout_iou.to_string(),
        ),
    ];
    let run_info = RunInfo {
        model: model_dir.display().to_string(),
        dataset: options.dataset.clone(),
        date: utc_now(),
        command: options.command.clone(),
        extra,
    };
    let report_path = output_dir.join("report.html");
    write_report(
        &report_path,
        &ReportInputs {
            metrics: &frame,
            ethogram: Some(&ethogram),
            curves: curves.as_ref(),
            embeddings: embedding_plot.as_ref(),
            title: "BehavERT evaluation",
            run_info: &run_info,
        },
    )?;
    files.push(report_path);
    Ok(EvaluationSummary {
        output_dir: output_dir.to_path_buf(),
        labelled_frames: frame.labelled_frames,
        f1_macro: frame.macro_all.f1,
        f1_macro_excluding_other: frame.macro_excluding_other.as_ref().map(|m| m.f1),
        smoothed_f1_macro: smoothed.macro_all.f1,
        files,
    })
}

/// Labels one recording with the model, writes its predictions file and bouts to `file`,
/// and pairs the predictions (raw and smoothed) with the truth of head `head_index`.
fn score_recording(
    predictor: &Predictor,
    head_index: usize,
    vocabulary: &[String],
    recording: &LabelledRecording,
    infer: &InferOptions,
    min_bout: usize,
    file: &Path,
) -> Result<(Scored, RecordingEntry)> {
    let truth = truth_ids(&recording.labels, vocabulary, &recording.name)?;
    if truth.len() != recording.pose.frames() {
        return Err(Error::data(
            format!("labels of {}", recording.name),
            format!("{} frames like the pose", recording.pose.frames()),
            truth.len(),
        ));
    }
    let predictions = predictor
        .predict(&recording.pose, &recording.name, infer)
        .map_err(|e| Error::data(recording.name.as_str(), "the model's labels", e))?;
    // The same argmax as the `label` column of the predictions file.
    let pred: Vec<u32> = predictions.heads[head_index]
        .rows()
        .into_iter()
        .map(|row| super::predictions::argmax(row.iter().copied()) as u32)
        .collect();
    let probs = predictions.heads[head_index].mapv(f64::from);
    let mut writer = PredictionWriter::create(file, predictor.heads(), recording.pose.fps)?;
    writer.write(&FrameBlock {
        start: 0,
        heads: predictions.heads,
        embeddings: None,
    })?;
    writer.finish()?;
    let smoothed = viterbi_smooth(probs.view(), 0.0, min_bout)?;
    let entry = RecordingEntry {
        name: recording.name.clone(),
        frames: truth.len(),
        labelled_frames: truth.iter().filter(|t| t.is_some()).count(),
        predictions: format!(
            "predictions/{}",
            file.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        ),
    };
    let score = Scored {
        truth,
        pred,
        smoothed,
        probs,
        embeddings: predictions.embeddings,
    };
    Ok((score, entry))
}

/// The run's training log beside the checkpoint (`RUN/metrics.csv` for `RUN/best`), for the
/// training-curves plot; left out, with a warning, when it cannot be read.
fn training_curves(model_dir: &Path) -> Option<TrainingLog> {
    let path = model_dir.parent()?.join(METRICS_FILE);
    if !path.is_file() {
        return None;
    }
    match TrainingLog::read(&path) {
        Ok(log) if !log.rows.is_empty() => Some(log),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!("training curves left out: {e}");
            None
        }
    }
}

/// Per-frame class ids of `labels` in the model's `vocabulary`.
fn truth_ids(labels: &Labels, vocabulary: &[String], name: &str) -> Result<Vec<Option<u32>>> {
    let labels = behavert_pose::label_files::single_if_exclusive(labels.clone());
    let FrameLabels::Single(ids) = &labels.frames else {
        return Err(Error::data(
            format!("labels of {name}"),
            "one behaviour per frame (the model's head is multiclass)",
            "several behaviours at once on some frames",
        ));
    };
    behavert_pose::labels::relabel(&labels, ids, vocabulary).map_err(|unknown| {
        Error::data(
            format!("labels of {name}"),
            format!("behaviours the model knows ({vocabulary:?})"),
            format!("{:?} on {} frames", unknown.name, unknown.frames),
        )
    })
}

/// PCA of embeddings from every recording, coloured by the truth (or prediction).
fn embedding_plot(scored: &[Scored], vocabulary: &[String]) -> Result<Option<EmbeddingPlot>> {
    let views: Vec<_> = scored
        .iter()
        .filter_map(|s| s.embeddings.as_ref().map(|e| e.view()))
        .collect();
    if views.len() != scored.len() || views.iter().map(|v| v.nrows()).sum::<usize>() < 2 {
        return Ok(None);
    }
    let all = concatenate(Axis(0), &views)
        .map_err(|e| Error::data("embeddings", "equally wide embeddings", e))?;
    let labels: Vec<Option<u32>> = scored
        .iter()
        .flat_map(|s| s.truth.iter().zip(&s.pred).map(|(t, p)| t.or(Some(*p))))
        .collect();
    Ok(Some(EmbeddingPlot::from_embeddings(
        vocabulary.to_vec(),
        all.view(),
        &labels,
        DEFAULT_MAX_POINTS,
    )?))
}

/// Refuses an output folder with files in it: results never mix with or replace old ones.
pub(crate) fn refuse_used_output_dir(dir: &Path) -> Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            Some(_) => Err(used_output_dir(dir)),
            None => Ok(()),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(dir, e)),
    }
}

fn used_output_dir(dir: &Path) -> Error {
    Error::run_dir(
        dir,
        "a new or empty output folder (results are never overwritten)",
        "a folder with files in it, perhaps written by another evaluation meanwhile",
    )
}

/// A new folder beside `dir` (same file system, so publishing it is one rename), named
/// `.<name>.*.tmp` and removed if the evaluation fails.
pub(crate) fn staging_dir(dir: &Path) -> Result<tempfile::TempDir> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    Ok(behavert_pose::atomic::temp_dir_beside(dir)?)
}

/// Gives `staging` the name `dir`. A rename replaces only a missing or empty folder, so the
/// check and the publishing are one step: a folder that filled meanwhile stays as it was.
pub(crate) fn publish_dir(staging: tempfile::TempDir, dir: &Path) -> Result<()> {
    match std::fs::rename(staging.path(), dir) {
        Ok(()) => {
            // Renamed away: nothing is left for the guard to remove.
            let _ = staging.keep();
            Ok(())
        }
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::DirectoryNotEmpty | std::io::ErrorKind::AlreadyExists
            ) =>
        {
            Err(used_output_dir(dir))
        }
        Err(e) => Err(Error::io(dir, e)),
    }
}

/// A file name for recording `index` named `name` (dataset ids may hold `/`).
pub(crate) fn file_name(name: &str, index: usize) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.trim_matches('_').is_empty() {
        format!("recording_{index}")
    } else {
        cleaned
    }
}
