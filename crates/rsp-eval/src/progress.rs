//! Progress reporting: the engine calls a [`Progress`] after every finished sample-epoch.
//!
//! The callback receives a cheap [`Snapshot`] (counts, a running estimate of the first
//! metric with its interval, an ETA); drawing is the caller's business (the CLI drives
//! indicatif). The engine never blocks on display: implementations must return quickly.

use std::time::Duration;

use rsp_stats::Interval;

/// A point-in-time view of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// `suite/task`.
    pub task: String,
    /// Sample-epochs finished (including those found already done on resume).
    pub done: usize,
    /// Sample-epochs in the run.
    pub total: usize,
    /// Of `done`, how many were already in the sink when the run started.
    pub resumed: usize,
    /// Sample-epochs whose last attempt failed.
    pub errors: usize,
    /// Name of the running metric.
    pub metric: Option<String>,
    /// Running estimate of the first metric over finished sample-epochs (Wilson for 0/1
    /// values, t otherwise), when there are enough for an interval.
    pub running: Option<Interval>,
    /// Time since this invocation started.
    pub elapsed: Duration,
    /// Estimated time left, from this invocation's pace.
    pub eta: Option<Duration>,
}

/// Receives progress.
pub trait Progress: Send + Sync {
    /// Called after each finished sample-epoch, and once at the start.
    fn update(&self, snapshot: &Snapshot);
}

/// Ignores progress.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&self, _snapshot: &Snapshot) {}
}

impl<F: Fn(&Snapshot) + Send + Sync> Progress for F {
    fn update(&self, snapshot: &Snapshot) {
        self(snapshot);
    }
}
