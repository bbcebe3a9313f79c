//! Power: what an eval of this size can detect, and how many more samples a
//! determination needs.
//!
//! An eval that cannot detect the effect that matters is not evidence of
//! absence. rsp reports, next to every interval, the minimum detectable
//! effect (MDE) at the current n, and for a threshold that cannot yet be
//! ruled out, how many samples would be needed to rule it out if the current
//! estimate is right.

use serde::{Deserialize, Serialize};
use statrs::distribution::{Binomial, DiscreteCDF};

use crate::dist::{normal_cdf, normal_quantile, t_quantile};
use crate::error::{Error, Result, check_unit};
use crate::interval::Confidence;
use crate::proportion::wilson_bounds;

/// Whether the planned test is one- or two-sided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Alternative {
    /// Detect a change in either direction (α split over two tails).
    TwoSided,
    /// Detect an increase only (α in one tail). Capability determinations
    /// care about increases, so this is the natural choice there.
    Greater,
}

/// Significance level, target power and sidedness of a planned test.
/// Serialisable for reports; built only through [`TestDesign::new`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TestDesign {
    alpha: f64,
    power: f64,
    alternative: Alternative,
}

impl TestDesign {
    /// α = 0.05, power = 0.8, two-sided: the textbook default.
    pub const CONVENTIONAL: TestDesign = TestDesign {
        alpha: 0.05,
        power: 0.8,
        alternative: Alternative::TwoSided,
    };

    /// Validates a design.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `0 < alpha < 0.5` and
    /// `0.5 <= power < 1` (a design aiming below even odds is not a plan).
    pub fn new(alpha: f64, power: f64, alternative: Alternative) -> Result<Self> {
        if !(alpha > 0.0 && alpha < 0.5) {
            return Err(Error::InvalidParameter {
                name: "alpha",
                expected: "strictly between 0 and 0.5",
                value: alpha,
            });
        }
        if !((0.5..1.0).contains(&power)) {
            return Err(Error::InvalidParameter {
                name: "power",
                expected: "at least 0.5 and below 1",
                value: power,
            });
        }
        Ok(TestDesign {
            alpha,
            power,
            alternative,
        })
    }

    /// The significance level.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The target power.
    pub fn power(&self) -> f64 {
        self.power
    }

    /// The sidedness.
    pub fn alternative(&self) -> Alternative {
        self.alternative
    }

    /// Upper-tail probability of the rejection region.
    fn tail(&self) -> f64 {
        match self.alternative {
            Alternative::TwoSided => self.alpha / 2.0,
            Alternative::Greater => self.alpha,
        }
    }
}

/// Minimum detectable increase over a baseline proportion `baseline` with
/// `n` samples: the smallest `δ` such that a one-sample z test of
/// `p = baseline` rejects with the design's power when the truth is
/// `baseline + δ`. Uses the null variance for the critical value and the
/// alternative's variance for the power, solved by bisection.
///
/// # Errors
/// [`Error::InvalidParameter`] unless `0 <= baseline < 1`;
/// [`Error::TooFewObservations`] for `n == 0`; [`Error::Unreachable`] when
/// even a true proportion of 1 would not reach the power.
pub fn mde_proportion(baseline: f64, n: u64, design: &TestDesign) -> Result<f64> {
    check_unit("baseline proportion", baseline)?;
    if baseline >= 1.0 {
        return Err(Error::InvalidParameter {
            name: "baseline proportion",
            expected: "below 1 (no increase is possible from 1)",
            value: baseline,
        });
    }
    if n == 0 {
        return Err(Error::TooFewObservations {
            what: "a minimum detectable effect",
            needed: 1,
            got: 0,
        });
    }
    let nf = n as f64;
    let critical = baseline
        + normal_quantile(1.0 - design.tail())? * (baseline * (1.0 - baseline) / nf).sqrt();
    if critical >= 1.0 {
        return Err(Error::Unreachable {
            reason: "the rejection region lies above 1 at this n",
        });
    }
    let power_at = |p1: f64| -> Result<f64> {
        let sd = (p1 * (1.0 - p1) / nf).sqrt();
        if sd == 0.0 {
            return Ok(if p1 > critical { 1.0 } else { 0.0 });
        }
        normal_cdf((p1 - critical) / sd)
    };
    let (mut lo, mut hi) = (baseline, 1.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if power_at(mid)? >= design.power {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(hi - baseline)
}

/// Minimum detectable shift of a mean with standard deviation `sd` and `n`
/// samples: `(t_{1−α'} + t_{power}) · sd / √n` on `n − 1` degrees of
/// freedom, the usual approximation to the noncentral-t solution (slightly
/// optimistic for n below about 10). For a paired comparison pass the
/// standard deviation of the per-item differences.
///
/// # Errors
/// [`Error::TooFewObservations`] for `n < 2`; [`Error::InvalidParameter`]
/// for a negative or non-finite `sd`.
pub fn mde_mean(sd: f64, n: u64, design: &TestDesign) -> Result<f64> {
    if !(sd.is_finite() && sd >= 0.0) {
        return Err(Error::InvalidParameter {
            name: "standard deviation",
            expected: "finite and non-negative",
            value: sd,
        });
    }
    if n < 2 {
        return Err(Error::TooFewObservations {
            what: "a minimum detectable effect for a mean",
            needed: 2,
            got: usize::try_from(n).unwrap_or(usize::MAX),
        });
    }
    let df = (n - 1) as f64;
    let q = t_quantile(1.0 - design.tail(), df)? + t_quantile(design.power, df)?;
    Ok(q * sd / (n as f64).sqrt())
}

/// How large an eval must be for the Wilson upper bound to fall below a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleOutPlan {
    /// Total samples needed.
    pub total_n: u64,
    /// Samples beyond those already run (`total_n − current n`, or 0).
    pub additional: u64,
}

/// Samples needed so that, if the true score equals `estimate`, the
/// one-sided Wilson upper bound at `confidence` falls below `line` with
/// probability at least `probability`.
///
/// With `probability = 0.5` this is close to the plug-in answer ("the n at
/// which the bound computed from the current estimate drops below the
/// line"), which succeeds only about half the time; 0.8 or 0.9 is the
/// honest planning figure. The probability is computed exactly from the
/// binomial distribution. Because of binomial discreteness it is not
/// perfectly monotone in n, so the returned n is found by bisection and
/// then checked: it meets the target, but a slightly smaller n may too.
///
/// # Errors
/// [`Error::InvalidParameter`] for an estimate or line outside [0, 1] or a
/// probability outside (0, 1); [`Error::Unreachable`] if `estimate >= line`
/// (more data would only confirm the line is reached) or if more than
/// [`MAX_PLANNED_N`] samples would be needed.
pub fn samples_to_rule_out(
    estimate: f64,
    current_n: u64,
    line: f64,
    confidence: Confidence,
    probability: f64,
) -> Result<RuleOutPlan> {
    check_unit("estimate", estimate)?;
    check_unit("line", line)?;
    crate::error::check_open_unit("probability", probability)?;
    if estimate >= line {
        return Err(Error::Unreachable {
            reason: "the estimate is at or above the line; no sample size can rule it out",
        });
    }
    let z = normal_quantile(confidence.level())?;
    let meets =
        |n: u64| -> Result<bool> { Ok(prob_ruled_out(estimate, n, line, z)? >= probability) };

    let start = current_n.max(1);
    if meets(start)? {
        return Ok(RuleOutPlan {
            total_n: start,
            additional: 0,
        });
    }
    // Grow until the target is met, then bisect back.
    let mut lo = start;
    let mut hi = start.saturating_mul(2);
    while !meets(hi)? {
        if hi >= MAX_PLANNED_N {
            return Err(Error::Unreachable {
                reason: "more than a billion samples would be needed",
            });
        }
        lo = hi;
        hi = hi.saturating_mul(2).min(MAX_PLANNED_N);
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if meets(mid)? {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(RuleOutPlan {
        total_n: hi,
        additional: hi.saturating_sub(current_n),
    })
}

/// Largest sample size [`samples_to_rule_out`] will plan for.
pub const MAX_PLANNED_N: u64 = 1_000_000_000;

/// `P(Wilson upper < line)` for `X ~ Binomial(n, p)`, in closed form: the
/// bound increases with the count, so this is `P(X < k*)` for the first
/// count `k*` whose bound reaches the line.
fn prob_ruled_out(p: f64, n: u64, line: f64, z: f64) -> Result<f64> {
    let (mut lo, mut hi) = (0_u64, n + 1);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if wilson_bounds(mid, n, z).1 >= line {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    if lo == 0 {
        return Ok(0.0);
    }
    let dist = Binomial::new(p, n).map_err(|e| Error::Distribution {
        distribution: "binomial",
        source: Box::new(e),
    })?;
    Ok(dist.cdf(lo - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mde_mean_matches_closed_form() {
        // Large n: t quantiles approach z, (1.96 + 0.8416) / sqrt(10000).
        let d = mde_mean(1.0, 10_000, &TestDesign::CONVENTIONAL).unwrap();
        assert!((d - (1.959964 + 0.841621) / 100.0).abs() < 1e-4, "{d}");
        // One-sided uses z_0.95.
        let one = TestDesign::new(0.05, 0.8, Alternative::Greater).unwrap();
        let d1 = mde_mean(1.0, 10_000, &one).unwrap();
        assert!((d1 - (1.644854 + 0.841621) / 100.0).abs() < 1e-4, "{d1}");
        assert_eq!(mde_mean(0.0, 10, &one).unwrap(), 0.0);
    }

    #[test]
    fn mde_proportion_achieves_the_power() {
        // Check by construction: at baseline + mde the power equals 0.8.
        let design = TestDesign::CONVENTIONAL;
        let (p0, n) = (0.3, 200_u64);
        let d = mde_proportion(p0, n, &design).unwrap();
        let nf = n as f64;
        let crit = p0 + 1.959964 * (p0 * (1.0 - p0) / nf).sqrt();
        let p1 = p0 + d;
        let power = normal_cdf((p1 - crit) / (p1 * (1.0 - p1) / nf).sqrt()).unwrap();
        assert!((power - 0.8).abs() < 1e-6, "{power}");
        // Close to the equal-variance approximation (z_a + z_b) sqrt(p q / n).
        let approx = (1.959964 + 0.841621) * (p0 * (1.0 - p0) / nf).sqrt();
        assert!((d - approx).abs() < 0.01, "{d} vs {approx}");
    }

    #[test]
    fn mde_shrinks_with_n() {
        let a = mde_proportion(0.2, 100, &TestDesign::CONVENTIONAL).unwrap();
        let b = mde_proportion(0.2, 400, &TestDesign::CONVENTIONAL).unwrap();
        assert!(b < a && b > a / 2.5, "{a} {b}");
    }

    #[test]
    fn invalid_designs_are_errors() {
        assert!(TestDesign::new(0.0, 0.8, Alternative::TwoSided).is_err());
        assert!(TestDesign::new(0.05, 1.0, Alternative::TwoSided).is_err());
        assert!(TestDesign::new(0.05, 0.3, Alternative::TwoSided).is_err());
        assert!(mde_proportion(0.2, 0, &TestDesign::CONVENTIONAL).is_err());
        assert!(mde_proportion(1.0, 10, &TestDesign::CONVENTIONAL).is_err());
        assert!(mde_mean(f64::NAN, 10, &TestDesign::CONVENTIONAL).is_err());
        assert!(mde_mean(1.0, 1, &TestDesign::CONVENTIONAL).is_err());
        // Tiny n: the critical value sits above 1.
        assert!(matches!(
            mde_proportion(0.9, 1, &TestDesign::CONVENTIONAL),
            Err(Error::Unreachable { .. })
        ));
    }

    #[test]
    fn plan_meets_its_target_and_is_tight() {
        let c = Confidence::P95;
        let plan = samples_to_rule_out(0.2, 50, 0.3, c, 0.8).unwrap();
        let z = normal_quantile(0.95).unwrap();
        assert!(prob_ruled_out(0.2, plan.total_n, 0.3, z).unwrap() >= 0.8);
        assert!(prob_ruled_out(0.2, plan.total_n - 1, 0.3, z).unwrap() < 0.8);
        assert_eq!(plan.additional, plan.total_n - 50);
        // Normal-approximation ballpark: ((z_.95 + z_.8)^2 p q) / (L - p)^2 ≈ 99.
        assert!(plan.total_n > 70 && plan.total_n < 140, "{plan:?}");
    }

    #[test]
    fn plan_with_enough_data_needs_nothing_more() {
        let plan = samples_to_rule_out(0.1, 5000, 0.3, Confidence::P95, 0.9).unwrap();
        assert_eq!(
            plan,
            RuleOutPlan {
                total_n: 5000,
                additional: 0
            }
        );
    }

    #[test]
    fn higher_assurance_needs_more_samples() {
        let half = samples_to_rule_out(0.25, 10, 0.3, Confidence::P95, 0.5).unwrap();
        let ninety = samples_to_rule_out(0.25, 10, 0.3, Confidence::P95, 0.9).unwrap();
        assert!(ninety.total_n > half.total_n);
    }

    #[test]
    fn unreachable_plans_are_errors() {
        let c = Confidence::P95;
        assert!(matches!(
            samples_to_rule_out(0.3, 10, 0.3, c, 0.8),
            Err(Error::Unreachable { .. })
        ));
        assert!(matches!(
            samples_to_rule_out(0.3 - 1e-7, 10, 0.3, c, 0.8),
            Err(Error::Unreachable { .. })
        ));
        assert!(samples_to_rule_out(0.2, 10, 1.3, c, 0.8).is_err());
        assert!(samples_to_rule_out(0.2, 10, 0.3, c, 1.0).is_err());
    }
}
