//! The decisions section of the Safeguards Report.
//!
//! A decision is shown as computed (allowed or blocked, with every reason
//! and the compute cap) next to its stored state: who must sign, which
//! signatures are present and valid, and who has yet to sign. An invalid
//! signature is listed as rejected rather than dropped, so a forged or
//! wrong-key signature is visible to the reader.

use super::DecisionRecord;
use super::doc::{Doc, Line, Tone};
use super::numbers::{flop, status};
use crate::types::{DecisionAction, DecisionOutcome, Reason};

fn action_slug(a: &DecisionAction) -> String {
    match a {
        DecisionAction::Deploy => "deploy".to_owned(),
        DecisionAction::Train { to_flop } => format!("train-{to_flop:e}"),
    }
}

fn reason(r: &Reason) -> Line {
    match r {
        Reason::Threshold {
            threshold,
            status: s,
            action,
        } => Line::from(format!(
            "Threshold {threshold} stands at \"{}\" and action {action} blocks on it.",
            status(*s).0
        )),
        Reason::Safeguards {
            threshold,
            standard,
            safeguards,
            action,
        } => {
            let missing: Vec<String> = safeguards
                .iter()
                .map(|(id, st)| format!("{id} ({})", st.label().replace('-', " ")))
                .collect();
            Line::from(format!(
                "Threshold {threshold} requires {standard}, whose safeguards are not all in place: {}; action {action}.",
                missing.join(", ")
            ))
        }
        Reason::ComputeCap {
            requested_flop,
            cap_flop,
            action,
        } => Line::from(match cap_flop {
            Some(cap) => format!(
                "Training to {} exceeds the cap of {} set by action {action}.",
                flop(*requested_flop),
                flop(*cap)
            ),
            None => format!(
                "Training to {} is not allowed: action {action} caps training at the model's compute, which is unknown.",
                flop(*requested_flop)
            ),
        }),
        Reason::Baseline {
            standard,
            safeguards,
        } => {
            let missing: Vec<String> = safeguards
                .iter()
                .map(|(id, st)| format!("{id} ({st})"))
                .collect();
            Line::from(format!(
                "Deployment needs the baseline standard {standard}, whose safeguards are not all in place: {}.",
                missing.join(", ")
            ))
        }
        Reason::Judgement {
            threshold,
            status: s,
        } => Line::from(format!(
            "Not blocking: threshold {threshold} stands at \"{}\" and the policy leaves it to the named roles' judgement.",
            status(*s).0
        )),
    }
}

/// One decision: outcome, reasons, signers and signatures.
pub(crate) fn decision(d: &mut Doc, o: &DecisionOutcome, rec: Option<&DecisionRecord>) {
    d.heading_id(
        3,
        format!("decision-{}", action_slug(&o.action)),
        Line::new()
            .text(format!("Decision: {} ", o.action))
            .extend(outcome_badge(o.allowed)),
    );
    let signed_roles: Vec<&str> = rec
        .map(|r| {
            r.signatures
                .iter()
                .filter(|s| s.valid)
                .map(|s| s.role.as_str())
                .collect()
        })
        .unwrap_or_default();
    let awaiting: Vec<&String> = o
        .required_signers
        .iter()
        .filter(|r| !signed_roles.contains(&r.as_str()))
        .collect();
    let mut rows = vec![("Outcome", outcome_badge(o.allowed))];
    match rec {
        Some(r) => {
            rows.push(("Decision id", Line::new().code(&r.id)));
            let tone = if awaiting.is_empty() {
                Tone::Good
            } else {
                Tone::Caution
            };
            rows.push((
                "Signing state",
                Line::new().badge(r.status.as_str(), tone, "decision-state"),
            ));
        }
        None => rows.push((
            "Decision id",
            Line::from("not recorded: shown as computed, unsigned"),
        )),
    }
    rows.push((
        "Training compute cap",
        Line::from(o.compute_cap_flop.map_or_else(|| "none".to_owned(), flop)),
    ));
    rows.push((
        "Must sign",
        Line::from(if o.required_signers.is_empty() {
            "nobody".to_owned()
        } else {
            o.required_signers.join(", ")
        }),
    ));
    if !o.informed.is_empty() {
        rows.push(("Informed before acting", Line::from(o.informed.join(", "))));
    }
    d.facts(rows);
    let (blocking, flags): (Vec<&Reason>, Vec<&Reason>) =
        o.reasons.iter().partition(|r| r.blocks());
    if !blocking.is_empty() {
        d.para("Blocked because:");
        d.list(blocking.into_iter().map(reason).collect());
    }
    if !flags.is_empty() {
        d.para("For the signers' attention:");
        d.list(flags.into_iter().map(reason).collect());
    }
    signatures(d, o, rec, &awaiting);
}

fn outcome_badge(allowed: bool) -> Line {
    if allowed {
        Line::new().badge("allowed", Tone::Good, "decision-allowed")
    } else {
        Line::new().badge("blocked", Tone::Bad, "decision-blocked")
    }
}

fn signatures(
    d: &mut Doc,
    o: &DecisionOutcome,
    rec: Option<&DecisionRecord>,
    awaiting: &[&String],
) {
    let sigs = rec.map_or(&[][..], |r| r.signatures.as_slice());
    if sigs.is_empty() && o.required_signers.is_empty() {
        return;
    }
    let mut rows: Vec<Vec<Line>> = sigs
        .iter()
        .map(|s| {
            vec![
                Line::from(s.role.as_str()),
                Line::from(if o.required_signers.contains(&s.role) {
                    "yes"
                } else {
                    "no"
                }),
                Line::new().code(&s.key_id),
                Line::from(s.signed_at.format("%Y-%m-%d %H:%M UTC").to_string()),
                if s.valid {
                    Line::new().badge("valid", Tone::Good, "signature-valid")
                } else {
                    Line::new().badge("invalid: rejected", Tone::Bad, "signature-invalid")
                },
            ]
        })
        .collect();
    for role in awaiting {
        rows.push(vec![
            Line::from(role.as_str()),
            Line::from("yes"),
            Line::from("none"),
            Line::from("not signed"),
            Line::new().badge("awaiting signature", Tone::Caution, "signature-missing"),
        ]);
    }
    d.table(&["Role", "Required", "Key", "Signed at", "Signature"], rows);
    if !awaiting.is_empty() {
        d.callout(
            Tone::Caution,
            "Draft",
            format!(
                "this decision is final only once these roles have signed it with their keys: {}.",
                awaiting
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_compute_cap_blocks_all_training() {
        let r = Reason::ComputeCap {
            requested_flop: 2e21,
            cap_flop: None,
            action: "cap".into(),
        };
        assert!(reason(&r).0.iter().any(|i| matches!(
            i,
            crate::report::doc::Inline::Text(t) if t.contains("which is unknown")
        )));
    }

    #[test]
    fn decision_anchors_distinguish_training_targets() {
        assert_eq!(action_slug(&DecisionAction::Deploy), "deploy");
        assert_eq!(
            action_slug(&DecisionAction::Train { to_flop: 6.4e21 }),
            "train-6.4e21"
        );
    }
}
