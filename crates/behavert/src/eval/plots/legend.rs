//! A colour-swatch legend that wraps onto as many rows as the width needs.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::font;
use super::palette::INK;
use super::render::DrawResult;

/// Font size of legend entries.
const FONT: f64 = 15.0;
/// Height of one legend row in pixels.
pub(crate) const ROW_HEIGHT: i32 = 24;
const SWATCH: i32 = 14;
const GAP: i32 = 22;

/// Width in pixels of `text` at plotters font size `size`, measured with the shipped font,
/// so every backend lays out the same way (browsers drawing the SVG use a similar sans-serif).
pub(crate) fn text_width(text: &str, size: f64) -> i32 {
    // Rough DejaVu average advance if the font cannot be read (never expected).
    let width = font::measure(text, size).unwrap_or(text.chars().count() as f64 * 0.55 * size);
    width.ceil() as i32
}

/// Top-left corner of each entry when laid out from x = 0 within `max_width`.
fn positions(entries: &[(String, RGBColor)], max_width: i32) -> Vec<(i32, i32)> {
    let mut out = Vec::with_capacity(entries.len());
    let (mut x, mut y) = (0, 0);
    for (name, _) in entries {
        let w = SWATCH + 6 + text_width(name, FONT);
        if x > 0 && x + w > max_width {
            x = 0;
            y += ROW_HEIGHT;
        }
        out.push((x, y));
        x += w + GAP;
    }
    out
}

/// Height the legend takes within `max_width`.
pub(crate) fn height(entries: &[(String, RGBColor)], max_width: i32) -> i32 {
    positions(entries, max_width)
        .last()
        .map_or(0, |&(_, y)| y + ROW_HEIGHT)
}

/// Draws the legend with its top-left corner at `origin`.
pub(crate) fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor)],
    origin: (i32, i32),
    max_width: i32,
) -> DrawResult<DB> {
    let style = TextStyle::from(("sans-serif", FONT).into_font())
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for ((name, colour), (x, y)) in entries.iter().zip(positions(entries, max_width)) {
        let (x, y) = (origin.0 + x, origin.1 + y);
        let mid = y + ROW_HEIGHT / 2;
        root.draw(&Rectangle::new(
            [(x, mid - SWATCH / 2), (x + SWATCH, mid + SWATCH / 2)],
            colour.filled(),
        ))?;
        root.draw(&Text::new(
            name.clone(),
            (x + SWATCH + 6, mid),
            style.clone(),
        ))?;
    }
    Ok(())
}
