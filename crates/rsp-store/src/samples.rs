//! Sample records and the filters and cursors used to page through them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One scored sample of one epoch of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleRecord {
    /// The run it belongs to.
    pub run_id: String,
    /// The dataset's id for the sample.
    pub sample_id: String,
    /// Epoch, from 0.
    pub epoch: u32,
    /// The sample's index in the run's fixed order; `(position, epoch)` is unique per run.
    pub position: u32,
    /// Input as given to the solver chain.
    pub input: Value,
    /// Target(s).
    pub target: Value,
    /// Full transcript: messages, tool calls, final completion.
    pub output: Value,
    /// Every scorer's score.
    pub scores: Value,
    /// The primary scalar score, used by statistics and filters.
    pub value: Option<f64>,
    /// Why the sample failed, if it did.
    pub error: Option<String>,
    /// Model-call retries spent on it.
    pub retries: u32,
    /// Token usage.
    pub usage: Value,
    /// Wall time spent on it.
    pub timing_ms: f64,
    /// Dataset metadata (used for filtering and clustered statistics).
    pub metadata: Value,
    /// When it finished.
    pub completed_at: DateTime<Utc>,
}

/// What happened to a recorded sample (see [`crate::RunStore::record_sample`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordOutcome {
    /// It was new and is now stored.
    Inserted,
    /// It replaced a stored attempt that had an error.
    Replaced,
    /// A stored attempt without an error already exists; nothing changed.
    Ignored,
}

/// Which samples a listing or count includes. Conditions combine with AND; the default
/// matches everything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SampleFilter {
    /// Only samples whose `value` is at least this (samples without a value never match).
    pub min_value: Option<f64>,
    /// Only samples whose `value` is at most this (samples without a value never match).
    pub max_value: Option<f64>,
    /// `Some(true)`: only errored samples; `Some(false)`: only samples without an error.
    pub has_error: Option<bool>,
    /// Top-level metadata fields that must equal the given JSON scalar (string, number,
    /// boolean or null). Numbers compare numerically (`1` equals `1.0`); types otherwise
    /// must match (`"1"` does not equal `1`, `true` does not equal `1`). A missing field
    /// matches nothing, not even `null`. Arrays and objects are rejected.
    pub metadata_eq: Vec<(String, Value)>,
}

/// A position in a run's sample order: a page starts strictly after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SampleCursor {
    /// Position of the last sample seen.
    pub position: u32,
    /// Epoch of the last sample seen.
    pub epoch: u32,
}

/// One page of samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplePage {
    /// The samples, in `(position, epoch)` order.
    pub samples: Vec<SampleRecord>,
    /// Where the next page starts, or `None` when this was the last matching sample.
    pub next: Option<SampleCursor>,
}
