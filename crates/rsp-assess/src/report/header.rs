//! The opening of both reports: which assessment, of which model, under
//! which policy, and why it was due.

use super::ReportExtras;
use super::doc::{Doc, Line, Tone};
use super::numbers::{flop, num};
use crate::types::{Assessment, NextAssessment};

/// Title, identity table, and a warning if the policy file changed since.
pub(crate) fn identity(d: &mut Doc, title: &str, a: &Assessment, x: &ReportExtras) {
    d.heading(1, title);
    d.para(
        Line::new()
            .text("Assessment ")
            .code(&a.id)
            .text(" of model ")
            .code(&a.model.name)
            .text(" under ")
            .strong(&a.policy.name)
            .text(format!(
                " version {}, made {}.",
                a.policy.version,
                a.created_at.format("%Y-%m-%d %H:%M UTC")
            )),
    );
    let m = &a.model;
    let opt = |v: Option<f64>, f: fn(f64) -> String| v.map_or_else(|| "unknown".to_owned(), f);
    let mut rows = vec![
        ("Assessment", Line::new().code(&a.id)),
        (
            "Made",
            Line::from(a.created_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        ),
        (
            "Comprehensive",
            Line::from(if a.comprehensive {
                "yes: every required piece of evidence was present"
            } else {
                "no: some required evidence was missing"
            }),
        ),
        (
            "Policy",
            Line::from(format!("{} version {}", a.policy.name, a.policy.version)),
        ),
        ("Policy SHA-256", Line::new().code(&a.policy.sha256)),
        (
            "Model",
            Line::new().code(&m.name).text(" via ").code(&m.spec),
        ),
        (
            "Effective training compute",
            Line::from(opt(m.effective_compute_flop, flop)),
        ),
        ("Parameters", Line::from(opt(m.parameters, count))),
        ("Training tokens", Line::from(opt(m.training_tokens, count))),
    ];
    if let Some(date) = m.date {
        rows.push(("Model date", Line::from(date.to_string())));
    }
    if let Some(p) = &m.parent {
        rows.push(("Parent model", Line::new().code(p)));
    }
    if !x.rsp_version.is_empty() {
        rows.push(("Rendered by", Line::from(format!("rsp {}", x.rsp_version))));
    }
    d.facts(rows);
    if let Some(now) = &x.policy_sha256
        && !now.eq_ignore_ascii_case(&a.policy.sha256)
    {
        d.callout(
            Tone::Bad,
            "Policy changed",
            Line::new()
                .text("the policy file now hashes to ")
                .code(now)
                .text(", not to the version this assessment applied. Its conclusions hold for the old policy only; assess again."),
        );
    }
}

/// Why the assessment was due, and when the next one is.
pub(crate) fn why_due(d: &mut Doc, a: &Assessment) {
    d.heading(2, "Why this assessment was made");
    let t = &a.trigger;
    if t.reasons.is_empty() {
        d.para("No trigger of the policy applied: the assessment was made on request.");
    } else {
        d.para("The policy requires an assessment because:");
        d.list(
            t.reasons
                .iter()
                .map(|r| Line::from(r.to_string()))
                .collect(),
        );
    }
    if !t.not_evaluated.is_empty() {
        d.para("Triggers the policy sets that could not be evaluated:");
        d.list(
            t.not_evaluated
                .iter()
                .map(|s| Line::from(s.as_str()))
                .collect(),
        );
    }
    if !a.comprehensive {
        d.callout(
            Tone::Caution,
            "Not comprehensive",
            "some required evidence was missing, so this assessment does not reset the compute trigger; the missing evidence shows below as \"no evidence\".",
        );
    }
    d.para(format!("Next assessment: {}.", next(&a.next)));
}

/// `at 6.4e21 FLOP or by 2027-05-28, whichever comes first`.
pub(crate) fn next(n: &NextAssessment) -> String {
    match (n.at_flop, n.by_date) {
        (Some(f), Some(dt)) => format!("at {} or by {dt}, whichever comes first", flop(f)),
        (Some(f), None) => format!("at {}", flop(f)),
        (None, Some(dt)) => format!("by {dt}"),
        (None, None) => "not scheduled by the policy's triggers".to_owned(),
    }
}

/// A large count (`1.35e8`), exact below a million.
fn count(x: f64) -> String {
    if x.abs() < 1e6 {
        num(x)
    } else {
        format!("{x:.3e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn next_assessment_names_both_limits() {
        let n = NextAssessment {
            at_flop: Some(6.4e21),
            by_date: NaiveDate::from_ymd_opt(2027, 5, 28),
        };
        assert_eq!(
            next(&n),
            "at 6.40e21 FLOP or by 2027-05-28, whichever comes first"
        );
        let none = NextAssessment {
            at_flop: None,
            by_date: None,
        };
        assert_eq!(next(&none), "not scheduled by the policy's triggers");
    }
}
