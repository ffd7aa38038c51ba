//! One answer per recording from each sequence-level head: its per-frame outputs averaged over
//! the whole recording, gathered as blocks stream past.

use super::predictions::argmax;
use super::predictor::{FrameBlock, OutputHead};
use crate::model::{HeadKind, HeadLevel};

/// Running means of the sequence heads' outputs over every frame seen.
#[derive(Clone, Debug)]
pub struct ClipSummary {
    /// `(head, its index among all heads, per-output sums)`.
    heads: Vec<(OutputHead, usize, Vec<f64>)>,
    frames: usize,
}

impl ClipSummary {
    /// Follows the sequence heads among `heads` (the predictor's, in output order); sequence
    /// heads are multiclass (the config refuses other kinds).
    pub fn new(heads: &[OutputHead]) -> Self {
        let heads = heads
            .iter()
            .enumerate()
            .filter(|(_, head)| {
                head.level() == HeadLevel::Sequence && head.kind() == HeadKind::Multiclass
            })
            .map(|(index, head)| (head.clone(), index, vec![0.0; head.vocabulary.head.outputs]))
            .collect();
        Self { heads, frames: 0 }
    }

    /// Adds a finished block.
    pub fn add(&mut self, block: &FrameBlock) {
        for (_, index, sums) in &mut self.heads {
            if let Some(values) = block.heads.get(*index) {
                for row in values.rows() {
                    for (sum, &value) in sums.iter_mut().zip(row) {
                        *sum += f64::from(value);
                    }
                }
            }
        }
        self.frames += block.frames();
    }

    /// One line per sequence head: the class with the highest mean probability, and that mean.
    /// Empty without sequence heads or frames.
    pub fn lines(&self) -> Vec<String> {
        if self.frames == 0 {
            return Vec::new();
        }
        self.heads
            .iter()
            .map(|(head, _, sums)| {
                let means: Vec<f64> = sums.iter().map(|s| s / self.frames as f64).collect();
                let best = argmax(means.iter().map(|&m| m as f32));
                format!(
                    "{} over the whole recording: {} (mean probability {:.3})",
                    head.name(),
                    head.output_names()[best],
                    means[best]
                )
            })
            .collect()
    }
}
