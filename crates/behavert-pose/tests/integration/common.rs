//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/data/samples/<name>`, or `None` (test skipped) when `../shared` is absent —
/// except under `CI=true`, where a missing sample fails the test.
pub fn sample(name: &str) -> Option<PathBuf> {
    behavert_test_support::shared(&format!("data/samples/{name}"))
}

/// A committed fixture under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Parse one line of a CSV sample as numbers (empty = NaN), for spot checks against the text.
pub fn csv_line(path: &std::path::Path, line: usize) -> Vec<f64> {
    let text = std::fs::read_to_string(path).unwrap();
    let line = text.lines().nth(line - 1).unwrap();
    line.split(',')
        .skip(1)
        .map(|c| {
            if c.is_empty() {
                f64::NAN
            } else {
                c.parse().unwrap()
            }
        })
        .collect()
}
