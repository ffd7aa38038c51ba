//! Confusion matrix: cells coloured by the fraction of each true class (row-normalised),
//! raw counts written in the cells, class names on both axes.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::format::thousands;
use super::legend::text_width;
use super::palette::{INK, MUTED, blues};
use super::render::{DrawResult, Plot};
use crate::error::{Error, Result};
use crate::eval::report::MetricsReport;

const SIDE: i32 = 24;
const TOP: i32 = 56;
const NAME_FONT: f64 = 15.0;

/// A square confusion matrix with its class names.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfusionMatrixPlot {
    /// Class names, indexed by class id.
    pub class_names: Vec<String>,
    /// Counts, `[true class][predicted class]`.
    pub counts: Vec<Vec<u64>>,
}

/// Pixel layout, derived once from the class names.
struct Layout {
    cell: i32,
    /// Left edge of the grid.
    left: i32,
    /// Height of the column-name band under the grid.
    names_h: i32,
    /// Column names are written vertically when they do not fit a cell.
    vertical_names: bool,
}

impl ConfusionMatrixPlot {
    /// The matrix of a metrics report.
    pub fn from_report(report: &MetricsReport) -> Result<Self> {
        Self::new(
            report.classes.iter().map(|c| c.name.clone()).collect(),
            report.confusion_matrix.clone(),
        )
    }

    /// Checks the matrix is square with one row per class.
    pub fn new(class_names: Vec<String>, counts: Vec<Vec<u64>>) -> Result<Self> {
        if class_names.is_empty() {
            return Err(Error::empty("confusion matrix classes"));
        }
        if counts.len() != class_names.len() {
            return Err(Error::length(
                "confusion matrix rows and class names",
                counts.len(),
                class_names.len(),
            ));
        }
        if let Some(row) = counts.iter().find(|r| r.len() != class_names.len()) {
            return Err(Error::length(
                "confusion matrix columns and class names",
                row.len(),
                class_names.len(),
            ));
        }
        Ok(Self {
            class_names,
            counts,
        })
    }

    fn layout(&self) -> Layout {
        let k = self.class_names.len() as i32;
        let cell = (600 / k).clamp(34, 84);
        let name_w = self
            .class_names
            .iter()
            .map(|n| text_width(n, NAME_FONT))
            .max()
            .unwrap_or(0);
        let vertical_names = name_w > cell - 6;
        Layout {
            cell,
            left: SIDE + 28 + name_w + 10,
            names_h: if vertical_names { name_w + 14 } else { 26 },
            vertical_names,
        }
    }
}

impl Plot for ConfusionMatrixPlot {
    fn name(&self) -> &'static str {
        "confusion_matrix"
    }

    fn size(&self) -> (u32, u32) {
        let l = self.layout();
        let grid = l.cell * self.class_names.len() as i32;
        let w = (l.left + grid + 30 + 18 + 50 + 30 + SIDE).max(420);
        let h = TOP + grid + l.names_h + 34 + SIDE;
        (w as u32, h as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let l = self.layout();
        let k = self.class_names.len() as i32;
        let grid = l.cell * k;
        let (left, top, cell) = (l.left, TOP, l.cell);
        let text = |size: f64, colour: &'static RGBColor, h: HPos, v: VPos| {
            TextStyle::from(("sans-serif", size).into_font())
                .color(colour)
                .pos(Pos::new(h, v))
        };
        let (w, _) = self.size();
        root.draw(&Text::new(
            "Confusion matrix (colour: fraction of true class)",
            (w as i32 / 2, 16),
            text(20.0, &INK, HPos::Center, VPos::Top),
        ))?;
        let count_font = if cell >= 60 { 15.0 } else { 12.0 };
        for (t, row) in self.counts.iter().enumerate() {
            let total: u64 = row.iter().sum();
            for (p, &n) in row.iter().enumerate() {
                let frac = if total > 0 {
                    n as f64 / total as f64
                } else {
                    0.0
                };
                let (x0, y0) = (left + p as i32 * cell, top + t as i32 * cell);
                root.draw(&Rectangle::new(
                    [(x0, y0), (x0 + cell, y0 + cell)],
                    blues(frac).filled(),
                ))?;
                let ink: &'static RGBColor = if frac > 0.55 { &WHITE } else { &INK };
                let centre = (x0 + cell / 2, y0 + cell / 2);
                if cell >= 60 {
                    root.draw(&Text::new(
                        thousands(n),
                        (centre.0, centre.1 - 8),
                        text(count_font, ink, HPos::Center, VPos::Center),
                    ))?;
                    root.draw(&Text::new(
                        format!("{:.0}%", frac * 100.0),
                        (centre.0, centre.1 + 11),
                        text(12.0, ink, HPos::Center, VPos::Center),
                    ))?;
                } else {
                    root.draw(&Text::new(
                        compact_count(n),
                        centre,
                        text(count_font, ink, HPos::Center, VPos::Center),
                    ))?;
                }
            }
        }
        root.draw(&Rectangle::new(
            [(left, top), (left + grid, top + grid)],
            ShapeStyle::from(&MUTED).stroke_width(1),
        ))?;
        for (i, name) in self.class_names.iter().enumerate() {
            let mid = i as i32 * cell + cell / 2;
            root.draw(&Text::new(
                name.clone(),
                (left - 8, top + mid),
                text(NAME_FONT, &INK, HPos::Right, VPos::Center),
            ))?;
            if l.vertical_names {
                root.draw(&Text::new(
                    name.clone(),
                    (left + mid, top + grid + 8),
                    text(NAME_FONT, &INK, HPos::Right, VPos::Center)
                        .transform(FontTransform::Rotate270),
                ))?;
            } else {
                root.draw(&Text::new(
                    name.clone(),
                    (left + mid, top + grid + 8),
                    text(NAME_FONT, &INK, HPos::Center, VPos::Top),
                ))?;
            }
        }
        root.draw(&Text::new(
            "predicted behaviour",
            (left + grid / 2, top + grid + l.names_h + 8),
            text(16.0, &INK, HPos::Center, VPos::Top),
        ))?;
        root.draw(&Text::new(
            "true behaviour",
            (SIDE, top + grid / 2),
            text(16.0, &INK, HPos::Center, VPos::Top).transform(FontTransform::Rotate270),
        ))?;
        draw_colour_bar(root, (left + grid + 30, top), grid)
    }
}

/// Vertical 0–1 scale of the cell colours with ticks at 0, 0.5 and 1.
fn draw_colour_bar<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    (x, y): (i32, i32),
    height: i32,
) -> DrawResult<DB> {
    let width = 18;
    for i in 0..height {
        let t = 1.0 - i as f64 / (height - 1).max(1) as f64;
        root.draw(&Rectangle::new(
            [(x, y + i), (x + width, y + i + 1)],
            blues(t).filled(),
        ))?;
    }
    root.draw(&Rectangle::new(
        [(x, y), (x + width, y + height)],
        ShapeStyle::from(&MUTED).stroke_width(1),
    ))?;
    let style = TextStyle::from(("sans-serif", 13).into_font())
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for (t, label) in [(1.0, "1.0"), (0.5, "0.5"), (0.0, "0.0")] {
        let ty = y + ((1.0 - t) * (height - 1) as f64).round() as i32;
        root.draw(&PathElement::new(
            vec![(x + width, ty), (x + width + 4, ty)],
            MUTED,
        ))?;
        root.draw(&Text::new(label, (x + width + 7, ty), style.clone()))?;
    }
    Ok(())
}

/// Counts that fit a small cell: 12345 → "12k", 2500000 → "2.5M".
fn compact_count(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{}k", n / 1000),
        _ => format!("{:.1}M", n as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_shape_and_compacts_counts() {
        let names = vec!["a".to_string(), "b".to_string()];
        assert!(ConfusionMatrixPlot::new(names.clone(), vec![vec![1, 2]]).is_err());
        assert!(ConfusionMatrixPlot::new(names.clone(), vec![vec![1, 2], vec![3]]).is_err());
        assert!(ConfusionMatrixPlot::new(names, vec![vec![1, 2], vec![3, 4]]).is_ok());
        assert_eq!(compact_count(12_345), "12k");
        assert_eq!(compact_count(2_500_000), "2.5M");
    }
}
