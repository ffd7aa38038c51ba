//! Turning a [`Plot`] into SVG text or PNG bytes, and writing both files.

use std::path::{Path, PathBuf};

use plotters::backend::RGBPixel;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::font;
use crate::error::{Error, Result};
use crate::eval::output::write_atomic;

/// Drawing errors of a backend, as plotters reports them.
pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// A figure that can be drawn on any plotters backend.
pub trait Plot {
    /// File stem (`confusion_matrix` → `confusion_matrix.png`), also its name in errors.
    fn name(&self) -> &'static str;
    /// Canvas size in pixels (width, height).
    fn size(&self) -> (u32, u32);
    /// Draws the whole figure on `root`, which has the size of [`Plot::size`].
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

/// The plot as a standalone SVG document.
pub fn render_svg(plot: &impl Plot) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, plot.size()).into_drawing_area();
        draw_on(plot, &root)?;
    }
    // Bouts and matrix cells are axis-aligned rectangles that touch: without crisp edges a
    // scaled SVG shows anti-aliasing seams between them.
    if let Some(end) = svg
        .find("<svg")
        .and_then(|i| svg[i..].find('>').map(|j| i + j + 1))
    {
        svg.insert_str(end, "\n<style>rect{shape-rendering:crispEdges}</style>");
    }
    Ok(svg)
}

/// The plot as PNG bytes (8-bit RGB), text drawn with the shipped font.
pub fn render_png(plot: &impl Plot) -> Result<Vec<u8>> {
    let (w, h) = plot.size();
    let mut pixels = vec![255u8; w as usize * h as usize * 3];
    {
        let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut pixels, (w, h))
            .map_err(|e| Error::draw(plot.name(), e))?;
        draw_on(plot, &backend.into_drawing_area())?;
    }
    encode_png(&pixels, w, h).map_err(|message| Error::Png {
        what: plot.name().to_string(),
        message,
    })
}

/// Writes `<dir>/<name>.png` and `<dir>/<name>.svg` atomically; returns both paths.
pub fn write_plot(plot: &impl Plot, dir: &Path) -> Result<Vec<PathBuf>> {
    let png_path = dir.join(format!("{}.png", plot.name()));
    let svg_path = dir.join(format!("{}.svg", plot.name()));
    // Render both before writing either, so a drawing error leaves no half pair behind.
    let png = render_png(plot)?;
    let svg = render_svg(plot)?;
    write_atomic(&png_path, &png)?;
    write_atomic(&svg_path, svg.as_bytes())?;
    Ok(vec![png_path, svg_path])
}

fn draw_on<DB: DrawingBackend>(plot: &impl Plot, root: &DrawingArea<DB, Shift>) -> Result<()> {
    // SVG needs the font too: plotters measures text with it to lay out axes and captions.
    if !font::ensure_registered() {
        return Err(Error::draw(
            plot.name(),
            "the shipped font could not be loaded",
        ));
    }
    let fail = |e: DrawingAreaErrorKind<DB::ErrorType>| Error::draw(plot.name(), e);
    root.fill(&WHITE).map_err(fail)?;
    plot.draw(root).map_err(fail)?;
    root.present().map_err(fail)
}

fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(rgb).map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?;
    }
    Ok(out)
}
