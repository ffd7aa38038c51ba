//! Colours: one per behaviour, consistent across every plot, and the confusion-matrix scale.

use plotters::style::RGBColor;

/// Tableau 10 without its grey, which is kept for `other`: distinct and colour-blind aware.
const CATEGORICAL: [RGBColor; 9] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xED, 0xC9, 0x48),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0x9C, 0x75, 0x5F),
];

/// Light grey for `other`/`background`, so the behaviours of interest stand out.
pub const OTHER: RGBColor = RGBColor(0xC8, 0xC8, 0xC8);
/// Near-black for text and axes.
pub const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// Mid grey for secondary text and grid lines.
pub const MUTED: RGBColor = RGBColor(0x77, 0x77, 0x77);

/// Class names treated as the catch-all class (same rule as the CalMS21 macro average).
fn is_catch_all(name: &str) -> bool {
    let n = name.trim();
    n.eq_ignore_ascii_case("other") || n.eq_ignore_ascii_case("background")
}

/// One colour per class in vocabulary order: grey for `other`, then the categorical palette,
/// then evenly spaced hues once it runs out.
pub fn class_colours(names: &[String]) -> Vec<RGBColor> {
    let mut next = 0usize;
    names
        .iter()
        .map(|name| {
            if is_catch_all(name) {
                return OTHER;
            }
            let i = next;
            next += 1;
            CATEGORICAL.get(i).copied().unwrap_or_else(|| {
                let k = i - CATEGORICAL.len();
                // Golden-angle steps keep neighbouring extra classes apart.
                hsl_to_rgb(
                    (k as f64 * 137.508 + 15.0) % 360.0,
                    0.55,
                    0.40 + 0.08 * (k % 3) as f64,
                )
            })
        })
        .collect()
}

/// Sequential white→blue scale (matplotlib "Blues") at `t` in [0, 1].
pub fn blues(t: f64) -> RGBColor {
    const STOPS: [(u8, u8, u8); 9] = [
        (0xf7, 0xfb, 0xff),
        (0xde, 0xeb, 0xf7),
        (0xc6, 0xdb, 0xef),
        (0x9e, 0xca, 0xe1),
        (0x6b, 0xae, 0xd6),
        (0x42, 0x92, 0xc6),
        (0x21, 0x71, 0xb5),
        (0x08, 0x51, 0x9c),
        (0x08, 0x30, 0x6b),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let pos = t * (STOPS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(STOPS.len() - 2);
    let f = pos - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// `#rrggbb` of a colour, for HTML.
pub fn hex(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

fn hsl_to_rgb(h: f64, s: f64, l: f64) -> RGBColor {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let to = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    RGBColor(to(r), to(g), to(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_is_grey_and_behaviours_get_distinct_colours() {
        let names: Vec<String> = (0..14)
            .map(|i| {
                if i == 2 {
                    "other".into()
                } else {
                    format!("b{i}")
                }
            })
            .collect();
        let colours = class_colours(&names);
        assert_eq!(colours[2], OTHER);
        for i in 0..colours.len() {
            for j in 0..i {
                assert_ne!(colours[i], colours[j], "{i} {j}");
            }
        }
        assert_eq!(blues(0.0), RGBColor(0xf7, 0xfb, 0xff));
        assert_eq!(blues(1.0), RGBColor(0x08, 0x30, 0x6b));
    }
}
