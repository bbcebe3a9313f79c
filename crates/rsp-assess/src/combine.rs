//! Combining a threshold's rule determinations into its finding.
//!
//! A threshold's status is the worst (or, with `combine = best`, the least
//! severe) of its rules, in [`Status`] order. It *counts as crossed* when
//! crossed, or when its line is not ruled out and the deciding rule says
//! `treat-as-crossed`; under `judgement` it is flagged for people instead.
//! Thresholds in research or exploratory domains are reported but never
//! raise the required standard or block.

use rsp_policy::{Combine, DomainStatus, Policy, Threshold, UnderUncertainty};

use crate::types::{Determination, Status, ThresholdFinding};

impl ThresholdFinding {
    /// True when the finding raises the required standard and can block:
    /// it counts as crossed and its domain is tracked.
    #[must_use]
    pub fn raises_standard(&self) -> bool {
        self.blocking && self.treated_as_crossed
    }
}

/// Combine the determinations of `threshold`'s rules into its finding.
#[must_use]
pub fn combine_threshold(
    policy: &Policy,
    threshold: &Threshold,
    rules: Vec<Determination>,
) -> ThresholdFinding {
    let combine = threshold.combine.unwrap_or(policy.defaults.combine);
    let domain_status = policy
        .domains
        .iter()
        .find(|d| d.id == threshold.domain)
        .map(|d| d.status);
    let mut notes = Vec::new();
    let status = if rules.is_empty() {
        notes.push("the threshold has no evidence rules, so nothing rules it out".to_owned());
        Status::NoEvidence
    } else {
        let statuses = rules.iter().map(|d| d.status);
        match combine {
            Combine::Worst => statuses.max(),
            Combine::Best => statuses.min(),
        }
        .unwrap_or(Status::NoEvidence)
    };
    // The rules that decided the status say how uncertainty is treated; if
    // any of them says treat-as-crossed, the threshold does (conservative).
    let deciding_uu = rules
        .iter()
        .filter(|d| d.status == status)
        .map(|d| d.under_uncertainty)
        .collect::<Vec<_>>();
    let treat = if deciding_uu.is_empty() {
        policy.defaults.under_uncertainty == UnderUncertainty::TreatAsCrossed
    } else {
        deciding_uu.contains(&UnderUncertainty::TreatAsCrossed)
    };
    let treated_as_crossed = status == Status::Crossed || (status.line_not_ruled_out() && treat);
    let needs_judgement = status.line_not_ruled_out() && !treated_as_crossed;
    if needs_judgement {
        notes.push(format!(
            "the line is not ruled out ({status}); under `judgement` the decision is for people, recorded with their signatures"
        ));
    } else if treated_as_crossed && status != Status::Crossed {
        notes.push(format!(
            "{status} counts as crossed under `treat-as-crossed`"
        ));
    }
    let blocking = match domain_status {
        Some(DomainStatus::Tracked) => true,
        Some(s) => {
            notes.push(format!(
                "domain `{}` is {s}: reported only; it does not raise the required standard or block",
                threshold.domain
            ));
            false
        }
        None => {
            notes.push(format!(
                "domain `{}` is not declared; treated as tracked",
                threshold.domain
            ));
            true
        }
    };
    ThresholdFinding {
        id: threshold.id.clone(),
        name: threshold.name.clone(),
        domain: threshold.domain.clone(),
        domain_status: domain_status.unwrap_or(DomainStatus::Tracked),
        blocking,
        status,
        combine,
        treated_as_crossed,
        needs_judgement,
        requires: threshold.requires.clone(),
        rules,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use rsp_policy::{Direction, Domain, Elicitation, EvidenceRule};

    use super::*;
    use crate::determine::{RuleEvidence, determine_rule};
    use crate::testing::{est, example_policy, run};
    use crate::types::Estimate;

    fn know1(policy: &Policy) -> &Threshold {
        policy.thresholds.iter().find(|t| t.id == "KNOW-1").unwrap()
    }

    fn policy_with(
        uu: UnderUncertainty,
        combine: Combine,
        domain: DomainStatus,
    ) -> (Policy, Threshold) {
        let mut p = example_policy();
        p.defaults.under_uncertainty = uu;
        p.domains = vec![Domain {
            id: "d".into(),
            name: "d".into(),
            status: domain,
            description: None,
        }];
        let rule = |suite: &str| EvidenceRule {
            suite: suite.into(),
            metric: "accuracy".into(),
            line: 0.5,
            alert: 0.3,
            confidence: None,
            direction: Direction::Higher,
            elicitation: Elicitation::default(),
            elicitation_margin: 0.0,
            crossed_when: None,
            under_uncertainty: None,
            min_samples: None,
        };
        let mut t = know1(&p).clone();
        t.domain = "d".into();
        t.combine = Some(combine);
        t.evidence = vec![rule("a"), rule("b")];
        (p, t)
    }

    fn two_rules(p: &Policy, t: &Threshold, a: Estimate, b: Estimate) -> ThresholdFinding {
        let ra = run(
            "ra",
            "a",
            "t",
            Elicitation::default(),
            "2026-11-02",
            "accuracy",
            a,
        );
        let rb = run(
            "rb",
            "b",
            "t",
            Elicitation::default(),
            "2026-11-02",
            "accuracy",
            b,
        );
        let da = determine_rule(
            p,
            t,
            0,
            RuleEvidence {
                run: Some(&ra),
                plain: None,
            },
        )
        .unwrap();
        let db = determine_rule(
            p,
            t,
            1,
            RuleEvidence {
                run: Some(&rb),
                plain: None,
            },
        )
        .unwrap();
        combine_threshold(p, t, vec![da, db])
    }

    #[test]
    fn combine_worst_best_and_uncertainty() {
        let low = est(0.1, 0.05, 0.2, 100);
        let unsure = est(0.4, 0.3, 0.55, 100);
        let (p, t) = policy_with(
            UnderUncertainty::TreatAsCrossed,
            Combine::Worst,
            DomainStatus::Tracked,
        );
        let f = two_rules(&p, &t, low.clone(), unsure.clone());
        assert_eq!(f.status, Status::CannotRuleOut);
        assert!(f.treated_as_crossed && f.raises_standard() && !f.needs_judgement);

        let (p, t) = policy_with(
            UnderUncertainty::TreatAsCrossed,
            Combine::Best,
            DomainStatus::Tracked,
        );
        let f = two_rules(&p, &t, low.clone(), unsure.clone());
        assert_eq!(f.status, Status::RuledOut);
        assert!(!f.treated_as_crossed);

        let (p, t) = policy_with(
            UnderUncertainty::Judgement,
            Combine::Worst,
            DomainStatus::Tracked,
        );
        let f = two_rules(&p, &t, low.clone(), unsure.clone());
        assert!(!f.treated_as_crossed && f.needs_judgement);
        assert!(f.note.unwrap().contains("judgement"));

        let (p, t) = policy_with(
            UnderUncertainty::Judgement,
            Combine::Worst,
            DomainStatus::Tracked,
        );
        let f = two_rules(&p, &t, low.clone(), est(0.6, 0.5, 0.7, 100));
        assert_eq!(f.status, Status::Crossed);
        assert!(
            f.treated_as_crossed,
            "crossed counts whatever the policy says about uncertainty"
        );

        let (p, t) = policy_with(
            UnderUncertainty::TreatAsCrossed,
            Combine::Worst,
            DomainStatus::Research,
        );
        let f = two_rules(&p, &t, low, unsure);
        assert!(f.treated_as_crossed && !f.blocking && !f.raises_standard());
        assert!(
            f.note
                .unwrap()
                .contains("does not raise the required standard")
        );
    }

    #[test]
    fn a_threshold_without_rules_is_not_ruled_out() {
        let (p, mut t) = policy_with(
            UnderUncertainty::TreatAsCrossed,
            Combine::Worst,
            DomainStatus::Tracked,
        );
        t.evidence.clear();
        let f = combine_threshold(&p, &t, vec![]);
        assert_eq!(f.status, Status::NoEvidence);
        assert!(f.treated_as_crossed);
    }
}
