//! The JSON shapes of the API. Every response and request body is one of these, and each
//! derives a JSON Schema that goes into the OpenAPI document, so the document and the
//! server cannot drift apart. Pages render the same values, so the API and the HTML never
//! disagree about a number.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `GET /api/v1/health`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: String,
    /// The server's version.
    pub version: String,
}

/// A registered model.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ModelInfo {
    /// Registry name.
    pub name: String,
    /// Provider spec.
    pub spec: String,
    /// Effective training compute (FLOP).
    pub effective_compute_flop: Option<f64>,
    /// Parameter count.
    pub parameters: Option<f64>,
    /// Checkpoint date (`YYYY-MM-DD`).
    pub date: Option<String>,
    /// Parent checkpoint.
    pub parent: Option<String>,
}

/// The deploy decision of a model's latest assessment.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DeployInfo {
    /// Nothing blocks deployment.
    pub allowed: bool,
    /// The stored decision, when one was drafted.
    pub decision_id: Option<String>,
    /// `draft` or `final`.
    pub decision_status: Option<String>,
    /// Required roles with a valid signature.
    pub signed: Vec<String>,
    /// Required roles that have not signed.
    pub awaiting: Vec<String>,
    /// Threshold and safeguard ids that block it.
    pub blocked_by: Vec<String>,
}

/// The rule closest to (or past) its next line.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct NearestInfo {
    /// Threshold id.
    pub threshold: String,
    /// Suite.
    pub suite: String,
    /// Metric.
    pub metric: String,
    /// Rule status (`ruled-out`, `alert`, `no-evidence`, `cannot-rule-out`, `crossed`).
    pub status: String,
    /// Measured estimate.
    pub estimate: f64,
    /// Lower confidence bound.
    pub lower: f64,
    /// Upper confidence bound.
    pub upper: f64,
    /// Elicitation margin added before comparing.
    pub margin: f64,
    /// `alert` or `line`: which line it is compared with.
    pub against: String,
    /// That line.
    pub line: f64,
}

/// When the next assessment is due.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct NextInfo {
    /// At this effective compute (FLOP).
    pub at_flop: Option<f64>,
    /// By this date (`YYYY-MM-DD`).
    pub by_date: Option<String>,
}

/// One overview row: what level a model is at, and why.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ModelStatus {
    /// Model name.
    pub model: String,
    /// Latest assessment id; `null` when never assessed.
    pub assessment: Option<String>,
    /// When that assessment was made.
    pub assessed_at: Option<DateTime<Utc>>,
    /// Highest required safeguard standard.
    pub required: Option<String>,
    /// Highest standard fully in place.
    pub in_place: Option<String>,
    /// Required safeguards in place.
    pub safeguards_in_place: u32,
    /// Required safeguards.
    pub safeguards_required: u32,
    /// The deploy decision.
    pub deploy: Option<DeployInfo>,
    /// The rule nearest its line.
    pub nearest: Option<NearestInfo>,
    /// When the next assessment is due.
    pub next: NextInfo,
}

/// One evidence rule of one threshold, as determined by the latest assessment.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ThresholdRow {
    /// Threshold id.
    pub threshold: String,
    /// Threshold name.
    pub name: Option<String>,
    /// Domain.
    pub domain: String,
    /// Combined threshold status.
    pub threshold_status: String,
    /// Rule index within the threshold.
    pub rule: u32,
    /// Suite selector.
    pub suite: String,
    /// Metric.
    pub metric: String,
    /// Rule status.
    pub status: String,
    /// Measured estimate.
    pub estimate: Option<f64>,
    /// Lower bound.
    pub lower: Option<f64>,
    /// Upper bound.
    pub upper: Option<f64>,
    /// Confidence level of the interval.
    pub confidence: f64,
    /// Samples.
    pub n: Option<u64>,
    /// Elicitation margin.
    pub margin: f64,
    /// Alert line.
    pub alert: f64,
    /// Capability line.
    pub line: f64,
    /// `higher` or `lower`: which direction is more capable.
    pub direction: String,
    /// Best elicited minus plain score.
    pub elicitation_gap: Option<f64>,
    /// The run that decided it.
    pub run_id: Option<String>,
    /// Why, when not obvious.
    pub note: Option<String>,
}

/// One assessment in a model's history.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AssessmentBrief {
    /// Assessment id.
    pub id: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Effective compute at the time.
    pub compute_flop: Option<f64>,
    /// Every threshold's evidence was gathered.
    pub comprehensive: bool,
}

/// A point of a rule's history.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HistoryPoint {
    /// Assessment id.
    pub assessment: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Estimate.
    pub estimate: f64,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
}

/// A rule's estimates across the model's assessments.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RuleHistory {
    /// Threshold id.
    pub threshold: String,
    /// Suite.
    pub suite: String,
    /// Metric.
    pub metric: String,
    /// Alert line (latest).
    pub alert: f64,
    /// Line (latest).
    pub line: f64,
    /// Oldest first.
    pub points: Vec<HistoryPoint>,
}

/// `GET /api/v1/models/{name}`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ModelDetail {
    /// Registry facts.
    pub model: ModelInfo,
    /// Overview row.
    pub status: ModelStatus,
    /// Latest assessment's thresholds, one row per rule.
    pub thresholds: Vec<ThresholdRow>,
    /// Per-rule history across assessments.
    pub history: Vec<RuleHistory>,
    /// Assessments, newest first.
    pub assessments: Vec<AssessmentBrief>,
}

/// A run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunInfo {
    /// Run id.
    pub id: String,
    /// Provider spec.
    pub model: String,
    /// Registry name.
    pub model_name: Option<String>,
    /// Suite.
    pub suite: String,
    /// Task.
    pub task: String,
    /// `running`, `completed`, `failed` or `interrupted`.
    pub status: String,
    /// `native`, `inspect` or `lm-eval`.
    pub source: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// Samples × epochs expected.
    pub total_samples: u64,
    /// Metric summary, once computed.
    pub summary: Option<Value>,
}

/// One row of the run browser.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SampleSummary {
    /// Dataset id.
    pub sample_id: String,
    /// Epoch, from 0.
    pub epoch: u32,
    /// Position in the run's order.
    pub position: u32,
    /// Primary score.
    pub value: Option<f64>,
    /// Error, if the sample failed.
    pub error: Option<String>,
    /// Dataset metadata.
    pub metadata: Value,
    /// Wall time.
    pub timing_ms: f64,
}

/// `GET /api/v1/runs/{id}/samples`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SamplePage {
    /// The run.
    pub run_id: String,
    /// Samples in `(position, epoch)` order.
    pub samples: Vec<SampleSummary>,
    /// Cursor for the next page (`after=`), or `null` on the last page.
    pub next: Option<String>,
    /// Set when the page is short because the scan budget ran out (a rare filter): the
    /// last position examined. Follow `next` to keep searching.
    pub scanned_through: Option<u64>,
}

/// A whole sample.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SampleDetail {
    /// The run.
    pub run_id: String,
    /// Dataset id.
    pub sample_id: String,
    /// Epoch.
    pub epoch: u32,
    /// Position.
    pub position: u32,
    /// Input.
    pub input: Value,
    /// Target(s).
    pub target: Value,
    /// Transcript: messages, completion.
    pub output: Value,
    /// Every scorer's score, with explanations and judge output.
    pub scores: Value,
    /// Primary score.
    pub value: Option<f64>,
    /// Error.
    pub error: Option<String>,
    /// Retries.
    pub retries: u32,
    /// Token usage.
    pub usage: Value,
    /// Wall time.
    pub timing_ms: f64,
    /// Metadata.
    pub metadata: Value,
    /// Finished.
    pub completed_at: DateTime<Utc>,
}

/// The 2×2 table of a binary comparison.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PairTable {
    /// Both right.
    pub both: u64,
    /// Only A right.
    pub only_a: u64,
    /// Only B right.
    pub only_b: u64,
    /// Neither.
    pub neither: u64,
}

/// A sample whose reduced score differs between the runs.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PairDiff {
    /// Dataset id.
    pub sample_id: String,
    /// Mean score in A over its epochs.
    pub a: f64,
    /// Mean score in B.
    pub b: f64,
}

/// `GET /api/v1/compare`: two runs paired on sample id.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Comparison {
    /// Run A.
    pub a: RunInfo,
    /// Run B.
    pub b: RunInfo,
    /// Sample ids scored in both.
    pub n_paired: u64,
    /// Mean of A over the pairs.
    pub mean_a: f64,
    /// Mean of B over the pairs.
    pub mean_b: f64,
    /// A − B.
    pub difference: f64,
    /// Lower bound of A − B.
    pub lower: f64,
    /// Upper bound of A − B.
    pub upper: f64,
    /// Confidence level.
    pub confidence: f64,
    /// Two-sided p-value for no difference.
    pub p_value: f64,
    /// The test and interval, in words.
    pub test: String,
    /// For binary scores.
    pub table: Option<PairTable>,
    /// Ids scored only in A.
    pub only_in_a: u64,
    /// Ids scored only in B.
    pub only_in_b: u64,
    /// Up to 200 samples that differ, largest difference first.
    pub differing: Vec<PairDiff>,
}

/// The current policy.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PolicyInfo {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// SHA-256 of the text.
    pub sha256: String,
    /// The TOML text.
    pub text: String,
}

/// A policy version recorded in the ledger.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PolicyVersion {
    /// Ledger index of the leaf that recorded it.
    pub idx: u64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// SHA-256 of the text.
    pub sha256: String,
    /// Name, when it parses.
    pub name: Option<String>,
    /// Version, when it parses.
    pub version: Option<String>,
}

/// One semantic change between policy versions.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PolicyChange {
    /// `added`, `removed` or `changed`.
    pub kind: String,
    /// Part of the policy.
    pub area: String,
    /// Item.
    pub item: String,
    /// Field changed.
    pub field: Option<String>,
    /// Old value.
    pub old: Option<Value>,
    /// New value.
    pub new: Option<Value>,
    /// Why it weakens the policy, when it does.
    pub weakens: Option<String>,
}

/// `GET /api/v1/policy/diff`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PolicyDiff {
    /// Ledger index of the old version.
    pub from: u64,
    /// Ledger index of the new version.
    pub to: u64,
    /// Old version string.
    pub old_version: String,
    /// New version string.
    pub new_version: String,
    /// Changes, in policy order.
    pub changes: Vec<PolicyChange>,
    /// How many weaken the policy.
    pub weakening: u64,
}

/// A ledger leaf.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LedgerEntry {
    /// Index.
    pub idx: u64,
    /// Kind.
    pub kind: String,
    /// Appended at.
    pub created_at: DateTime<Utc>,
    /// RFC 9162 leaf hash (hex).
    pub leaf_hash: String,
    /// Artifact digest.
    pub artifact_sha256: Option<String>,
    /// The leaf document (canonical JSON, parsed).
    pub leaf: Value,
}

/// A signed checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CheckpointInfo {
    /// Tree size.
    pub size: u64,
    /// Signed note text.
    pub text: String,
    /// Stored at.
    pub created_at: DateTime<Utc>,
}

/// `GET /api/v1/ledger`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct LedgerPage {
    /// Leaves in the log.
    pub size: u64,
    /// Latest checkpoint.
    pub checkpoint: Option<CheckpointInfo>,
    /// Entries, newest first.
    pub entries: Vec<LedgerEntry>,
    /// `before=` for the next (older) page.
    pub next_before: Option<u64>,
}

/// A signature on a decision, checked.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SignatureInfo {
    /// Role.
    pub role: String,
    /// Hex public key.
    pub public_key: String,
    /// Signed at.
    pub signed_at: DateTime<Utc>,
    /// Verifies under a key registered for the role.
    pub valid: bool,
}

/// A decision with its signatures.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DecisionInfo {
    /// Id.
    pub id: String,
    /// Model.
    pub model: String,
    /// `deploy` or `train`.
    pub action: String,
    /// `draft` or `final`.
    pub status: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Verdict and reasons.
    pub outcome: Value,
    /// Roles the policy requires.
    pub required_signers: Vec<String>,
    /// Required roles without a valid signature.
    pub missing_signers: Vec<String>,
    /// Signatures.
    pub signatures: Vec<SignatureInfo>,
}

/// `POST /api/v1/attestations`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AttestationRequest {
    /// Safeguard id, as in the policy.
    pub safeguard: String,
    /// The policy role attesting (must be the one the policy names).
    pub by_role: String,
    /// SHA-256 (hex) of the evidence file.
    pub evidence_sha256: String,
    /// Where the evidence is kept (a path or URL; for people).
    pub evidence_path: String,
    /// Last valid day (`YYYY-MM-DD`); at most the policy's validity. Default: the maximum.
    pub expires: Option<String>,
}

/// A stored attestation.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AttestationInfo {
    /// Id.
    pub id: String,
    /// Safeguard.
    pub safeguard: String,
    /// Evidence digest.
    pub evidence_sha256: String,
    /// Evidence location.
    pub evidence_path: String,
    /// Attesting role.
    pub by_role: String,
    /// Recorded.
    pub created_at: DateTime<Utc>,
    /// Last valid day.
    pub expires: String,
}

/// `POST /api/v1/decisions/{id}/signatures`: a signature made offline with the role's key
/// over the canonical sign-off message (see docs/governance.md).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureRequest {
    /// The policy role signing.
    pub role: String,
    /// Hex Ed25519 public key (must be the role's newest registered key).
    pub public_key: String,
    /// Hex Ed25519 signature.
    pub signature: String,
}

/// The result of a signature submission.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SignatureResult {
    /// Decision.
    pub decision_id: String,
    /// Role that signed.
    pub role: String,
    /// `draft` or `final` after this signature.
    pub status: String,
    /// Required roles still missing.
    pub missing_signers: Vec<String>,
}

/// `POST /api/v1/runs`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StartRunRequest {
    /// Suite to run.
    pub suite: String,
    /// Model name.
    pub model: String,
}

/// A run in flight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LiveRun {
    /// Run id.
    pub id: String,
    /// Model.
    pub model: String,
    /// Suite.
    pub suite: String,
    /// Task.
    pub task: String,
    /// Samples recorded.
    pub done: u64,
    /// Samples expected.
    pub total: u64,
    /// Samples that errored.
    pub errors: u64,
    /// Started.
    pub created_at: DateTime<Utc>,
}
