//! Temporal context: centred rolling means and standard deviations of feature columns over
//! spans given in seconds, counting only observed (non-NaN) values.

use crate::error::{PoseError, Result};

/// Column names of the context of `columns` over `spans` (seconds): per span, every column's
/// mean then its standard deviation.
pub(crate) fn names(columns: &[String], spans: &[f64]) -> Vec<String> {
    spans
        .iter()
        .flat_map(|span| {
            columns
                .iter()
                .flat_map(move |name| [format!("{name}.mean{span}s"), format!("{name}.std{span}s")])
        })
        .collect()
}

/// Frames covered by a span of `seconds` at `fps`: at least one.
pub(crate) fn span_frames(seconds: f64, fps: f64) -> usize {
    ((seconds * fps).round() as usize).max(1)
}

/// The context columns of `columns` (each one value per frame, NaN = missing) over `spans`
/// (seconds), in [`names`] order. A frame whose span holds no observed value gets NaN.
pub(crate) fn rolling(
    columns: &[&[f32]],
    spans: &[f64],
    fps: Option<f64>,
) -> Result<Vec<Vec<f32>>> {
    if spans.is_empty() {
        return Ok(Vec::new());
    }
    let fps = fps.ok_or_else(|| {
        PoseError::invalid(
            "preprocess config `derived.context_seconds`",
            "a frame rate to turn seconds into frames: from the file, or `preprocess.fps`",
            "a file that states none and no `fps` in the config",
        )
    })?;
    let mut out = Vec::with_capacity(2 * spans.len() * columns.len());
    for &span in spans {
        let width = span_frames(span, fps);
        for column in columns {
            let (mean, std) = rolling_mean_std(column, width);
            out.push(mean);
            out.push(std);
        }
    }
    Ok(out)
}

/// Mean and population standard deviation of the observed values of `values` in a centred
/// window of `width` frames (cut at the ends).
fn rolling_mean_std(values: &[f32], width: usize) -> (Vec<f32>, Vec<f32>) {
    // Shifted by the first observed value, so long recordings keep their precision.
    let shift = values
        .iter()
        .find(|v| !v.is_nan())
        .map_or(0.0, |&v| f64::from(v));
    let shifted = values.iter().map(|&v| {
        let x = f64::from(v) - shift;
        (!v.is_nan()).then_some((x, x * x))
    });
    let before = (width - 1) / 2;
    centred_sums(shifted, before, width - 1 - before)
        .into_iter()
        .map(|(s, q, n)| {
            if n == 0 {
                return (f32::NAN, f32::NAN);
            }
            let n = n as f64;
            let mean = s / n;
            let variance = (q / n - mean * mean).max(0.0);
            ((mean + shift) as f32, variance.sqrt() as f32)
        })
        .unzip()
}

/// Per frame, the sums of the present pairs of `values` over the frames `f - before ..=
/// f + after` (cut at the ends) and how many were present. Prefix sums in f64: O(1) per
/// frame, and long recordings do not drift.
pub(super) fn centred_sums(
    values: impl ExactSizeIterator<Item = Option<(f64, f64)>>,
    before: usize,
    after: usize,
) -> Vec<(f64, f64, usize)> {
    let frames = values.len();
    let mut sums = Vec::with_capacity(frames + 1);
    sums.push((0.0f64, 0.0f64, 0usize));
    for value in values {
        let &(a, b, n) = sums.last().expect("starts non-empty");
        sums.push(match value {
            Some((x, y)) => (a + x, b + y, n + 1),
            None => (a, b, n),
        });
    }
    (0..frames)
        .map(|f| {
            let (lo, hi) = (
                sums[f.saturating_sub(before)],
                sums[(f + after + 1).min(frames)],
            );
            (hi.0 - lo.0, hi.1 - lo.1, hi.2 - lo.2)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_statistics_skip_missing_values_and_cut_at_the_ends() {
        let values = [1.0, f32::NAN, 3.0, 5.0, f32::NAN, f32::NAN, f32::NAN];
        let (mean, std) = rolling_mean_std(&values, 3);
        // Frame 0 sees frames 0–1: only 1.0 observed.
        assert_eq!((mean[0], std[0]), (1.0, 0.0));
        // Frame 1 sees 1.0 and 3.0.
        assert_eq!((mean[1], std[1]), (2.0, 1.0));
        assert_eq!(mean[3], 4.0);
        // Frame 5 sees frames 4–6, all missing.
        assert!(mean[5].is_nan() && std[5].is_nan());
        assert_eq!(mean[4], 5.0);
    }

    #[test]
    fn spans_need_a_frame_rate_and_name_their_seconds() {
        let column = [1.0f32; 4];
        let columns = [&column[..]];
        let err = rolling(&columns, &[0.5], None).unwrap_err().to_string();
        assert!(err.contains("preprocess.fps"), "{err}");
        assert_eq!(rolling(&columns, &[0.5], Some(30.0)).unwrap().len(), 2);
        assert_eq!(span_frames(0.5, 30.0), 15);
        assert_eq!(
            names(&["speed".into()], &[0.5, 1.0]),
            [
                "speed.mean0.5s",
                "speed.std0.5s",
                "speed.mean1s",
                "speed.std1s"
            ]
        );
    }
}
