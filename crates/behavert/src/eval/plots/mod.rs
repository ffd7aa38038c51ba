//! The plots of an evaluation, each written as PNG and SVG from plain data (no tensors).
//!
//! | file stem | plot | built from |
//! |---|---|---|
//! | `ethogram` | behaviour over time, truth vs prediction | [`Ethogram`] |
//! | `confusion_matrix` | row-normalised confusion matrix with counts | [`MetricsReport`] |
//! | `per_class_scores` | precision / recall / F1 bars per class | [`MetricsReport`] |
//! | `training_curves` | loss and metrics per step, train vs val | [`TrainingLog`] (`metrics.csv`) |
//! | `embeddings_pca` | embeddings in 2-D, coloured by behaviour | [`EmbeddingPlot`] |
//!
//! PNG text uses a DejaVu Sans subset shipped in the crate (`font/`), so nothing depends on
//! system fonts; SVG text names `sans-serif` and is drawn by the viewer.

pub mod class_scores;
pub mod confusion;
pub mod curves;
pub mod embedding;
pub mod ethogram;
mod font;
pub mod format;
mod legend;
pub mod palette;
pub mod render;

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend};

pub use class_scores::{ClassScoreBars, ClassScoresPlot};
pub use confusion::ConfusionMatrixPlot;
pub use curves::TrainingCurvesPlot;
pub use embedding::EmbeddingPlot;
pub use ethogram::{Ethogram, EthogramTrack};
pub use render::{Plot, render_png, render_svg, write_plot};

use super::report::MetricsReport;
use super::training_log::TrainingLog;
use crate::error::{Error, Result};
use render::DrawResult;

/// Everything the plots are drawn from; the optional parts give their plot when present.
#[derive(Clone, Copy, Debug)]
pub struct PlotInputs<'a> {
    /// Frame-level metrics: confusion matrix and per-class scores.
    pub metrics: &'a MetricsReport,
    /// Behaviour over time of one recording.
    pub ethogram: Option<&'a Ethogram>,
    /// The training log (`metrics.csv`) of the model evaluated.
    pub curves: Option<&'a TrainingLog>,
    /// Projected embeddings with their labels.
    pub embeddings: Option<&'a EmbeddingPlot>,
}

/// One plot of the report, ready to draw.
#[derive(Clone, Debug)]
pub enum Figure<'a> {
    /// See [`Ethogram`].
    Ethogram(&'a Ethogram),
    /// See [`ConfusionMatrixPlot`].
    ConfusionMatrix(ConfusionMatrixPlot),
    /// See [`ClassScoresPlot`].
    ClassScores(ClassScoresPlot),
    /// See [`TrainingCurvesPlot`].
    TrainingCurves(TrainingCurvesPlot),
    /// See [`EmbeddingPlot`].
    Embeddings(&'a EmbeddingPlot),
}

impl Figure<'_> {
    /// Heading shown above the plot in `report.html`.
    pub fn title(&self) -> &'static str {
        match self {
            Figure::Ethogram(_) => "Ethogram",
            Figure::ConfusionMatrix(_) => "Confusion matrix",
            Figure::ClassScores(_) => "Per-class scores",
            Figure::TrainingCurves(_) => "Training curves",
            Figure::Embeddings(_) => "Embeddings",
        }
    }

    /// One sentence on how to read the plot, shown under it in `report.html`.
    pub fn caption(&self) -> &'static str {
        match self {
            Figure::Ethogram(_) => {
                "Behaviour over time: each coloured block is a bout. Rows share the time axis; \
                 blank stretches are unlabelled frames. Long recordings are shown at one \
                 majority label per pixel column."
            }
            Figure::ConfusionMatrix(_) => {
                "Rows are the true behaviour, columns the prediction. Colour is the fraction of \
                 the row (recall on the diagonal); numbers are frame counts."
            }
            Figure::ClassScores(_) => {
                "Frame-level precision, recall and F1 of each behaviour (one-vs-rest)."
            }
            Figure::TrainingCurves(_) => {
                "Loss and metrics logged during training (metrics.csv), per split."
            }
            Figure::Embeddings(_) => {
                "Frame embeddings projected on their first two principal components, \
                 coloured by behaviour; evenly spaced frames are drawn."
            }
        }
    }
}

impl Plot for Figure<'_> {
    fn name(&self) -> &'static str {
        match self {
            Figure::Ethogram(p) => p.name(),
            Figure::ConfusionMatrix(p) => p.name(),
            Figure::ClassScores(p) => p.name(),
            Figure::TrainingCurves(p) => p.name(),
            Figure::Embeddings(p) => p.name(),
        }
    }

    fn size(&self) -> (u32, u32) {
        match self {
            Figure::Ethogram(p) => p.size(),
            Figure::ConfusionMatrix(p) => p.size(),
            Figure::ClassScores(p) => p.size(),
            Figure::TrainingCurves(p) => p.size(),
            Figure::Embeddings(p) => p.size(),
        }
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        match self {
            Figure::Ethogram(p) => p.draw(root),
            Figure::ConfusionMatrix(p) => p.draw(root),
            Figure::ClassScores(p) => p.draw(root),
            Figure::TrainingCurves(p) => p.draw(root),
            Figure::Embeddings(p) => p.draw(root),
        }
    }
}

/// The figures `inputs` allow, in report order: ethogram, confusion matrix, per-class
/// scores, training curves, embeddings.
pub fn figures<'a>(inputs: &PlotInputs<'a>) -> Result<Vec<Figure<'a>>> {
    let mut out = Vec::new();
    if let Some(e) = inputs.ethogram {
        out.push(Figure::Ethogram(e));
    }
    out.push(Figure::ConfusionMatrix(ConfusionMatrixPlot::from_report(
        inputs.metrics,
    )?));
    out.push(Figure::ClassScores(ClassScoresPlot::from_report(
        inputs.metrics,
    )?));
    if let Some(log) = inputs.curves {
        out.push(Figure::TrainingCurves(TrainingCurvesPlot {
            log: log.clone(),
        }));
    }
    if let Some(e) = inputs.embeddings {
        out.push(Figure::Embeddings(e));
    }
    Ok(out)
}

/// Writes every plot `inputs` allow into `dir` (created if missing) as `<stem>.png` and
/// `<stem>.svg`; returns the paths written. Nothing else in `dir` is touched.
pub fn write_all(dir: &Path, inputs: &PlotInputs) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut written = Vec::new();
    for figure in figures(inputs)? {
        written.extend(write_plot(&figure, dir)?);
    }
    Ok(written)
}
