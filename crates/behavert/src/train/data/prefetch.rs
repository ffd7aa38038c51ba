//! The worker thread that builds the next batches while the model trains on this one.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::batch::{AugmentPlan, Batch, MaskPlan};
use super::corpus::{Corpus, WindowRef};
use crate::error::{Error, Result};

/// A batch and the time the worker spent building it.
pub struct Prefetched {
    /// Position of the batch in its epoch.
    pub index: usize,
    /// The batch.
    pub batch: Batch,
    /// Time spent assembling it on the worker.
    pub build_time: Duration,
}

/// Builds an epoch's batches on a worker thread, `capacity` ahead of the trainer.
pub struct Prefetcher {
    receiver: Option<Receiver<Result<Prefetched>>>,
    worker: Option<JoinHandle<()>>,
    /// Batches still owed: a channel that closes before then means the worker died.
    remaining: usize,
}

impl Prefetcher {
    /// Starts building `batches[first..]` of `corpus` (masked and augmented when asked).
    pub fn spawn(
        corpus: Arc<Corpus>,
        batches: Vec<Vec<WindowRef>>,
        first: usize,
        mask: Option<MaskPlan>,
        augment: Option<AugmentPlan>,
        capacity: usize,
    ) -> Self {
        let remaining = batches.len().saturating_sub(first);
        let (sender, receiver): (SyncSender<Result<Prefetched>>, _) = sync_channel(capacity.max(1));
        let worker = std::thread::Builder::new()
            .name("behavert-batches".into())
            .spawn(move || {
                for (index, windows) in batches.iter().enumerate().skip(first) {
                    let start = Instant::now();
                    let item = Batch::assemble(
                        &corpus,
                        windows,
                        mask.as_ref().map(|m| (m, index as u64)),
                        augment.as_ref().map(|a| (a, index as u64)),
                    )
                    .map(|batch| Prefetched {
                        index,
                        batch,
                        build_time: start.elapsed(),
                    });
                    let failed = item.is_err();
                    // The trainer stopped early (end of run, early stopping): nothing to do.
                    if sender.send(item).is_err() || failed {
                        return;
                    }
                }
            })
            .ok();
        Self {
            receiver: Some(receiver),
            worker,
            remaining,
        }
    }

    /// Why the worker stopped before its last batch: its panic message, if it panicked.
    fn worker_failure(&mut self) -> Error {
        let cause = match self.worker.take().map(JoinHandle::join) {
            None => "could not be started".to_string(),
            Some(Ok(())) => "stopped early".to_string(),
            Some(Err(panic)) => {
                let message = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("no message");
                format!("panicked: {message}")
            }
        };
        Error::data(
            "the batch worker thread",
            format!("{} more batches", self.remaining),
            cause,
        )
    }
}

impl Iterator for Prefetcher {
    type Item = Result<Prefetched>;

    fn next(&mut self) -> Option<Result<Prefetched>> {
        if self.remaining == 0 {
            return None;
        }
        // A worker that died must end training with an error, not an epoch that ends early
        // and restarts at the same batch for ever.
        let received = match (&self.worker, &self.receiver) {
            (Some(_), Some(receiver)) => receiver.recv().ok(),
            _ => None,
        };
        let item = received.unwrap_or_else(|| Err(self.worker_failure()));
        self.remaining = if item.is_ok() { self.remaining - 1 } else { 0 };
        Some(item)
    }
}

impl Drop for Prefetcher {
    fn drop(&mut self) {
        // Closing the channel first unblocks a worker waiting to send.
        self.receiver.take();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
