//! The harness-neutral form of an imported log.
//!
//! One [`ImportedLog`] is one evaluation of one task on one model, whichever harness
//! wrote it. It keeps what rsp needs to use the log as evidence (every sample-epoch with
//! every scorer's value), what the harness *claimed* (its reported metrics, kept verbatim
//! so rsp's recomputation can be checked against them), and where it came from (the file's
//! sha256 and the harness's own provenance fields).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Which harness wrote a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Harness {
    /// Inspect AI (`inspect_ai`).
    Inspect,
    /// EleutherAI lm-evaluation-harness.
    LmEval,
}

/// The file format a log was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// Inspect `.eval` zip archive.
    InspectEval,
    /// Inspect `.json` log.
    InspectJson,
    /// lm-eval `results_*.json` (with `samples_*.jsonl` when present).
    LmEvalResults,
}

/// How samples were laid out inside a `.eval` archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SampleLayout {
    /// One `samples/{id}_epoch_{n}.json` entry per sample-epoch.
    Monolith,
    /// One `samples/{id}_epoch_{n}/` folder per sample-epoch (shell plus sequences).
    Chunked,
    /// Both shapes in one archive (the format allows it per sample).
    Mixed,
    /// No samples in the archive.
    Empty,
}

/// A dataset sample id: Inspect allows integers and strings and keeps the distinction.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SampleId {
    /// An integer id.
    Int(i64),
    /// A string id.
    Str(String),
}

impl fmt::Display for SampleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SampleId::Int(i) => write!(f, "{i}"),
            SampleId::Str(s) => f.write_str(s),
        }
    }
}

impl SampleId {
    /// Reads an id from JSON (integer or string; other numbers are kept as text).
    pub fn from_json(v: &Value) -> Option<Self> {
        match v {
            Value::Number(n) => Some(
                n.as_i64()
                    .map_or_else(|| Self::Str(n.to_string()), Self::Int),
            ),
            Value::String(s) => Some(Self::Str(s.clone())),
            _ => None,
        }
    }
}

/// A score value as the harness wrote it: Inspect allows strings (`C`, `I`, `P`, `N` or
/// anything else), numbers (including NaN for "unscored"), booleans, lists and dicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ScoreValue {
    /// A boolean.
    Bool(bool),
    /// A number (NaN means unscored; serialised as `null` in rsp's own JSON output).
    Number(f64),
    /// A string (`C`, `I`, `P`, `N`, or free text).
    Str(String),
    /// A list of values.
    List(Vec<ScoreValue>),
    /// A mapping of named values.
    Dict(BTreeMap<String, ScoreValue>),
    /// JSON null.
    Null,
}

/// One scorer's verdict on one sample-epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SampleScore {
    /// The value.
    pub value: ScoreValue,
    /// The answer extracted from the completion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// The scorer's explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

/// One message of a sample's transcript, reduced to role and text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `system`, `user`, `assistant` or `tool`.
    pub role: String,
    /// The text (content parts joined; attachments resolved).
    pub content: String,
}

/// One sample-epoch of an imported log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportedSample {
    /// Dataset id.
    pub id: SampleId,
    /// Epoch, counted from 1 as Inspect does.
    pub epoch: u32,
    /// The input (a chat input is flattened to its messages' text).
    pub input: String,
    /// Target(s).
    pub target: Vec<String>,
    /// Multiple-choice options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// The completion that was scored.
    pub completion: Option<String>,
    /// The final transcript.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Message>,
    /// Every scorer's score, by scorer name.
    pub scores: BTreeMap<String, SampleScore>,
    /// Dataset metadata.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Value>,
    /// The error that ended the sample, if any.
    pub error: Option<String>,
    /// Input tokens of the model under test.
    pub input_tokens: u64,
    /// Output tokens of the model under test.
    pub output_tokens: u64,
    /// Wall time in seconds.
    pub total_time: Option<f64>,
    /// Start time as written.
    pub started_at: Option<String>,
    /// End time as written.
    pub completed_at: Option<String>,
}

/// One metric value the harness reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportedMetric {
    /// Metric name (`accuracy`, `stderr`, `mean`, `acc`, …).
    pub name: String,
    /// The value (NaN when the harness wrote NaN or a non-number).
    pub value: f64,
}

/// One scorer's reported metrics (an entry of Inspect's `results.scores`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportedScore {
    /// Score name (usually the scorer's; a key of a dict-valued scorer otherwise).
    pub name: String,
    /// The scorer that produced it.
    pub scorer: String,
    /// The epoch reducer, when the harness recorded one.
    pub reducer: Option<String>,
    /// Samples with a value.
    pub scored_samples: Option<u64>,
    /// Samples without one.
    pub unscored_samples: Option<u64>,
    /// Metrics in the order written.
    pub metrics: Vec<ReportedMetric>,
}

/// Where a log came from: enough to find and re-run it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// Harness package versions (`inspect_ai`, `lm_eval`, …).
    pub packages: BTreeMap<String, String>,
    /// Source revision (`{type, origin, commit}` in Inspect; git hash in lm-eval).
    pub revision: Value,
    /// Model arguments.
    pub model_args: Value,
    /// Task arguments.
    pub task_args: Value,
    /// Generation settings.
    pub generate_config: Value,
    /// Solver plan (Inspect) or task config (lm-eval).
    pub plan: Value,
    /// The task file, when recorded.
    pub task_file: Option<String>,
    /// The harness's own run / eval ids.
    pub run_id: Option<String>,
    /// Inspect `eval_id`.
    pub eval_id: Option<String>,
    /// Inspect `task_id`.
    pub task_id: Option<String>,
    /// Every file read for this log, by name, with its sha256 (hex).
    pub files: BTreeMap<String, String>,
}

/// One imported evaluation: one task, one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportedLog {
    /// Who wrote it.
    pub harness: Harness,
    /// The file format.
    pub format: LogFormat,
    /// Sample layout, for `.eval` archives.
    pub layout: Option<SampleLayout>,
    /// SHA-256 of the file's bytes (hex): the link to the original.
    pub source_sha256: String,
    /// Task name.
    pub task: String,
    /// Task version as written (Inspect allows integers and strings).
    pub task_version: Option<String>,
    /// Model name as the harness recorded it.
    pub model: String,
    /// `started`, `success`, `cancelled`, `error` (Inspect) or `success` (lm-eval).
    pub status: String,
    /// When the evaluation was created.
    pub created: Option<String>,
    /// When it completed.
    pub completed_at: Option<String>,
    /// Epochs per sample.
    pub epochs: u32,
    /// Epoch reducers configured for the run (Inspect's default is `mean`).
    pub epochs_reducer: Vec<String>,
    /// Dataset name.
    pub dataset: Option<String>,
    /// Sample-epochs the run planned, when known.
    pub total_samples: Option<u64>,
    /// Scorer names in the order the task declared them.
    pub scorers: Vec<String>,
    /// Every sample-epoch, in (id order of appearance, epoch) order.
    pub samples: Vec<ImportedSample>,
    /// The harness's reported metrics, verbatim.
    pub reported: Vec<ReportedScore>,
    /// Provenance.
    pub provenance: Provenance,
    /// True when the archive had no `header.json` and was rebuilt from its journal.
    pub rebuilt_from_journal: bool,
    /// The run's error, if it failed.
    pub error: Option<String>,
    /// Things the reader noticed but could read past (unknown reducers, skipped entries).
    pub warnings: Vec<String>,
}
