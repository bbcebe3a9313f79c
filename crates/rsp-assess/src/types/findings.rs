//! Findings: rule determinations, threshold findings and their calibration.

use std::fmt;

use rsp_policy::{Combine, CrossedWhen, Direction, DomainStatus, Elicitation, UnderUncertainty};
use serde::{Deserialize, Serialize};

use super::Estimate;

/// The outcome of one rule or one threshold, in increasing severity.
///
/// `NoEvidence` sits between `Alert` and `CannotRuleOut`: with no evidence
/// nothing is ruled out, but a measured "cannot rule out" says more, so
/// under `combine = worst` the measured result is the one reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// The upper bound (after the margin) is below the alert line.
    RuledOut,
    /// The upper bound reaches the alert line but not the line.
    Alert,
    /// No usable run (missing, too few samples, metric absent).
    NoEvidence,
    /// The upper bound reaches the line; the estimate is below it.
    CannotRuleOut,
    /// The estimate (or lower bound, per the policy) is at or over the line.
    Crossed,
}

impl Status {
    /// True when the line itself is not ruled out (cannot rule out, no
    /// evidence, crossed).
    #[must_use]
    pub fn line_not_ruled_out(self) -> bool {
        self >= Self::NoEvidence
    }

    /// Short label used in tables (`cannot-rule-out`).
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::RuledOut => "ruled-out",
            Self::Alert => "alert",
            Self::NoEvidence => "no-evidence",
            Self::CannotRuleOut => "cannot-rule-out",
            Self::Crossed => "crossed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The determination of one evidence rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Determination {
    /// Threshold id.
    pub threshold: String,
    /// Index of the rule within the threshold's `evidence`.
    pub rule: usize,
    /// Suite selector.
    pub suite: String,
    /// Metric.
    pub metric: String,
    /// Outcome.
    pub status: Status,
    /// The run's estimate as measured.
    pub raw: Option<Estimate>,
    /// The estimate and bounds after the elicitation margin was applied in
    /// the dangerous direction; this is what was compared with the lines.
    pub adjusted: Option<Estimate>,
    /// The capability line.
    pub line: f64,
    /// The alert line.
    pub alert: f64,
    /// Which direction means more capable.
    pub direction: Direction,
    /// Elicitation margin applied.
    pub margin: f64,
    /// Which statistic decides `crossed`.
    pub crossed_when: CrossedWhen,
    /// Effective default under uncertainty for this rule.
    pub under_uncertainty: UnderUncertainty,
    /// Sample count of the run used.
    pub n: Option<u64>,
    /// Interval method of the run used.
    pub method: Option<String>,
    /// Confidence level the rule requires.
    pub confidence: f64,
    /// Minimum samples the rule requires.
    pub min_samples: Option<u32>,
    /// Elicitation the rule requires.
    pub elicitation_required: Elicitation,
    /// Elicitation the run actually used.
    pub elicitation_used: Option<Elicitation>,
    /// The plain run's estimate, when one exists.
    pub plain: Option<Estimate>,
    /// Best elicited score minus plain score (in the capable direction:
    /// positive means elicitation helped).
    pub elicitation_gap: Option<f64>,
    /// Additional samples that would give an 80% chance of ruling the line
    /// out if the true score equals the current estimate (Wilson, binary
    /// metrics only). `None` when not applicable or unreachable.
    pub more_samples_to_rule_out: Option<u64>,
    /// Run used.
    pub run_id: Option<String>,
    /// Plain run used for the gap.
    pub plain_run_id: Option<String>,
    /// Why the status is what it is, when not obvious (no evidence, ...).
    pub note: Option<String>,
}

/// The finding for one threshold: its rules, combined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdFinding {
    /// Threshold id.
    pub id: String,
    /// Short name.
    pub name: Option<String>,
    /// Domain id.
    pub domain: String,
    /// Domain tracking status.
    pub domain_status: DomainStatus,
    /// True when the domain is tracked, so the finding can raise the
    /// required standard and block; research and exploratory domains are
    /// reported only.
    pub blocking: bool,
    /// Combined status.
    pub status: Status,
    /// How rules were combined.
    pub combine: Combine,
    /// True when the threshold counts as crossed for safeguards and
    /// decisions: crossed, or not ruled out under `treat-as-crossed`.
    pub treated_as_crossed: bool,
    /// True when the line is not ruled out under `judgement`: people decide.
    pub needs_judgement: bool,
    /// Standard the threshold requires once it counts as crossed.
    pub requires: String,
    /// Per-rule determinations in policy order.
    pub rules: Vec<Determination>,
    /// Explanation (non-blocking domain, no rules, judgement, ...).
    pub note: Option<String>,
}

/// How a calibration figure was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CalibrationMethod {
    /// Exact binomial sum under the Wilson rule (binary metrics).
    Exact,
    /// Seeded Monte Carlo.
    MonteCarlo,
    /// Normal approximation from the interval's width (numeric metrics).
    NormalApproximation,
}

/// A Monte Carlo cross-check of the exact figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Simulation {
    /// Simulated false-alarm rate.
    pub false_alarm_rate: f64,
    /// Its standard error.
    pub false_alarm_se: f64,
    /// Simulated miss rate.
    pub miss_rate: f64,
    /// Its standard error.
    pub miss_se: f64,
    /// Runs per scenario.
    pub runs: u64,
    /// Seed.
    pub seed: u64,
}

/// Operating characteristics of one rule at its actual n.
///
/// Decisions are on the line: a *false alarm* is "cannot rule out or
/// worse" when the true score sits `distance` below the line (on the safe
/// side); a *miss* is "ruled out or alert" (line ruled out) when the true
/// score is exactly at the line. The margin is included: the rule compares
/// `upper + margin` with the line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Threshold id.
    pub threshold: String,
    /// Rule index.
    pub rule: usize,
    /// Suite selector.
    pub suite: String,
    /// Metric.
    pub metric: String,
    /// Sample size used (the run's n, else the rule's `min_samples`).
    pub n: u64,
    /// The line.
    pub line: f64,
    /// The margin.
    pub margin: f64,
    /// Distance below the line of the false-alarm scenario.
    pub distance: f64,
    /// True score in the false-alarm scenario.
    pub false_alarm_true_score: f64,
    /// P(line not ruled out | true score = line − distance).
    pub false_alarm_rate: f64,
    /// P(line ruled out | true score = line).
    pub miss_rate: f64,
    /// One-sided confidence level of the simulated upper bound.
    pub one_sided_confidence: f64,
    /// How the two rates above were computed.
    pub method: CalibrationMethod,
    /// Monte Carlo figures, when simulations were requested.
    pub simulation: Option<Simulation>,
    /// Caveats (n taken from `min_samples`, normal approximation, ...).
    pub note: Option<String>,
}
