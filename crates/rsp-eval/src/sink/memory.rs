//! An in-memory [`RunSink`], for tests and for callers that store results themselves.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;

use super::{RunSink, merge_latest};
use crate::error::SinkError;
use crate::metrics::RunSummary;
use crate::record::{RunId, RunSpec, SampleKey, SampleResult};

#[derive(Debug, Default)]
struct Inner {
    specs: HashMap<RunId, RunSpec>,
    samples: HashMap<RunId, BTreeMap<SampleKey, SampleResult>>,
    records: HashMap<RunId, usize>,
    summaries: HashMap<RunId, RunSummary>,
}

/// Runs held in memory, keyed by their identity key.
#[derive(Debug, Default)]
pub struct MemorySink {
    inner: Mutex<Inner>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The stored summary of a run.
    pub fn summary(&self, run: &RunId) -> Option<RunSummary> {
        self.lock().summaries.get(run).cloned()
    }

    /// Sample records written to a run, duplicates and error records included.
    pub fn records_written(&self, run: &RunId) -> usize {
        self.lock().records.get(run).copied().unwrap_or(0)
    }
}

#[async_trait]
impl RunSink for MemorySink {
    async fn create_or_resume_run(&self, spec: &RunSpec) -> Result<RunId, SinkError> {
        let id = RunId(spec.key.clone());
        self.lock()
            .specs
            .entry(id.clone())
            .or_insert_with(|| spec.clone());
        Ok(id)
    }

    async fn samples(&self, run: &RunId) -> Result<Vec<SampleResult>, SinkError> {
        Ok(self
            .lock()
            .samples
            .get(run)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn record_sample(&self, run: &RunId, sample: &SampleResult) -> Result<(), SinkError> {
        let mut inner = self.lock();
        if !inner.specs.contains_key(run) {
            return Err(format!("unknown run {run}").into());
        }
        *inner.records.entry(run.clone()).or_default() += 1;
        merge_latest(
            inner.samples.entry(run.clone()).or_default(),
            sample.clone(),
        );
        Ok(())
    }

    async fn finish_run(&self, run: &RunId, summary: &RunSummary) -> Result<(), SinkError> {
        self.lock().summaries.insert(run.clone(), summary.clone());
        Ok(())
    }
}
