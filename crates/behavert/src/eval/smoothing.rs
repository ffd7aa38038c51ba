//! Optional temporal smoothing of frame predictions before scoring.
//!
//! Frame classifiers flicker: a one-frame "attack" inside a long "investigation" is almost
//! never real. These filters remove such flicker; they change the scores, so a report must say
//! whether they were applied.

use ndarray::ArrayView2;

use super::checks::all_finite;
use crate::error::{Error, Result};

/// Checks that a filter window is odd and positive.
fn check_window(window: usize) -> Result<()> {
    if window.is_multiple_of(2) {
        return Err(Error::data("filter window", "an odd number ≥ 1", window));
    }
    Ok(())
}

/// The window of `labels` centred on `t`, edges extended by repeating the end values (so every
/// window has the full odd size and the median is always an element).
fn window_at(labels: &[u32], t: usize, half: usize) -> impl Iterator<Item = u32> + '_ {
    let last = labels.len() - 1;
    (0..2 * half + 1).map(move |k| labels[(t + k).saturating_sub(half).min(last)])
}

/// Running median of class ids over an odd `window`, edges extended with the end values.
///
/// With two classes (ids 0/1) this is a majority vote. With more, the median depends on the
/// order of the ids (a window of 0,2,2,1,0 gives 1); use [`majority_filter`] when that matters.
pub fn median_filter(labels: &[u32], window: usize) -> Result<Vec<u32>> {
    check_window(window)?;
    let half = window / 2;
    Ok((0..labels.len())
        .map(|t| {
            let mut w: Vec<u32> = window_at(labels, t, half).collect();
            w.sort_unstable();
            w[half]
        })
        .collect())
}

/// Running majority vote of class ids over an odd `window`, edges extended with the end
/// values; on a tie the centre frame's label wins if tied, else the smallest tied id.
pub fn majority_filter(labels: &[u32], window: usize) -> Result<Vec<u32>> {
    check_window(window)?;
    let half = window / 2;
    Ok((0..labels.len())
        .map(|t| {
            let mut counts: Vec<(u32, usize)> = Vec::new();
            for id in window_at(labels, t, half) {
                match counts.iter_mut().find(|(c, _)| *c == id) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((id, 1)),
                }
            }
            let best = counts.iter().map(|&(_, n)| n).max().unwrap_or(0);
            let centre = labels[t];
            if counts.iter().any(|&(c, n)| c == centre && n == best) {
                centre
            } else {
                counts
                    .iter()
                    .filter(|&&(_, n)| n == best)
                    .map(|&(c, _)| c)
                    .min()
                    .unwrap_or(centre)
            }
        })
        .collect())
}

/// Most probable label path under a simple HMM: per-frame emission `ln p[t, c]`, a cost of
/// `switch_penalty` (in nats) for every change of label, and every bout at least
/// `min_bout` frames long — except a bout touching either end of the sequence, which the
/// recording may have cut. `min_bout = 1` and `switch_penalty = 0` give the frame-wise argmax.
///
/// Run it per recording: it keeps `frames × classes × min_bout` back-pointers (4 bytes each).
/// Probabilities of exactly 0 are floored at the smallest positive f64 so that a path is
/// always found. Ties prefer the smaller class id.
pub fn viterbi_smooth(
    probs: ArrayView2<f64>,
    switch_penalty: f64,
    min_bout: usize,
) -> Result<Vec<u32>> {
    let (frames, classes) = probs.dim();
    if classes == 0 {
        return Err(Error::data("probability columns", "at least 1", 0));
    }
    if frames == 0 {
        return Err(Error::empty("probabilities"));
    }
    all_finite("probabilities", probs.iter())?;
    if let Some((index, &value)) = probs.iter().enumerate().find(|(_, p)| **p < 0.0) {
        return Err(Error::data(
            format!("probability at index {index}"),
            "a value ≥ 0",
            value,
        ));
    }
    if !(switch_penalty.is_finite() && switch_penalty >= 0.0) {
        return Err(Error::data(
            "switch penalty",
            "a finite value ≥ 0",
            switch_penalty,
        ));
    }
    if min_bout == 0 {
        return Err(Error::data("minimum bout length", "at least 1", 0));
    }
    // State (c, k): label c, current run length min(k + 1, L) — k = L − 1 means "long enough
    // to end". The first bout starts in the long-enough state, which exempts it from the
    // minimum length; any state may end the sequence, which exempts the last bout.
    let l = min_bout;
    let state = |c: usize, k: usize| c * l + k;
    let n_states = classes * l;
    let emit = |t: usize, c: usize| probs[[t, c]].max(f64::MIN_POSITIVE).ln();
    let mut score = vec![f64::NEG_INFINITY; n_states];
    for c in 0..classes {
        score[state(c, l - 1)] = emit(0, c);
    }
    let mut back: Vec<Vec<u32>> = Vec::with_capacity(frames);
    back.push(vec![0; n_states]);
    for t in 1..frames {
        let mut next = vec![f64::NEG_INFINITY; n_states];
        let mut from = vec![0u32; n_states];
        // Best and second-best "long enough" states, to switch into class c from any c' ≠ c.
        let mut best = [(f64::NEG_INFINITY, usize::MAX); 2];
        for c in 0..classes {
            let s = score[state(c, l - 1)];
            if s > best[0].0 {
                best[1] = best[0];
                best[0] = (s, c);
            } else if s > best[1].0 {
                best[1] = (s, c);
            }
        }
        for c in 0..classes {
            let e = emit(t, c);
            // Continue the run.
            for k in 0..l {
                let target = state(c, (k + 1).min(l - 1));
                let s = score[state(c, k)] + e;
                if s > next[target] {
                    next[target] = s;
                    from[target] = state(c, k) as u32;
                }
            }
            // Switch from another label whose run is long enough.
            let (s, c_from) = if best[0].1 != c { best[0] } else { best[1] };
            if c_from != usize::MAX {
                let target = state(c, 0);
                let s = s - switch_penalty + e;
                if s > next[target] {
                    next[target] = s;
                    from[target] = state(c_from, l - 1) as u32;
                }
            }
        }
        score = next;
        back.push(from);
    }
    let mut s = (0..n_states)
        .max_by(|&a, &b| score[a].total_cmp(&score[b]).then(b.cmp(&a)))
        .unwrap_or(0);
    let mut path = vec![0u32; frames];
    for t in (0..frames).rev() {
        path[t] = (s / l) as u32;
        s = back[t][s] as usize;
    }
    Ok(path)
}
