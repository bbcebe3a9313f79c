//! Safeguards, fired actions and decisions.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use rsp_policy::{ActionWhen, SafeguardKind};
use serde::{Deserialize, Serialize};

use super::{AttestationInput, DecisionAction, Estimate, Status};

/// The state of one safeguard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SafeguardStatus {
    /// Valid evidence shows it in place.
    InPlace,
    /// No valid evidence (none, or attested by the wrong role).
    Missing,
    /// The newest evidence is too old or past its expiry date.
    Expired,
    /// The measured metric's bound violates the policy's max or min.
    FailingBound,
    /// The evidence file no longer matches the hash recorded at attestation.
    Unverified,
}

impl SafeguardStatus {
    /// Short label (`in-place`).
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::InPlace => "in-place",
            Self::Missing => "missing",
            Self::Expired => "expired",
            Self::FailingBound => "failing-bound",
            Self::Unverified => "unverified",
        }
    }
}

impl fmt::Display for SafeguardStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The evidence examined for a safeguard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum SafeguardEvidenceFinding {
    /// An attestation.
    Attestation {
        /// Role the policy requires.
        required_role: String,
        /// Validity window the policy sets.
        valid_days: u32,
        /// The attestation used (the best one found), if any.
        attestation: Option<AttestationInput>,
        /// Last day it is valid: min(expiry, created + valid_days).
        valid_until: Option<NaiveDate>,
    },
    /// A measured metric.
    Metric {
        /// Suite selector.
        suite: String,
        /// Metric.
        metric: String,
        /// Upper bound must not exceed this.
        max: Option<f64>,
        /// Lower bound must not fall below this.
        min: Option<f64>,
        /// Confidence level required.
        confidence: f64,
        /// Validity window.
        valid_days: u32,
        /// The run used, if any.
        run_id: Option<String>,
        /// Its estimate.
        estimate: Option<Estimate>,
        /// When it was measured.
        measured_at: Option<DateTime<Utc>>,
        /// Last day it is valid.
        valid_until: Option<NaiveDate>,
    },
}

/// One safeguard of the policy and its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SafeguardFinding {
    /// Safeguard id.
    pub id: String,
    /// Standard that contains it.
    pub standard: String,
    /// Deployment, security or process.
    pub kind: SafeguardKind,
    /// What it is.
    pub description: String,
    /// True when its standard is in the required set.
    pub required: bool,
    /// State.
    pub status: SafeguardStatus,
    /// What was examined.
    pub evidence: SafeguardEvidenceFinding,
    /// Why the status is what it is.
    pub note: Option<String>,
}

/// The standards the model requires, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequiredStandards {
    /// The baseline standard every model needs (see [`crate::safeguards`]).
    pub baseline: Option<String>,
    /// The highest required standard: the required standard whose closure
    /// is largest (later in the policy on ties). This is the "ASL-n
    /// required" of `rsp status`.
    pub highest: Option<String>,
    /// Every required standard (union of closures), in policy order.
    pub standards: Vec<String>,
    /// Standard → threshold ids that require it directly.
    pub because: BTreeMap<String, Vec<String>>,
    /// The highest standard all of whose safeguards (with its closure) are
    /// in place, in the same order as `highest`.
    pub in_place: Option<String>,
}

/// A policy action whose situation holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiredAction {
    /// Action id.
    pub id: String,
    /// Its situation.
    pub when: ActionWhen,
    /// Threshold ids that put it in that situation.
    pub thresholds: Vec<String>,
    /// It blocks deployment.
    pub block_deployment: bool,
    /// It caps training compute.
    pub cap_training_compute: bool,
    /// Roles to notify.
    pub notify: Vec<String>,
    /// The policy's text for it.
    pub description: Option<String>,
}

/// Why a decision is blocked (or what people must look at).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reason {
    /// A threshold counts as crossed and an action blocks on it.
    Threshold {
        /// Threshold id.
        threshold: String,
        /// Its status.
        status: Status,
        /// Action that fired.
        action: String,
    },
    /// A threshold counts as crossed and its required safeguards are not
    /// all in place.
    Safeguards {
        /// Threshold id.
        threshold: String,
        /// Standard it requires.
        standard: String,
        /// Safeguards of that standard's closure not in place, with status.
        safeguards: Vec<(String, SafeguardStatus)>,
        /// Action that fired.
        action: String,
    },
    /// The requested training compute exceeds the cap.
    ComputeCap {
        /// Requested compute.
        requested_flop: f64,
        /// Cap; `None` when the model's compute is unknown, in which case
        /// no further training is allowed.
        cap_flop: Option<f64>,
        /// Action that set the cap.
        action: String,
    },
    /// Deployment needs the baseline standard every model needs, whatever its
    /// capabilities, and some of its safeguards are not in place.
    Baseline {
        /// The baseline standard.
        standard: String,
        /// Safeguards of its closure not in place, with status.
        safeguards: Vec<(String, SafeguardStatus)>,
    },
    /// Non-blocking: the line is not ruled out under `judgement`.
    Judgement {
        /// Threshold id.
        threshold: String,
        /// Its status.
        status: Status,
    },
}

/// `id status, id status`: safeguards not in place.
fn not_in_place(list: &[(String, SafeguardStatus)]) -> String {
    list.iter()
        .map(|(id, st)| format!("{id} {st}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One plain line, as `rsp assess` prints it (the reports word it at more length).
impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Threshold {
                threshold,
                status,
                action,
            } => write!(f, "{threshold} is {status}; action `{action}` blocks"),
            Self::Safeguards {
                threshold,
                standard,
                safeguards,
                action,
            } => write!(
                f,
                "{threshold} needs {standard}, not in place ({}); action `{action}`",
                not_in_place(safeguards)
            ),
            Self::ComputeCap {
                requested_flop,
                cap_flop: Some(c),
                action,
            } => write!(
                f,
                "training to {requested_flop:.2e} FLOP exceeds the cap {c:.2e}; action `{action}`"
            ),
            Self::ComputeCap {
                cap_flop: None,
                action,
                ..
            } => write!(
                f,
                "the model's compute is unknown, so no further training is allowed; action `{action}`"
            ),
            Self::Baseline {
                standard,
                safeguards,
            } => write!(
                f,
                "deployment needs the baseline standard {standard}, not in place ({})",
                not_in_place(safeguards)
            ),
            Self::Judgement { threshold, status } => write!(
                f,
                "{threshold} is {status}: the policy leaves it to the signers' judgement"
            ),
        }
    }
}

impl Reason {
    /// True for reasons that block the decision.
    #[must_use]
    pub fn blocks(&self) -> bool {
        !matches!(self, Self::Judgement { .. })
    }
}

/// The outcome of one requested decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionOutcome {
    /// The action decided.
    pub action: DecisionAction,
    /// True when nothing blocks it.
    pub allowed: bool,
    /// Blocking reasons, then non-blocking judgement flags.
    pub reasons: Vec<Reason>,
    /// Training compute cap implied by the fired actions (the model's
    /// assessed compute), if any.
    pub compute_cap_flop: Option<f64>,
    /// Role ids that must sign before the decision is final.
    pub required_signers: Vec<String>,
    /// Role ids informed before anyone acts.
    pub informed: Vec<String>,
}
