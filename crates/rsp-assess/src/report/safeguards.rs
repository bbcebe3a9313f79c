//! The Safeguards Report: what the findings require, what is in place,
//! and what was decided, by whom.
//!
//! It follows the frameworks' safeguards reports: the required standards
//! and the thresholds that require them, each required safeguard with its
//! evidence (an attested file's hash, role and expiry, or a measured
//! metric against its bound), the policy actions that fired, and each
//! decision with its reasons and signatures.

use super::doc::{Doc, Line, Tone};
use super::numbers::{estimate, level, num, safeguard_badge, short, status};
use super::transcripts::{self, note_run};
use super::{ReportExtras, decisions, header};
use crate::types::{Assessment, SafeguardEvidenceFinding, SafeguardFinding, SafeguardStatus};

/// Build the Safeguards Report.
pub(crate) fn build(a: &Assessment, x: &ReportExtras) -> Doc {
    let title = format!("Safeguards Report: {}", a.model.name);
    let mut d = Doc::new(title.clone());
    header::identity(&mut d, &title, a, x);
    required(&mut d, a);
    safeguards(&mut d, a);
    actions(&mut d, a);
    d.heading(2, "Decisions");
    if a.decisions.is_empty() {
        d.para("No decision was requested.");
    }
    for o in &a.decisions {
        let rec = x.decisions.iter().find(|r| r.action == o.action);
        decisions::decision(&mut d, o, rec);
    }
    let mut runs = Vec::new();
    for s in a.safeguards.iter().filter(|s| s.required) {
        if let SafeguardEvidenceFinding::Metric {
            run_id: Some(id), ..
        } = &s.evidence
        {
            note_run(&mut runs, id, format!("safeguard {}", s.id));
        }
    }
    transcripts::section(&mut d, &runs, &a.id, x);
    d
}

fn threshold_status(a: &Assessment, id: &str) -> String {
    a.findings.iter().find(|f| f.id == id).map_or_else(
        || id.to_owned(),
        |f| format!("{id} ({})", status(f.status).0),
    )
}

fn required(d: &mut Doc, a: &Assessment) {
    d.heading(2, "Required safeguard standards");
    let r = &a.required;
    let Some(highest) = &r.highest else {
        d.para("No safeguard standard is required.");
        return;
    };
    let met = r.in_place.as_ref() == Some(highest);
    d.para(
        Line::new()
            .text("Required: ")
            .strong(highest)
            .text(". In place: ")
            .strong(r.in_place.as_deref().unwrap_or("none"))
            .text(". ")
            .badge(
                if met {
                    "requirement met"
                } else {
                    "requirement not met"
                },
                if met { Tone::Good } else { Tone::Bad },
                "requirement",
            ),
    );
    let rows = r
        .standards
        .iter()
        .map(|s| {
            let mut why = Vec::new();
            if r.baseline.as_ref() == Some(s) {
                why.push("the baseline every model needs".to_owned());
            }
            if let Some(ts) = r.because.get(s) {
                let ts: Vec<String> = ts.iter().map(|t| threshold_status(a, t)).collect();
                why.push(format!("required by {}", ts.join(", ")));
            }
            if why.is_empty() {
                why.push("included by a higher required standard".to_owned());
            }
            vec![Line::new().strong(s), Line::from(why.join("; "))]
        })
        .collect();
    d.table(&["Standard", "Why it is required"], rows);
}

fn safeguards(d: &mut Doc, a: &Assessment) {
    d.heading(2, "Required safeguards");
    let req: Vec<&SafeguardFinding> = a.safeguards.iter().filter(|s| s.required).collect();
    if req.is_empty() {
        d.para("No safeguard is required.");
    } else {
        let ok = req
            .iter()
            .filter(|s| s.status == SafeguardStatus::InPlace)
            .count();
        d.para(format!(
            "{ok} of {} required safeguards are in place.",
            req.len()
        ));
        let rows = req
            .iter()
            .map(|s| {
                vec![
                    Line::new().anchor(s.id.clone(), format!("safeguard-{}", s.id)),
                    Line::from(s.standard.as_str()),
                    Line::from(s.kind.to_string()),
                    safeguard_badge(s.status),
                    Line::from(evidence_summary(&s.evidence)),
                ]
            })
            .collect();
        d.table(
            &["Safeguard", "Standard", "Kind", "Status", "Evidence"],
            rows,
        );
        for s in &req {
            safeguard(d, s);
        }
    }
    let other: Vec<Vec<Line>> = a
        .safeguards
        .iter()
        .filter(|s| !s.required)
        .map(|s| {
            vec![
                Line::new().code(&s.id),
                Line::from(s.standard.as_str()),
                Line::from(s.kind.to_string()),
                safeguard_badge(s.status),
            ]
        })
        .collect();
    if !other.is_empty() {
        d.heading(3, "Safeguards of standards not required now");
        d.table(&["Safeguard", "Standard", "Kind", "Status"], other);
    }
}

fn evidence_summary(e: &SafeguardEvidenceFinding) -> String {
    match e {
        SafeguardEvidenceFinding::Attestation {
            required_role,
            attestation,
            valid_until,
            ..
        } => match (attestation, valid_until) {
            (Some(at), Some(u)) => format!("attested by {}, valid until {u}", at.by_role),
            (Some(at), None) => format!("attested by {}", at.by_role),
            (None, _) => format!("no attestation by {required_role}"),
        },
        SafeguardEvidenceFinding::Metric {
            metric,
            estimate: e,
            ..
        } => e.as_ref().map_or_else(
            || format!("{metric}: not measured"),
            |e| format!("{metric}: {}", estimate(e)),
        ),
    }
}

fn safeguard(d: &mut Doc, s: &SafeguardFinding) {
    d.heading_id(
        3,
        format!("safeguard-{}", s.id),
        Line::new()
            .code(&s.id)
            .text(format!(" ({}, {})", s.standard, s.kind)),
    );
    d.para(s.description.as_str());
    let mut rows = vec![("Status", safeguard_badge(s.status))];
    match &s.evidence {
        SafeguardEvidenceFinding::Attestation {
            required_role,
            valid_days,
            attestation,
            valid_until,
        } => {
            rows.push((
                "Evidence required",
                Line::from(format!(
                    "an attestation by {required_role}, valid {valid_days} days"
                )),
            ));
            match attestation {
                None => rows.push(("Attestation", Line::from("none found"))),
                Some(at) => {
                    let mut by = Line::from(at.by_role.as_str());
                    if &at.by_role != required_role {
                        by = by.text(" ").badge("wrong role", Tone::Bad, "wrong-role");
                    }
                    rows.push(("Attested by", by));
                    rows.push((
                        "Attested at",
                        Line::from(at.created_at.format("%Y-%m-%d %H:%M UTC").to_string()),
                    ));
                    rows.push(("Expiry given", Line::from(at.expires.to_string())));
                    rows.push(("Recorded SHA-256", Line::new().code(&at.recorded_sha256)));
                    let now = match &at.evidence_sha256 {
                        None => Line::new().badge("file missing", Tone::Bad, "hash-missing"),
                        Some(h) if h.eq_ignore_ascii_case(&at.recorded_sha256) => Line::new()
                            .code(h)
                            .text(" ")
                            .badge("matches", Tone::Good, "hash-ok"),
                        Some(h) => Line::new().code(h).text(" ").badge(
                            "does not match",
                            Tone::Bad,
                            "hash-mismatch",
                        ),
                    };
                    rows.push(("Evidence file SHA-256 now", now));
                }
            }
            rows.push((
                "Valid until",
                Line::from(valid_until.map_or_else(|| "n/a".to_owned(), |u| u.to_string())),
            ));
        }
        SafeguardEvidenceFinding::Metric {
            suite,
            metric,
            max,
            min,
            confidence,
            valid_days,
            run_id,
            estimate: est,
            measured_at,
            valid_until,
        } => {
            rows.push(("Metric", Line::new().code(suite).text(" · ").code(metric)));
            let mut bounds = Vec::new();
            if let Some(m) = max {
                bounds.push(format!("upper bound ≤ {}", short(*m)));
            }
            if let Some(m) = min {
                bounds.push(format!("lower bound ≥ {}", short(*m)));
            }
            rows.push((
                "Bound required",
                Line::from(format!(
                    "{} at {} confidence, measured within {valid_days} days",
                    bounds.join(" and "),
                    level(*confidence)
                )),
            ));
            rows.push((
                "Run",
                run_id
                    .as_ref()
                    .map_or_else(|| Line::from("none"), |r| Line::new().code(r)),
            ));
            rows.push((
                "Estimate",
                Line::from(
                    est.as_ref()
                        .map_or_else(|| "not measured".to_owned(), estimate),
                ),
            ));
            if let Some(e) = est {
                let mut checks = Vec::new();
                if let Some(m) = max {
                    let ok = e.upper <= *m;
                    checks.push(format!(
                        "upper bound {} {} {}",
                        num(e.upper),
                        if ok { "≤" } else { ">" },
                        short(*m)
                    ));
                }
                if let Some(m) = min {
                    let ok = e.lower >= *m;
                    checks.push(format!(
                        "lower bound {} {} {}",
                        num(e.lower),
                        if ok { "≥" } else { "<" },
                        short(*m)
                    ));
                }
                rows.push(("Against the bound", Line::from(checks.join("; "))));
            }
            if let Some(t) = measured_at {
                rows.push((
                    "Measured at",
                    Line::from(t.format("%Y-%m-%d %H:%M UTC").to_string()),
                ));
            }
            rows.push((
                "Valid until",
                Line::from(valid_until.map_or_else(|| "n/a".to_owned(), |u| u.to_string())),
            ));
        }
    }
    if let Some(n) = &s.note {
        rows.push(("Note", Line::from(n.as_str())));
    }
    d.facts(rows);
}

fn actions(d: &mut Doc, a: &Assessment) {
    d.heading(2, "Policy actions that fired");
    if a.fired_actions.is_empty() {
        d.para("None: no situation the policy acts on holds.");
        return;
    }
    let rows = a
        .fired_actions
        .iter()
        .map(|f| {
            let mut effects = Vec::new();
            if f.block_deployment {
                effects.push("blocks deployment".to_owned());
            }
            if f.cap_training_compute {
                effects.push("caps training compute".to_owned());
            }
            if !f.notify.is_empty() {
                effects.push(format!("notifies {}", f.notify.join(", ")));
            }
            let mut what = Line::from(f.when.to_string());
            if let Some(desc) = &f.description {
                what = what.text(format!(". {desc}"));
            }
            vec![
                Line::new().code(&f.id),
                what,
                Line::from(f.thresholds.join(", ")),
                Line::from(if effects.is_empty() {
                    "none".to_owned()
                } else {
                    effects.join("; ")
                }),
            ]
        })
        .collect();
    d.table(&["Action", "When", "Thresholds", "Effect"], rows);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_summary_names_what_is_missing() {
        let e = SafeguardEvidenceFinding::Attestation {
            required_role: "ciso".into(),
            valid_days: 30,
            attestation: None,
            valid_until: None,
        };
        assert_eq!(evidence_summary(&e), "no attestation by ciso");
        let m = SafeguardEvidenceFinding::Metric {
            suite: "g".into(),
            metric: "asr".into(),
            max: Some(0.1),
            min: None,
            confidence: 0.95,
            valid_days: 30,
            run_id: None,
            estimate: None,
            measured_at: None,
            valid_until: None,
        };
        assert_eq!(evidence_summary(&m), "asr: not measured");
    }
}
