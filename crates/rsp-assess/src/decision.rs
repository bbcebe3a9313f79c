//! Decisions: which policy actions fire, and whether `deploy` or
//! `train --to FLOP` is allowed.
//!
//! Only thresholds that can block ([`ThresholdFinding::blocking`], i.e. in
//! tracked domains) put the policy in an action's situation:
//! * `alert`: a threshold's status is `alert` or worse (no evidence counts:
//!   nothing shows the alert line is not reached);
//! * `crossed`: a threshold counts as crossed (under `treat-as-crossed`
//!   that includes "cannot rule out");
//! * `safeguards-missing`: a threshold counts as crossed and the closure of
//!   the standard it requires is not all in place.
//!
//! A fired action with `block_deployment` blocks `deploy`; one with
//! `cap_training_compute` caps training at the compute of the model just
//! assessed, the last checkpoint whose capabilities are known, so
//! `train --to X` is blocked when `X` exceeds it (and always when that
//! compute is unknown). Thresholds flagged for `judgement` never block;
//! they are listed as non-blocking reasons so that the signers see them.
//! The decision is final only once every role that `signs` the action kind
//! has signed it; [`exit_code`] maps that to the CLI's exit status.

use rsp_policy::{ActionWhen, DecisionKind, Policy};

use crate::safeguards::not_in_place;
use crate::types::{
    DecisionAction, DecisionOutcome, FiredAction, ModelFacts, Reason, SafeguardFinding, Status,
    ThresholdFinding,
};

/// Exit status: the action is allowed and signed by every required role.
pub const EXIT_ALLOWED: u8 = 0;
/// Exit status: the action is blocked.
pub const EXIT_BLOCKED: u8 = 3;
/// Exit status: the action is allowed but awaits signatures.
pub const EXIT_AWAITING_SIGNATURES: u8 = 4;

/// Thresholds of `findings` in `when`'s situation.
fn in_situation<'a>(
    policy: &Policy,
    when: ActionWhen,
    findings: &'a [ThresholdFinding],
    safeguards: &[SafeguardFinding],
) -> Vec<&'a ThresholdFinding> {
    findings
        .iter()
        .filter(|f| f.blocking)
        .filter(|f| match when {
            ActionWhen::Alert => f.status >= Status::Alert,
            ActionWhen::Crossed => f.treated_as_crossed,
            ActionWhen::SafeguardsMissing => {
                f.treated_as_crossed && !not_in_place(policy, &f.requires, safeguards).is_empty()
            }
        })
        .collect()
}

/// The policy's actions whose situation holds, in policy order.
#[must_use]
pub fn fired_actions(
    policy: &Policy,
    findings: &[ThresholdFinding],
    safeguards: &[SafeguardFinding],
) -> Vec<FiredAction> {
    policy
        .actions
        .iter()
        .filter_map(|a| {
            let hit = in_situation(policy, a.when, findings, safeguards);
            (!hit.is_empty()).then(|| FiredAction {
                id: a.id.clone(),
                when: a.when,
                thresholds: hit.iter().map(|f| f.id.clone()).collect(),
                block_deployment: a.block_deployment,
                cap_training_compute: a.cap_training_compute,
                notify: a.notify.clone(),
                description: a.description.clone(),
            })
        })
        .collect()
}

/// The training compute cap implied by `fired`, as the model's assessed
/// compute: `None` if no action caps; `Some(None)` if one does but the
/// compute is unknown.
#[must_use]
pub fn compute_cap(fired: &[FiredAction], model: &ModelFacts) -> Option<Option<f64>> {
    fired
        .iter()
        .any(|a| a.cap_training_compute)
        .then_some(model.effective_compute_flop)
}

/// The outcome of `action` given the assessment's findings.
#[must_use]
pub fn decide(
    policy: &Policy,
    action: DecisionAction,
    model: &ModelFacts,
    findings: &[ThresholdFinding],
    safeguards: &[SafeguardFinding],
    fired: &[FiredAction],
) -> DecisionOutcome {
    let mut reasons = Vec::new();
    let cap = compute_cap(fired, model);
    match action {
        DecisionAction::Deploy => {
            // The baseline standard is what every deployed model needs; a policy
            // whose actions only fire on thresholds would otherwise let a model ship
            // with none of it in place.
            if let Some(b) = crate::safeguards::baseline_standard(policy) {
                let missing = not_in_place(policy, &b.id, safeguards);
                if !missing.is_empty() {
                    reasons.push(Reason::Baseline {
                        standard: b.id.clone(),
                        safeguards: missing,
                    });
                }
            }
            for a in fired.iter().filter(|a| a.block_deployment) {
                for f in findings.iter().filter(|f| a.thresholds.contains(&f.id)) {
                    reasons.push(threshold_reason(policy, a, f, safeguards));
                }
            }
        }
        DecisionAction::Train { to_flop } => {
            if let Some(cap_flop) = cap
                && cap_flop.is_none_or(|c| to_flop > c)
            {
                let action = fired
                    .iter()
                    .find(|a| a.cap_training_compute)
                    .map(|a| a.id.clone())
                    .unwrap_or_default();
                reasons.push(Reason::ComputeCap {
                    requested_flop: to_flop,
                    cap_flop,
                    action,
                });
            }
        }
    }
    for f in findings.iter().filter(|f| f.blocking && f.needs_judgement) {
        reasons.push(Reason::Judgement {
            threshold: f.id.clone(),
            status: f.status,
        });
    }
    let kind = match action {
        DecisionAction::Deploy => DecisionKind::Deploy,
        DecisionAction::Train { .. } => DecisionKind::Train,
    };
    DecisionOutcome {
        action,
        allowed: !reasons.iter().any(Reason::blocks),
        reasons,
        compute_cap_flop: cap.flatten(),
        required_signers: policy.signers(kind).map(|r| r.id.clone()).collect(),
        informed: policy
            .roles
            .iter()
            .filter(|r| r.informed.contains(&kind))
            .map(|r| r.id.clone())
            .collect(),
    }
}

fn threshold_reason(
    policy: &Policy,
    action: &FiredAction,
    f: &ThresholdFinding,
    safeguards: &[SafeguardFinding],
) -> Reason {
    match action.when {
        ActionWhen::SafeguardsMissing => Reason::Safeguards {
            threshold: f.id.clone(),
            standard: f.requires.clone(),
            safeguards: not_in_place(policy, &f.requires, safeguards),
            action: action.id.clone(),
        },
        ActionWhen::Alert | ActionWhen::Crossed => Reason::Threshold {
            threshold: f.id.clone(),
            status: f.status,
            action: action.id.clone(),
        },
    }
}

impl DecisionOutcome {
    /// Required roles that have not signed yet, in policy order.
    #[must_use]
    pub fn awaiting<'a>(&'a self, signed_roles: &[String]) -> Vec<&'a str> {
        self.required_signers
            .iter()
            .filter(|r| !signed_roles.contains(r))
            .map(String::as_str)
            .collect()
    }
}

/// The CLI's exit status for a decision given the roles that have signed:
/// blocked → 3; allowed but awaiting a signature → 4; allowed and signed
/// by every required role → 0.
#[must_use]
pub fn exit_code(outcome: &DecisionOutcome, signed_roles: &[String]) -> u8 {
    if !outcome.allowed {
        EXIT_BLOCKED
    } else if outcome.awaiting(signed_roles).is_empty() {
        EXIT_ALLOWED
    } else {
        EXIT_AWAITING_SIGNATURES
    }
}

#[cfg(test)]
mod tests {
    use rsp_policy::{Combine, DomainStatus, SafeguardKind};

    use super::*;
    use crate::testing::example_policy;
    use crate::types::{SafeguardEvidenceFinding, SafeguardStatus};

    fn finding(id: &str, status: Status, treated: bool, blocking: bool) -> ThresholdFinding {
        ThresholdFinding {
            id: id.into(),
            name: None,
            domain: "knowledge".into(),
            domain_status: if blocking {
                DomainStatus::Tracked
            } else {
                DomainStatus::Research
            },
            blocking,
            status,
            combine: Combine::Worst,
            treated_as_crossed: treated,
            needs_judgement: status.line_not_ruled_out() && !treated,
            requires: "ASL-3".into(),
            rules: vec![],
            note: None,
        }
    }

    /// Every safeguard of the example policy, in place except `missing`.
    fn safeguards(missing: &[&str]) -> Vec<SafeguardFinding> {
        example_policy()
            .standards
            .iter()
            .flat_map(|s| s.safeguards.iter().map(move |g| (s, g)))
            .map(|(s, g)| SafeguardFinding {
                id: g.id.clone(),
                standard: s.id.clone(),
                kind: SafeguardKind::Process,
                description: String::new(),
                required: true,
                status: if missing.contains(&g.id.as_str()) {
                    SafeguardStatus::Missing
                } else {
                    SafeguardStatus::InPlace
                },
                evidence: SafeguardEvidenceFinding::Attestation {
                    required_role: "rso".into(),
                    valid_days: 1,
                    attestation: None,
                    valid_until: None,
                },
                note: None,
            })
            .collect()
    }

    fn model(flop: Option<f64>) -> ModelFacts {
        ModelFacts {
            name: "m".into(),
            spec: "embedded".into(),
            effective_compute_flop: flop,
            parameters: None,
            training_tokens: None,
            date: None,
            parent: None,
            post_training_days: None,
        }
    }

    fn run(
        action: DecisionAction,
        findings: &[ThresholdFinding],
        sg: &[SafeguardFinding],
        flop: Option<f64>,
    ) -> (Vec<FiredAction>, DecisionOutcome) {
        let policy = example_policy();
        let fired = fired_actions(&policy, findings, sg);
        let outcome = decide(&policy, action, &model(flop), findings, sg, &fired);
        (fired, outcome)
    }

    #[test]
    fn missing_safeguards_block_deployment_with_reasons() {
        let findings = [
            finding("KNOW-1", Status::CannotRuleOut, true, true),
            finding("CYBER-1", Status::RuledOut, false, true),
        ];
        let sg = safeguards(&["constitutional-guard", "security-hardening"]);
        let (fired, d) = run(DecisionAction::Deploy, &findings, &sg, Some(1.6e21));
        let ids: Vec<&str> = fired.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["pause-deployment", "early-warning"]);
        assert_eq!(fired[0].thresholds, ["KNOW-1"]);
        assert!(!d.allowed);
        assert_eq!(
            d.reasons,
            vec![Reason::Safeguards {
                threshold: "KNOW-1".into(),
                standard: "ASL-3".into(),
                safeguards: vec![
                    ("constitutional-guard".into(), SafeguardStatus::Missing),
                    ("security-hardening".into(), SafeguardStatus::Missing),
                ],
                action: "pause-deployment".into(),
            }]
        );
        assert_eq!(d.compute_cap_flop, Some(1.6e21));
        assert_eq!(exit_code(&d, &["rso".into(), "ceo".into()]), EXIT_BLOCKED);
    }

    #[test]
    fn safeguards_in_place_allow_deployment_after_signatures() {
        let findings = [finding("KNOW-1", Status::CannotRuleOut, true, true)];
        let (fired, d) = run(
            DecisionAction::Deploy,
            &findings,
            &safeguards(&[]),
            Some(1.6e21),
        );
        assert_eq!(fired.len(), 1, "only the early warning fires");
        assert!(d.allowed && d.reasons.is_empty());
        assert_eq!(d.required_signers, ["rso", "ceo"]);
        assert_eq!(d.informed, ["board"]);
        assert_eq!(exit_code(&d, &[]), EXIT_AWAITING_SIGNATURES);
        assert_eq!(d.awaiting(&["ceo".into()]), ["rso"]);
        assert_eq!(exit_code(&d, &["rso".into()]), EXIT_AWAITING_SIGNATURES);
        assert_eq!(exit_code(&d, &["ceo".into(), "rso".into()]), EXIT_ALLOWED);
    }

    #[test]
    fn research_domains_never_fire_or_block() {
        let findings = [finding("AUTO-1", Status::Crossed, true, false)];
        let (fired, d) = run(
            DecisionAction::Deploy,
            &findings,
            &safeguards(&["constitutional-guard"]),
            None,
        );
        assert!(fired.is_empty());
        assert!(d.allowed);
    }

    #[test]
    fn deployment_needs_the_baseline_standard_in_place() {
        let findings = [finding("KNOW-1", Status::RuledOut, true, false)];
        let (fired, d) = run(
            DecisionAction::Deploy,
            &findings,
            &safeguards(&["model-card"]),
            None,
        );
        assert!(fired.is_empty(), "no threshold action fires");
        assert!(!d.allowed);
        assert_eq!(
            d.reasons,
            [Reason::Baseline {
                standard: "ASL-2".into(),
                safeguards: vec![("model-card".into(), SafeguardStatus::Missing)],
            }]
        );
        assert_eq!(exit_code(&d, &["rso".into(), "ceo".into()]), EXIT_BLOCKED);
        // Training is not a deployment: the baseline does not gate it.
        let (_, t) = run(
            DecisionAction::Train { to_flop: 1e21 },
            &findings,
            &safeguards(&["model-card"]),
            None,
        );
        assert!(t.allowed);
    }

    #[test]
    fn training_is_capped_at_the_assessed_compute() {
        let findings = [finding("KNOW-1", Status::Crossed, true, true)];
        let sg = safeguards(&["constitutional-guard"]);
        let (_, over) = run(
            DecisionAction::Train { to_flop: 3.2e21 },
            &findings,
            &sg,
            Some(1.6e21),
        );
        assert!(!over.allowed);
        assert_eq!(
            over.reasons,
            vec![Reason::ComputeCap {
                requested_flop: 3.2e21,
                cap_flop: Some(1.6e21),
                action: "pause-deployment".into(),
            }]
        );
        assert_eq!(over.required_signers, ["rso", "ceo"]);
        assert!(over.informed.is_empty());
        let (_, at_cap) = run(
            DecisionAction::Train { to_flop: 1.6e21 },
            &findings,
            &sg,
            Some(1.6e21),
        );
        assert!(at_cap.allowed);
        let (_, unknown) = run(DecisionAction::Train { to_flop: 1.0 }, &findings, &sg, None);
        assert!(!unknown.allowed);
        // With the safeguards in place the cap does not apply.
        let (_, free) = run(
            DecisionAction::Train { to_flop: 1e30 },
            &findings,
            &safeguards(&[]),
            Some(1.6e21),
        );
        assert!(free.allowed && free.compute_cap_flop.is_none());
    }

    #[test]
    fn judgement_is_flagged_without_blocking() {
        let findings = [finding("KNOW-1", Status::CannotRuleOut, false, true)];
        let (fired, d) = run(
            DecisionAction::Deploy,
            &findings,
            &safeguards(&["constitutional-guard"]),
            None,
        );
        assert_eq!(fired.len(), 1, "alert only: not treated as crossed");
        assert!(d.allowed);
        assert_eq!(
            d.reasons,
            vec![Reason::Judgement {
                threshold: "KNOW-1".into(),
                status: Status::CannotRuleOut
            }]
        );
    }
}
