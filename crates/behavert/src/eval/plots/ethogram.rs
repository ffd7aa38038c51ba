//! Ethogram: behaviour over time, one row of colour-coded bouts per label source (truth,
//! prediction, …), time in seconds.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::format::{clock, thousands};
use super::legend;
use super::palette::{INK, MUTED, class_colours};
use super::render::{DrawResult, Plot};
use crate::error::{Error, Result};

const WIDTH: u32 = 1400;
const ROW_HEIGHT: i32 = 46;
const TOP: i32 = 44;
const AXIS: i32 = 52;
const SIDE: i32 = 24;

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
            return Err(Error::data("ethogram fps", "a positive number", fps));
        }
        let first = tracks
            .first()
            .ok_or_else(|| Error::empty("ethogram tracks"))?;
        if first.labels.is_empty() {
            return Err(Error::empty("ethogram frames"));
        }
        for track in &tracks {
            if track.labels.len() != first.labels.len() {
                return Err(Error::length(
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
                return Err(Error::LabelOutOfRange {
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

/// Length of the zoomed-in detail panel shown under the overview of long recordings.
const DETAIL_SECONDS: f64 = 60.0;
/// Height of a panel's title line.
const PANEL_TITLE: i32 = 34;
/// Vertical space between the overview and the zoom panel.
const PANEL_GAP: i32 = 20;

impl Ethogram {
    /// Frames `start..end` of the detail panel: the `DETAIL_SECONDS` window (on a grid of
    /// such windows) with the most bouts in the first track, so the zoom shows behaviour
    /// rather than a quiet stretch. `None` when the recording is short enough to read whole.
    pub fn detail_window(&self) -> Option<(usize, usize)> {
        let window = (DETAIL_SECONDS * self.fps).round() as usize;
        let frames = self.frames();
        if window == 0 || frames <= 2 * window {
            return None;
        }
        let labels = &self.tracks.first()?.labels;
        let mut best = (0usize, 0usize);
        for (i, chunk) in labels.chunks(window).enumerate() {
            let bouts = spans(chunk, self.class_names.len(), usize::MAX).len();
            if bouts > best.1 {
                best = (i, bouts);
            }
        }
        let start = best.0 * window;
        Some((start, (start + window).min(frames)))
    }

    fn panel_height(&self) -> i32 {
        PANEL_TITLE + ROW_HEIGHT * self.tracks.len() as i32 + AXIS
    }

    /// Draws the tracks over frames `start..end` in `area`; returns the chart's pixel box
    /// `(left, top, right, bottom)` on the root area.
    fn draw_panel<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        area: &DrawingArea<DB, Shift>,
        title: &str,
        (start, end): (usize, usize),
        highlight: Option<(usize, usize)>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let rows = self.tracks.len();
        let (t0, t1) = (start as f64 / self.fps, end as f64 / self.fps);
        let label_w = self.label_width();
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 17).into_font().color(&INK))
            .margin_right(12)
            .x_label_area_size(AXIS - 8)
            .y_label_area_size(label_w)
            .build_cartesian_2d(t0..t1, 0.0..rows as f64)?;
        let span_s = t1 - t0;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc("time (s)")
            .x_labels(12)
            .x_label_formatter(&|v| format_seconds(*v, span_s))
            .max_light_lines(0)
            .axis_desc_style(("sans-serif", 15).into_font().color(&INK))
            .label_style(("sans-serif", 14).into_font().color(&INK))
            .bold_line_style(RGBColor(0xe4, 0xe4, 0xe4))
            .draw()?;
        let colours = class_colours(&self.class_names);
        let classes = self.class_names.len();
        // Above one bout per pixel column, frames are binned to one bin per column: a
        // 100k-frame recording then draws ~1k rectangles instead of one per bout or frame.
        let columns = chart.plotting_area().dim_in_pixel().0.max(1) as usize;
        let name_style = TextStyle::from(("sans-serif", 16).into_font())
            .color(&INK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (row, track) in self.tracks.iter().enumerate() {
            // First track on top.
            let y0 = (rows - 1 - row) as f64;
            let (top, bottom) = (y0 + 0.86, y0 + 0.14);
            let labels = &track.labels[start..end];
            chart.draw_series(spans(labels, classes, columns).into_iter().map(|s| {
                let colour = colours.get(s.label as usize).copied().unwrap_or(MUTED);
                Rectangle::new(
                    [
                        ((start + s.start) as f64 / self.fps, top),
                        ((start + s.end) as f64 / self.fps, bottom),
                    ],
                    colour.filled(),
                )
            }))?;
            let (x, y) = chart.backend_coord(&(t0, y0 + 0.5));
            root.draw(&Text::new(
                track.name.clone(),
                (x - 10, y),
                name_style.clone(),
            ))?;
        }
        if let Some((h0, h1)) = highlight {
            chart.draw_series(std::iter::once(Rectangle::new(
                [
                    (h0 as f64 / self.fps, rows as f64),
                    (h1 as f64 / self.fps, 0.0),
                ],
                INK.stroke_width(2),
            )))?;
        }
        Ok(())
    }
}

impl Plot for Ethogram {
    fn name(&self) -> &'static str {
        "ethogram"
    }

    fn size(&self) -> (u32, u32) {
        let legend_h = legend::height(&self.legend_entries(), WIDTH as i32 - 2 * SIDE);
        let panels = if self.detail_window().is_some() { 2 } else { 1 };
        let h = TOP + panels * self.panel_height() + (panels - 1) * PANEL_GAP + 8 + legend_h + 16;
        (WIDTH, h as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (w, _) = self.size();
        let frames = self.frames();
        let seconds = frames as f64 / self.fps;
        root.draw(&Text::new(
            format!(
                "Ethogram: {} frames at {} fps ({})",
                thousands(frames as u64),
                self.fps,
                clock(seconds)
            ),
            (w as i32 / 2, 14),
            TextStyle::from(("sans-serif", 20).into_font())
                .color(&INK)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        let detail = self.detail_window();
        let panel_h = self.panel_height();
        let area = root.margin(TOP, 0, SIDE, SIDE);
        let (overview, rest) = area.split_vertically(panel_h);
        let rest = rest.margin(PANEL_GAP, 0, 0, 0);
        let overview_title = if detail.is_some() {
            "whole recording (box: zoomed below)"
        } else {
            "whole recording"
        };
        self.draw_panel(root, &overview, overview_title, (0, frames), detail)?;
        let mut bottom = TOP + panel_h;
        if let Some((s, e)) = detail {
            let (zoom, _) = rest.split_vertically(panel_h);
            let title = format!(
                "zoom: {:.0}–{:.0} s, every bout",
                s as f64 / self.fps,
                e as f64 / self.fps
            );
            self.draw_panel(root, &zoom, &title, (s, e), None)?;
            bottom += PANEL_GAP + panel_h;
        }
        let label_w = self.label_width();
        legend::draw(
            root,
            &self.legend_entries(),
            (SIDE + label_w, bottom + 8),
            w as i32 - 2 * SIDE - label_w,
        )?;
        Ok(())
    }
}

/// Tick labels in seconds: whole seconds unless the window is short.
fn format_seconds(v: f64, span: f64) -> String {
    if span >= 20.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
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
                Span {
                    label: 0,
                    start: 0,
                    end: 2
                },
                Span {
                    label: 1,
                    start: 3,
                    end: 5
                },
                Span {
                    label: 0,
                    start: 5,
                    end: 6
                },
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
    fn long_recordings_get_a_busy_detail_window() {
        let names = vec!["a".to_string(), "b".to_string()];
        // Quiet first 10 minutes, then flicker every second.
        let truth: Vec<Option<u32>> = (0..40_000)
            .map(|f| Some(if f < 18_000 { 0 } else { ((f / 30) % 2) as u32 }))
            .collect();
        let pred: Vec<u32> = truth.iter().map(|t| t.unwrap_or(0)).collect();
        let e = Ethogram::truth_vs_prediction(names.clone(), 30.0, &truth, &pred).unwrap();
        let (s, end) = e.detail_window().unwrap();
        assert!(s >= 18_000 && end - s == 1800, "{s} {end}");
        let short = Ethogram::truth_vs_prediction(names, 30.0, &truth[..3000], &pred[..3000]);
        assert_eq!(short.unwrap().detail_window(), None);
    }

    #[test]
    fn rejects_mismatched_tracks_and_bad_ids() {
        let names = vec!["a".to_string(), "b".to_string()];
        assert!(Ethogram::truth_vs_prediction(names.clone(), 30.0, &[Some(0)], &[0, 1]).is_err());
        assert!(Ethogram::truth_vs_prediction(names.clone(), 30.0, &[Some(2)], &[0]).is_err());
        assert!(Ethogram::truth_vs_prediction(names, 0.0, &[Some(0)], &[0]).is_err());
    }
}
