//! `predictions.csv` (one row per frame) and `bouts.csv` (one row per run of one behaviour),
//! written as frames finish and moved into place only when complete, never over a file.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use ndarray::ArrayView1;

use super::predictor::{FrameBlock, OutputHead};
use crate::error::{Error, Result};
use crate::model::HeadKind;

/// Where the bouts of `predictions` go: `<stem>_bouts.csv` beside it.
pub fn bouts_path(predictions: &Path) -> PathBuf {
    let stem = predictions.file_stem().map_or_else(
        || "predictions".into(),
        |s| s.to_string_lossy().into_owned(),
    );
    predictions.with_file_name(format!("{stem}_bouts.csv"))
}

/// Fails when `path` exists: outputs never replace a user's file.
pub fn refuse_existing(path: &Path) -> Result<()> {
    if path.exists() {
        return Err(Error::run_dir(
            path,
            "a path that does not exist yet (outputs are never overwritten)",
            "an existing file",
        ));
    }
    Ok(())
}

/// A CSV being written beside its destination.
pub(crate) struct PendingCsv {
    writer: csv::Writer<BufWriter<File>>,
    file: tempfile::TempPath,
    path: PathBuf,
}

impl PendingCsv {
    pub(crate) fn create(path: &Path, header: &[String]) -> Result<Self> {
        refuse_existing(path)?;
        let temp = behavert_pose::atomic::temp_beside(path)?;
        let (file, temp_path) = temp.into_parts();
        let mut writer = csv::Writer::from_writer(BufWriter::new(file));
        writer
            .write_record(header)
            .map_err(|e| csv_error(path, e))?;
        Ok(Self {
            writer,
            file: temp_path,
            path: path.to_path_buf(),
        })
    }

    pub(crate) fn row(&mut self, cells: &[String]) -> Result<()> {
        self.writer
            .write_record(cells)
            .map_err(|e| csv_error(&self.path, e))
    }

    pub(crate) fn finish(self) -> Result<()> {
        let Self { writer, file, path } = self;
        let inner = writer
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?;
        inner
            .into_inner()
            .map_err(|e| Error::io(&path, e.into_error()))?
            .sync_all()
            .map_err(|e| Error::io(&path, e))?;
        file.persist_noclobber(&path)
            .map_err(|e| Error::io(&path, e.error))?;
        Ok(())
    }
}

fn csv_error(path: &Path, error: csv::Error) -> Error {
    // csv's errors on writing are I/O errors underneath; its conversion keeps their kind.
    Error::io(path, error.into())
}

/// The columns of `predictions.csv` for `heads`: `frame`, `time_s`, then per head its label
/// column (classification) and one column per output, prefixed by the head's name when there
/// are several heads.
pub fn prediction_columns(heads: &[OutputHead]) -> Vec<String> {
    let prefix = |h: &OutputHead| {
        if heads.len() > 1 {
            format!("{}_", h.name())
        } else {
            String::new()
        }
    };
    let mut header = vec!["frame".to_string(), "time_s".to_string()];
    for head in heads {
        let p = prefix(head);
        match head.kind() {
            HeadKind::Multiclass => header.push(format!("{p}label")),
            HeadKind::Multilabel => header.push(format!("{p}labels")),
            HeadKind::Regression => {}
        }
        let value_prefix = if head.kind() == HeadKind::Regression {
            ""
        } else {
            "p_"
        };
        header.extend(
            head.output_names()
                .iter()
                .map(|n| format!("{p}{value_prefix}{n}")),
        );
    }
    header
}

/// A head's label for one frame's outputs: the likeliest class (multiclass), the classes at
/// 0.5 or more joined by `|` (multilabel), none for regression.
pub fn frame_label(head: &OutputHead, outputs: ArrayView1<f32>) -> Option<String> {
    match head.kind() {
        HeadKind::Multiclass => Some(head.output_names()[argmax(outputs.iter().copied())].clone()),
        HeadKind::Multilabel => Some(
            head.output_names()
                .iter()
                .zip(outputs.iter())
                .filter(|&(_, &p)| p >= 0.5)
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join("|"),
        ),
        HeadKind::Regression => None,
    }
}

/// One run of a multiclass head's likeliest class.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bout {
    /// Class index in the head's vocabulary.
    pub class: usize,
    /// First frame.
    pub start: usize,
    /// Frames in the bout.
    pub frames: usize,
    /// The class's mean probability over the bout.
    pub mean_probability: f64,
}

/// Cuts a multiclass head's frames, given in order, into bouts of its likeliest class.
#[derive(Clone, Debug, Default)]
pub struct BoutTracker {
    open: Option<(usize, usize, f64)>,
}

impl BoutTracker {
    /// Adds `frame`'s probabilities; returns the bout this frame ended, if any.
    pub fn push(&mut self, frame: usize, probs: ArrayView1<f32>) -> Option<Bout> {
        let class = argmax(probs.iter().copied());
        let p = f64::from(probs[class]);
        match &mut self.open {
            Some((open_class, _, sum)) if *open_class == class => {
                *sum += p;
                None
            }
            _ => {
                let ended = self.finish(frame);
                self.open = Some((class, frame, p));
                ended
            }
        }
    }

    /// Closes the open bout, which ended just before `end`.
    pub fn finish(&mut self, end: usize) -> Option<Bout> {
        let (class, start, sum) = self.open.take()?;
        let frames = end - start;
        Some(Bout {
            class,
            start,
            frames,
            mean_probability: sum / frames as f64,
        })
    }
}

/// Streams predictions of one recording to `predictions.csv` and its `bouts.csv`.
pub struct PredictionWriter {
    heads: Vec<OutputHead>,
    fps: Option<f64>,
    frames: PendingCsv,
    bouts: Option<(PendingCsv, BoutTracker, Vec<String>)>,
    next_frame: usize,
}

impl PredictionWriter {
    /// Starts `path` (and, when the first head is multiclass, its [`bouts_path`]); `fps` gives
    /// `time_s`, left empty when unknown.
    pub fn create(path: &Path, heads: &[OutputHead], fps: Option<f64>) -> Result<Self> {
        if heads.is_empty() {
            return Err(Error::data(
                "model",
                "at least one head to predict with",
                "none (a pretrained-only checkpoint: fine-tune it, or use `behavert embed`)",
            ));
        }
        let header = prediction_columns(heads);
        let bouts_file = bouts_path(path);
        let bouts = match heads[0].kind() {
            HeadKind::Multiclass => {
                refuse_existing(&bouts_file)?;
                Some(bouts_file)
            }
            _ => None,
        };
        let frames = PendingCsv::create(path, &header)?;
        let bouts = bouts
            .map(|file| {
                let header: Vec<String> = [
                    "behaviour",
                    "start_frame",
                    "end_frame",
                    "start_s",
                    "duration_s",
                    "mean_probability",
                ]
                .map(String::from)
                .to_vec();
                Ok::<_, Error>((
                    PendingCsv::create(&file, &header)?,
                    BoutTracker::default(),
                    heads[0].output_names(),
                ))
            })
            .transpose()?;
        Ok(Self {
            heads: heads.to_vec(),
            fps: fps.filter(|f| f.is_finite() && *f > 0.0),
            frames,
            bouts,
            next_frame: 0,
        })
    }

    /// Writes the rows of a finished block (blocks must come in frame order).
    pub fn write(&mut self, block: &FrameBlock) -> Result<()> {
        for f in 0..block.frames() {
            let frame = block.start + f;
            let mut cells = vec![frame.to_string(), self.time(frame)];
            for (head, values) in self.heads.iter().zip(&block.heads) {
                let row = values.row(f);
                cells.extend(frame_label(head, row));
                cells.extend(row.iter().map(|v| format!("{v:.6}")));
            }
            self.frames.row(&cells)?;
            if let (Some((_, tracker, _)), Some(first)) = (&mut self.bouts, block.heads.first())
                && let Some(bout) = tracker.push(frame, first.row(f))
            {
                self.write_bout(bout)?;
            }
        }
        self.next_frame = block.start + block.frames();
        Ok(())
    }

    /// Closes the last bout and moves both files into place.
    pub fn finish(mut self) -> Result<()> {
        if let Some(bout) = self
            .bouts
            .as_mut()
            .and_then(|(_, tracker, _)| tracker.finish(self.next_frame))
        {
            self.write_bout(bout)?;
        }
        self.frames.finish()?;
        if let Some((bouts, _, _)) = self.bouts {
            bouts.finish()?;
        }
        Ok(())
    }

    fn time(&self, frame: usize) -> String {
        self.fps
            .map_or_else(String::new, |fps| format!("{:.4}", frame as f64 / fps))
    }

    fn write_bout(&mut self, bout: Bout) -> Result<()> {
        let fps = self.fps;
        let Some((file, _, names)) = &mut self.bouts else {
            return Ok(());
        };
        let seconds =
            |n: usize| fps.map_or_else(String::new, |fps| format!("{:.4}", n as f64 / fps));
        file.row(&[
            names[bout.class].clone(),
            bout.start.to_string(),
            (bout.start + bout.frames - 1).to_string(),
            seconds(bout.start),
            seconds(bout.frames),
            format!("{:.6}", bout.mean_probability),
        ])
    }
}

/// Index of the largest value (the first on ties).
pub fn argmax(values: impl Iterator<Item = f32>) -> usize {
    values
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, v)| {
            if v > bv { (i, v) } else { (bi, bv) }
        })
        .0
}
