//! Ethogram: behaviour over time, one row of colour-coded bouts per label source (truth,
//! prediction, …), time in seconds.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::legend;
use super::palette::{INK, MUTED, class_colours};
use super::render::{DrawResult, Plot};
use crate::eval::error::{EvalError, Result};

const WIDTH: u32 = 1400;
const ROW_HEIGHT: i32 = 46;
const TOP: i32 = 48;
const AXIS: i32 = 52;
const SIDE: i32 = 24;
/// Above this many bouts per track, frames are binned to about one bin per pixel column:
/// a 100k-frame recording then draws ~1k rectangles instead of one per bout or frame.
const MAX_COLUMNS: usize = 1200;

/// One row of the ethogram.
#[derive(Clone, Debug, PartialEq)]
pub struct EthogramTrack {
    /// Row label, e.g. `truth` or `prediction`.
    pub name: String,
    /// Class id per frame; `None` (unlabelled) is left blank.
    pub labels: Vec<Option<u32>>,
}

/// Behaviour over time of one recording: every track covers the same frames.
#[derive(Clone, Debug, PartialEq)]
pub struct Ethogram {
    /// Behaviour names, indexed by class id.
    pub class_names: Vec<String>,
    /// Frames per second, to put the time axis in seconds.
    pub fps: f64,
    /// Rows from top to bottom.
    pub tracks: Vec<EthogramTrack>,
}

/// A run of one label drawn as one rectangle, frames `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// Class id.
    pub label: u32,
    /// First frame.
    pub start: usize,
    /// One past the last frame.
    pub end: usize,
}

impl Ethogram {
    /// Truth above prediction, the usual comparison; checks lengths, class ids and `fps`.
    pub fn truth_vs_prediction(
        class_names: Vec<String>,
        fps: f64,
        truth: &[Option<u32>],
        pred: &[u32],
    ) -> Result<Self> {
        let tracks = vec![
            EthogramTrack {
                name: "truth".into(),
                labels: truth.to_vec(),
            },
            EthogramTrack {
                name: "prediction".into(),
                labels: pred.iter().copied().map(Some).collect(),
            },
        ];
        Self::new(class_names, fps, tracks)
    }

    /// Any set of tracks; checks they are non-empty, equally long, with ids below the number
    /// of classes and a positive finite `fps`.
    pub fn new(class_names: Vec<String>, fps: f64, tracks: Vec<EthogramTrack>) -> Result<Self> {
        if !(fps.is_finite() && fps > 0.0) {
            return Err(EvalError::invalid("ethogram fps", "a positive number", fps));
        }
        let first = tracks.first().ok_or_else(|| EvalError::empty("ethogram tracks"))?;
        if first.labels.is_empty() {
            return Err(EvalError::empty("ethogram frames"));
        }
        for track in &tracks {
            if track.labels.len() != first.labels.len() {
                return Err(EvalError::length(
                    format!("ethogram tracks `{}` and `{}`", first.name, track.name),
                    first.labels.len(),
                    track.labels.len(),
                ));
            }
            if let Some((frame, &Some(id))) = track
                .labels
                .iter()
                .enumerate()
                .find(|(_, l)| l.is_some_and(|l| l as usize >= class_names.len()))
            {
                return Err(EvalError::LabelOutOfRange {
                    what: format!("ethogram track `{}`", track.name),
                    frame,
                    id,
                    classes: class_names.len(),
                });
            }
        }
        Ok(Self {
            class_names,
            fps,
            tracks,
        })
    }

    /// Frames per track.
    pub fn frames(&self) -> usize {
        self.tracks.first().map_or(0, |t| t.labels.len())
    }

    fn legend_entries(&self) -> Vec<(String, RGBColor)> {
        self.class_names
            .iter()
            .cloned()
            .zip(class_colours(&self.class_names))
            .collect()
    }

    fn label_width(&self) -> i32 {
        self.tracks
            .iter()
            .map(|t| legend::text_width(&t.name, 16.0))
            .max()
            .unwrap_or(0)
            + 20
    }
}

/// Rectangles to draw for `labels`: exact runs when they fit `max_columns`, otherwise the
/// most frequent label of each of `max_columns` equal bins, merged into runs. Unlabelled
/// frames (or bins mostly unlabelled) give no span.
pub fn spans(labels: &[Option<u32>], classes: usize, max_columns: usize) -> Vec<Span> {
    let exact = runs(labels.iter().enumerate().map(|(f, &l)| (f, f + 1, l)));
    if exact.len() <= max_columns || max_columns == 0 {
        return exact;
    }
    let bin = labels.len().div_ceil(max_columns);
    let mut counts = vec![0usize; classes + 1];
    let binned = labels.chunks(bin).enumerate().map(|(i, chunk)| {
        counts.iter_mut().for_each(|c| *c = 0);
        for l in chunk {
            // Slot `classes` counts unlabelled frames.
            counts[l.map_or(classes, |l| (l as usize).min(classes))] += 1;
        }
        let (best, _) = counts
            .iter()
            .enumerate()
            .max_by_key(|&(c, &n)| (n, std::cmp::Reverse(c)))
            .unwrap_or((classes, &0));
        let label = (best < classes).then_some(best as u32);
        (i * bin, (i * bin + chunk.len()), label)
    });
    runs(binned)
}

fn runs(pieces: impl Iterator<Item = (usize, usize, Option<u32>)>) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    for (start, end, label) in pieces {
        let Some(label) = label else { continue };
        match out.last_mut() {
            Some(last) if last.label == label && last.end == start => last.end = end,
            _ => out.push(Span { label, start, end }),
        }
    }
    out
}

impl Plot for Ethogram {
    fn name(&self) -> &'static str {
        "ethogram"
    }

    fn size(&self) -> (u32, u32) {
        let legend_h = legend::height(&self.legend_entries(), WIDTH as i32 - 2 * SIDE);
        let h = TOP + ROW_HEIGHT * self.tracks.len() as i32 + AXIS + 16 + legend_h + 12;
        (WIDTH, h as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (w, h) = self.size();
        let rows = self.tracks.len();
        let seconds = self.frames() as f64 / self.fps;
        let entries = self.legend_entries();
        let legend_h = legend::height(&entries, w as i32 - 2 * SIDE);
        let chart_bottom = h as i32 - legend_h - 12 - 16;
        let chart_area = root.margin(0, 0, SIDE as u32, SIDE as u32);
        let (chart_area, _) = chart_area.split_vertically(chart_bottom);
        let label_w = self.label_width();
        let mut chart = ChartBuilder::on(&chart_area)
            .caption(
                format!("Ethogram ({} frames at {} fps)", self.frames(), self.fps),
                ("sans-serif", 20).into_font().color(&INK),
            )
            .margin_top(6)
            .margin_right(8)
            .x_label_area_size(AXIS - 8)
            .y_label_area_size(label_w)
            .build_cartesian_2d(0.0..seconds, 0.0..rows as f64)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc("time (s)")
            .x_labels(12)
            .axis_desc_style(("sans-serif", 16).into_font().color(&INK))
            .label_style(("sans-serif", 14).into_font().color(&INK))
            .light_line_style(RGBColor(0xee, 0xee, 0xee))
            .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
            .draw()?;
        let colours = class_colours(&self.class_names);
        let classes = self.class_names.len();
        let name_style = TextStyle::from(("sans-serif", 16).into_font())
            .color(&INK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (row, track) in self.tracks.iter().enumerate() {
            // First track on top.
            let y0 = (rows - 1 - row) as f64;
            let (top, bottom) = (y0 + 0.86, y0 + 0.14);
            chart.draw_series(spans(&track.labels, classes, MAX_COLUMNS).into_iter().map(|s| {
                let colour = colours.get(s.label as usize).copied().unwrap_or(MUTED);
                Rectangle::new(
                    [
                        (s.start as f64 / self.fps, top),
                        (s.end as f64 / self.fps, bottom),
                    ],
                    colour.filled(),
                )
            }))?;
            let (_, y) = chart.backend_coord(&(0.0, y0 + 0.5));
            root.draw(&Text::new(
                track.name.clone(),
                (SIDE + label_w - 10, y),
                name_style.clone(),
            ))?;
        }
        legend::draw(root, &entries, (SIDE + label_w, chart_bottom + 12), w as i32 - 2 * SIDE - label_w)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_runs_skip_unlabelled_frames() {
        let labels = [Some(0), Some(0), None, Some(1), Some(1), Some(0)];
        assert_eq!(
            spans(&labels, 2, 100),
            vec![
                Span { label: 0, start: 0, end: 2 },
                Span { label: 1, start: 3, end: 5 },
                Span { label: 0, start: 5, end: 6 },
            ]
        );
    }

    #[test]
    fn long_flickering_tracks_are_binned_to_the_column_budget() {
        let labels: Vec<Option<u32>> = (0..100_000).map(|f| Some(((f / 3) % 2) as u32)).collect();
        let s = spans(&labels, 2, 1000);
        assert!(s.len() <= 1000, "{}", s.len());
        assert_eq!(s.last().map(|s| s.end), Some(100_000));
    }

    #[test]
    fn rejects_mismatched_tracks_and_bad_ids() {
        let names = vec!["a".to_string(), "b".to_string()];
        assert!(Ethogram::truth_vs_prediction(names.clone(), 30.0, &[Some(0)], &[0, 1]).is_err());
        assert!(Ethogram::truth_vs_prediction(names.clone(), 30.0, &[Some(2)], &[0]).is_err());
        assert!(Ethogram::truth_vs_prediction(names, 0.0, &[Some(0)], &[0]).is_err());
    }
}
