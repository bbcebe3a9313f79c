//! Where runs go: the [`RunSink`] seam, an in-memory sink for tests and a JSONL file sink.
//!
//! The engine commits every finished sample to the sink before counting it done, so an
//! interrupted run loses at most the samples still in flight. On resume it asks for the
//! completed keys and skips them; samples that ended in error are not completed and run
//! again. A sink keeps the *latest* record per key, preferring a successful one, so a key
//! is never counted twice. Storage backends (the SQLite store) implement the same trait.

mod jsonl;
mod memory;

use std::collections::BTreeSet;

use async_trait::async_trait;

pub use jsonl::{JsonlError, JsonlSink, RunLog};
pub use memory::MemorySink;

use crate::error::SinkError;
use crate::metrics::RunSummary;
use crate::record::{RunId, RunSpec, SampleKey, SampleResult};

/// Durable storage for runs.
#[async_trait]
pub trait RunSink: Send + Sync {
    /// Returns the run with `spec.key`, creating it if it does not exist.
    async fn create_or_resume_run(&self, spec: &RunSpec) -> Result<RunId, SinkError>;

    /// The latest record of every sample-epoch of the run (successful records win).
    async fn samples(&self, run: &RunId) -> Result<Vec<SampleResult>, SinkError>;

    /// Keys of sample-epochs that finished without error.
    async fn completed_keys(&self, run: &RunId) -> Result<BTreeSet<SampleKey>, SinkError> {
        Ok(self
            .samples(run)
            .await?
            .iter()
            .filter(|s| s.is_ok())
            .map(SampleResult::key)
            .collect())
    }

    /// Stores one finished sample-epoch durably before returning.
    async fn record_sample(&self, run: &RunId, sample: &SampleResult) -> Result<(), SinkError>;

    /// Stores several finished sample-epochs durably before returning (group commit: the
    /// engine passes every sample that finished while the previous commit was running).
    /// The default stores them one by one; file and database sinks override it with one
    /// sync per batch.
    async fn record_samples(&self, run: &RunId, samples: &[SampleResult]) -> Result<(), SinkError> {
        for s in samples {
            self.record_sample(run, s).await?;
        }
        Ok(())
    }

    /// Stores the run's summary (called again after a resumed run finishes).
    async fn finish_run(&self, run: &RunId, summary: &RunSummary) -> Result<(), SinkError>;
}

/// Keeps the latest record per key, but never replaces a successful one with an error.
pub(crate) fn merge_latest(
    map: &mut std::collections::BTreeMap<SampleKey, SampleResult>,
    s: SampleResult,
) {
    let key = s.key();
    match map.get(&key) {
        Some(existing) if existing.is_ok() && !s.is_ok() => {}
        _ => {
            map.insert(key, s);
        }
    }
}
