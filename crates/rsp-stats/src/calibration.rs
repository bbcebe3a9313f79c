//! How often the "cannot rule out" rule fires, for a known true score.
//!
//! rsp rules a capability threshold out only when the one-sided Wilson
//! upper bound of the observed success rate lies strictly below the line
//! ([`cannot_rule_out`]). Before trusting a policy's (n, confidence, line)
//! choice, `rsp assess --simulate` asks: if the model's true score were `p`,
//! how likely is each outcome?
//!
//! * For `p < line`, "cannot rule out" is a **false alarm**; its rate
//!   shows how much compute the policy wastes on needless safeguards.
//! * For `p ≥ line`, "ruled out" is a **miss**; by construction of a
//!   one-sided bound its rate is at most about `1 − confidence`, and the
//!   exact figure shows how close Wilson comes to that promise.
//!
//! The exact figure sums the binomial pmf over every outcome for which the
//! bound reaches the line; the Monte Carlo figure draws outcomes, and the two
//! agreeing is a check on both (and on the decision code they share).

use rand_distr::{Binomial, Distribution};
use serde::{Deserialize, Serialize};
use statrs::distribution::{Binomial as BinomialPmf, Discrete};

use crate::dist::normal_quantile;
use crate::error::{Error, Result, check_unit};
use crate::interval::Confidence;
use crate::proportion::wilson_bounds;
use crate::rng::par_chunks;

/// The decision rule itself: true when the one-sided Wilson upper bound at
/// `confidence` for `successes` out of `trials` reaches `line`, i.e. the
/// threshold **cannot** be ruled out.
///
/// # Errors
/// As for [`crate::proportion::wilson`]; [`Error::InvalidParameter`] if
/// `line` is outside [0, 1].
pub fn cannot_rule_out(
    successes: u64,
    trials: u64,
    line: f64,
    confidence: Confidence,
) -> Result<bool> {
    check_unit("line", line)?;
    let bound = crate::proportion::wilson_upper(successes, trials, confidence)?;
    Ok(bound.upper() >= line)
}

/// A hypothetical evaluation: true score, sample size, line and the
/// one-sided confidence of the upper bound.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RuleOutScenario {
    /// The model's true success probability.
    pub true_score: f64,
    /// Number of independent samples in the eval.
    pub n: u64,
    /// The capability line.
    pub line: f64,
    /// One-sided confidence of the Wilson upper bound. For a policy phrased
    /// as "the two-sided c interval's upper end", pass
    /// [`Confidence::two_sided_as_one_sided`].
    pub confidence: Confidence,
}

impl RuleOutScenario {
    fn validate(&self) -> Result<()> {
        check_unit("true score", self.true_score)?;
        check_unit("line", self.line)?;
        if self.n == 0 {
            return Err(Error::TooFewObservations {
                what: "a rule-out scenario",
                needed: 1,
                got: 0,
            });
        }
        Ok(())
    }

    /// Smallest success count whose upper bound reaches the line
    /// (`n + 1` if none does). The Wilson upper bound increases with the
    /// count, so the "cannot rule out" outcomes are exactly `k >= threshold`.
    fn threshold(&self) -> Result<u64> {
        let z = normal_quantile(self.confidence.level())?;
        let reaches = |k: u64| wilson_bounds(k, self.n, z).1 >= self.line;
        let (mut lo, mut hi) = (0_u64, self.n + 1);
        // Invariant: !reaches(k) for k < lo, reaches(k) for k >= hi (k <= n).
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if reaches(mid) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Ok(lo)
    }

    /// Whether "cannot rule out" would be the right call for this true
    /// score (the threshold really is reached).
    pub fn line_is_reached(&self) -> bool {
        self.true_score >= self.line
    }
}

/// The probability of each outcome for a [`RuleOutScenario`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OperatingPoint {
    /// The scenario evaluated.
    pub scenario: RuleOutScenario,
    /// Probability that the bound reaches the line ("cannot rule out").
    pub cannot_rule_out: f64,
}

impl OperatingPoint {
    /// Probability of ruling the threshold out.
    pub fn ruled_out(&self) -> f64 {
        1.0 - self.cannot_rule_out
    }

    /// The false-alarm rate, when the true score is below the line.
    pub fn false_alarm_rate(&self) -> Option<f64> {
        (!self.scenario.line_is_reached()).then_some(self.cannot_rule_out)
    }

    /// The miss rate, when the true score is at or above the line.
    pub fn miss_rate(&self) -> Option<f64> {
        self.scenario.line_is_reached().then(|| self.ruled_out())
    }
}

/// Exact probability of "cannot rule out", by summing the binomial pmf over
/// every outcome whose Wilson upper bound reaches the line. O(n).
///
/// # Errors
/// [`Error::InvalidParameter`] for a true score or line outside [0, 1];
/// [`Error::TooFewObservations`] for `n == 0`.
pub fn cannot_rule_out_exact(scenario: &RuleOutScenario) -> Result<OperatingPoint> {
    scenario.validate()?;
    let first = scenario.threshold()?;
    let pmf =
        BinomialPmf::new(scenario.true_score, scenario.n).map_err(|e| Error::Distribution {
            distribution: "binomial",
            source: Box::new(e),
        })?;
    let p: f64 = (first..=scenario.n).map(|k| pmf.pmf(k)).sum();
    Ok(OperatingPoint {
        scenario: *scenario,
        cannot_rule_out: p.clamp(0.0, 1.0),
    })
}

/// A Monte Carlo probability with its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MonteCarloEstimate {
    /// Share of runs in which the event happened.
    pub probability: f64,
    /// Binomial standard error `sqrt(p(1 − p)/runs)`.
    pub standard_error: f64,
    /// Number of simulated runs.
    pub runs: u64,
}

/// Monte Carlo probability of "cannot rule out": draws `runs` eval outcomes
/// from Binomial(n, true score) and applies the decision rule. Seeded and
/// parallel; identical for a given seed whatever the thread count.
///
/// # Errors
/// As for [`cannot_rule_out_exact`], plus [`Error::TooFewObservations`]
/// for `runs == 0`.
pub fn cannot_rule_out_monte_carlo(
    scenario: &RuleOutScenario,
    runs: u64,
    seed: u64,
) -> Result<MonteCarloEstimate> {
    scenario.validate()?;
    if runs == 0 {
        return Err(Error::TooFewObservations {
            what: "a Monte Carlo estimate (runs)",
            needed: 1,
            got: 0,
        });
    }
    let runs_usize = usize::try_from(runs).map_err(|_| Error::InvalidParameter {
        name: "runs",
        expected: "addressable on this platform",
        value: runs as f64,
    })?;
    let z = normal_quantile(scenario.confidence.level())?;
    let binomial =
        Binomial::new(scenario.n, scenario.true_score).map_err(|e| Error::Distribution {
            distribution: "binomial sampler",
            source: Box::new(e),
        })?;
    let hits = par_chunks(runs_usize, seed, |rng, len| {
        let count = (0..len)
            .filter(|_| wilson_bounds(binomial.sample(rng), scenario.n, z).1 >= scenario.line)
            .count();
        vec![count]
    });
    let p = hits.iter().sum::<usize>() as f64 / runs as f64;
    Ok(MonteCarloEstimate {
        probability: p,
        standard_error: (p * (1.0 - p) / runs as f64).sqrt(),
        runs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(true_score: f64, n: u64, line: f64) -> RuleOutScenario {
        RuleOutScenario {
            true_score,
            n,
            line,
            confidence: Confidence::P95,
        }
    }

    #[test]
    fn decision_rule_matches_the_bound() {
        // 0/10 has a 95% one-sided upper bound of 0.2129.
        assert!(cannot_rule_out(0, 10, 0.2, Confidence::P95).unwrap());
        assert!(!cannot_rule_out(0, 10, 0.22, Confidence::P95).unwrap());
        assert!(cannot_rule_out(0, 10, 1.5, Confidence::P95).is_err());
    }

    #[test]
    fn threshold_is_the_first_count_reaching_the_line() {
        let s = scenario(0.2, 100, 0.3);
        let k = s.threshold().unwrap();
        assert!(cannot_rule_out(k, 100, 0.3, Confidence::P95).unwrap());
        assert!(!cannot_rule_out(k - 1, 100, 0.3, Confidence::P95).unwrap());
    }

    #[test]
    fn exact_sum_matches_the_closed_form_tail() {
        // P(X >= k*) summed term by term equals statrs's survival function.
        use statrs::distribution::DiscreteCDF;
        let s = scenario(0.22, 250, 0.3);
        let k = s.threshold().unwrap();
        let closed = BinomialPmf::new(0.22, 250).unwrap().sf(k - 1);
        let exact = cannot_rule_out_exact(&s).unwrap().cannot_rule_out;
        assert!((exact - closed).abs() < 1e-12, "{exact} vs {closed}");
    }

    #[test]
    fn monte_carlo_agrees_with_exact() {
        for s in [
            scenario(0.2, 100, 0.3),
            scenario(0.3, 100, 0.3),
            scenario(0.05, 40, 0.1),
        ] {
            let exact = cannot_rule_out_exact(&s).unwrap().cannot_rule_out;
            let mc = cannot_rule_out_monte_carlo(&s, 20_000, 17).unwrap();
            assert!(
                (mc.probability - exact).abs() < 4.5 * mc.standard_error.max(1e-3),
                "{s:?}: mc {} exact {exact}",
                mc.probability
            );
        }
    }

    #[test]
    fn miss_rate_at_the_line_is_about_alpha() {
        // At p = line a one-sided 95% bound misses about 5% of the time.
        let op = cannot_rule_out_exact(&scenario(0.3, 500, 0.3)).unwrap();
        let miss = op.miss_rate().unwrap();
        assert!(miss > 0.03 && miss < 0.07, "{miss}");
        assert!(op.false_alarm_rate().is_none());
    }

    #[test]
    fn false_alarms_fall_with_n() {
        let small = cannot_rule_out_exact(&scenario(0.2, 50, 0.3)).unwrap();
        let large = cannot_rule_out_exact(&scenario(0.2, 500, 0.3)).unwrap();
        assert!(large.false_alarm_rate().unwrap() < small.false_alarm_rate().unwrap());
        assert!(large.miss_rate().is_none());
    }

    #[test]
    fn degenerate_true_scores() {
        assert_eq!(
            cannot_rule_out_exact(&scenario(1.0, 20, 0.5))
                .unwrap()
                .cannot_rule_out,
            1.0
        );
        // p = 0: always 0/n, and 0/200's bound (0.0134) is below 0.1.
        assert_eq!(
            cannot_rule_out_exact(&scenario(0.0, 200, 0.1))
                .unwrap()
                .cannot_rule_out,
            0.0
        );
        let mc = cannot_rule_out_monte_carlo(&scenario(0.0, 200, 0.1), 500, 1).unwrap();
        assert_eq!(mc.probability, 0.0);
    }

    #[test]
    fn invalid_scenarios_are_errors() {
        assert!(cannot_rule_out_exact(&scenario(0.2, 0, 0.3)).is_err());
        assert!(cannot_rule_out_exact(&scenario(-0.1, 10, 0.3)).is_err());
        assert!(cannot_rule_out_exact(&scenario(0.2, 10, f64::NAN)).is_err());
        assert!(cannot_rule_out_monte_carlo(&scenario(0.2, 10, 0.3), 0, 1).is_err());
    }

    #[test]
    fn monte_carlo_is_reproducible() {
        let s = scenario(0.25, 80, 0.3);
        let a = cannot_rule_out_monte_carlo(&s, 3000, 9).unwrap();
        assert_eq!(a, cannot_rule_out_monte_carlo(&s, 3000, 9).unwrap());
    }
}
