//! What a run stores: its identity ([`RunSpec`]) and one [`SampleResult`] per sample-epoch.

use std::collections::BTreeMap;

use rsp_model::{Message, Usage};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::provenance::{Provenance, sha256_hex};
use crate::reducer::Reducer;
use crate::scorer::Score;
use crate::state::LimitHit;

/// Identifies a run inside a sink.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(pub String);

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The key of one unit of work: a sample in an epoch.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SampleKey {
    /// Sample id.
    pub sample_id: String,
    /// Epoch, from 1.
    pub epoch: u32,
}

/// What a run is: task, model, settings and provenance. Its [`RunSpec::key`] is a hash of
/// everything that changes results (not the host or the start time), so asking a sink for
/// the same spec again resumes the same run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// Identity hash (hex sha256).
    pub key: String,
    /// `suite/task`.
    pub task: String,
    /// Task version from the task file.
    pub task_version: u32,
    /// Model under test (spec).
    pub model: String,
    /// Epochs per sample.
    pub epochs: u32,
    /// Epoch reducer.
    pub reducer: Reducer,
    /// Run seed.
    pub seed: u64,
    /// Only the first `limit` samples (in dataset order) were run.
    pub limit: Option<usize>,
    /// Sample-epochs planned.
    pub planned: usize,
    /// Hashes, model, config, host, time.
    pub provenance: Provenance,
}

impl RunSpec {
    /// Computes the identity key from the fields that determine results.
    pub fn identity_key(
        task: &str,
        task_version: u32,
        epochs: u32,
        reducer: Reducer,
        limit: Option<usize>,
        p: &Provenance,
    ) -> String {
        let mut identity = serde_json::json!({
            "task": task,
            "task_version": task_version,
            "epochs": epochs,
            "reducer": reducer.to_string(),
            "limit": limit,
            "task_sha256": p.task_sha256,
            "dataset_sha256": p.dataset_sha256,
            "dev_sha256": p.dev_sha256,
            "templates_sha256": p.templates_sha256,
            "model": p.model,
            "judge": p.judge,
            "generate_config": p.generate_config,
            "seed": p.seed,
        });
        // Only tool tasks carry a sandbox, so keys of every other run are unchanged; a
        // sandboxed and an unsandboxed run of the same task are different runs.
        if let (Some(s), Some(map)) = (&p.sandbox, identity.as_object_mut()) {
            map.insert("sandbox".into(), serde_json::Value::String(s.clone()));
        }
        sha256_hex(identity.to_string().as_bytes())
    }
}

/// Everything about one sample-epoch: transcript, scores, usage, timing, errors, retries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleResult {
    /// Sample id.
    pub sample_id: String,
    /// Epoch, from 1.
    pub epoch: u32,
    /// The derived seed used.
    pub seed: u64,
    /// The input.
    pub input: String,
    /// The target(s).
    pub target: Vec<String>,
    /// The choices, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// Sample metadata (clustering and reporting use it).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    /// Full transcript of the final attempt.
    pub messages: Vec<Message>,
    /// The completion that was scored.
    pub output: Option<String>,
    /// Scores by metric name (empty when the sample errored).
    pub scores: BTreeMap<String, Score>,
    /// Tokens of the final attempt (model under test).
    pub usage: Usage,
    /// Tokens of the final attempt (judge).
    pub judge_usage: Usage,
    /// Tokens over all attempts, failed ones included (retries do not reset usage).
    pub total_usage: Usage,
    /// Model calls in the final attempt.
    pub calls: u32,
    /// Provider-level retry errors (HTTP 429s and the like) of the final attempt.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub call_retries: Vec<String>,
    /// The error that ended the final attempt; such samples are counted, never scored.
    pub error: Option<String>,
    /// Errors of earlier attempts of this sample-epoch (`retry_errors`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_retries: Vec<String>,
    /// A per-sample limit that stopped the solver chain early.
    pub limit: Option<LimitHit>,
    /// Solver by-products (log-likelihood table, best-of-n candidates, critique).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub store: Map<String, Value>,
    /// Start of the first attempt (RFC 3339).
    pub started_at: String,
    /// End of the final attempt (RFC 3339).
    pub completed_at: String,
    /// Wall time over all attempts, in milliseconds.
    pub total_time_ms: f64,
}

impl SampleResult {
    /// The work key.
    pub fn key(&self) -> SampleKey {
        SampleKey {
            sample_id: self.sample_id.clone(),
            epoch: self.epoch,
        }
    }

    /// True when the sample finished without error (it counts as completed).
    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }
}
