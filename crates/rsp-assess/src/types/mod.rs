//! The serializable inputs and outputs of an assessment.
//!
//! [`Assessment`] serialized with `serde_json` *is* the JSON report, and the
//! Markdown and HTML renderers read nothing else, so every number a report
//! shows lives here with its method, n and confidence. [`AssessInputs`] is
//! serializable too: logging it next to the policy makes every
//! determination reproducible by re-running [`crate::assess`].
//!
//! Conventions, chosen once so the JSON stays stable:
//! * struct fields are `snake_case`, enum values `kebab-case`;
//! * days are `NaiveDate` (`"2026-11-01"`), instants `DateTime<Utc>` (RFC 3339);
//! * compute is in FLOP as `f64`;
//! * a missing number is `null`, never NaN (serde_json would refuse NaN);
//! * lists keep policy order (thresholds, rules, standards, safeguards), so
//!   two assessments of the same policy diff line by line.

mod findings;
mod governance;
mod inputs;
mod schedule;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use findings::*;
pub use governance::*;
pub use inputs::*;
pub use schedule::*;

/// Version of the JSON layout of [`Assessment`]; bumped on breaking changes.
pub const SCHEMA_VERSION: u32 = 1;

/// Identity of the policy an assessment applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyRef {
    /// Human name.
    pub name: String,
    /// Version.
    pub version: String,
    /// SHA-256 of the policy file (hex).
    pub sha256: String,
}

/// A whole assessment: the JSON report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Assessment id.
    pub id: String,
    /// The clock the assessment used.
    pub created_at: DateTime<Utc>,
    /// Policy applied.
    pub policy: PolicyRef,
    /// Model assessed.
    pub model: ModelFacts,
    /// Why the assessment is due (or not).
    pub trigger: TriggerCheck,
    /// The evidence plan and what was reused.
    pub plan: Plan,
    /// One finding per threshold, in policy order.
    pub findings: Vec<ThresholdFinding>,
    /// True when every required plan item had evidence, so the assessment
    /// can serve as the baseline of the compute trigger.
    pub comprehensive: bool,
    /// Required standards.
    pub required: RequiredStandards,
    /// Every safeguard of the policy, in policy order.
    pub safeguards: Vec<SafeguardFinding>,
    /// Policy actions that fired.
    pub fired_actions: Vec<FiredAction>,
    /// One outcome per requested decision.
    pub decisions: Vec<DecisionOutcome>,
    /// Calibration per rule.
    pub calibration: Vec<Calibration>,
    /// Settings the calibration used.
    pub calibration_settings: CalibrationSettings,
    /// When the next assessment is due, counting this one if comprehensive.
    pub next: NextAssessment,
}
