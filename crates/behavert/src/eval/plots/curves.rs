//! Training curves from `metrics.csv`: one panel per quantity (loss, then each metric), one
//! line per split (train, val, …).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::legend::{self, text_width};
use super::palette::INK;
use super::render::{DrawResult, Plot};
use crate::eval::training_log::TrainingLog;

const PANEL_W: i32 = 460;
const PANEL_H: i32 = 330;
const COLUMNS: usize = 3;
const SIDE: i32 = 20;
const TOP: i32 = 84;
/// Series with at most this many points also get a marker per point (sparse validation).
const MARK_POINTS_UP_TO: usize = 60;

/// `(split index, split name, (step, value) points)` of one quantity.
type SplitSeries<'a> = (usize, &'a str, Vec<(u64, f64)>);

/// Training curves of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingCurvesPlot {
    /// The parsed training log.
    pub log: TrainingLog,
}

/// Split colours: train blue and validation orange as in most training dashboards.
fn split_colour(split: &str, index: usize) -> RGBColor {
    const OTHERS: [RGBColor; 4] = [
        RGBColor(0x59, 0xA1, 0x4F),
        RGBColor(0xB0, 0x7A, 0xA1),
        RGBColor(0xE1, 0x57, 0x59),
        RGBColor(0x9C, 0x75, 0x5F),
    ];
    match split.to_ascii_lowercase().as_str() {
        "train" | "training" => RGBColor(0x4E, 0x79, 0xA7),
        "val" | "valid" | "validation" => RGBColor(0xF2, 0x8E, 0x2B),
        _ => OTHERS[index % OTHERS.len()],
    }
}

impl TrainingCurvesPlot {
    /// Quantities that have at least one measured value, `loss` first.
    fn panels(&self) -> Vec<&str> {
        let splits = self.log.splits();
        self.log
            .quantities()
            .into_iter()
            .filter(|q| splits.iter().any(|s| !self.log.series(s, q).is_empty()))
            .collect()
    }

    fn grid(&self) -> (usize, usize) {
        let n = self.panels().len().max(1);
        let cols = n.min(COLUMNS);
        (cols, n.div_ceil(cols))
    }
}

/// `lo..hi` covering `values` with 5% headroom; a flat series gets a visible band.
fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let span = hi - lo;
    if span <= f64::EPSILON * hi.abs().max(1.0) {
        let pad = (hi.abs() * 0.1).max(0.05);
        return (lo - pad, hi + pad);
    }
    (lo - 0.05 * span, hi + 0.05 * span)
}

impl Plot for TrainingCurvesPlot {
    fn name(&self) -> &'static str {
        "training_curves"
    }

    fn size(&self) -> (u32, u32) {
        let (cols, rows) = self.grid();
        (
            (2 * SIDE + cols as i32 * PANEL_W) as u32,
            (TOP + rows as i32 * PANEL_H + SIDE) as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (w, _) = self.size();
        root.draw(&Text::new(
            "Training curves",
            (w as i32 / 2, 16),
            TextStyle::from(("sans-serif", 20).into_font())
                .color(&INK)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        let splits = self.log.splits();
        let entries: Vec<(String, RGBColor)> = splits
            .iter()
            .enumerate()
            .map(|(i, s)| (s.to_string(), split_colour(s, i)))
            .collect();
        let legend_w: i32 = entries
            .iter()
            .map(|(n, _)| 14 + 6 + text_width(n, 15.0) + 22)
            .sum();
        legend::draw(
            root,
            &entries,
            ((w as i32 - legend_w) / 2, 46),
            legend_w + 10,
        )?;
        let steps = self.log.rows.iter().map(|r| r.step);
        let first = steps.clone().min().unwrap_or(0) as f64;
        let last = (steps.max().unwrap_or(1) as f64).max(first + 1.0);
        let (cols, rows) = self.grid();
        let area = root.margin(TOP as u32, SIDE as u32, SIDE as u32, SIDE as u32);
        let panels = area.split_evenly((rows, cols));
        for (quantity, panel) in self.panels().into_iter().zip(panels.iter()) {
            let series: Vec<SplitSeries> = splits
                .iter()
                .enumerate()
                .map(|(i, s)| (i, *s, self.log.series(s, quantity)))
                .filter(|(_, _, points)| !points.is_empty())
                .collect();
            let (lo, hi) = padded_range(series.iter().flat_map(|(_, _, p)| p.iter().map(|v| v.1)));
            let mut chart = ChartBuilder::on(panel)
                .caption(quantity, ("sans-serif", 17).into_font().color(&INK))
                .margin(10)
                .x_label_area_size(44)
                .y_label_area_size(62)
                .build_cartesian_2d(first..last, lo..hi)?;
            chart
                .configure_mesh()
                .x_desc("step")
                .x_labels(5)
                .y_labels(6)
                .x_label_formatter(&|v| format_step(*v))
                .y_label_formatter(&|v| format_value(*v, hi - lo))
                .axis_desc_style(("sans-serif", 14).into_font().color(&INK))
                .label_style(("sans-serif", 13).into_font().color(&INK))
                .max_light_lines(0)
                .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
                .draw()?;
            for (i, split, points) in &series {
                let colour = split_colour(split, *i);
                chart.draw_series(LineSeries::new(
                    points.iter().map(|&(s, v)| (s as f64, v)),
                    colour.stroke_width(2),
                ))?;
                if points.len() <= MARK_POINTS_UP_TO {
                    chart.draw_series(
                        points
                            .iter()
                            .map(|&(s, v)| Circle::new((s as f64, v), 3, colour.filled())),
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// Steps as `1200`, `15k`, `1.2M`.
fn format_step(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// Tick values with as many decimals as the axis span needs.
fn format_value(v: f64, span: f64) -> String {
    let decimals = if span >= 10.0 {
        0
    } else if span >= 1.0 {
        1
    } else if span >= 0.1 {
        2
    } else {
        3
    };
    format!("{v:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_tick_labels() {
        assert_eq!(padded_range([1.0, 3.0].into_iter()), (0.9, 3.1));
        let (lo, hi) = padded_range([2.0].into_iter());
        assert!(lo < 2.0 && hi > 2.0);
        assert_eq!(format_step(15_000.0), "15k");
        assert_eq!(format_value(0.4567, 0.5), "0.46");
    }
}
