//! Inputs: what the caller gathers before calling [`crate::assess`].

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use rsp_policy::Elicitation;
use serde::{Deserialize, Serialize};

/// What the registry knows about the model being assessed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFacts {
    /// Registry name (`smollm2-135m`).
    pub name: String,
    /// How the model is reached (`embedded`, `openai:gpt-4o`, ...).
    pub spec: String,
    /// Effective training compute in FLOP, when known.
    #[serde(default)]
    pub effective_compute_flop: Option<f64>,
    /// Parameter count.
    #[serde(default)]
    pub parameters: Option<f64>,
    /// Training tokens.
    #[serde(default)]
    pub training_tokens: Option<f64>,
    /// Release or checkpoint date.
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// Parent model in the registry (the checkpoint this one continues).
    #[serde(default)]
    pub parent: Option<String>,
    /// Days of post-training accumulated since the last comprehensive
    /// assessment, when the lab tracks it (for the `post_training_days`
    /// trigger). `None` means unknown, and that trigger is not evaluated.
    #[serde(default)]
    pub post_training_days: Option<u32>,
}

/// An earlier assessment of the same model (or of its parent line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorAssessment {
    /// Assessment id.
    pub id: String,
    /// Day it was made.
    pub date: NaiveDate,
    /// Effective compute of the checkpoint it assessed.
    #[serde(default)]
    pub compute_flop: Option<f64>,
    /// True when every required piece of evidence was present (see
    /// [`crate::Assessment::comprehensive`]). Only comprehensive assessments reset
    /// the compute trigger, as in Anthropic's RSP.
    pub comprehensive: bool,
}

/// A metric's statistic with its two-sided confidence interval.
///
/// The bounds are a **two-sided** interval at `confidence` (as rsp-eval
/// computes them), so the upper bound alone is a one-sided bound at
/// `(1 + confidence) / 2`; the calibration uses that level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Point estimate.
    pub value: f64,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Number of samples (or clusters' samples) behind it.
    pub n: u64,
    /// Interval method label (`Wilson`, `t`, `BCa bootstrap`, ...).
    pub method: String,
    /// Confidence level of the interval, in (0, 1).
    pub confidence: f64,
}

/// A finished (or running) eval run that may serve as evidence.
///
/// If two rules need the same run's metric at different confidence levels,
/// pass the run twice (same `run_id`) with the estimates recomputed at each
/// level: a rule only uses an estimate at its own confidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceRun {
    /// Run id in the store.
    pub run_id: String,
    /// Suite id (`knowledge-proxy`).
    pub suite: String,
    /// Task id within the suite (`mc`).
    pub task: String,
    /// Model registry name the run evaluated.
    pub model: String,
    /// Elicitation the run used.
    pub elicitation: Elicitation,
    /// When the run finished; `None` while it is incomplete (never evidence).
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
    /// True for runs imported from elsewhere rather than run by rsp.
    #[serde(default)]
    pub imported: bool,
    /// Metric name → estimate.
    #[serde(default)]
    pub metrics: BTreeMap<String, Estimate>,
}

/// An attestation that a safeguard is in place, as recorded by
/// `rsp safeguard attest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttestationInput {
    /// Safeguard id.
    pub safeguard: String,
    /// Role that attested.
    pub by_role: String,
    /// SHA-256 of the evidence file as it is now (hex), or `None` if the
    /// file is gone; the CLI hashes it afresh for every assessment.
    #[serde(default)]
    pub evidence_sha256: Option<String>,
    /// SHA-256 recorded when the attestation was made (hex).
    pub recorded_sha256: String,
    /// Expiry date given by the attester.
    pub expires: NaiveDate,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

/// A decision the caller asks about.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum DecisionAction {
    /// Deploy the model.
    Deploy,
    /// Continue training up to this effective compute.
    Train {
        /// Target effective compute in FLOP.
        to_flop: f64,
    },
}

impl fmt::Display for DecisionAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Deploy => f.write_str("deploy"),
            Self::Train { to_flop } => write!(f, "train to {to_flop:.1e} FLOP"),
        }
    }
}

/// Which false-alarm scenario and which simulation to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationSettings {
    /// How far below the line the true score sits in the false-alarm
    /// scenario, in the metric's units. `None`: `|line − alert|` per rule.
    #[serde(default)]
    pub distance: Option<f64>,
    /// Monte Carlo runs per scenario; 0 = exact figures only.
    #[serde(default)]
    pub simulations: u64,
    /// Seed of the Monte Carlo streams.
    #[serde(default)]
    pub seed: u64,
}

impl Default for CalibrationSettings {
    fn default() -> Self {
        Self {
            distance: None,
            simulations: 0,
            seed: 0x5eed,
        }
    }
}

/// Everything [`crate::assess`] needs besides the policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessInputs {
    /// Id the caller gives this assessment.
    pub id: String,
    /// SHA-256 (hex) of the policy file as loaded.
    pub policy_sha256: String,
    /// The model.
    pub model: ModelFacts,
    /// Earlier assessments of the model, any order.
    #[serde(default)]
    pub priors: Vec<PriorAssessment>,
    /// Available runs (any model; filtered by [`crate::plan`]).
    #[serde(default)]
    pub runs: Vec<EvidenceRun>,
    /// Recorded attestations (any safeguard).
    #[serde(default)]
    pub attestations: Vec<AttestationInput>,
    /// Decisions to make; empty means "deploy".
    #[serde(default)]
    pub decisions: Vec<DecisionAction>,
    /// True when the assessment is for a deployment (a trigger).
    #[serde(default)]
    pub deployment: bool,
    /// The assessment's clock; all validity windows are measured from it.
    pub now: DateTime<Utc>,
    /// Calibration scenario and simulation settings.
    #[serde(default)]
    pub calibration: CalibrationSettings,
}
