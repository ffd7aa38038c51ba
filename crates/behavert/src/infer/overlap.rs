//! Overlap averaging that streams: windows arrive in order of their start, per-frame sums are
//! kept only for frames a later window may still cover, and finished frames leave at once.

use ndarray::Array2;

/// Running per-frame sums of `width` values over windows that start in increasing order.
#[derive(Clone, Debug)]
pub struct OverlapAverager {
    width: usize,
    /// First frame still held.
    base: usize,
    /// `[held frames × width]` sums, frame-major.
    sums: Vec<f32>,
    /// Windows that covered each held frame.
    counts: Vec<u32>,
}

impl OverlapAverager {
    /// An empty averager of `width` values per frame, starting at frame 0.
    pub fn new(width: usize) -> Self {
        Self {
            width,
            base: 0,
            sums: Vec::new(),
            counts: Vec::new(),
        }
    }

    /// Adds `values` (`[frames × width]`, frame-major) of a window starting at `start`, which
    /// must not be before a frame already taken out.
    pub fn add(&mut self, start: usize, values: &[f32]) {
        debug_assert!(
            start >= self.base,
            "windows must come in order of their start"
        );
        debug_assert_eq!(values.len() % self.width.max(1), 0);
        let frames = values.len() / self.width.max(1);
        let end = start + frames - self.base;
        if self.counts.len() < end {
            self.counts.resize(end, 0);
            self.sums.resize(end * self.width, 0.0);
        }
        let offset = start - self.base;
        for (f, row) in values.chunks_exact(self.width.max(1)).enumerate() {
            let at = (offset + f) * self.width;
            for (sum, v) in self.sums[at..at + self.width].iter_mut().zip(row) {
                *sum += v;
            }
            self.counts[offset + f] += 1;
        }
    }

    /// Means of the frames before `until` (those no later window covers), `[frames, width]`;
    /// the first row is frame [`Self::next_frame`] before the call.
    pub fn take_until(&mut self, until: usize) -> Array2<f32> {
        let frames = until.saturating_sub(self.base).min(self.counts.len());
        let mut out = Array2::zeros((frames, self.width));
        for (f, mut row) in out.rows_mut().into_iter().enumerate() {
            let n = self.counts[f].max(1) as f32;
            let at = f * self.width;
            for (o, sum) in row.iter_mut().zip(&self.sums[at..at + self.width]) {
                *o = sum / n;
            }
        }
        self.sums.drain(..frames * self.width);
        self.counts.drain(..frames);
        self.base += frames;
        out
    }

    /// The first frame not yet taken out.
    pub fn next_frame(&self) -> usize {
        self.base
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_overlaps_and_releases_finished_frames() {
        let mut avg = OverlapAverager::new(1);
        avg.add(0, &[1.0, 1.0, 1.0, 1.0]);
        avg.add(2, &[3.0, 3.0, 3.0, 3.0]);
        let first = avg.take_until(2);
        assert_eq!(first.as_slice().unwrap(), &[1.0, 1.0]);
        assert_eq!(avg.next_frame(), 2);
        avg.add(4, &[5.0, 5.0]);
        let rest = avg.take_until(usize::MAX);
        assert_eq!(rest.as_slice().unwrap(), &[2.0, 2.0, 4.0, 4.0]);
        assert_eq!(avg.next_frame(), 6);
    }

    #[test]
    fn holds_only_frames_a_later_window_can_reach() {
        let mut avg = OverlapAverager::new(3);
        for start in (0..10_000).step_by(8) {
            avg.add(start, &[1.0; 16 * 3]);
            let _ = avg.take_until(start + 8);
            assert!(avg.counts.len() <= 16);
        }
    }
}
