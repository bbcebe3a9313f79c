//! The policy's data model: plain, owned types that mirror the TOML file.
//!
//! These types carry no spans on purpose. Spans live in the parsed TOML tree
//! (see [`crate::parse`]), and diagnostics find them by path. Keeping the
//! model plain lets the same types serve validation, rendering, diffing and
//! the JSON Schema without a wrapper on every field.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::date::PolicyDate;

/// A whole responsible scaling policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Identity and governance of this version of the policy.
    pub policy: Metadata,
    /// Policy-wide defaults that evidence rules inherit.
    #[serde(default)]
    pub defaults: Defaults,
    /// The people or bodies who propose, approve and sign.
    #[serde(default, rename = "role")]
    pub roles: Vec<Role>,
    /// Risk areas, such as `cbrn` or `cyber`.
    #[serde(default, rename = "domain")]
    pub domains: Vec<Domain>,
    /// Named bundles of safeguards (`ASL-2`, `ASL-3`, ...).
    #[serde(default, rename = "standard")]
    pub standards: Vec<Standard>,
    /// Capability thresholds and the evidence that decides them.
    #[serde(default, rename = "threshold")]
    pub thresholds: Vec<Threshold>,
    /// Eval suites the policy names that are not built in or in `suites/`.
    #[serde(default, rename = "suite")]
    pub suites: Vec<SuiteDecl>,
    /// When an assessment is due.
    pub triggers: Triggers,
    /// What happens when a threshold is crossed and safeguards are missing.
    #[serde(default, rename = "action")]
    pub actions: Vec<Action>,
}

/// Identity and governance of one policy version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    /// Human name of the policy.
    pub name: String,
    /// Version string, for example `2.2` or `1.0.0`.
    pub version: String,
    /// Date from which this version is in force.
    pub effective: PolicyDate,
    /// Role id that proposed this version.
    pub proposer: String,
    /// Role ids that approved this version.
    pub approvers: Vec<String>,
    /// Bodies consulted or informed before adoption (board, trust, ...).
    #[serde(default)]
    pub consulted: Vec<String>,
    /// The policy itself must be re-approved at least this often.
    #[serde(default)]
    pub review_interval_days: Option<u32>,
    /// Where the published text lives.
    #[serde(default)]
    pub url: Option<String>,
    /// One entry per version, newest last.
    #[serde(default)]
    pub changelog: Vec<ChangelogEntry>,
}

/// One line of the changelog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangelogEntry {
    /// Version the entry describes.
    pub version: String,
    /// Date of the change.
    pub date: PolicyDate,
    /// What changed and why.
    pub summary: String,
}

/// Policy-wide defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Confidence level for evidence rules that do not set their own.
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    /// What a threshold counts as when its line cannot be ruled out.
    #[serde(default)]
    pub under_uncertainty: UnderUncertainty,
    /// Which statistic must reach the line for `crossed`.
    #[serde(default)]
    pub crossed_when: CrossedWhen,
    /// How a threshold combines the status of its evidence rules.
    #[serde(default)]
    pub combine: Combine,
}

impl Default for Defaults {
    fn default() -> Self {
        Self {
            confidence: default_confidence(),
            under_uncertainty: UnderUncertainty::default(),
            crossed_when: CrossedWhen::default(),
            combine: Combine::default(),
        }
    }
}

fn default_confidence() -> f64 {
    0.95
}

/// The default under uncertainty.
///
/// Anthropic's RSP treats a threshold it cannot rule out as crossed; that is
/// the conservative default here, and weakening it is flagged by `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum UnderUncertainty {
    /// A threshold whose upper bound reaches the line is treated as crossed.
    #[default]
    TreatAsCrossed,
    /// The determination is reported, and people decide case by case.
    Judgement,
}

/// Which statistic must reach the line for the status `crossed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CrossedWhen {
    /// The point estimate is at or over the line.
    #[default]
    Estimate,
    /// The lower confidence bound is at or over the line (stricter proof).
    LowerBound,
}

/// How the statuses of several evidence rules combine into one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Combine {
    /// The most severe rule decides (conservative).
    #[default]
    Worst,
    /// The least severe rule decides: every rule must fire.
    Best,
}

/// A role that proposes, approves or signs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// Short id, used everywhere else (`rso`, `ceo`).
    pub id: String,
    /// Human name.
    pub name: String,
    /// Decisions this role must sign before they are final.
    #[serde(default)]
    pub signs: Vec<DecisionKind>,
    /// Decisions this role must be informed of before anyone acts.
    #[serde(default)]
    pub informed: Vec<DecisionKind>,
}

/// Kinds of decision a role can sign or be informed of.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum DecisionKind {
    /// Deploying a model.
    Deploy,
    /// Continuing training up to a compute cap.
    Train,
    /// Adopting a new version of the policy.
    PolicyUpdate,
}

impl fmt::Display for DecisionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Deploy => "deploy",
            Self::Train => "train",
            Self::PolicyUpdate => "policy-update",
        })
    }
}

/// A risk domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    /// Short id (`cbrn`).
    pub id: String,
    /// Human name.
    pub name: String,
    /// How seriously the domain is tracked.
    pub status: DomainStatus,
    /// What the domain covers.
    #[serde(default)]
    pub description: Option<String>,
}

/// Tracking status of a domain, following OpenAI's and GDM's vocabulary.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum DomainStatus {
    /// Thresholds are enforced.
    Tracked,
    /// Under research; thresholds inform but may not block.
    Research,
    /// Exploratory only.
    Exploratory,
}

impl fmt::Display for DomainStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Tracked => "tracked",
            Self::Research => "research",
            Self::Exploratory => "exploratory",
        })
    }
}

/// A named bundle of safeguards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Standard {
    /// Short id (`ASL-3`).
    pub id: String,
    /// Human name.
    pub name: String,
    /// What the standard is meant to achieve.
    #[serde(default)]
    pub description: Option<String>,
    /// Other standards whose safeguards this one also requires.
    #[serde(default)]
    pub includes: Vec<String>,
    /// Threat actors the standard is meant to stop.
    #[serde(default)]
    pub threat_actors_in_scope: Vec<String>,
    /// Threat actors the standard explicitly does not address.
    #[serde(default)]
    pub threat_actors_out_of_scope: Vec<String>,
    /// The safeguards themselves.
    #[serde(default, rename = "safeguard")]
    pub safeguards: Vec<Safeguard>,
}

/// One safeguard and the evidence that proves it is in place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Safeguard {
    /// Short id, unique across the policy.
    pub id: String,
    /// Deployment, security or process measure.
    pub kind: SafeguardKind,
    /// What the safeguard is.
    pub description: String,
    /// What proves it.
    pub evidence: SafeguardEvidence,
}

/// The kind of a safeguard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SafeguardKind {
    /// Limits what users can get from a deployed model.
    Deployment,
    /// Protects the weights.
    Security,
    /// Governance and procedure.
    Process,
}

impl fmt::Display for SafeguardKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Deployment => "deployment",
            Self::Security => "security",
            Self::Process => "process",
        })
    }
}

/// The evidence a safeguard needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SafeguardEvidence {
    /// A signed statement with a document, by a named role.
    Attestation {
        /// Role that must attest.
        by: String,
        /// How long an attestation stays valid.
        valid_days: u32,
    },
    /// A measured metric from an rsp run, with a bound.
    Metric {
        /// Suite that measures it (for example a guard evaluation).
        suite: String,
        /// Metric name within the suite's results.
        metric: String,
        /// The metric's upper confidence bound must not exceed this.
        #[serde(default)]
        max: Option<f64>,
        /// The metric's lower confidence bound must not fall below this.
        #[serde(default)]
        min: Option<f64>,
        /// Confidence level of the bound; defaults to the policy default.
        #[serde(default)]
        confidence: Option<f64>,
        /// How long a measurement stays valid.
        valid_days: u32,
    },
}

impl SafeguardEvidence {
    /// How long the evidence stays valid, in days.
    #[must_use]
    pub fn valid_days(&self) -> u32 {
        match self {
            Self::Attestation { valid_days, .. } | Self::Metric { valid_days, .. } => *valid_days,
        }
    }
}

/// A capability threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    /// Short id (`CBRN-3`).
    pub id: String,
    /// Domain id.
    pub domain: String,
    /// Short human name.
    #[serde(default)]
    pub name: Option<String>,
    /// Plain-language description of the capability.
    pub description: String,
    /// Who would be uplifted (novice, expert, state programme).
    #[serde(default)]
    pub actor: Option<String>,
    /// What the uplift is measured against.
    #[serde(default)]
    pub baseline: Option<String>,
    /// Standard required once this threshold cannot be ruled out.
    pub requires: String,
    /// Overrides the policy default combination of rules.
    #[serde(default)]
    pub combine: Option<Combine>,
    /// The rules that decide it.
    #[serde(default)]
    pub evidence: Vec<EvidenceRule>,
}

/// Which direction of a metric means "more capable".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Higher values mean more capability (accuracy, pass rate).
    #[default]
    Higher,
    /// Lower values mean more capability (time to solve, loss).
    Lower,
}

/// One evidence rule of a threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRule {
    /// Eval suite (built in, in `suites/`, or declared with `[[suite]]`).
    pub suite: String,
    /// Metric within the suite's results (`accuracy`, `pass_at_1`).
    pub metric: String,
    /// The capability line.
    pub line: f64,
    /// The early-warning line, on the safe side of `line`.
    pub alert: f64,
    /// Confidence level of the interval compared with the lines.
    #[serde(default)]
    pub confidence: Option<f64>,
    /// Which direction means more capable.
    #[serde(default)]
    pub direction: Direction,
    /// Elicitation the run must use to count as evidence.
    #[serde(default)]
    pub elicitation: Elicitation,
    /// Added to the upper bound before comparing with the lines, to cover
    /// under-elicitation.
    #[serde(default)]
    pub elicitation_margin: f64,
    /// Overrides the policy default.
    #[serde(default)]
    pub crossed_when: Option<CrossedWhen>,
    /// Overrides the policy default.
    #[serde(default)]
    pub under_uncertainty: Option<UnderUncertainty>,
    /// Runs with fewer samples do not count.
    #[serde(default)]
    pub min_samples: Option<u32>,
}

/// Elicitation a run must use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Elicitation {
    /// Chain-of-thought prompting.
    #[serde(default)]
    pub chain_of_thought: bool,
    /// Number of few-shot examples (0 = none).
    #[serde(default)]
    pub few_shot: u32,
    /// Best-of-n sampling (1 = a single sample).
    #[serde(default = "one")]
    pub best_of_n: u32,
    /// Tool use (sandboxed).
    #[serde(default)]
    pub tools: bool,
}

fn one() -> u32 {
    1
}

impl Default for Elicitation {
    /// Plain prompting: one sample, no chain of thought, no shots, no tools.
    /// Written by hand because `best_of_n` must default to 1, not 0.
    fn default() -> Self {
        Self {
            chain_of_thought: false,
            few_shot: 0,
            best_of_n: one(),
            tools: false,
        }
    }
}

impl Elicitation {
    /// True when `self` asks for at least everything `other` asks for.
    #[must_use]
    pub fn covers(&self, other: &Self) -> bool {
        (self.chain_of_thought || !other.chain_of_thought)
            && self.few_shot >= other.few_shot
            && self.best_of_n >= other.best_of_n
            && (self.tools || !other.tools)
    }

    /// Short human summary, for example `chain of thought, 5-shot, best of 8`.
    #[must_use]
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if self.chain_of_thought {
            parts.push("chain of thought".to_owned());
        }
        if self.few_shot > 0 {
            parts.push(format!("{}-shot", self.few_shot));
        }
        if self.best_of_n > 1 {
            parts.push(format!("best of {}", self.best_of_n));
        }
        if self.tools {
            parts.push("tools".to_owned());
        }
        if parts.is_empty() {
            "plain prompting".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// A suite the policy refers to that rsp does not ship.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SuiteDecl {
    /// Suite id used by evidence rules.
    pub id: String,
    /// What the suite must measure.
    pub description: String,
    /// True when the user must still supply it (templates use this).
    #[serde(default)]
    pub placeholder: bool,
}

/// When an assessment is due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    /// Growth in effective compute since the last comprehensive assessment
    /// that makes a new one due (for example 4.0).
    #[serde(default)]
    pub compute_ratio: Option<f64>,
    /// Longest allowed gap between assessments.
    #[serde(default)]
    pub max_interval_days: Option<u32>,
    /// Days of accumulated post-training that make an assessment due.
    #[serde(default)]
    pub post_training_days: Option<u32>,
    /// Assess before every deployment.
    #[serde(default)]
    pub on_deployment: bool,
}

/// A response the policy commits to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// Short id.
    pub id: String,
    /// The situation that triggers it.
    pub when: ActionWhen,
    /// Deployment is blocked until the situation clears.
    #[serde(default)]
    pub block_deployment: bool,
    /// Training is capped at the compute of the last checkpoint assessed
    /// without this situation.
    #[serde(default)]
    pub cap_training_compute: bool,
    /// Roles notified when the action fires.
    #[serde(default)]
    pub notify: Vec<String>,
    /// Free text: interim measures, deadlines.
    #[serde(default)]
    pub description: Option<String>,
}

/// Situations that trigger an action.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ActionWhen {
    /// An alert line is reached.
    Alert,
    /// A threshold cannot be ruled out or is crossed, and the safeguards it
    /// requires are not all in place.
    SafeguardsMissing,
    /// A threshold is crossed (whatever the safeguards).
    Crossed,
}

impl fmt::Display for ActionWhen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Alert => "an alert line is reached",
            Self::SafeguardsMissing => {
                "a threshold is not ruled out and its required safeguards are not all in place"
            }
            Self::Crossed => "a threshold is crossed",
        })
    }
}

impl Policy {
    /// Find a standard by id.
    #[must_use]
    pub fn standard(&self, id: &str) -> Option<&Standard> {
        self.standards.iter().find(|s| s.id == id)
    }

    /// The standard `id` plus every standard it includes, transitively, in
    /// breadth-first order without repeats. Unknown ids and cycles are
    /// skipped (validation reports them).
    #[must_use]
    pub fn standard_closure(&self, id: &str) -> Vec<&Standard> {
        let mut out: Vec<&Standard> = Vec::new();
        let mut queue = vec![id.to_owned()];
        while let Some(next) = queue.pop() {
            if out.iter().any(|s| s.id == next) {
                continue;
            }
            if let Some(s) = self.standard(&next) {
                out.push(s);
                queue.extend(s.includes.iter().rev().cloned());
            }
        }
        out
    }

    /// Roles that must sign a decision of the given kind.
    pub fn signers(&self, kind: DecisionKind) -> impl Iterator<Item = &Role> {
        self.roles.iter().filter(move |r| r.signs.contains(&kind))
    }

    /// The effective confidence of a rule.
    #[must_use]
    pub fn confidence_of(&self, rule: &EvidenceRule) -> f64 {
        rule.confidence.unwrap_or(self.defaults.confidence)
    }
}
