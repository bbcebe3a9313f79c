//! Calibration: how often each rule would ring the alarm falsely, and how
//! often it would miss, at the policy's settings and the actual n.
//!
//! Both rates are about the *line*, which is what safeguards and decisions
//! hang on:
//! * **false alarm**: P(line not ruled out) when the true score sits a
//!   distance below the line on the safe side (default `|line − alert|`:
//!   a model exactly at the alert line should usually not trip the line);
//! * **miss**: P(line ruled out) when the true score is exactly at the line.
//!
//! The rule simulated is the one [`crate::determine`] applies: the upper end
//! of the two-sided interval at confidence `c` (a one-sided bound at
//! `(1 + c)/2`) plus the elicitation margin, compared with the line. For
//! metrics on [0, 1] the interval is taken to be Wilson, and the rates are
//! exact binomial sums from `rsp-stats` (a lower-is-dangerous metric is
//! mirrored to `1 − x`); a seeded Monte Carlo of the same scenarios is added
//! on request as a cross-check. For other metrics the standard error is read
//! off the observed interval's width and the rates come from the normal
//! approximation, which is stated in the record.

use rsp_policy::{Direction, Policy, Threshold};
use rsp_stats::dist::{normal_cdf, normal_quantile};
use rsp_stats::{Confidence, RuleOutScenario, cannot_rule_out_exact, cannot_rule_out_monte_carlo};

use crate::error::{Error, Result};
use crate::types::{
    Calibration, CalibrationMethod, CalibrationSettings, Determination, Simulation,
};

/// Calibrate one rule. Returns `None` when no sample size is known (no run
/// and no `min_samples`).
///
/// # Errors
/// [`Error::NoSuchRule`]; [`Error::Stats`] if a scenario is invalid.
pub fn calibrate_rule(
    policy: &Policy,
    threshold: &Threshold,
    rule: usize,
    determination: Option<&Determination>,
    settings: &CalibrationSettings,
) -> Result<Option<Calibration>> {
    let r = threshold
        .evidence
        .get(rule)
        .ok_or_else(|| Error::NoSuchRule {
            threshold: threshold.id.clone(),
            rule,
        })?;
    let raw = determination.and_then(|d| d.raw.as_ref());
    let mut notes = Vec::new();
    let n = match (raw, r.min_samples) {
        (Some(e), _) => e.n,
        (None, Some(m)) => {
            notes.push(format!("no run yet: n taken from min_samples = {m}"));
            u64::from(m)
        }
        (None, None) => return Ok(None),
    };
    if n == 0 {
        return Ok(None);
    }
    let confidence = policy.confidence_of(r);
    let what = || format!("calibration of {} rule {rule}", threshold.id);
    let stats = |source| Error::Stats {
        what: what(),
        source,
    };
    let one_sided = Confidence::new(confidence)
        .map_err(stats)?
        .two_sided_as_one_sided();
    let distance = settings.distance.unwrap_or((r.line - r.alert).abs()).abs();
    let margin = r.elicitation_margin;
    // Everything on the dangerous side, where larger means more capable.
    let s = match r.direction {
        Direction::Higher => 1.0,
        Direction::Lower => -1.0,
    };
    let false_alarm_true_score = r.line - s * distance;

    let binary = (0.0..=1.0).contains(&r.line)
        && raw.is_none_or(|e| {
            let m = e.method.to_ascii_lowercase();
            m.contains("wilson") || m.contains("clopper")
        });
    let (false_alarm_rate, miss_rate, method, simulation) = if binary {
        let to_p = |x: f64| match r.direction {
            Direction::Higher => x,
            Direction::Lower => 1.0 - x,
        };
        let line_p = to_p(r.line) - margin;
        let fa_p = to_p(false_alarm_true_score).clamp(0.0, 1.0);
        if line_p <= 0.0 {
            notes.push("the margin puts the line at or below 0: it can never be ruled out".into());
            (1.0, 0.0, CalibrationMethod::Exact, None)
        } else {
            let scenario = |true_score: f64| RuleOutScenario {
                true_score,
                n,
                line: line_p.min(1.0),
                confidence: one_sided,
            };
            let fa = cannot_rule_out_exact(&scenario(fa_p)).map_err(stats)?;
            let at = cannot_rule_out_exact(&scenario(to_p(r.line))).map_err(stats)?;
            let simulation = if settings.simulations > 0 {
                let seed = settings
                    .seed
                    .wrapping_add((rule as u64) << 32)
                    .wrapping_add(hash(&threshold.id));
                let fa_mc =
                    cannot_rule_out_monte_carlo(&scenario(fa_p), settings.simulations, seed)
                        .map_err(stats)?;
                let at_mc = cannot_rule_out_monte_carlo(
                    &scenario(to_p(r.line)),
                    settings.simulations,
                    seed.wrapping_add(1),
                )
                .map_err(stats)?;
                Some(Simulation {
                    false_alarm_rate: fa_mc.probability,
                    false_alarm_se: fa_mc.standard_error,
                    miss_rate: 1.0 - at_mc.probability,
                    miss_se: at_mc.standard_error,
                    runs: settings.simulations,
                    seed,
                })
            } else {
                None
            };
            (
                fa.cannot_rule_out,
                1.0 - at.cannot_rule_out,
                CalibrationMethod::Exact,
                simulation,
            )
        }
    } else {
        let Some(e) = raw else {
            return Ok(None);
        };
        let z_two = normal_quantile(one_sided.level()).map_err(stats)?;
        let se = (e.upper - e.lower) / (2.0 * z_two);
        if !(se > 0.0 && se.is_finite()) {
            return Ok(None);
        }
        notes.push(format!(
            "normal approximation with standard error {se:.4} read off the {} interval",
            e.method
        ));
        // Not ruled out iff estimate ≥ line − margin − z·se (dangerous side).
        let cut = s * r.line - margin - z_two * se;
        let p_not_ruled_out = |true_d: f64| -> Result<f64> {
            Ok(1.0 - normal_cdf((cut - true_d) / se).map_err(stats)?)
        };
        let fa = p_not_ruled_out(s * false_alarm_true_score)?;
        let at = p_not_ruled_out(s * r.line)?;
        if settings.simulations > 0 {
            notes.push("no Monte Carlo for non-binary metrics".into());
        }
        (fa, 1.0 - at, CalibrationMethod::NormalApproximation, None)
    };
    Ok(Some(Calibration {
        threshold: threshold.id.clone(),
        rule,
        suite: r.suite.clone(),
        metric: r.metric.clone(),
        n,
        line: r.line,
        margin,
        distance,
        false_alarm_true_score,
        false_alarm_rate,
        miss_rate,
        one_sided_confidence: one_sided.level(),
        method,
        simulation,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    }))
}

/// A stable (FNV-1a) hash, so each rule gets its own Monte Carlo stream
/// whatever the order of thresholds.
fn hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use rsp_policy::Elicitation;

    use super::*;
    use crate::determine::{RuleEvidence, determine_rule};
    use crate::testing::{est, example_policy, run};
    use crate::types::Estimate;

    fn threshold(line: f64, alert: f64, margin: f64, direction: Direction) -> (Policy, Threshold) {
        let policy = example_policy();
        let mut t = policy.thresholds[0].clone();
        let r = &mut t.evidence[0];
        (r.line, r.alert, r.elicitation_margin, r.direction) = (line, alert, margin, direction);
        r.elicitation = Elicitation::default();
        r.min_samples = None;
        (policy, t)
    }

    fn calibrate(p: &Policy, t: &Threshold, e: Estimate, sims: u64) -> Calibration {
        let r = run(
            "r",
            "knowledge-proxy",
            "mc",
            Elicitation::default(),
            "2026-11-01",
            "accuracy",
            e,
        );
        let d = determine_rule(
            p,
            t,
            0,
            RuleEvidence {
                run: Some(&r),
                plain: None,
            },
        )
        .unwrap();
        let settings = CalibrationSettings {
            simulations: sims,
            ..CalibrationSettings::default()
        };
        calibrate_rule(p, t, 0, Some(&d), &settings)
            .unwrap()
            .unwrap()
    }

    /// P(ruled out | p) by brute force: scan the counts whose one-sided
    /// Wilson bound stays below the line and add their binomial pmf.
    fn brute_force_ruled_out(p: f64, n: u64, line: f64, one_sided: f64) -> f64 {
        let c = Confidence::new(one_sided).unwrap();
        let mut pmf = (1.0 - p).powi(n as i32);
        let mut total = 0.0;
        for k in 0..=n {
            if rsp_stats::wilson_upper(k, n, c).unwrap().upper() < line {
                total += pmf;
            }
            pmf *= (n - k) as f64 / (k + 1) as f64 * p / (1.0 - p);
        }
        total
    }

    #[test]
    fn exact_rates_match_the_binomial_closed_form() {
        let (p, t) = threshold(0.8, 0.6, 0.05, Direction::Higher);
        let c = calibrate(&p, &t, est(0.5, 0.42, 0.58, 150), 0);
        assert_eq!(c.method, CalibrationMethod::Exact);
        assert_eq!(c.n, 150);
        assert!((c.distance - 0.2).abs() < 1e-12);
        assert!((c.false_alarm_true_score - 0.6).abs() < 1e-12);
        let fa = 1.0 - brute_force_ruled_out(0.6, 150, 0.75, 0.975);
        let miss = brute_force_ruled_out(0.8, 150, 0.75, 0.975);
        assert!(
            (c.false_alarm_rate - fa).abs() < 1e-9,
            "{} vs {fa}",
            c.false_alarm_rate
        );
        assert!(
            (c.miss_rate - miss).abs() < 1e-9,
            "{} vs {miss}",
            c.miss_rate
        );
    }

    #[test]
    fn monte_carlo_agrees_with_the_exact_figures() {
        for (line, alert, margin, e) in [
            (0.8, 0.6, 0.05, est(0.5, 0.42, 0.58, 150)),
            (0.5, 0.3, 0.05, est(0.2, 0.1, 0.3, 60)),
            (0.3, 0.1, 0.0, est(0.05, 0.01, 0.1, 400)),
        ] {
            let (p, t) = threshold(line, alert, margin, Direction::Higher);
            let c = calibrate(&p, &t, e, 20_000);
            let sim = c.simulation.clone().unwrap();
            let tol = |se: f64| 4.5 * se.max(2e-3);
            assert!(
                (sim.false_alarm_rate - c.false_alarm_rate).abs() < tol(sim.false_alarm_se),
                "{c:?}"
            );
            assert!(
                (sim.miss_rate - c.miss_rate).abs() < tol(sim.miss_se),
                "{c:?}"
            );
        }
    }

    #[test]
    fn miss_rate_at_the_line_is_about_the_one_sided_alpha() {
        let (p, t) = threshold(0.5, 0.3, 0.0, Direction::Higher);
        let c = calibrate(&p, &t, est(0.2, 0.17, 0.23, 2000), 0);
        assert!((c.one_sided_confidence - 0.975).abs() < 1e-12);
        assert!(
            c.miss_rate > 0.015 && c.miss_rate < 0.035,
            "{}",
            c.miss_rate
        );
        // The alert line is 0.2 below the line: with n = 2000 a false alarm is very unlikely.
        assert!(c.false_alarm_rate < 1e-6, "{}", c.false_alarm_rate);
    }

    #[test]
    fn margin_trades_misses_for_false_alarms() {
        let e = est(0.3, 0.2, 0.4, 100);
        let (p, t) = threshold(0.5, 0.3, 0.0, Direction::Higher);
        let plain = calibrate(&p, &t, e.clone(), 0);
        let (p, t) = threshold(0.5, 0.3, 0.1, Direction::Higher);
        let margin = calibrate(&p, &t, e, 0);
        assert!(margin.false_alarm_rate > plain.false_alarm_rate);
        assert!(margin.miss_rate < plain.miss_rate);
    }

    #[test]
    fn lower_is_dangerous_mirrors_higher() {
        let (p, t) = threshold(0.8, 0.6, 0.05, Direction::Higher);
        let up = calibrate(&p, &t, est(0.5, 0.42, 0.58, 150), 0);
        let (p, t) = threshold(0.2, 0.4, 0.05, Direction::Lower);
        let down = calibrate(&p, &t, est(0.5, 0.42, 0.58, 150), 0);
        assert!((up.false_alarm_rate - down.false_alarm_rate).abs() < 1e-12);
        assert!((up.miss_rate - down.miss_rate).abs() < 1e-12);
        assert!((down.false_alarm_true_score - 0.4).abs() < 1e-12);
    }

    #[test]
    fn numeric_metrics_use_the_normal_closed_form() {
        let (p, t) = threshold(10.0, 6.0, 1.0, Direction::Higher);
        let mut e = est(4.0, 3.0, 5.0, 80);
        e.method = "t".into();
        let c = calibrate(&p, &t, e, 0);
        assert_eq!(c.method, CalibrationMethod::NormalApproximation);
        let z = normal_quantile(0.975).unwrap();
        let se = 1.0 / z;
        // Miss: P(est + z·se + margin < line | true = line) = Φ(−margin/se − z).
        let miss = normal_cdf(-1.0 / se - z).unwrap();
        assert!((c.miss_rate - miss).abs() < 1e-12);
        // False alarm at true 6: P(est ≥ 10 − 1 − z·se) = 1 − Φ((3 − z·se)/se).
        let fa = 1.0 - normal_cdf((3.0 - z * se) / se).unwrap();
        assert!((c.false_alarm_rate - fa).abs() < 1e-12);
    }

    #[test]
    fn no_sample_size_means_no_calibration() {
        let (p, t) = threshold(0.8, 0.6, 0.05, Direction::Higher);
        assert!(
            calibrate_rule(&p, &t, 0, None, &CalibrationSettings::default())
                .unwrap()
                .is_none()
        );
        let policy = example_policy();
        let know = &policy.thresholds[0];
        let c = calibrate_rule(&policy, know, 0, None, &CalibrationSettings::default())
            .unwrap()
            .unwrap();
        assert_eq!(c.n, 100);
        assert!(c.note.unwrap().contains("min_samples"));
    }
}
