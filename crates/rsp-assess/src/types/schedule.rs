//! Triggers and the evidence plan: when to assess, and with which runs.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use rsp_policy::Elicitation;
use serde::{Deserialize, Serialize};

use super::PriorAssessment;

/// Why an assessment is due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TriggerReason {
    /// No comprehensive assessment exists yet.
    NoPriorAssessment,
    /// Effective compute grew by at least the policy ratio.
    ComputeGrowth {
        /// Assessment whose compute is the baseline.
        since: String,
        /// Its compute.
        from_flop: f64,
        /// The model's compute now.
        to_flop: f64,
        /// `to_flop / from_flop`.
        ratio: f64,
        /// The policy's ratio.
        policy_ratio: f64,
    },
    /// The longest allowed gap since the last assessment has passed.
    IntervalElapsed {
        /// Last assessment id.
        since: String,
        /// Its date.
        last: NaiveDate,
        /// Days since.
        days: i64,
        /// The policy's maximum.
        max_days: u32,
    },
    /// Accumulated post-training reached the policy's limit.
    PostTraining {
        /// Days of post-training.
        days: u32,
        /// The policy's limit.
        max_days: u32,
    },
    /// The assessment is for a deployment and the policy assesses on every one.
    Deployment,
}

impl fmt::Display for TriggerReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoPriorAssessment => f.write_str("no prior comprehensive assessment"),
            Self::ComputeGrowth {
                since,
                from_flop,
                to_flop,
                ratio,
                policy_ratio,
            } => write!(
                f,
                "effective compute grew {ratio:.2}× ({from_flop:.2e} → {to_flop:.2e} FLOP) since {since}, policy ratio {policy_ratio}×"
            ),
            Self::IntervalElapsed {
                since,
                last,
                days,
                max_days,
            } => write!(
                f,
                "{days} days since {since} ({last}), policy maximum {max_days} days"
            ),
            Self::PostTraining { days, max_days } => write!(
                f,
                "{days} days of post-training, policy maximum {max_days} days"
            ),
            Self::Deployment => f.write_str("deployment (policy assesses on every deployment)"),
        }
    }
}

/// When the next assessment falls due, whichever comes first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NextAssessment {
    /// Effective compute that triggers it (baseline × policy ratio).
    pub at_flop: Option<f64>,
    /// Date by which it is due (last assessment + max interval).
    pub by_date: Option<NaiveDate>,
}

/// Whether an assessment is due, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerCheck {
    /// True when at least one reason applies.
    pub due: bool,
    /// Every reason that applies, in a fixed order.
    pub reasons: Vec<TriggerReason>,
    /// The baseline: the last comprehensive assessment, if any.
    pub last_comprehensive: Option<PriorAssessment>,
    /// The most recent assessment of any kind, if any.
    pub last_any: Option<PriorAssessment>,
    /// When the next assessment is due, counted from the previous
    /// assessments (not from the one being made now).
    pub next: NextAssessment,
    /// Triggers the policy sets that could not be evaluated, and why.
    pub not_evaluated: Vec<String>,
}

/// Why a plan item exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PlanPurpose {
    /// Evidence for a threshold's rule.
    Threshold {
        /// Threshold id.
        threshold: String,
        /// Index of the rule within the threshold's `evidence`.
        rule: usize,
    },
    /// The plain (unelicited) run that measures a rule's elicitation gap.
    ElicitationBaseline {
        /// Threshold id.
        threshold: String,
        /// Index of the rule.
        rule: usize,
    },
    /// A metric that proves a safeguard.
    Safeguard {
        /// Safeguard id.
        safeguard: String,
        /// Standard that contains it.
        standard: String,
    },
}

/// Whether a plan item must be run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "standard", rename_all = "kebab-case")]
pub enum Requirement {
    /// Needed for the assessment to be comprehensive.
    Required,
    /// Nice to have (elicitation baselines).
    Optional,
    /// Needed only if this standard turns out to be required.
    IfStandardRequired(String),
}

/// Where a plan item's evidence comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PlanSource {
    /// A valid existing run is reused.
    Reuse {
        /// The run.
        run_id: String,
        /// When it finished.
        completed_at: DateTime<Utc>,
        /// The elicitation it used (covers the requirement).
        elicitation: Elicitation,
        /// True for imported runs.
        imported: bool,
    },
    /// A new run must be started.
    Run,
}

/// One piece of evidence the assessment needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanItem {
    /// Why it is needed.
    pub purpose: PlanPurpose,
    /// Suite selector as the policy wrote it: `suite` or `suite/task`.
    pub selector: String,
    /// Metric read from the run.
    pub metric: String,
    /// Elicitation the run must use (at least).
    pub elicitation: Elicitation,
    /// Confidence level the estimate must be computed at.
    pub confidence: f64,
    /// Runs with fewer samples do not count.
    pub min_samples: Option<u32>,
    /// Required, optional or conditional.
    pub requirement: Requirement,
    /// Reuse or run.
    pub source: PlanSource,
    /// Why a candidate run was not reused, when one was close.
    pub note: Option<String>,
}

/// The evidence plan of an assessment. `Display` renders the `--plan` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Model the plan is for.
    pub model: String,
    /// Oldest completion time a reused run may have.
    pub valid_since: Option<DateTime<Utc>>,
    /// Items in policy order: thresholds and their baselines, then safeguards.
    pub items: Vec<PlanItem>,
}

/// A run the caller must start: one per distinct (selector, elicitation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRequest {
    /// `suite` or `suite/task`.
    pub selector: String,
    /// Elicitation to run with.
    pub elicitation: Elicitation,
    /// Largest `min_samples` among the items it serves.
    pub min_samples: Option<u32>,
    /// Required, optional or conditional (the strongest among its items).
    pub requirement: Requirement,
}
