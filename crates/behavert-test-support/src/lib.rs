//! What the tests of every BehavERT crate share: finding the third-party sample data in
//! `../shared` (skipping outside CI), comparing values where NaN means "missing", and reading
//! the CSV files the program writes. A dev-dependency only.

use std::path::{Path, PathBuf};

/// `../shared/<relative>` beside the repository, or `None` with the reason printed when it is
/// absent: a clone runs its tests without it. Under `CI=true` a missing path fails the test.
pub fn shared(relative: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(relative);
    if path.exists() {
        return Some(path);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{} is missing, and CI=true requires it", path.display());
    }
    eprintln!(
        "skipped: {} not found (../shared is not beside the repository)",
        path.display()
    );
    None
}

/// Equal, or both missing (NaN).
pub fn same_value(a: f32, b: f32) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

/// Within `tolerance`, or both missing (NaN).
pub fn close_value(a: f32, b: f32, tolerance: f32) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= tolerance
}

/// Whether two sequences hold the same values, missing where the other is missing.
pub fn same_values<'a>(
    ours: impl IntoIterator<Item = &'a f32>,
    theirs: impl IntoIterator<Item = &'a f32>,
) -> bool {
    first_difference(ours, theirs).is_none()
}

/// The first position where two sequences differ (see [`same_value`]), or where one ends
/// before the other.
pub fn first_difference<'a>(
    ours: impl IntoIterator<Item = &'a f32>,
    theirs: impl IntoIterator<Item = &'a f32>,
) -> Option<usize> {
    let (mut ours, mut theirs) = (ours.into_iter(), theirs.into_iter());
    let mut at = 0;
    loop {
        match (ours.next(), theirs.next()) {
            (None, None) => return None,
            (Some(a), Some(b)) if same_value(*a, *b) => at += 1,
            _ => return Some(at),
        }
    }
}

/// A CSV file's header and rows, as text.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = reader
        .headers()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .iter()
        .map(String::from)
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("{}: {e}", path.display()))
                .iter()
                .map(String::from)
                .collect()
        })
        .collect();
    (header, rows)
}

/// One column of a CSV file's rows, by name.
pub fn column(path: &Path, name: &str) -> Vec<String> {
    let (header, rows) = read_csv(path);
    let at = header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("{}: no column {name} in {header:?}", path.display()));
    rows.into_iter().map(|row| row[at].clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_values_match_only_missing_ones() {
        assert!(same_values(&[1.0, f32::NAN], &[1.0, f32::NAN]));
        assert_eq!(first_difference(&[1.0, f32::NAN], &[1.0, 2.0]), Some(1));
        assert_eq!(first_difference(&[1.0], &[1.0, 2.0]), Some(1));
        assert!(close_value(1.0, 1.05, 0.1) && !close_value(1.0, f32::NAN, 0.1));
    }
}
