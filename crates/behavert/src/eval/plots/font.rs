//! The one font every PNG plot uses, shipped in the crate so no system font library is needed.

use std::sync::OnceLock;

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
