//! The progress bar: epoch, step, loss, throughput, data vs step time, ETA.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar over the optimizer steps of a run (hidden when disabled).
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar of `total` steps starting at `done`; drawn on stderr when `visible`.
    pub fn new(total: u64, done: u64, visible: bool, what: &str) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some(total),
            if visible {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        let style = ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} steps {per_sec} ETA {eta} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(what.to_string());
        bar.set_position(done);
        bar.reset_eta();
        Self { bar }
    }

    /// One step done.
    pub fn step(&self, epoch: u64, loss: f64, windows_per_s: f64, data_ms: f64, step_ms: f64) {
        self.bar.set_message(format!(
            "epoch {epoch} loss {loss:.4} {windows_per_s:.0} windows/s data {data_ms:.1} ms step {step_ms:.0} ms"
        ));
        self.bar.inc(1);
    }

    /// Prints a line above the bar.
    pub fn note(&self, text: String) {
        self.bar.println(text);
    }

    /// Leaves the bar as it is.
    pub fn finish(&self) {
        self.bar.abandon();
    }
}
