//! The one font every PNG plot uses, shipped in the crate so no system font library is needed,
//! and text measurement with it for layout.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use plotters::style::{FontStyle, register_font};

/// DejaVu Sans cut down to the characters labels use; see `font/README.md` for its licence.
static DEJAVU_SANS: &[u8] = include_bytes!("font/DejaVuSans-subset.ttf");

/// Registers the shipped font as plotters' `sans-serif` (the family every plot asks for);
/// `false` if the font could not be parsed. Runs once per process.
pub(crate) fn ensure_registered() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        // Bold and italic fall back to this regular face inside plotters.
        register_font("sans-serif", FontStyle::Normal, DEJAVU_SANS).is_ok()
    })
}

/// Width in pixels of `text` drawn at plotters font size `size`, measured as plotters'
/// ab_glyph backend lays it out (advances plus kerning). `None` if the font is unusable.
pub(crate) fn measure(text: &str, size: f64) -> Option<f64> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    let font = FONT
        .get_or_init(|| FontRef::try_from_slice(DEJAVU_SANS).ok())
        .as_ref()?;
    let scaled = font.as_scaled(PxScale::from(size as f32));
    let mut width = 0.0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            width += scaled.kern(p, id);
        }
        width += scaled.h_advance(id);
        prev = Some(id);
    }
    Some(f64::from(width))
}
