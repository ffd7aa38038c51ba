//! The progress bar: epoch, step, loss, throughput, data vs step time, ETA. Where stderr is
//! not a terminal (a notebook, a log file, a cluster job) a bar cannot redraw, so progress is
//! printed as plain lines instead: one per twentieth of the run, and every note.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar over the optimizer steps of a run (hidden when disabled).
pub struct Progress {
    bar: ProgressBar,
    /// Print every this many steps, as lines (stderr is not a terminal).
    line_every: Option<u64>,
}

impl Progress {
    /// A bar of `total` steps starting at `done`; drawn on stderr when `visible`.
    pub fn new(total: u64, done: u64, visible: bool, what: &str) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = ProgressBar::with_draw_target(
            Some(total),
            if visible && terminal {
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
        let line_every = (visible && !terminal).then(|| total.div_ceil(20).max(1));
        Self { bar, line_every }
    }

    /// One step done.
    pub fn step(&self, epoch: u64, loss: f64, windows_per_s: f64, data_ms: f64, step_ms: f64) {
        let message = format!(
            "epoch {epoch} loss {loss:.4} {windows_per_s:.0} windows/s data {data_ms:.1} ms step {step_ms:.0} ms"
        );
        self.bar.inc(1);
        let step = self.bar.position();
        let total = self.bar.length().unwrap_or(step);
        if let Some(every) = self.line_every
            && (step.is_multiple_of(every) || step == total)
        {
            eprintln!("{} step {step}/{total}: {message}", self.bar.prefix());
        }
        self.bar.set_message(message);
    }

    /// Prints a line above the bar.
    pub fn note(&self, text: String) {
        if self.line_every.is_some() {
            eprintln!("{text}");
        } else {
            self.bar.println(text);
        }
    }

    /// Leaves the bar as it is.
    pub fn finish(&self) {
        self.bar.abandon();
    }
}
