//! Per-class precision, recall and F1 as grouped bars.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::legend::{self, text_width};
use super::palette::INK;
use super::render::{DrawResult, Plot};
use crate::error::{Error, Result};
use crate::eval::report::MetricsReport;

const SIDE: i32 = 24;
const NAME_FONT: f64 = 15.0;
const PLOT_H: i32 = 420;
const TOP: i32 = 84;
const Y_AXIS: i32 = 64;

/// The three scores of one class.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassScoreBars {
    /// Behaviour name.
    pub name: String,
    /// Precision in [0, 1].
    pub precision: f64,
    /// Recall in [0, 1].
    pub recall: f64,
    /// F1 in [0, 1].
    pub f1: f64,
}

/// Grouped bars of precision, recall and F1, one group per class.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassScoresPlot {
    /// Groups in vocabulary order.
    pub classes: Vec<ClassScoreBars>,
}

/// Bar colours: the three metrics, not the classes (class colours would mean something else).
const METRICS: [(&str, RGBColor); 3] = [
    ("precision", RGBColor(0x9e, 0xca, 0xe1)),
    ("recall", RGBColor(0x42, 0x92, 0xc6)),
    ("F1", RGBColor(0x08, 0x30, 0x6b)),
];

impl ClassScoresPlot {
    /// The frame-level scores of a metrics report.
    pub fn from_report(report: &MetricsReport) -> Result<Self> {
        if report.classes.is_empty() {
            return Err(Error::empty("per-class scores"));
        }
        Ok(Self {
            classes: report
                .classes
                .iter()
                .map(|c| ClassScoreBars {
                    name: c.name.clone(),
                    precision: c.precision,
                    recall: c.recall,
                    f1: c.f1,
                })
                .collect(),
        })
    }

    fn group_width(&self) -> i32 {
        (1100 / self.classes.len().max(1) as i32).clamp(48, 120)
    }

    fn vertical_names(&self) -> bool {
        let widest = self
            .classes
            .iter()
            .map(|c| text_width(&c.name, NAME_FONT))
            .max()
            .unwrap_or(0);
        widest > self.group_width() - 6
    }

    fn names_height(&self) -> i32 {
        if self.vertical_names() {
            self.classes
                .iter()
                .map(|c| text_width(&c.name, NAME_FONT))
                .max()
                .unwrap_or(0)
                + 16
        } else {
            28
        }
    }
}

impl Plot for ClassScoresPlot {
    fn name(&self) -> &'static str {
        "per_class_scores"
    }

    fn size(&self) -> (u32, u32) {
        let w = (2 * SIDE + Y_AXIS + self.group_width() * self.classes.len() as i32 + 16).max(640);
        let h = TOP + PLOT_H + self.names_height() + SIDE;
        (w as u32, h as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let (w, _) = self.size();
        let k = self.classes.len();
        root.draw(&Text::new(
            "Per-class precision, recall and F1 (frame level)",
            (w as i32 / 2, 16),
            TextStyle::from(("sans-serif", 20).into_font())
                .color(&INK)
                .pos(Pos::new(HPos::Center, VPos::Top)),
        ))?;
        let entries: Vec<(String, RGBColor)> =
            METRICS.iter().map(|(n, c)| (n.to_string(), *c)).collect();
        let legend_w: i32 = entries
            .iter()
            .map(|(n, _)| 14 + 6 + text_width(n, 15.0) + 22)
            .sum();
        legend::draw(
            root,
            &entries,
            (w as i32 - SIDE - legend_w, 46),
            legend_w + 10,
        )?;
        let area = root.margin(TOP as u32, 0, SIDE as u32, SIDE as u32);
        let (area, _) = area.split_vertically(PLOT_H);
        let mut chart = ChartBuilder::on(&area)
            .margin_right(8)
            .y_label_area_size(Y_AXIS)
            .build_cartesian_2d(0.0..k as f64, 0.0..1.0)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(6)
            .y_desc("score")
            .y_label_formatter(&|v| format!("{v:.1}"))
            .axis_desc_style(("sans-serif", 16).into_font().color(&INK))
            .label_style(("sans-serif", 14).into_font().color(&INK))
            .max_light_lines(0)
            .bold_line_style(RGBColor(0xdd, 0xdd, 0xdd))
            .draw()?;
        let bar = 0.26;
        for (m, (_, colour)) in METRICS.iter().enumerate() {
            chart.draw_series(self.classes.iter().enumerate().map(|(c, s)| {
                let v = [s.precision, s.recall, s.f1][m];
                let v = if v.is_finite() {
                    v.clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let x0 = c as f64 + 0.11 + m as f64 * bar;
                Rectangle::new([(x0, 0.0), (x0 + bar - 0.02, v)], colour.filled())
            }))?;
        }
        let vertical = self.vertical_names();
        for (c, s) in self.classes.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(c as f64 + 0.5, 0.0));
            let style = TextStyle::from(("sans-serif", NAME_FONT).into_font()).color(&INK);
            let label = if vertical {
                Text::new(
                    s.name.clone(),
                    (x, y + 8),
                    style
                        .pos(Pos::new(HPos::Right, VPos::Center))
                        .transform(FontTransform::Rotate270),
                )
            } else {
                Text::new(
                    s.name.clone(),
                    (x, y + 8),
                    style.pos(Pos::new(HPos::Center, VPos::Top)),
                )
            };
            root.draw(&label)?;
        }
        Ok(())
    }
}
