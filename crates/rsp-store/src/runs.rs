//! Runs and their samples: what the eval engine writes as it goes and reads to resume.
//!
//! A run is created `running`; the engine records each sample as soon as it is scored, so
//! killing the process loses at most the samples still in flight. Resuming asks for
//! [`RunStore::completed_keys`] and skips those.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Error;
use crate::codec::text_enum;
use crate::samples::{RecordOutcome, SampleCursor, SampleFilter, SamplePage, SampleRecord};

text_enum! {
    /// Where a run is in its life.
    RunStatus, "run status" {
        /// Samples are still being recorded (or the process died; see `Interrupted`).
        Running => "running",
        /// Every sample was recorded.
        Completed => "completed",
        /// The run stopped on an error it could not retry past.
        Failed => "failed",
        /// The run was stopped (Ctrl-C, crash) and can be resumed.
        Interrupted => "interrupted",
    }
}

impl RunStatus {
    /// True for states a run does not leave on its own (everything but `Running`).
    pub fn is_terminal(self) -> bool {
        self != RunStatus::Running
    }
}

text_enum! {
    /// Who produced a run's samples.
    RunSource, "run source" {
        /// rsp's own engine.
        Native => "native",
        /// Imported from an Inspect AI log.
        Inspect => "inspect",
        /// Imported from lm-evaluation-harness output.
        LmEval => "lm-eval",
        /// A guard evaluation (`rsp guard eval`): attack success and over-refusal.
        Guard => "guard",
    }
}

/// A stored run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Time-sortable id (see [`crate::new_id`]).
    pub id: String,
    /// Provider spec of the model evaluated.
    pub model: String,
    /// Registry name of the model, when it is registered.
    pub model_name: Option<String>,
    /// Suite name.
    pub suite: String,
    /// Task name.
    pub task: String,
    /// Hash of the task definition (dataset, solvers, scorers); a changed task is a new key.
    pub task_hash: String,
    /// Generate config, solver chain, seed, epochs and so on.
    pub config: Value,
    /// Versions, hosts, policy hash: what an auditor needs to reproduce the run.
    pub provenance: Value,
    /// Life-cycle state.
    pub status: RunStatus,
    /// When the run was created.
    pub created_at: DateTime<Utc>,
    /// When it last entered a terminal status.
    pub finished_at: Option<DateTime<Utc>>,
    /// Samples × epochs the run will record when complete.
    pub total_samples: u64,
    /// Metrics with confidence intervals, once computed.
    pub summary: Option<Value>,
    /// Who produced the samples.
    pub source: RunSource,
    /// SHA-256 of the imported log file, for imported runs.
    pub source_sha256: Option<String>,
}

/// What the caller supplies to start a run; the store assigns id, status and times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRun {
    /// Provider spec of the model.
    pub model: String,
    /// Registry name of the model, if registered.
    pub model_name: Option<String>,
    /// Suite name.
    pub suite: String,
    /// Task name.
    pub task: String,
    /// Hash of the task definition.
    pub task_hash: String,
    /// Generate config, solver chain, seed, epochs…
    pub config: Value,
    /// Reproduction facts.
    pub provenance: Value,
    /// Samples × epochs expected.
    pub total_samples: u64,
    /// Who produces the samples.
    pub source: RunSource,
    /// SHA-256 of the imported log, for imports.
    pub source_sha256: Option<String>,
}

/// The identity of "the same evaluation": same model, suite, task and task definition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunKey {
    /// Provider spec.
    pub model: String,
    /// Suite name.
    pub suite: String,
    /// Task name.
    pub task: String,
    /// Task definition hash.
    pub task_hash: String,
}

/// Which runs [`RunStore::list_runs`] returns; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFilter {
    /// Only runs of this provider spec.
    pub model: Option<String>,
    /// Only runs of this suite.
    pub suite: Option<String>,
    /// Only runs of this task.
    pub task: Option<String>,
    /// Only runs in this status.
    pub status: Option<RunStatus>,
    /// At most this many (newest first).
    pub limit: Option<u32>,
}

/// Storage for runs and samples.
#[async_trait]
pub trait RunStore: Send + Sync {
    /// Starts a run in status `running` with a fresh id and returns it as stored.
    async fn create_run(&self, run: &NewRun) -> Result<RunRecord, Error>;
    /// The run with this id.
    async fn get_run(&self, id: &str) -> Result<Option<RunRecord>, Error>;
    /// Runs matching `filter`, newest first.
    async fn list_runs(&self, filter: &RunFilter) -> Result<Vec<RunRecord>, Error>;
    /// Sets a run's status. A terminal status stamps `finished_at` with the current time;
    /// `running` (a resumed run) clears it. [`Error::NotFound`] if there is no such run.
    async fn set_run_status(&self, id: &str, status: RunStatus) -> Result<(), Error>;
    /// Stores a run's metric summary, replacing any previous one.
    async fn set_run_summary(&self, id: &str, summary: &Value) -> Result<(), Error>;
    /// The newest run for `key`, optionally only in `status`.
    async fn latest_run(
        &self,
        key: &RunKey,
        status: Option<RunStatus>,
    ) -> Result<Option<RunRecord>, Error>;
    /// The newest completed run for `key`: the one whose results can be reused.
    async fn latest_completed_run(&self, key: &RunKey) -> Result<Option<RunRecord>, Error> {
        self.latest_run(key, Some(RunStatus::Completed)).await
    }

    /// Records one sample. Idempotent on `(run_id, sample_id, epoch)`:
    /// - no stored row: it is inserted ([`RecordOutcome::Inserted`]);
    /// - a stored row with an `error`: it is replaced by this attempt, errored or not
    ///   ([`RecordOutcome::Replaced`]), so a retry of a failed sample can land;
    /// - a stored row without an error: this one is ignored ([`RecordOutcome::Ignored`]), so
    ///   a good result is never overwritten and a replayed write never duplicates.
    ///
    /// [`Error::NotFound`] if the run does not exist; [`Error::AlreadyExists`] if another
    /// sample of the run already holds this `(position, epoch)`.
    async fn record_sample(&self, sample: &SampleRecord) -> Result<RecordOutcome, Error>;
    /// Records many samples in one transaction (all or none), with the rules of
    /// [`RunStore::record_sample`] applied to each in order. For imports and bulk loads.
    async fn record_samples(&self, samples: &[SampleRecord]) -> Result<Vec<RecordOutcome>, Error>;
    /// `(sample_id, epoch)` of every sample stored *without* an error: what a resumed run
    /// skips. Errored samples are left out so a resume retries them.
    async fn completed_keys(&self, run_id: &str) -> Result<HashSet<(String, u32)>, Error>;
    /// One sample.
    async fn get_sample(
        &self,
        run_id: &str,
        sample_id: &str,
        epoch: u32,
    ) -> Result<Option<SampleRecord>, Error>;
    /// A page of a run's samples matching `filter` in `(position, epoch)` order, starting
    /// after `after` (keyset pagination: cost does not grow with the page number).
    async fn list_samples(
        &self,
        run_id: &str,
        filter: &SampleFilter,
        after: Option<SampleCursor>,
        limit: u32,
    ) -> Result<SamplePage, Error>;
    /// How many of a run's samples match `filter`.
    async fn count_samples(&self, run_id: &str, filter: &SampleFilter) -> Result<u64, Error>;
}
