//! Learning rate per step: linear warm-up, then cosine or linear decay; layer-wise decay as
//! burn parameter groups.

use burn::module::ParamGroup;
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::optim::lr_scheduler::{LrScheduler, LrSchedulerRecord};

use super::config::{Decay, ScheduleSection};

/// The learning rate as a function of the step: a pure function, so a resumed run picks up
/// exactly where the killed one was.
#[derive(Clone, Debug, PartialEq)]
pub struct LrSchedule {
    /// Peak rate.
    pub peak: f64,
    /// Warm-up steps.
    pub warmup: u64,
    /// Total steps of the run.
    pub total: u64,
    /// Decay shape.
    pub decay: Decay,
    /// Final rate over peak.
    pub min_ratio: f64,
}

impl LrSchedule {
    /// The schedule of `section` with peak `peak` over `total` steps.
    pub fn new(section: &ScheduleSection, peak: f64, total: u64) -> Self {
        Self {
            peak,
            warmup: section.warmup_steps.min(total),
            total,
            decay: section.decay,
            min_ratio: section.min_lr_ratio,
        }
    }

    /// Rate of step `step` (0-based).
    pub fn at(&self, step: u64) -> f64 {
        if step < self.warmup {
            return self.peak * (step + 1) as f64 / self.warmup as f64;
        }
        let span = self.total.saturating_sub(self.warmup).max(1) as f64;
        let progress = ((step - self.warmup) as f64 / span).min(1.0);
        let shape = match self.decay {
            Decay::Constant => 1.0,
            Decay::Linear => 1.0 - progress,
            Decay::Cosine => 0.5 * (1.0 + (std::f64::consts::PI * progress).cos()),
        };
        self.peak * (self.min_ratio + (1.0 - self.min_ratio) * shape)
    }
}

/// One parameter group's view of the schedule: the shared rate times a fixed factor.
#[derive(Clone)]
struct ScaledSchedule {
    schedule: LrSchedule,
    scale: f64,
    step: u64,
    /// Steps before which the group does not train.
    held_until: u64,
}

impl LrScheduler for ScaledSchedule {
    fn step(&mut self) -> f64 {
        let scale = if self.step < self.held_until {
            0.0
        } else {
            self.scale
        };
        let lr = self.schedule.at(self.step) * scale;
        self.step += 1;
        lr
    }

    // The position is restored by constructing the schedule at the resumed step, so the
    // record carries nothing.
    fn to_record(&self) -> LrSchedulerRecord {
        LrSchedulerRecord::new()
    }

    fn load_record(&mut self, _record: LrSchedulerRecord) {}
}

/// A burn scheduler starting at step `start` with layer-wise decay `decay` over an encoder of
/// `layers` layers: layer `i` at `decay^(layers − i)`, embeddings at `decay^(layers + 1)`,
/// everything else (heads) at the full rate. Before step `heads_only`, the embeddings and the
/// encoder get rate 0.
pub fn module_scheduler(
    schedule: &LrSchedule,
    start: u64,
    decay: f64,
    layers: usize,
    heads_only: u64,
) -> ModuleLrScheduler {
    let scaled = |scale: f64, held_until: u64| ScaledSchedule {
        schedule: schedule.clone(),
        scale,
        step: start,
        held_until,
    };
    let mut scheduler = ModuleLrScheduler::new(scaled(1.0, 0));
    if decay < 1.0 || heads_only > 0 {
        scheduler = scheduler.with_group(
            ParamGroup::from_predicate("embeddings."),
            scaled(decay.powi(layers as i32 + 1), heads_only),
        );
        for layer in 0..layers {
            scheduler = scheduler.with_group(
                ParamGroup::from_predicate(format!("encoder.layers.{layer}.")),
                scaled(decay.powi((layers - layer) as i32), heads_only),
            );
        }
    }
    scheduler
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warms_up_then_decays_to_the_floor() {
        let section = ScheduleSection {
            warmup_steps: 10,
            decay: Decay::Cosine,
            min_lr_ratio: 0.1,
            heads_only_steps: 0,
        };
        let s = LrSchedule::new(&section, 1.0, 110);
        assert!((s.at(0) - 0.1).abs() < 1e-12);
        assert!((s.at(9) - 1.0).abs() < 1e-12);
        assert!((s.at(60) - 0.55).abs() < 1e-9);
        assert!((s.at(110) - 0.1).abs() < 1e-12);
        let linear = LrSchedule {
            decay: Decay::Linear,
            ..s
        };
        assert!((linear.at(60) - 0.55).abs() < 1e-9);
    }

    #[test]
    fn held_groups_start_after_the_heads_only_steps() {
        let section = ScheduleSection {
            warmup_steps: 0,
            decay: Decay::Constant,
            ..Default::default()
        };
        let mut held = ScaledSchedule {
            schedule: LrSchedule::new(&section, 1.0, 10),
            scale: 0.5,
            step: 2,
            held_until: 3,
        };
        assert_eq!(held.step(), 0.0);
        assert_eq!(held.step(), 0.5);
    }
}
