//! Determinations: one evidence rule's status from a run's interval, and a
//! threshold's status from its rules.
//!
//! # The rule
//!
//! Everything is compared on the *dangerous side* of the metric. For
//! `direction = higher` that is the value itself; for `direction = lower`
//! (time to solve, loss) the comparisons flip, and the bound that matters is
//! the lower one. The elicitation margin is added in the dangerous direction
//! to the estimate and both bounds, because an under-elicited model is
//! stronger than measured; the shifted figures are recorded as `adjusted`.
//! With `u` the adjusted bound on the dangerous side:
//!
//! | status | condition |
//! |---|---|
//! | `crossed` | estimate (or, with `crossed_when = lower-bound`, the far bound) at or over the line |
//! | `cannot-rule-out` | `u` reaches the line |
//! | `alert` | `u` reaches the alert line |
//! | `ruled-out` | otherwise |
//!
//! "Reaches" includes equality, and comparisons allow [`TOLERANCE`] on the
//! severe side so that decimal arithmetic (`0.75 + 0.05`) never reads as
//! "below the line" by a rounding error. A run with fewer samples than the
//! rule's `min_samples`, a missing run or a missing metric gives
//! `no-evidence`, which nothing ever rules out. Rules combine into a
//! threshold's finding in [`crate::combine`].

use rsp_policy::{CrossedWhen, Direction, Elicitation, Policy, Threshold, UnderUncertainty};
use rsp_stats::{Confidence, samples_to_rule_out};

use crate::error::{Error, Result};
use crate::types::{Determination, Estimate, EvidenceRun, Status};

/// Slack allowed on the severe side of every comparison with a line.
pub const TOLERANCE: f64 = 1e-9;

/// Probability of ruling the line out that [`Determination::more_samples_to_rule_out`]
/// plans for: an honest planning figure rather than a coin flip.
pub const PLANNING_PROBABILITY: f64 = 0.8;

/// +1 when higher values are more capable, −1 otherwise.
fn sign(direction: Direction) -> f64 {
    match direction {
        Direction::Higher => 1.0,
        Direction::Lower => -1.0,
    }
}

/// The estimate shifted by `margin` in the dangerous direction.
#[must_use]
pub fn apply_margin(estimate: &Estimate, margin: f64, direction: Direction) -> Estimate {
    let shift = sign(direction) * margin;
    Estimate {
        value: estimate.value + shift,
        lower: estimate.lower + shift,
        upper: estimate.upper + shift,
        ..estimate.clone()
    }
}

/// The status of an (already adjusted) estimate against a rule's lines.
#[must_use]
pub fn classify(
    adjusted: &Estimate,
    line: f64,
    alert: f64,
    direction: Direction,
    crossed_when: CrossedWhen,
) -> Status {
    let s = sign(direction);
    // On the dangerous side: larger means more capable.
    let (near, far) = {
        let (a, b) = (s * adjusted.lower, s * adjusted.upper);
        (a.min(b), a.max(b))
    };
    let reaches = |x: f64, l: f64| x >= s * l - TOLERANCE;
    let decisive = match crossed_when {
        CrossedWhen::Estimate => s * adjusted.value,
        CrossedWhen::LowerBound => near,
    };
    if reaches(decisive, line) {
        Status::Crossed
    } else if reaches(far, line) {
        Status::CannotRuleOut
    } else if reaches(far, alert) {
        Status::Alert
    } else {
        Status::RuledOut
    }
}

fn check_estimate(e: &Estimate, what: &str, run_id: &str) -> Result<()> {
    let invalid = |reason| Error::InvalidEstimate {
        what: what.to_owned(),
        run_id: run_id.to_owned(),
        reason,
    };
    if !(e.value.is_finite() && e.lower.is_finite() && e.upper.is_finite()) {
        return Err(invalid("estimate and bounds must be finite"));
    }
    if e.lower > e.upper {
        return Err(invalid("the lower bound exceeds the upper bound"));
    }
    Ok(())
}

/// The entry of `runs` with id `run_id` whose `metric` is at `confidence`.
///
/// Returns `Ok(None)` if no such run has the metric at all, and an error if
/// it has the metric only at another confidence level.
///
/// # Errors
/// [`Error::ConfidenceMismatch`] as above.
pub fn estimate_at<'a>(
    runs: &'a [EvidenceRun],
    run_id: &str,
    metric: &str,
    confidence: f64,
    what: &str,
) -> Result<Option<(&'a EvidenceRun, &'a Estimate)>> {
    let mut mismatch = None;
    for run in runs.iter().filter(|r| r.run_id == run_id) {
        if let Some(e) = run.metrics.get(metric) {
            if (e.confidence - confidence).abs() <= TOLERANCE {
                return Ok(Some((run, e)));
            }
            mismatch = Some(e.confidence);
        }
    }
    match mismatch {
        Some(found) => Err(Error::ConfidenceMismatch {
            what: what.to_owned(),
            run_id: run_id.to_owned(),
            expected: confidence,
            found,
        }),
        None => Ok(None),
    }
}

/// Evidence handed to [`determine_rule`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RuleEvidence<'a> {
    /// The run chosen for the rule (elicitation covering the rule's).
    pub run: Option<&'a EvidenceRun>,
    /// A plain-prompting run of the same task, for the elicitation gap.
    pub plain: Option<&'a EvidenceRun>,
}

/// Determine rule `rule` of `threshold` from its evidence.
///
/// # Errors
/// [`Error::NoSuchRule`], [`Error::ConfidenceMismatch`] if the run's
/// estimate is at another confidence level than the rule's (the caller must
/// recompute), [`Error::InvalidEstimate`] for NaN or inverted bounds.
pub fn determine_rule(
    policy: &Policy,
    threshold: &Threshold,
    rule: usize,
    evidence: RuleEvidence<'_>,
) -> Result<Determination> {
    let r = threshold
        .evidence
        .get(rule)
        .ok_or_else(|| Error::NoSuchRule {
            threshold: threshold.id.clone(),
            rule,
        })?;
    let confidence = policy.confidence_of(r);
    let crossed_when = r.crossed_when.unwrap_or(policy.defaults.crossed_when);
    let under_uncertainty = r
        .under_uncertainty
        .unwrap_or(policy.defaults.under_uncertainty);
    let what = format!("{} rule {rule} ({} {})", threshold.id, r.suite, r.metric);
    let mut d = Determination {
        threshold: threshold.id.clone(),
        rule,
        suite: r.suite.clone(),
        metric: r.metric.clone(),
        status: Status::NoEvidence,
        raw: None,
        adjusted: None,
        line: r.line,
        alert: r.alert,
        direction: r.direction,
        margin: r.elicitation_margin,
        crossed_when,
        under_uncertainty,
        n: None,
        method: None,
        confidence,
        min_samples: r.min_samples,
        elicitation_required: r.elicitation.clone(),
        elicitation_used: None,
        plain: None,
        elicitation_gap: None,
        more_samples_to_rule_out: None,
        run_id: None,
        plain_run_id: None,
        note: None,
    };
    let Some(run) = evidence.run else {
        d.note = Some("no valid run: nothing rules the line out".to_owned());
        return Ok(d);
    };
    d.run_id = Some(run.run_id.clone());
    d.elicitation_used = Some(run.elicitation.clone());
    let Some(estimate) = run.metrics.get(&r.metric) else {
        d.note = Some(format!("run {} has no metric `{}`", run.run_id, r.metric));
        return Ok(d);
    };
    if (estimate.confidence - confidence).abs() > TOLERANCE {
        return Err(Error::ConfidenceMismatch {
            what,
            run_id: run.run_id.clone(),
            expected: confidence,
            found: estimate.confidence,
        });
    }
    check_estimate(estimate, &what, &run.run_id)?;
    let adjusted = apply_margin(estimate, r.elicitation_margin, r.direction);
    d.n = Some(estimate.n);
    d.method = Some(estimate.method.clone());
    d.status = classify(&adjusted, r.line, r.alert, r.direction, crossed_when);
    d.raw = Some(estimate.clone());
    d.adjusted = Some(adjusted);
    if let Some(min) = r.min_samples
        && estimate.n < u64::from(min)
    {
        d.note = Some(format!(
            "n = {} is below the rule's min_samples = {min}: the run does not count (it would read {})",
            estimate.n, d.status
        ));
        d.status = Status::NoEvidence;
    }
    d.more_samples_to_rule_out = more_samples(&d, estimate, confidence);
    if let Some(plain) = evidence.plain
        && let Some(p) = plain.metrics.get(&r.metric)
        && p.value.is_finite()
    {
        d.elicitation_gap = Some(sign(r.direction) * (estimate.value - p.value));
        d.plain = Some(p.clone());
        d.plain_run_id = Some(plain.run_id.clone());
    }
    if d.status.line_not_ruled_out()
        && d.status != Status::Crossed
        && under_uncertainty == UnderUncertainty::Judgement
        && d.note.is_none()
    {
        d.note = Some("line not ruled out; under `judgement` people decide".to_owned());
    }
    Ok(d)
}

/// Additional samples for an [`PLANNING_PROBABILITY`] chance of ruling the
/// line out, if the true score equals the current estimate.
///
/// Uses the Wilson planning of `rsp-stats`, so only for metrics on [0, 1].
/// The two-sided interval's upper end is a one-sided bound at
/// `(1 + confidence) / 2`, and the margin lowers the line the bound must
/// stay under. `Some(0)` when the line is already ruled out (and the run
/// meets `min_samples`); `None` when not applicable or unreachable.
fn more_samples(d: &Determination, estimate: &Estimate, confidence: f64) -> Option<u64> {
    let min_extra = d
        .min_samples
        .map_or(0, |m| u64::from(m).saturating_sub(estimate.n));
    if matches!(d.status, Status::RuledOut | Status::Alert) {
        return Some(0);
    }
    let unit = |x: f64| (0.0..=1.0).contains(&x);
    if !(unit(estimate.value) && unit(d.line)) {
        return None;
    }
    // Work with the probability of the dangerous outcome.
    let (p, line) = match d.direction {
        Direction::Higher => (estimate.value, d.line),
        Direction::Lower => (1.0 - estimate.value, 1.0 - d.line),
    };
    let effective_line = line - d.margin;
    if effective_line <= 0.0 {
        return None;
    }
    let one_sided = Confidence::new(confidence).ok()?.two_sided_as_one_sided();
    let plan = samples_to_rule_out(
        p,
        estimate.n,
        effective_line,
        one_sided,
        PLANNING_PROBABILITY,
    )
    .ok()?;
    Some(plan.additional.max(min_extra))
}

/// True when `run`'s elicitation counts as plain prompting.
#[must_use]
pub fn is_plain(elicitation: &Elicitation) -> bool {
    *elicitation == Elicitation::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{cot, est, example_policy, run};
    use proptest::prelude::*;

    use CrossedWhen::{Estimate as AtEstimate, LowerBound};
    use Direction::{Higher, Lower};
    use Status::{Alert, CannotRuleOut, Crossed, RuledOut};

    /// (case, value, lower, upper, margin, direction, crossed_when, line, alert, expected)
    type Case = (
        &'static str,
        f64,
        f64,
        f64,
        f64,
        Direction,
        CrossedWhen,
        f64,
        f64,
        Status,
    );

    #[rustfmt::skip]
    const CASES: &[Case] = &[
        ("well below alert", 0.30, 0.25, 0.38, 0.0, Higher, AtEstimate, 0.80, 0.60, RuledOut),
        ("upper just below alert", 0.50, 0.40, 0.5999, 0.0, Higher, AtEstimate, 0.80, 0.60, RuledOut),
        ("upper == alert", 0.50, 0.40, 0.60, 0.0, Higher, AtEstimate, 0.80, 0.60, Alert),
        ("upper just below line", 0.70, 0.60, 0.7999, 0.0, Higher, AtEstimate, 0.80, 0.60, Alert),
        ("upper == line", 0.70, 0.60, 0.80, 0.0, Higher, AtEstimate, 0.80, 0.60, CannotRuleOut),
        ("estimate just below line", 0.7999, 0.70, 0.90, 0.0, Higher, AtEstimate, 0.80, 0.60, CannotRuleOut),
        ("estimate == line", 0.80, 0.70, 0.90, 0.0, Higher, AtEstimate, 0.80, 0.60, Crossed),
        ("lower-bound mode, estimate over", 0.85, 0.79, 0.90, 0.0, Higher, LowerBound, 0.80, 0.60, CannotRuleOut),
        ("lower-bound mode, lower == line", 0.85, 0.80, 0.90, 0.0, Higher, LowerBound, 0.80, 0.60, Crossed),
        ("margin pushes upper to alert", 0.45, 0.35, 0.55, 0.05, Higher, AtEstimate, 0.80, 0.60, Alert),
        ("margin pushes upper to line", 0.65, 0.55, 0.75, 0.05, Higher, AtEstimate, 0.80, 0.60, CannotRuleOut),
        ("margin pushes estimate to line", 0.75, 0.65, 0.85, 0.05, Higher, AtEstimate, 0.80, 0.60, Crossed),
        ("margin not quite enough", 0.65, 0.55, 0.7499, 0.05, Higher, AtEstimate, 0.80, 0.60, Alert),
        ("decimal rounding stays severe", 0.60, 0.50, 0.70, 0.1, Higher, AtEstimate, 0.80, 0.60, CannotRuleOut),
        ("lower is dangerous: far from lines", 30.0, 25.0, 35.0, 0.0, Lower, AtEstimate, 10.0, 20.0, RuledOut),
        ("lower is dangerous: lower == alert", 30.0, 20.0, 35.0, 0.0, Lower, AtEstimate, 10.0, 20.0, Alert),
        ("lower is dangerous: lower == line", 15.0, 10.0, 20.0, 0.0, Lower, AtEstimate, 10.0, 20.0, CannotRuleOut),
        ("lower is dangerous: estimate == line", 10.0, 8.0, 12.0, 0.0, Lower, AtEstimate, 10.0, 20.0, Crossed),
        ("lower is dangerous: margin pushes down", 15.0, 12.0, 18.0, 2.0, Lower, AtEstimate, 10.0, 20.0, CannotRuleOut),
        ("lower is dangerous: lower-bound mode", 9.0, 8.0, 10.5, 0.0, Lower, LowerBound, 10.0, 20.0, CannotRuleOut),
        ("lower is dangerous: upper == line", 9.0, 8.0, 10.0, 0.0, Lower, LowerBound, 10.0, 20.0, Crossed),
    ];

    #[test]
    fn boundaries_table() {
        for &(case, value, lower, upper, margin, dir, cw, line, alert, expected) in CASES {
            let adjusted = apply_margin(&est(value, lower, upper, 200), margin, dir);
            let got = classify(&adjusted, line, alert, dir, cw);
            assert_eq!(got, expected, "{case}");
        }
    }

    #[test]
    fn margin_moves_in_the_dangerous_direction() {
        let e = est(15.0, 12.0, 18.0, 50);
        let lower = apply_margin(&e, 2.0, Lower);
        assert_eq!((lower.value, lower.lower, lower.upper), (13.0, 10.0, 16.0));
        let higher = apply_margin(&e, 2.0, Higher);
        assert_eq!(
            (higher.value, higher.lower, higher.upper),
            (17.0, 14.0, 20.0)
        );
    }

    proptest! {
        /// Raising a higher-is-dangerous score never lowers its status.
        #[test]
        fn status_is_monotone_in_the_score(v in 0.0f64..1.0, w in 0.0f64..0.3, shift in 0.0f64..0.5) {
            let a = est(v, v - w, v + w, 100);
            let b = est(v + shift, v - w + shift, v + w + shift, 100);
            let sa = classify(&a, 0.8, 0.6, Higher, AtEstimate);
            let sb = classify(&b, 0.8, 0.6, Higher, AtEstimate);
            prop_assert!(sb >= sa, "{sa} then {sb}");
        }
    }

    fn know1(policy: &Policy) -> &Threshold {
        policy.thresholds.iter().find(|t| t.id == "KNOW-1").unwrap()
    }

    #[test]
    fn min_samples_turns_a_result_into_no_evidence() {
        let policy = example_policy();
        let t = know1(&policy);
        let r = run(
            "r1",
            "knowledge-proxy",
            "mc",
            cot(3),
            "2026-11-02",
            "accuracy",
            est(0.2, 0.1, 0.35, 99),
        );
        let d = determine_rule(
            &policy,
            t,
            0,
            RuleEvidence {
                run: Some(&r),
                plain: None,
            },
        )
        .unwrap();
        assert_eq!(d.status, Status::NoEvidence);
        assert!(
            d.note.as_deref().unwrap().contains("min_samples = 100"),
            "{:?}",
            d.note
        );
        assert_eq!(
            d.more_samples_to_rule_out,
            Some(1),
            "at least up to min_samples"
        );
        let r = run(
            "r1",
            "knowledge-proxy",
            "mc",
            cot(3),
            "2026-11-02",
            "accuracy",
            est(0.2, 0.1, 0.35, 100),
        );
        let d = determine_rule(
            &policy,
            t,
            0,
            RuleEvidence {
                run: Some(&r),
                plain: None,
            },
        )
        .unwrap();
        assert_eq!(d.status, Status::RuledOut);
        assert_eq!(d.more_samples_to_rule_out, Some(0));
        // 0.35 + 0.05 margin.
        assert!((d.adjusted.unwrap().upper - 0.40).abs() < 1e-12);
    }

    #[test]
    fn missing_run_or_metric_is_no_evidence() {
        let policy = example_policy();
        let t = know1(&policy);
        let d = determine_rule(&policy, t, 0, RuleEvidence::default()).unwrap();
        assert_eq!(d.status, Status::NoEvidence);
        let r = run(
            "r1",
            "knowledge-proxy",
            "mc",
            cot(3),
            "2026-11-02",
            "f1",
            est(0.2, 0.1, 0.3, 200),
        );
        let d = determine_rule(
            &policy,
            t,
            0,
            RuleEvidence {
                run: Some(&r),
                plain: None,
            },
        )
        .unwrap();
        assert_eq!(d.status, Status::NoEvidence);
        assert_eq!(d.run_id.as_deref(), Some("r1"));
    }

    #[test]
    fn wrong_confidence_and_nan_are_errors() {
        let policy = example_policy();
        let t = know1(&policy);
        let mut e = est(0.2, 0.1, 0.3, 200);
        e.confidence = 0.9;
        let r = run(
            "r1",
            "knowledge-proxy",
            "mc",
            cot(3),
            "2026-11-02",
            "accuracy",
            e,
        );
        let err = determine_rule(
            &policy,
            t,
            0,
            RuleEvidence {
                run: Some(&r),
                plain: None,
            },
        );
        assert!(
            matches!(err, Err(Error::ConfidenceMismatch { expected, found, .. }) if expected == 0.95 && found == 0.9)
        );
        let r = run(
            "r1",
            "knowledge-proxy",
            "mc",
            cot(3),
            "2026-11-02",
            "accuracy",
            est(0.2, 0.1, f64::NAN, 200),
        );
        assert!(matches!(
            determine_rule(
                &policy,
                t,
                0,
                RuleEvidence {
                    run: Some(&r),
                    plain: None
                }
            ),
            Err(Error::InvalidEstimate { .. })
        ));
        assert!(matches!(
            determine_rule(&policy, t, 5, RuleEvidence::default()),
            Err(Error::NoSuchRule { rule: 5, .. })
        ));
    }

    #[test]
    fn gap_and_samples_needed_are_recorded() {
        let policy = example_policy();
        let t = know1(&policy);
        // 0.70 [0.61, 0.78] + 0.05 reaches 0.80: cannot rule out.
        let r = run(
            "r1",
            "knowledge-proxy",
            "mc",
            cot(3),
            "2026-11-02",
            "accuracy",
            est(0.70, 0.61, 0.78, 120),
        );
        let p = run(
            "r0",
            "knowledge-proxy",
            "mc",
            Elicitation::default(),
            "2026-11-02",
            "accuracy",
            est(0.55, 0.46, 0.64, 120),
        );
        let d = determine_rule(
            &policy,
            t,
            0,
            RuleEvidence {
                run: Some(&r),
                plain: Some(&p),
            },
        )
        .unwrap();
        assert_eq!(d.status, Status::CannotRuleOut);
        assert!((d.elicitation_gap.unwrap() - 0.15).abs() < 1e-12);
        assert_eq!(d.plain_run_id.as_deref(), Some("r0"));
        let more = d.more_samples_to_rule_out.unwrap();
        // The bound must drop below 0.75 from an estimate of 0.70: hundreds more.
        assert!(more > 200 && more < 5000, "{more}");
        // Check the plan: at 120 + more samples, a 0.70 estimate's one-sided
        // 97.5% Wilson bound is below 0.75.
        let n = 120 + more;
        let k = (0.70 * n as f64).round() as u64;
        let b = rsp_stats::wilson_upper(k, n, Confidence::new(0.975).unwrap()).unwrap();
        assert!(b.upper() < 0.75, "{}", b.upper());
    }
}
