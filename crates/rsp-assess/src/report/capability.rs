//! The Capability Report: what the model can do, with the evidence.
//!
//! Order follows the frontier frameworks' capability reports: a summary a
//! reader can act on, why the assessment was due, the findings per
//! threshold with every rule's numbers, the calibration of the lines (so a
//! policy that rings the alarm every week shows as such, see
//! [`super::calibration`]), the forecast across the model's lineage (see
//! [`super::forecast`]), and sampled transcripts.

use rsp_policy::{CrossedWhen, Direction, UnderUncertainty};

use super::doc::{Doc, Line};
use super::numbers::{
    capable_bound, elicitation, estimate, headroom, level, num, reaches, short, status,
    status_badge,
};
use super::transcripts::{self, note_run};
use super::{ReportExtras, calibration, forecast, header};
use crate::types::{Assessment, Determination, Status, ThresholdFinding};

/// Build the Capability Report.
pub(crate) fn build(a: &Assessment, x: &ReportExtras) -> Doc {
    let title = format!("Capability Report: {}", a.model.name);
    let mut d = Doc::new(title.clone());
    header::identity(&mut d, &title, a, x);
    summary(&mut d, a);
    header::why_due(&mut d, a);
    d.heading(2, "Findings per threshold");
    for f in &a.findings {
        finding(&mut d, f);
    }
    calibration::section(&mut d, a);
    forecast::section(&mut d, x);
    let mut runs = Vec::new();
    for f in &a.findings {
        for r in &f.rules {
            let what = format!("{} rule {} ({} · {})", f.id, r.rule + 1, r.suite, r.metric);
            if let Some(id) = &r.run_id {
                note_run(&mut runs, id, what.clone());
            }
            if let Some(id) = &r.plain_run_id {
                note_run(&mut runs, id, format!("plain baseline of {what}"));
            }
        }
    }
    transcripts::section(&mut d, &runs, &a.id, x);
    d
}

fn summary(d: &mut Doc, a: &Assessment) {
    d.heading(2, "Summary");
    let mut counts = Vec::new();
    for s in [
        Status::Crossed,
        Status::CannotRuleOut,
        Status::NoEvidence,
        Status::Alert,
        Status::RuledOut,
    ] {
        let n = a.findings.iter().filter(|f| f.status == s).count();
        if n > 0 {
            counts.push(format!("{n} {}", status(s).0));
        }
    }
    d.para(format!(
        "{} thresholds assessed: {}.",
        a.findings.len(),
        if counts.is_empty() {
            "none".to_owned()
        } else {
            counts.join(", ")
        }
    ));
    let req = match &a.required.highest {
        Some(h) => Line::new()
            .text("Required safeguard standard: ")
            .strong(h)
            .text(" (the Safeguards Report says whether it is in place)."),
        None => Line::from("No safeguard standard is required."),
    };
    d.para(req);
    let rows = a.findings.iter().map(summary_row).collect();
    d.table(
        &[
            "Threshold",
            "Domain",
            "Status",
            "Nearest rule",
            "Estimate after margin [CI]",
            "Alert line",
            "Line",
            "Blocks?",
        ],
        rows,
    );
    d.para("How to read the status (the interval's bound on the capable side, after the elicitation margin, is what meets the lines):");
    d.list(vec![
        Line::new().extend(status_badge(Status::RuledOut)).text(": the bound is short of the alert line."),
        Line::new().extend(status_badge(Status::Alert)).text(": the bound reaches the alert line but not the line (early warning)."),
        Line::new().extend(status_badge(Status::CannotRuleOut)).text(": the bound reaches the line while the estimate does not; the line cannot be ruled out."),
        Line::new().extend(status_badge(Status::Crossed)).text(": the estimate (or the lower bound, as the policy says) reaches the line."),
        Line::new().extend(status_badge(Status::NoEvidence)).text(": no usable run, so nothing is ruled out."),
    ]);
}

/// Element id of a threshold's findings (`threshold-KNOW-1`).
pub(crate) fn anchor(id: &str) -> String {
    format!("threshold-{id}")
}

/// The rule nearest to its line: the most severe status, then the
/// smallest headroom between the adjusted bound and the line.
fn nearest(f: &ThresholdFinding) -> Option<&Determination> {
    f.rules.iter().max_by(|p, q| {
        let room = |r: &Determination| {
            r.adjusted.as_ref().map_or(f64::INFINITY, |e| {
                headroom(capable_bound(e, r.direction), r.line, r.direction)
            })
        };
        p.status
            .cmp(&q.status)
            .then_with(|| room(q).total_cmp(&room(p)))
    })
}

fn summary_row(f: &ThresholdFinding) -> Vec<Line> {
    let near = nearest(f);
    let est = near.map_or_else(
        || Line::from("no rules"),
        |r| match &r.adjusted {
            Some(e) => Line::from(estimate(e)),
            None => Line::from("no evidence"),
        },
    );
    let blocks = if !f.blocking {
        format!("no: {} domain, reported only", f.domain_status)
    } else if f.treated_as_crossed {
        "yes: treated as crossed".to_owned()
    } else if f.needs_judgement {
        "people decide (judgement)".to_owned()
    } else {
        "no".to_owned()
    };
    vec![
        Line::new().anchor(f.id.clone(), anchor(&f.id)),
        Line::from(f.domain.as_str()),
        status_badge(f.status),
        near.map_or_else(Line::new, |r| {
            Line::new().code(&r.suite).text(" · ").code(&r.metric)
        }),
        est,
        near.map_or_else(Line::new, |r| {
            Line::from(format!("{} {}", reaches(r.direction), short(r.alert)))
        }),
        near.map_or_else(Line::new, |r| {
            Line::from(format!("{} {}", reaches(r.direction), short(r.line)))
        }),
        Line::from(blocks),
    ]
}

fn finding(d: &mut Doc, f: &ThresholdFinding) {
    let title = match &f.name {
        Some(n) => format!("{}: {n}", f.id),
        None => f.id.clone(),
    };
    d.heading_id(3, anchor(&f.id), title);
    let mut facts = vec![
        Line::new()
            .text("Status: ")
            .extend(status_badge(f.status))
            .text(format!(
                " (rules combined: the {} rule decides).",
                match f.combine {
                    rsp_policy::Combine::Worst => "most severe",
                    rsp_policy::Combine::Best => "least severe",
                }
            )),
        Line::new()
            .text(format!("Domain: {} ({}); ", f.domain, f.domain_status))
            .text(if f.blocking {
                "findings here can raise the required standard and block."
            } else {
                "findings here are reported only and never block."
            }),
        Line::new()
            .text("Requires ")
            .strong(&f.requires)
            .text(if f.treated_as_crossed {
                " now: the threshold counts as crossed."
            } else {
                " once the threshold counts as crossed; it does not now."
            }),
    ];
    if f.needs_judgement {
        facts.push(Line::from(
            "The line is not ruled out and the policy leaves this case to judgement: the named roles decide.",
        ));
    }
    if let Some(n) = &f.note {
        facts.push(Line::from(format!("Note: {n}")));
    }
    d.list(facts);
    if f.rules.is_empty() {
        d.para("This threshold has no evidence rules.");
    }
    for r in &f.rules {
        rule(d, r);
    }
}

fn rule(d: &mut Doc, r: &Determination) {
    d.heading(
        4,
        Line::new()
            .text(format!("Rule {}: ", r.rule + 1))
            .code(&r.suite)
            .text(" · ")
            .code(&r.metric),
    );
    d.para(explain(r));
    let opt_est = |e: &Option<_>| {
        e.as_ref()
            .map_or_else(|| Line::from("none"), |e| Line::from(estimate(e)))
    };
    let arrow = reaches(r.direction);
    let mut rows = vec![
        ("Status", status_badge(r.status)),
        (
            "Run",
            r.run_id
                .as_ref()
                .map_or_else(|| Line::from("none"), |id| Line::new().code(id)),
        ),
        ("Estimate as measured", opt_est(&r.raw)),
        (
            "Elicitation margin",
            Line::from(if r.margin > 0.0 {
                format!("{} toward more capable", short(r.margin))
            } else {
                "none".to_owned()
            }),
        ),
        (
            "Estimate after margin (compared with the lines)",
            opt_est(&r.adjusted),
        ),
        (
            "Lines",
            Line::from(format!(
                "alert {arrow} {}, line {arrow} {} ({} is more capable)",
                short(r.alert),
                short(r.line),
                match r.direction {
                    Direction::Higher => "higher",
                    Direction::Lower => "lower",
                }
            )),
        ),
        (
            "Crossed when",
            Line::from(match r.crossed_when {
                CrossedWhen::Estimate => "the estimate reaches the line",
                CrossedWhen::LowerBound => "the whole interval is past the line",
            }),
        ),
        (
            "If the line cannot be ruled out",
            Line::from(match r.under_uncertainty {
                UnderUncertainty::TreatAsCrossed => "treat it as crossed",
                UnderUncertainty::Judgement => "the named roles decide",
            }),
        ),
        (
            "Samples",
            Line::from(match (r.n, r.min_samples) {
                (Some(n), Some(m)) => format!("n = {n} (policy minimum {m})"),
                (Some(n), None) => format!("n = {n}"),
                (None, Some(m)) => format!("none (policy minimum {m})"),
                (None, None) => "none".to_owned(),
            }),
        ),
        (
            "Interval",
            Line::from(match &r.method {
                Some(m) => format!("{m}, {} two-sided", level(r.confidence)),
                None => format!(
                    "no run (the rule asks for {} two-sided)",
                    level(r.confidence)
                ),
            }),
        ),
        (
            "Elicitation required",
            Line::from(elicitation(&r.elicitation_required)),
        ),
        (
            "Elicitation used",
            Line::from(
                r.elicitation_used
                    .as_ref()
                    .map_or_else(|| "no run".to_owned(), elicitation),
            ),
        ),
    ];
    if let Some(p) = &r.plain {
        let mut l = Line::from(estimate(p));
        if let Some(id) = &r.plain_run_id {
            l = l.text(", run ").code(id);
        }
        rows.push(("Plain-prompting estimate", l));
    }
    rows.push((
        "Elicitation gap",
        Line::from(r.elicitation_gap.map_or_else(
            || "not measured (no plain run to compare with)".to_owned(),
            |g| {
                format!(
                    "{} (elicited minus plain, positive when elicitation helped)",
                    signed(g)
                )
            },
        )),
    ));
    rows.push((
        "More samples to rule the line out",
        Line::from(match (r.status, r.more_samples_to_rule_out) {
            (Status::RuledOut, _) => "none needed".to_owned(),
            (_, Some(m)) => format!(
                "about {m} more would give an 80% chance of ruling it out, if the true score equals the estimate"
            ),
            (_, None) => "no number of samples would, at this estimate (or the metric is not binary)".to_owned(),
        }),
    ));
    if let Some(n) = &r.note {
        rows.push(("Note", Line::from(n.as_str())));
    }
    d.facts(rows);
}

/// The determination in one plain sentence, with the numbers that made it.
fn explain(r: &Determination) -> String {
    let Some(adj) = &r.adjusted else {
        return format!(
            "No usable run: {}",
            r.note.as_deref().unwrap_or("the evidence is missing.")
        );
    };
    let side = match r.direction {
        Direction::Higher => "upper",
        Direction::Lower => "lower",
    };
    let b = num(capable_bound(adj, r.direction));
    let (alert, line) = (short(r.alert), short(r.line));
    let verdict = match r.status {
        Status::RuledOut => {
            format!(
                "its {side} bound, {b}, is short of the alert line {alert}: the line is ruled out."
            )
        }
        Status::Alert => format!(
            "its {side} bound, {b}, reaches the alert line {alert} but not the line {line}: early warning."
        ),
        Status::CannotRuleOut => format!(
            "its {side} bound, {b}, reaches the line {line} while the estimate does not: the line cannot be ruled out."
        ),
        Status::Crossed => match r.crossed_when {
            CrossedWhen::Estimate => format!("the estimate reaches the line {line}: crossed."),
            CrossedWhen::LowerBound => {
                format!("the whole interval is past the line {line}: crossed.")
            }
        },
        Status::NoEvidence => format!(
            "yet the rule found no usable evidence: {}",
            r.note.as_deref().unwrap_or("the run does not qualify.")
        ),
    };
    format!("After the margin: {}; {verdict}", estimate(adj))
}

fn signed(x: f64) -> String {
    if x > 0.0 {
        format!("+{}", num(x))
    } else {
        num(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Estimate;
    use rsp_policy::Elicitation;

    fn det(status: Status, upper: Option<f64>, direction: Direction) -> Determination {
        let e = upper.map(|u| Estimate {
            value: u - 0.1,
            lower: u - 0.2,
            upper: u,
            n: 100,
            method: "Wilson".into(),
            confidence: 0.95,
        });
        Determination {
            threshold: "T".into(),
            rule: 0,
            suite: "s".into(),
            metric: "m".into(),
            status,
            raw: e.clone(),
            adjusted: e,
            line: 0.6,
            alert: 0.4,
            direction,
            margin: 0.0,
            crossed_when: CrossedWhen::Estimate,
            under_uncertainty: UnderUncertainty::TreatAsCrossed,
            n: upper.map(|_| 100),
            method: upper.map(|_| "Wilson".into()),
            confidence: 0.95,
            min_samples: None,
            elicitation_required: Elicitation::default(),
            elicitation_used: None,
            plain: None,
            elicitation_gap: None,
            more_samples_to_rule_out: None,
            run_id: None,
            plain_run_id: None,
            note: None,
        }
    }

    fn finding(rules: Vec<Determination>) -> ThresholdFinding {
        ThresholdFinding {
            id: "T".into(),
            name: None,
            domain: "d".into(),
            domain_status: rsp_policy::DomainStatus::Tracked,
            blocking: true,
            status: Status::Alert,
            combine: rsp_policy::Combine::Worst,
            treated_as_crossed: false,
            needs_judgement: false,
            requires: "S".into(),
            rules,
            note: None,
        }
    }

    #[test]
    fn nearest_rule_is_most_severe_then_closest_to_its_line() {
        let f = finding(vec![
            det(Status::Alert, Some(0.45), Direction::Higher),
            det(Status::Alert, Some(0.55), Direction::Higher),
            det(Status::RuledOut, Some(0.3), Direction::Higher),
        ]);
        assert_eq!(
            nearest(&f)
                .and_then(|r| r.adjusted.as_ref())
                .map(|e| e.upper),
            Some(0.55)
        );
        let f = finding(vec![
            det(Status::RuledOut, Some(0.3), Direction::Higher),
            det(Status::NoEvidence, None, Direction::Higher),
        ]);
        assert_eq!(nearest(&f).map(|r| r.status), Some(Status::NoEvidence));
    }

    #[test]
    fn explanation_names_the_bound_compared_with_the_lines() {
        let r = det(Status::Alert, Some(0.45), Direction::Higher);
        assert_eq!(
            explain(&r),
            "After the margin: 0.350 [0.250, 0.450] (n = 100, Wilson, 95% CI); its upper bound, 0.450, reaches the alert line 0.4 but not the line 0.6: early warning."
        );
        let mut r = det(Status::RuledOut, Some(0.9), Direction::Lower);
        r.line = 0.2;
        r.alert = 0.5;
        assert!(explain(&r).contains("; its lower bound, 0.700, is short of the alert line 0.5"));
        let r = det(Status::NoEvidence, None, Direction::Higher);
        assert_eq!(explain(&r), "No usable run: the evidence is missing.");
    }
}
