//! The calibration section of the Capability Report.
//!
//! A line is only useful if it rarely rings for a model safely below it
//! and rarely stays silent for a model at it. Each rule's false-alarm and
//! miss rates at its actual n are tabled, and rates past
//! [`FALSE_ALARM_WARNING`] or [`MISS_WARNING`] get a plain-language
//! warning, so a policy whose lines would ring every week shows as such.

use super::capability::anchor;
use super::doc::{Doc, Line, Tone};
use super::numbers::{level, num, pct, short};
use super::{FALSE_ALARM_WARNING, MISS_WARNING};
use crate::types::{Assessment, Calibration, CalibrationMethod};

/// The "Calibration of the lines" section.
pub(crate) fn section(d: &mut Doc, a: &Assessment) {
    d.heading(2, "Calibration of the lines");
    if a.calibration.is_empty() {
        d.para("No calibration figures were computed for this assessment.");
        return;
    }
    d.para(format!(
        "How often each rule would be wrong at its actual sample size. A false alarm is \"cannot rule out\" or worse when the true score sits a distance d on the safe side of the line; a miss is \"ruled out\" when the true score is exactly at the line. The margin is included. Warnings below flag false-alarm rates above {} and miss rates above {}.",
        pct(FALSE_ALARM_WARNING),
        pct(MISS_WARNING)
    ));
    let rows = a.calibration.iter().map(calibration_row).collect();
    d.table(
        &[
            "Rule",
            "n",
            "Line",
            "Margin",
            "d",
            "False alarms (true score)",
            "Misses",
            "One-sided level",
            "Method",
            "Simulation check",
        ],
        rows,
    );
    let notes: Vec<Line> = a
        .calibration
        .iter()
        .filter_map(|c| {
            c.note
                .as_ref()
                .map(|n| Line::from(format!("{}: {n}", rule_name(c))))
        })
        .collect();
    d.list(notes);
    for c in &a.calibration {
        if c.false_alarm_rate > FALSE_ALARM_WARNING {
            d.callout(Tone::Caution, "Frequent false alarms", format!(
                "{}: a model whose true score is {} ({} on the safe side of the line) would still be reported as \"cannot rule out\" {} of the time at n = {}. This line will ring the alarm often; more samples would narrow the interval.",
                rule_name(c), num(c.false_alarm_true_score), short(c.distance), pct(c.false_alarm_rate), c.n
            ));
        }
        if c.miss_rate > MISS_WARNING {
            d.callout(Tone::Bad, "Frequent misses", format!(
                "{}: a model exactly at the line ({}) would be reported as ruled out {} of the time at n = {}. The rule is weaker than its confidence level suggests.",
                rule_name(c), short(c.line), pct(c.miss_rate), c.n
            ));
        }
    }
}

fn rule_name(c: &Calibration) -> String {
    format!(
        "{} rule {} ({} · {})",
        c.threshold,
        c.rule + 1,
        c.suite,
        c.metric
    )
}

fn calibration_row(c: &Calibration) -> Vec<Line> {
    let sim = c.simulation.as_ref().map_or_else(
        || "not run".to_owned(),
        |s| {
            format!(
                "false alarms {} ± {}, misses {} ± {} ({} runs, seed {})",
                pct(s.false_alarm_rate),
                pct(s.false_alarm_se),
                pct(s.miss_rate),
                pct(s.miss_se),
                s.runs,
                s.seed
            )
        },
    );
    let method = match c.method {
        CalibrationMethod::Exact => "exact binomial",
        CalibrationMethod::MonteCarlo => "Monte Carlo",
        CalibrationMethod::NormalApproximation => "normal approximation",
    };
    vec![
        Line::new().anchor(
            format!("{} rule {}", c.threshold, c.rule + 1),
            anchor(&c.threshold),
        ),
        Line::from(c.n.to_string()),
        Line::from(short(c.line)),
        Line::from(short(c.margin)),
        Line::from(short(c.distance)),
        Line::from(format!(
            "{} ({})",
            pct(c.false_alarm_rate),
            num(c.false_alarm_true_score)
        )),
        Line::from(pct(c.miss_rate)),
        Line::from(level(c.one_sided_confidence)),
        Line::from(method),
        Line::from(sim),
    ]
}
