//! Paired comparisons of two models (or two solvers) on the same samples.
//!
//! Comparing two models on one eval with an unpaired test throws away the
//! strongest signal available: most items are easy or hard for both. The
//! tests here work on per-item differences, so the item difficulty cancels.
//! Every result reports the difference `A − B`, its interval and a
//! two-sided p-value.
//!
//! * Binary scores: McNemar's test on the discordant pairs (exact binomial
//!   for small counts, chi-square with continuity correction otherwise) and
//!   Newcombe's hybrid score interval for the paired difference (Newcombe
//!   1998, method 10), which, unlike the Wald interval, behaves well near 0
//!   and 1 and for small n.
//! * Numeric scores: the paired t test, and a paired bootstrap that
//!   resamples items (keeping each item's two scores together).

use std::fmt;

use serde::{Deserialize, Serialize};
use statrs::distribution::{Binomial, DiscreteCDF};

use crate::bootstrap::{BootstrapConfig, bootstrap_mean_with_replicates};
use crate::dist::{chi_squared_sf, normal_quantile, t_quantile, t_two_sided_p};
use crate::error::{Error, Result, check_finite, check_len};
use crate::interval::{Confidence, Interval, Method, Side};
use crate::mean::summarize_unchecked;
use crate::proportion::wilson_bounds;

/// Below this many discordant pairs, [`McNemarMethod::Auto`] uses the exact
/// binomial test; the chi-square approximation is poor for small counts.
pub const EXACT_DISCORDANT_LIMIT: u64 = 25;

/// The 2×2 table of paired binary outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PairedTable {
    /// Items both A and B got right.
    pub both: u64,
    /// Items only A got right.
    pub only_a: u64,
    /// Items only B got right.
    pub only_b: u64,
    /// Items neither got right.
    pub neither: u64,
}

impl PairedTable {
    /// Counts the table from per-item outcomes aligned by index.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] if the slices differ in length.
    pub fn from_outcomes(a: &[bool], b: &[bool]) -> Result<Self> {
        if a.len() != b.len() {
            return Err(Error::LengthMismatch {
                what: "paired outcomes",
                left: a.len(),
                right: b.len(),
            });
        }
        let mut t = PairedTable::default();
        for (&x, &y) in a.iter().zip(b) {
            match (x, y) {
                (true, true) => t.both += 1,
                (true, false) => t.only_a += 1,
                (false, true) => t.only_b += 1,
                (false, false) => t.neither += 1,
            }
        }
        Ok(t)
    }

    /// Total number of items.
    pub fn n(&self) -> u64 {
        self.both + self.only_a + self.only_b + self.neither
    }

    /// Number of discordant items (`only_a + only_b`), the only items that
    /// carry information about the difference.
    pub fn discordant(&self) -> u64 {
        self.only_a + self.only_b
    }
}

/// Which form of McNemar's test to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum McNemarMethod {
    /// Exact below [`EXACT_DISCORDANT_LIMIT`] discordant pairs, chi-square
    /// with continuity correction from there on.
    Auto,
    /// Exact two-sided binomial test of the discordant split against 1/2.
    Exact,
    /// Chi-square on 1 df of `(|b − c| − 1)² / (b + c)`.
    ChiSquareCorrected,
}

/// The test behind a [`PairedComparison`]'s p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PairedTest {
    /// McNemar, exact binomial form.
    McNemarExact,
    /// McNemar, chi-square with continuity correction.
    McNemarChiSquare,
    /// Paired t test.
    PairedT,
    /// Paired bootstrap, p-value from the null-shifted replicates.
    PairedBootstrap,
}

impl PairedTest {
    /// Short human-readable name.
    pub fn label(self) -> &'static str {
        match self {
            PairedTest::McNemarExact => "McNemar exact",
            PairedTest::McNemarChiSquare => "McNemar chi-square (corrected)",
            PairedTest::PairedT => "paired t",
            PairedTest::PairedBootstrap => "paired bootstrap",
        }
    }
}

/// The outcome of a paired comparison of A against B.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedComparison {
    /// The difference `A − B` with its interval.
    pub difference: Interval,
    /// Two-sided p-value for "no difference".
    pub p_value: f64,
    /// The test that produced the p-value.
    pub test: PairedTest,
}

impl fmt::Display for PairedComparison {
    /// `-0.06 [-0.12, -0.00] (Newcombe paired, 95%, n=161); McNemar exact p=0.052`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.difference, f)?;
        // Three decimals, except that tiny p-values say so rather than
        // printing as "p=0.000".
        if self.p_value < 0.001 {
            write!(f, "; {} p<0.001", self.test.label())
        } else {
            write!(f, "; {} p={:.3}", self.test.label(), self.p_value)
        }
    }
}

/// Exact two-sided McNemar p-value: twice the smaller binomial tail.
fn mcnemar_exact_p(b: u64, c: u64) -> Result<f64> {
    let m = b + c;
    if m == 0 {
        return Ok(1.0);
    }
    let dist = Binomial::new(0.5, m).map_err(|e| Error::Distribution {
        distribution: "binomial",
        source: Box::new(e),
    })?;
    Ok((2.0 * dist.cdf(b.min(c))).min(1.0))
}

/// Chi-square McNemar p-value with continuity correction. `b == c` (and
/// no discordant pairs at all) gives p = 1, rather than the infinite
/// statistic some implementations report for `b + c = 0`.
fn mcnemar_chi_square_p(b: u64, c: u64) -> Result<f64> {
    let m = b + c;
    if m == 0 {
        return Ok(1.0);
    }
    let diff = (b.abs_diff(c) as f64 - 1.0).max(0.0);
    chi_squared_sf(diff * diff / m as f64, 1.0)
}

/// Newcombe's method-10 interval for `p_A − p_B` from a paired table.
fn newcombe_paired(t: &PairedTable, confidence: Confidence) -> Result<(f64, f64, f64)> {
    let n = t.n();
    let nf = n as f64;
    let z = normal_quantile(1.0 - confidence.alpha() / 2.0)?;
    let (xa, xb) = (t.both + t.only_a, t.both + t.only_b);
    let (p1, p2) = (xa as f64 / nf, xb as f64 / nf);
    let (l1, u1) = wilson_bounds(xa, n, z);
    let (l2, u2) = wilson_bounds(xb, n, z);
    // Correlation between the two marginal proportions, with Newcombe's
    // continuity adjustment for positive association.
    let margins = [xa, n - xa, xb, n - xb];
    let phi = if margins.contains(&0) {
        0.0
    } else {
        let prod: f64 = margins.iter().map(|&m| m as f64).product();
        let a = t.both as f64 * t.neither as f64 - t.only_a as f64 * t.only_b as f64;
        let adjusted = if a > nf / 2.0 {
            a - nf / 2.0
        } else if a >= 0.0 {
            0.0
        } else {
            a
        };
        adjusted / prod.sqrt()
    };
    let d = p1 - p2;
    let (dl1, du1, dl2, du2) = (p1 - l1, u1 - p1, p2 - l2, u2 - p2);
    let lower = d
        - (dl1 * dl1 + du2 * du2 - 2.0 * phi * dl1 * du2)
            .max(0.0)
            .sqrt();
    let upper = d
        + (dl2 * dl2 + du1 * du1 - 2.0 * phi * dl2 * du1)
            .max(0.0)
            .sqrt();
    Ok((d, lower.max(-1.0).min(d), upper.min(1.0).max(d)))
}

/// McNemar's test with a Newcombe interval for the difference in accuracy
/// `p_A − p_B`.
///
/// # Errors
/// [`Error::TooFewObservations`] for an empty table.
pub fn mcnemar(
    table: &PairedTable,
    method: McNemarMethod,
    confidence: Confidence,
) -> Result<PairedComparison> {
    let n = table.n();
    if n == 0 {
        return Err(Error::TooFewObservations {
            what: "McNemar's test",
            needed: 1,
            got: 0,
        });
    }
    let exact = match method {
        McNemarMethod::Exact => true,
        McNemarMethod::ChiSquareCorrected => false,
        McNemarMethod::Auto => table.discordant() < EXACT_DISCORDANT_LIMIT,
    };
    let (b, c) = (table.only_a, table.only_b);
    let (p_value, test) = if exact {
        (mcnemar_exact_p(b, c)?, PairedTest::McNemarExact)
    } else {
        (mcnemar_chi_square_p(b, c)?, PairedTest::McNemarChiSquare)
    };
    let (d, lower, upper) = newcombe_paired(table, confidence)?;
    let difference = Interval::new(
        d,
        lower,
        upper,
        n,
        Method::NewcombePaired,
        confidence,
        Side::TwoSided,
    )?;
    Ok(PairedComparison {
        difference,
        p_value,
        test,
    })
}

fn differences(a: &[f64], b: &[f64]) -> Result<Vec<f64>> {
    if a.len() != b.len() {
        return Err(Error::LengthMismatch {
            what: "paired scores",
            left: a.len(),
            right: b.len(),
        });
    }
    check_finite(a)?;
    check_finite(b)?;
    Ok(a.iter().zip(b).map(|(x, y)| x - y).collect())
}

/// Paired t test and interval for the mean difference `mean(a − b)`.
///
/// When every difference is identical the spread is zero: the interval is
/// that single point and the p-value is 1 if it is zero, 0 otherwise.
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::NonFinite`], or
/// [`Error::TooFewObservations`] for fewer than two pairs.
pub fn paired_t(a: &[f64], b: &[f64], confidence: Confidence) -> Result<PairedComparison> {
    let d = differences(a, b)?;
    check_len("a paired t test", d.len(), 2)?;
    let s = summarize_unchecked(&d);
    let df = (s.n - 1) as f64;
    let se = s.standard_error();
    let half = t_quantile(1.0 - confidence.alpha() / 2.0, df)? * se;
    let p_value = if se > 0.0 {
        t_two_sided_p(s.mean / se, df)?
    } else if s.mean == 0.0 {
        1.0
    } else {
        0.0
    };
    let difference = Interval::new(
        s.mean,
        s.mean - half,
        s.mean + half,
        s.n as u64,
        Method::StudentT,
        confidence,
        Side::TwoSided,
    )?;
    Ok(PairedComparison {
        difference,
        p_value,
        test: PairedTest::PairedT,
    })
}

/// Paired bootstrap for the mean difference `mean(a − b)`: resamples items
/// with both scores attached (equivalently, resamples the differences).
///
/// The p-value comes from the bootstrap distribution shifted to the null
/// (Efron & Tibshirani 1993, §16.4): the share of replicates whose distance
/// from the observed difference is at least the observed difference,
/// `(1 + #{|d* − d̄| ≥ |d̄|}) / (B + 1)`, which is never exactly 0.
///
/// # Errors
/// As for [`crate::bootstrap::bootstrap_mean`], plus
/// [`Error::LengthMismatch`].
pub fn paired_bootstrap(
    a: &[f64],
    b: &[f64],
    config: &BootstrapConfig,
) -> Result<PairedComparison> {
    let d = differences(a, b)?;
    let (difference, reps) = bootstrap_mean_with_replicates(&d, config)?;
    let observed = difference.estimate();
    let extreme = reps
        .iter()
        .filter(|&&r| (r - observed).abs() >= observed.abs())
        .count();
    let p_value = (1.0 + extreme as f64) / (reps.len() as f64 + 1.0);
    Ok(PairedComparison {
        difference,
        p_value,
        test: PairedTest::PairedBootstrap,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::BootstrapMethod;

    // Cavo et al. (2012) table from Fagerland, Lydersen & Laake,
    // "Statistical Analysis of Contingency Tables" ch. 8: rows = A, cols = B.
    const CAVO: PairedTable = PairedTable {
        both: 59,
        only_a: 6,
        only_b: 16,
        neither: 80,
    };

    #[test]
    fn newcombe_interval_matches_published_values() {
        // The book (and its R package `contingencytables`,
        // Newcombe_square_and_add_CI_paired_2x2) reports
        // estimate -0.0621, 95% CI -0.1186 to -0.0046.
        let r = mcnemar(&CAVO, McNemarMethod::Exact, Confidence::P95).unwrap();
        let ci = r.difference;
        assert!((ci.estimate() - (-10.0 / 161.0)).abs() < 1e-12);
        assert!((ci.lower() - (-0.11862119563870992)).abs() < 1e-9);
        assert!((ci.upper() - (-0.004625113933050047)).abs() < 1e-9);
        // Second published example (Bentur et al. 2009): -0.2857, CI -0.5069 to -0.0256.
        let bentur = PairedTable {
            both: 1,
            only_a: 1,
            only_b: 7,
            neither: 12,
        };
        let ci = mcnemar(&bentur, McNemarMethod::Exact, Confidence::P95)
            .unwrap()
            .difference;
        assert!((ci.lower() - (-0.506920226686141)).abs() < 1e-9);
        assert!((ci.upper() - (-0.02555912416485978)).abs() < 1e-9);
    }

    // McNemar p-values from statsmodels 0.14
    // `contingency_tables.mcnemar(table, exact=..., correction=True)`.
    #[test]
    fn mcnemar_p_values_match_statsmodels() {
        let exact = mcnemar(&CAVO, McNemarMethod::Exact, Confidence::P95).unwrap();
        assert!((exact.p_value - 0.052478790283203125).abs() < 1e-12);
        assert_eq!(exact.test, PairedTest::McNemarExact);
        let chi = mcnemar(&CAVO, McNemarMethod::ChiSquareCorrected, Confidence::P95).unwrap();
        assert!((chi.p_value - 0.055008833629265896).abs() < 1e-10);
        let big = PairedTable {
            both: 794,
            only_a: 86,
            only_b: 150,
            neither: 570,
        };
        let auto = mcnemar(&big, McNemarMethod::Auto, Confidence::P95).unwrap();
        assert_eq!(auto.test, PairedTest::McNemarChiSquare);
        assert!((auto.p_value - 4.114562281345944e-05).abs() < 1e-12);
        let auto_small = mcnemar(&CAVO, McNemarMethod::Auto, Confidence::P95).unwrap();
        assert_eq!(auto_small.test, PairedTest::McNemarExact);
    }

    #[test]
    fn no_discordant_pairs_gives_p_one_not_nan() {
        let t = PairedTable {
            both: 10,
            only_a: 0,
            only_b: 0,
            neither: 5,
        };
        for m in [McNemarMethod::Exact, McNemarMethod::ChiSquareCorrected] {
            let r = mcnemar(&t, m, Confidence::P95).unwrap();
            assert_eq!(r.p_value, 1.0);
            assert_eq!(r.difference.estimate(), 0.0);
            assert!(r.difference.lower() <= 0.0 && r.difference.upper() >= 0.0);
        }
        assert!(
            mcnemar(
                &PairedTable::default(),
                McNemarMethod::Auto,
                Confidence::P95
            )
            .is_err()
        );
    }

    #[test]
    fn table_from_outcomes_counts_cells() {
        let a = [true, true, false, false, true];
        let b = [true, false, true, false, false];
        let t = PairedTable::from_outcomes(&a, &b).unwrap();
        assert_eq!(
            t,
            PairedTable {
                both: 1,
                only_a: 2,
                only_b: 1,
                neither: 1
            }
        );
        assert_eq!(t.discordant(), 3);
        assert!(PairedTable::from_outcomes(&a, &b[..2]).is_err());
    }

    // Reference: SciPy 1.17 `ttest_rel(a, b)`: statistic 3.5133392591984944,
    // p 0.006583978821889463, 95% CI (0.013888810091953162, 0.06411118990804685).
    const A: [f64; 10] = [0.62, 0.71, 0.55, 0.80, 0.67, 0.59, 0.74, 0.69, 0.58, 0.77];
    const B: [f64; 10] = [0.60, 0.65, 0.56, 0.71, 0.66, 0.52, 0.70, 0.70, 0.51, 0.72];

    #[test]
    fn paired_t_matches_scipy() {
        let r = paired_t(&A, &B, Confidence::P95).unwrap();
        assert!((r.difference.estimate() - 0.039).abs() < 1e-12);
        assert!((r.difference.lower() - 0.013888810091953162).abs() < 1e-9);
        assert!((r.difference.upper() - 0.06411118990804685).abs() < 1e-9);
        assert!((r.p_value - 0.006583978821889463).abs() < 1e-9);
    }

    #[test]
    fn paired_t_degenerate_differences() {
        let same = paired_t(&A, &A, Confidence::P95).unwrap();
        assert_eq!(same.p_value, 1.0);
        // Dyadic values make every difference exactly 0.5: zero spread.
        let base = [0.25, 0.5, 0.75, 1.0, 1.25];
        let shifted: Vec<f64> = base.iter().map(|x| x + 0.5).collect();
        let r = paired_t(&shifted, &base, Confidence::P95).unwrap();
        assert_eq!(r.p_value, 0.0);
        assert_eq!((r.difference.lower(), r.difference.upper()), (0.5, 0.5));
        assert!(paired_t(&A, &B[..3], Confidence::P95).is_err());
        assert!(paired_t(&[1.0], &[2.0], Confidence::P95).is_err());
    }

    #[test]
    fn paired_bootstrap_agrees_with_paired_t() {
        let cfg = BootstrapConfig::new(42)
            .with_resamples(4000)
            .with_method(BootstrapMethod::Percentile);
        let boot = paired_bootstrap(&A, &B, &cfg).unwrap();
        let t = paired_t(&A, &B, Confidence::P95).unwrap();
        assert_eq!(boot.test, PairedTest::PairedBootstrap);
        assert!((boot.difference.estimate() - 0.039).abs() < 1e-12);
        // The bootstrap interval is a little narrower than t for n = 10,
        // but of the same size and location.
        assert!((boot.difference.lower() - t.difference.lower()).abs() < 0.01);
        assert!((boot.difference.upper() - t.difference.upper()).abs() < 0.01);
        assert!(boot.p_value < 0.02, "{}", boot.p_value);
        let none = paired_bootstrap(&A, &A, &cfg).unwrap();
        assert_eq!(none.p_value, 1.0);
    }

    #[test]
    fn display_includes_test_and_p_value() {
        let r = mcnemar(&CAVO, McNemarMethod::Exact, Confidence::P95).unwrap();
        assert_eq!(
            r.to_string(),
            "-0.06 [-0.12, -0.00] (Newcombe paired, 95%, n=161); McNemar exact p=0.052"
        );
        let big = PairedTable {
            both: 794,
            only_a: 86,
            only_b: 150,
            neither: 570,
        };
        let r = mcnemar(&big, McNemarMethod::Auto, Confidence::P95).unwrap();
        assert!(
            r.to_string()
                .ends_with("; McNemar chi-square (corrected) p<0.001"),
            "{r}"
        );
    }
}
