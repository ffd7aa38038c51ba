//! Embeddings projected to 2-D (PCA), one dot per frame coloured by behaviour.

use ndarray::ArrayView2;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::legend;
use super::palette::{INK, OTHER, class_colours};
use super::render::{DrawResult, Plot};
use crate::error::{Error, Result};
use crate::eval::projection::pca_2d;

const WIDTH: u32 = 960;
const CHART_H: i32 = 700;
const SIDE: i32 = 24;
const UNLABELLED: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);

/// Projected frames with their behaviour.
#[derive(Clone, Debug, PartialEq)]
pub struct EmbeddingPlot {
    /// Behaviour names, indexed by class id.
    pub class_names: Vec<String>,
    /// `[pc1, pc2]` per drawn frame.
    pub points: Vec<[f64; 2]>,
    /// Behaviour of each drawn frame; `None` = unlabelled.
    pub labels: Vec<Option<u32>>,
    /// Fraction of variance along each axis, shown in the axis titles.
    pub explained_variance_ratio: [f64; 2],
}

impl EmbeddingPlot {
    /// PCA of `embeddings` `[frames, dim]` on at most `max_points` evenly spaced frames,
    /// coloured by `labels` (one per frame: truth, or prediction where there is no truth).
    pub fn from_embeddings(
        class_names: Vec<String>,
        embeddings: ArrayView2<f32>,
        labels: &[Option<u32>],
        max_points: usize,
    ) -> Result<Self> {
        if embeddings.nrows() != labels.len() {
            return Err(Error::length(
                "embedding rows and labels",
                embeddings.nrows(),
                labels.len(),
            ));
        }
        if let Some((frame, &Some(id))) = labels
            .iter()
            .enumerate()
            .find(|(_, l)| l.is_some_and(|l| l as usize >= class_names.len()))
        {
            return Err(Error::LabelOutOfRange {
                what: "embedding labels".into(),
                frame,
                id,
                classes: class_names.len(),
            });
        }
        let projection = pca_2d(embeddings, max_points)?;
        Ok(Self {
            class_names,
            labels: projection.rows.iter().map(|&r| labels[r]).collect(),
            points: projection.points,
            explained_variance_ratio: projection.explained_variance_ratio,
        })
    }

    fn legend_entries(&self) -> Vec<(String, RGBColor)> {
        let mut entries: Vec<(String, RGBColor)> = self
            .class_names
            .iter()
            .cloned()
            .zip(class_colours(&self.class_names))
            .collect();
        if self.labels.iter().any(Option::is_none) {
            entries.push(("unlabelled".into(), UNLABELLED));
        }
        entries
    }
}

impl Plot for EmbeddingPlot {
    fn name(&self) -> &'static str {
        "embeddings_pca"
    }

    fn size(&self) -> (u32, u32) {
        let legend_h = legend::height(&self.legend_entries(), WIDTH as i32 - 2 * SIDE - 80);
        (WIDTH, (CHART_H + 16 + legend_h + SIDE) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        let range = |axis: usize| {
            let (lo, hi) = self
                .points
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                    (lo.min(p[axis]), hi.max(p[axis]))
                });
            if !lo.is_finite() || hi - lo <= 0.0 {
                return -1.0..1.0;
            }
            let pad = 0.04 * (hi - lo);
            (lo - pad)..(hi + pad)
        };
        let area = root.margin(0, 0, SIDE as u32, SIDE as u32);
        let (area, _) = area.split_vertically(CHART_H);
        let [r1, r2] = self.explained_variance_ratio;
        let mut chart = ChartBuilder::on(&area)
            .caption(
                format!("Embeddings, PCA to 2-D ({} frames)", self.points.len()),
                ("sans-serif", 20).into_font().color(&INK),
            )
            .margin(10)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(range(0), range(1))?;
        chart
            .configure_mesh()
            .x_desc(format!("PC1 ({:.1}% of variance)", r1 * 100.0))
            .y_desc(format!("PC2 ({:.1}% of variance)", r2 * 100.0))
            .axis_desc_style(("sans-serif", 16).into_font().color(&INK))
            .label_style(("sans-serif", 13).into_font().color(&INK))
            .x_label_formatter(&|v| format!("{v:.1}"))
            .y_label_formatter(&|v| format!("{v:.1}"))
            .max_light_lines(0)
            .bold_line_style(RGBColor(0xe4, 0xe4, 0xe4))
            .draw()?;
        let colours = class_colours(&self.class_names);
        // Background first: unlabelled, then the catch-all class, then behaviours on top.
        let layer = |l: &Option<u32>| match l {
            None => 0,
            Some(c) if colours.get(*c as usize) == Some(&OTHER) => 1,
            Some(_) => 2,
        };
        for depth in 0..3 {
            chart.draw_series(
                self.points
                    .iter()
                    .zip(&self.labels)
                    .filter(|(_, l)| layer(l) == depth)
                    .map(|(p, l)| {
                        let colour = l
                            .and_then(|c| colours.get(c as usize).copied())
                            .unwrap_or(UNLABELLED);
                        Circle::new((p[0], p[1]), 3, colour.mix(0.75).filled())
                    }),
            )?;
        }
        legend::draw(
            root,
            &self.legend_entries(),
            (SIDE + 80, CHART_H + 16),
            WIDTH as i32 - 2 * SIDE - 80,
        )
    }
}
