//! Confidence intervals for a binomial proportion (binary metrics).
//!
//! The Wilson score interval is the default: it never leaves [0, 1], it is
//! sensible at 0/n and n/n (where the Wald interval collapses to a point),
//! and its coverage stays close to nominal for the small n that capability
//! evals often have (Brown, Cai & DasGupta 2001). Clopper–Pearson is offered
//! as the conservative alternative: its coverage is guaranteed to be at least
//! nominal, at the price of wider intervals.
//!
//! rsp's determinations compare an *upper* bound with a capability line, so
//! each interval has one-sided variants. A one-sided bound at level `c` uses
//! the `c` quantile, not `(1 + c) / 2`, and is therefore tighter than the end
//! of the two-sided interval at the same level.

use statrs::distribution::{Beta, ContinuousCDF};

use crate::dist::normal_quantile;
use crate::error::{Error, Result};
use crate::interval::{Confidence, Interval, Method, Side};

fn check_counts(successes: u64, trials: u64) -> Result<()> {
    if trials == 0 {
        return Err(Error::TooFewObservations {
            what: "a proportion interval",
            needed: 1,
            got: 0,
        });
    }
    if successes > trials {
        return Err(Error::SuccessesExceedTrials { successes, trials });
    }
    Ok(())
}

/// The Wilson score bounds `(lower, upper)` for `successes` out of `trials`
/// at normal quantile `z`, clamped to [0, 1] and to contain the estimate.
///
/// Inputs are assumed valid (`trials > 0`, `successes <= trials`); this is
/// the allocation-free kernel the calibration loops call many times.
pub(crate) fn wilson_bounds(successes: u64, trials: u64, z: f64) -> (f64, f64) {
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // Exact edges: the Wilson interval touches 0 at x = 0 and 1 at x = n;
    // pin them so rounding does not report 1e-17 or 0.9999999999999999.
    let lower = if successes == 0 {
        0.0
    } else {
        (centre - half).clamp(0.0, p)
    };
    let upper = if successes == trials {
        1.0
    } else {
        (centre + half).clamp(p, 1.0)
    };
    (lower, upper)
}

/// Two-sided Wilson score interval for `successes` out of `trials`.
///
/// Equals R's `prop.test(x, n, correct = FALSE)$conf.int`.
///
/// # Errors
/// [`Error::TooFewObservations`] if `trials == 0`;
/// [`Error::SuccessesExceedTrials`] if `successes > trials`.
pub fn wilson(successes: u64, trials: u64, confidence: Confidence) -> Result<Interval> {
    check_counts(successes, trials)?;
    let z = normal_quantile(1.0 - confidence.alpha() / 2.0)?;
    let (lower, upper) = wilson_bounds(successes, trials, z);
    let p = successes as f64 / trials as f64;
    Interval::new(
        p,
        lower,
        upper,
        trials,
        Method::Wilson,
        confidence,
        Side::TwoSided,
    )
}

/// One-sided Wilson upper bound: the true proportion is at most `upper` with
/// probability `confidence`. The returned interval is `[0, upper]`.
///
/// This is the statistic behind "cannot rule out": a threshold is ruled out
/// only when this bound is below the line.
///
/// # Errors
/// As for [`wilson`].
pub fn wilson_upper(successes: u64, trials: u64, confidence: Confidence) -> Result<Interval> {
    check_counts(successes, trials)?;
    let z = normal_quantile(confidence.level())?;
    let (_, upper) = wilson_bounds(successes, trials, z);
    let p = successes as f64 / trials as f64;
    Interval::new(
        p,
        0.0,
        upper,
        trials,
        Method::Wilson,
        confidence,
        Side::Upper,
    )
}

/// One-sided Wilson lower bound: the true proportion is at least `lower`
/// with probability `confidence`. The returned interval is `[lower, 1]`.
///
/// # Errors
/// As for [`wilson`].
pub fn wilson_lower(successes: u64, trials: u64, confidence: Confidence) -> Result<Interval> {
    check_counts(successes, trials)?;
    let z = normal_quantile(confidence.level())?;
    let (lower, _) = wilson_bounds(successes, trials, z);
    let p = successes as f64 / trials as f64;
    Interval::new(
        p,
        lower,
        1.0,
        trials,
        Method::Wilson,
        confidence,
        Side::Lower,
    )
}

/// Lower Clopper–Pearson bound with tail probability `tail`.
fn cp_lower(successes: u64, trials: u64, tail: f64) -> Result<f64> {
    if successes == 0 {
        return Ok(0.0);
    }
    let beta = Beta::new(successes as f64, (trials - successes) as f64 + 1.0).map_err(|e| {
        Error::Distribution {
            distribution: "beta",
            source: Box::new(e),
        }
    })?;
    Ok(beta.inverse_cdf(tail))
}

/// Upper Clopper–Pearson bound with tail probability `tail`.
fn cp_upper(successes: u64, trials: u64, tail: f64) -> Result<f64> {
    if successes == trials {
        return Ok(1.0);
    }
    let beta = Beta::new(successes as f64 + 1.0, (trials - successes) as f64).map_err(|e| {
        Error::Distribution {
            distribution: "beta",
            source: Box::new(e),
        }
    })?;
    Ok(beta.inverse_cdf(1.0 - tail))
}

fn clamp_around(p: f64, lower: f64, upper: f64) -> (f64, f64) {
    (lower.clamp(0.0, p), upper.clamp(p, 1.0))
}

/// Two-sided Clopper–Pearson ("exact") interval: inverts two one-sided
/// binomial tests through beta quantiles.
///
/// Equals R's `binom.test(x, n)$conf.int`.
///
/// # Errors
/// As for [`wilson`].
pub fn clopper_pearson(successes: u64, trials: u64, confidence: Confidence) -> Result<Interval> {
    check_counts(successes, trials)?;
    let tail = confidence.alpha() / 2.0;
    let p = successes as f64 / trials as f64;
    let (lower, upper) = clamp_around(
        p,
        cp_lower(successes, trials, tail)?,
        cp_upper(successes, trials, tail)?,
    );
    Interval::new(
        p,
        lower,
        upper,
        trials,
        Method::ClopperPearson,
        confidence,
        Side::TwoSided,
    )
}

/// One-sided Clopper–Pearson upper bound, returned as `[0, upper]`.
///
/// # Errors
/// As for [`wilson`].
pub fn clopper_pearson_upper(
    successes: u64,
    trials: u64,
    confidence: Confidence,
) -> Result<Interval> {
    check_counts(successes, trials)?;
    let p = successes as f64 / trials as f64;
    let upper = cp_upper(successes, trials, confidence.alpha())?.clamp(p, 1.0);
    Interval::new(
        p,
        0.0,
        upper,
        trials,
        Method::ClopperPearson,
        confidence,
        Side::Upper,
    )
}

/// One-sided Clopper–Pearson lower bound, returned as `[lower, 1]`.
///
/// # Errors
/// As for [`wilson`].
pub fn clopper_pearson_lower(
    successes: u64,
    trials: u64,
    confidence: Confidence,
) -> Result<Interval> {
    check_counts(successes, trials)?;
    let p = successes as f64 / trials as f64;
    let lower = cp_lower(successes, trials, confidence.alpha())?.clamp(0.0, p);
    Interval::new(
        p,
        lower,
        1.0,
        trials,
        Method::ClopperPearson,
        confidence,
        Side::Lower,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOL: f64 = 1e-9;

    fn assert_bounds(ci: &Interval, lower: f64, upper: f64) {
        assert!(
            (ci.lower() - lower).abs() < TOL && (ci.upper() - upper).abs() < TOL,
            "got [{}, {}], want [{lower}, {upper}]",
            ci.lower(),
            ci.upper()
        );
    }

    // Wilson references: R `prop.test(x, n, correct = FALSE)$conf.int`, which
    // prints 0.2552885 0.3662096 for 81/263, and agrees to every printed
    // digit with SciPy `binomtest(x, n).proportion_ci(method="wilson")`;
    // the full-precision values below are SciPy's.
    #[test]
    fn wilson_matches_published_values() {
        let c = Confidence::P95;
        assert_bounds(&wilson(0, 10, c).unwrap(), 0.0, 0.2775327998628892);
        assert_bounds(&wilson(10, 10, c).unwrap(), 0.7224672001371107, 1.0);
        assert_bounds(
            &wilson(5, 10, c).unwrap(),
            0.236593090512564,
            0.7634069094874361,
        );
        assert_bounds(
            &wilson(81, 263, c).unwrap(),
            0.2552885198782742,
            0.36620957698280004,
        );
    }

    #[test]
    fn one_sided_wilson_uses_the_c_quantile() {
        // z_0.95 = 1.6449; SciPy-derived values from the same formula.
        let up = wilson_upper(81, 263, Confidence::P95).unwrap();
        assert!((up.upper() - 0.35656634960848815).abs() < TOL);
        assert_eq!(up.lower(), 0.0);
        assert_eq!(up.side(), Side::Upper);
        let lo = wilson_lower(81, 263, Confidence::P95).unwrap();
        assert!((lo.lower() - 0.2633136171884814).abs() < TOL);
        assert_eq!(lo.upper(), 1.0);
        assert!(
            (wilson_upper(0, 10, Confidence::P95).unwrap().upper() - 0.21294197008340698).abs()
                < TOL
        );
        // A one-sided 95% bound equals the end of the two-sided 90% interval.
        let two90 = wilson(81, 263, Confidence::P90).unwrap();
        assert!((two90.upper() - up.upper()).abs() < 1e-12);
    }

    // Clopper–Pearson references: R `binom.test(81, 263)$conf.int` prints
    // 0.2527367 0.3676219; full precision from SciPy
    // `beta.ppf(alpha / 2, x, n - x + 1)` / `beta.ppf(1 - alpha / 2, x + 1, n - x)`.
    #[test]
    fn clopper_pearson_matches_published_values() {
        let c = Confidence::P95;
        assert_bounds(&clopper_pearson(0, 10, c).unwrap(), 0.0, 0.3084971078187607);
        assert_bounds(
            &clopper_pearson(10, 10, c).unwrap(),
            0.6915028921812392,
            1.0,
        );
        assert_bounds(
            &clopper_pearson(5, 10, c).unwrap(),
            0.18708602844739855,
            0.8129139715526015,
        );
        assert_bounds(
            &clopper_pearson(81, 263, c).unwrap(),
            0.25273674558527126,
            0.36762192260135135,
        );
    }

    #[test]
    fn one_sided_clopper_pearson_zero_successes_is_closed_form() {
        // For x = 0 the one-sided upper bound is 1 - alpha^(1/n) ("rule of three" region).
        let up = clopper_pearson_upper(0, 10, Confidence::P95).unwrap();
        assert!((up.upper() - (1.0 - 0.05_f64.powf(0.1))).abs() < TOL);
        let lo = clopper_pearson_lower(10, 10, Confidence::P95).unwrap();
        assert!((lo.lower() - 0.05_f64.powf(0.1)).abs() < TOL);
    }

    #[test]
    fn clopper_pearson_is_wider_than_wilson() {
        for (x, n) in [(1, 20), (7, 30), (150, 400)] {
            let w = wilson(x, n, Confidence::P95).unwrap();
            let cp = clopper_pearson(x, n, Confidence::P95).unwrap();
            assert!(cp.width() > w.width(), "{x}/{n}");
        }
    }

    #[test]
    fn invalid_counts_are_errors() {
        let c = Confidence::P95;
        assert!(matches!(
            wilson(0, 0, c),
            Err(Error::TooFewObservations { .. })
        ));
        assert!(matches!(
            wilson(11, 10, c),
            Err(Error::SuccessesExceedTrials { .. })
        ));
        assert!(matches!(
            clopper_pearson(0, 0, c),
            Err(Error::TooFewObservations { .. })
        ));
        assert!(matches!(
            wilson_upper(3, 2, c),
            Err(Error::SuccessesExceedTrials { .. })
        ));
    }

    #[test]
    fn display_reads_like_a_report() {
        let ci = wilson(47, 150, Confidence::P95).unwrap();
        assert_eq!(ci.to_string(), "0.31 [0.24, 0.39] (Wilson, 95%, n=150)");
    }
}
