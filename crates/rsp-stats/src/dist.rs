//! Quantiles and tail probabilities of the reference distributions.
//!
//! Thin, validated wrappers over `statrs`: the crate never hand-rolls a
//! quantile approximation, and these wrappers turn statrs's panics on
//! out-of-range probabilities into typed errors.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal, StudentsT};

use crate::error::{Error, Result, check_open_unit};

fn standard_normal() -> Result<Normal> {
    Normal::new(0.0, 1.0).map_err(|e| Error::Distribution {
        distribution: "normal",
        source: Box::new(e),
    })
}

fn students_t(df: f64) -> Result<StudentsT> {
    check_df(df)?;
    StudentsT::new(0.0, 1.0, df).map_err(|e| Error::Distribution {
        distribution: "Student t",
        source: Box::new(e),
    })
}

fn chi_squared(df: f64) -> Result<ChiSquared> {
    check_df(df)?;
    ChiSquared::new(df).map_err(|e| Error::Distribution {
        distribution: "chi-squared",
        source: Box::new(e),
    })
}

fn check_df(df: f64) -> Result<()> {
    if df.is_finite() && df > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name: "degrees of freedom",
            expected: "finite and positive",
            value: df,
        })
    }
}

/// The `p`-quantile of the standard normal distribution.
///
/// # Errors
/// [`Error::InvalidParameter`] unless `0 < p < 1`.
pub fn normal_quantile(p: f64) -> Result<f64> {
    check_open_unit("probability", p)?;
    Ok(standard_normal()?.inverse_cdf(p))
}

/// The standard normal cumulative distribution function at `x`.
///
/// # Errors
/// [`Error::InvalidParameter`] if `x` is NaN.
pub fn normal_cdf(x: f64) -> Result<f64> {
    if x.is_nan() {
        return Err(Error::InvalidParameter {
            name: "x",
            expected: "a number",
            value: x,
        });
    }
    Ok(standard_normal()?.cdf(x))
}

/// Degrees of freedom from which [`t_quantile`] switches from statrs's
/// beta-function inversion to the large-ν expansion.
pub const T_EXPANSION_DF: f64 = 1e4;

/// The `p`-quantile of Student's t distribution with `df` degrees of freedom.
///
/// Below [`T_EXPANSION_DF`] this is statrs's quantile. Above it statrs's
/// inversion of the incomplete beta function loses accuracy (at ν = 10⁶ it
/// is off by 1e-4, at ν = 10⁷ by 0.13, which would silently narrow an
/// interval over a large eval), so the quantile is instead computed from
/// the normal quantile `x` by the Cornish–Fisher expansion of Abramowitz &
/// Stegun 26.7.5 to order ν⁻⁴, whose truncation error there is below
/// double precision (checked against SciPy in the tests).
///
/// # Errors
/// [`Error::InvalidParameter`] unless `0 < p < 1` and `df > 0`.
pub fn t_quantile(p: f64, df: f64) -> Result<f64> {
    check_open_unit("probability", p)?;
    let dist = students_t(df)?;
    if df < T_EXPANSION_DF {
        return Ok(dist.inverse_cdf(p));
    }
    let x = standard_normal()?.inverse_cdf(p);
    let (x2, v) = (x * x, df);
    let g1 = (x2 + 1.0) * x / 4.0;
    let g2 = ((5.0 * x2 + 16.0) * x2 + 3.0) * x / 96.0;
    let g3 = (((3.0 * x2 + 19.0) * x2 + 17.0) * x2 - 15.0) * x / 384.0;
    let g4 = ((((79.0 * x2 + 776.0) * x2 + 1482.0) * x2 - 1920.0) * x2 - 945.0) * x / 92160.0;
    Ok(x + (g1 + (g2 + (g3 + g4 / v) / v) / v) / v)
}

/// Two-sided p-value of a t statistic: `P(|T| >= |t|)` with `df` degrees of
/// freedom.
///
/// # Errors
/// [`Error::InvalidParameter`] if `t` is NaN or `df <= 0`.
pub fn t_two_sided_p(t: f64, df: f64) -> Result<f64> {
    if t.is_nan() {
        return Err(Error::InvalidParameter {
            name: "t statistic",
            expected: "a number",
            value: t,
        });
    }
    let dist = students_t(df)?;
    Ok((2.0 * dist.sf(t.abs())).min(1.0))
}

/// The `p`-quantile of the chi-squared distribution with `df` degrees of
/// freedom.
///
/// statrs's gamma quantile stops after a few Newton steps, so the result is
/// polished here by bisection on the CDF until it is accurate to about
/// 1e-12 relative; the quantile backs published thresholds, so a loose
/// approximation is not acceptable.
///
/// # Errors
/// [`Error::InvalidParameter`] unless `0 < p < 1` and `df > 0`.
pub fn chi_squared_quantile(p: f64, df: f64) -> Result<f64> {
    check_open_unit("probability", p)?;
    let dist = chi_squared(df)?;
    let guess = dist.inverse_cdf(p);
    // Bracket the root around statrs's guess, then bisect.
    let mut lo = if guess.is_finite() && guess > 0.0 {
        guess * 0.5
    } else {
        0.0
    };
    while lo > 0.0 && dist.cdf(lo) > p {
        lo *= 0.5;
        if lo < f64::MIN_POSITIVE {
            lo = 0.0;
        }
    }
    let mut hi = if guess.is_finite() && guess > 0.0 {
        guess * 2.0
    } else {
        df.max(1.0)
    };
    while dist.cdf(hi) < p {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if dist.cdf(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-13 * hi {
            break;
        }
    }
    Ok(0.5 * (lo + hi))
}

/// Upper tail `P(X >= x)` of the chi-squared distribution with `df` degrees
/// of freedom (the p-value of a chi-squared statistic).
///
/// # Errors
/// [`Error::InvalidParameter`] if `x` is NaN or `df <= 0`.
pub fn chi_squared_sf(x: f64, df: f64) -> Result<f64> {
    if x.is_nan() {
        return Err(Error::InvalidParameter {
            name: "chi-squared statistic",
            expected: "a number",
            value: x,
        });
    }
    Ok(chi_squared(df)?.sf(x.max(0.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values from SciPy 1.17 (`scipy.stats.norm/t/chi2.ppf/sf`),
    // which wraps the Cephes / Boost implementations.

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1.0)
    }

    #[test]
    fn normal_quantiles_match_reference() {
        assert!(close(
            normal_quantile(0.975).unwrap(),
            1.959963984540054,
            1e-12
        ));
        assert!(close(
            normal_quantile(1e-10).unwrap(),
            -6.361340902404056,
            1e-10
        ));
        assert!(close(normal_cdf(1.959963984540054).unwrap(), 0.975, 1e-11));
    }

    #[test]
    fn t_quantiles_match_reference() {
        assert!(close(
            t_quantile(0.975, 49.0).unwrap(),
            2.0095752371292392,
            1e-10
        ));
        assert!(close(
            t_quantile(0.975, 1.0).unwrap(),
            12.706204736174694,
            1e-10
        ));
        assert!(close(
            t_quantile(0.995, 3.0).unwrap(),
            5.840909309733355,
            1e-10
        ));
        assert!(close(
            t_quantile(0.025, 1000.0).unwrap(),
            -1.9623390808264085,
            1e-11
        ));
        assert!(close(
            t_two_sided_p(2.1, 9.0).unwrap(),
            2.0 * 0.03255914120607598,
            1e-9
        ));
    }

    #[test]
    fn t_quantiles_stay_accurate_for_huge_df() {
        // SciPy `t.ppf(p, df)`; statrs alone is off by 0.13 at df = 1e7.
        let cases = [
            (0.025, 1e4, -1.9602012398906263),
            (0.975, 1e5, 1.9599877075346095),
            (0.025, 1e6, -1.9599663568141072),
            (0.025, 1e7, -1.9599642217672055),
            (1e-6, 1e7, -4.753427112755577),
            (0.975, 1e9, 1.959963986912325),
        ];
        for (p, df, want) in cases {
            let got = t_quantile(p, df).unwrap();
            assert!(close(got, want, 1e-13), "p={p} df={df}: {got} vs {want}");
        }
    }

    #[test]
    fn chi_squared_matches_reference() {
        assert!(close(
            chi_squared_quantile(0.95, 1.0).unwrap(),
            3.841458820694124,
            1e-11
        ));
        assert!(close(
            chi_squared_quantile(0.95, 10.0).unwrap(),
            18.307038053275146,
            1e-11
        ));
        assert!(close(
            chi_squared_quantile(0.01, 3.0).unwrap(),
            0.11483180189911707,
            1e-10
        ));
        assert!(close(
            chi_squared_quantile(0.999, 2.5).unwrap(),
            15.082186971981955,
            1e-11
        ));
        assert!(close(
            chi_squared_sf(3.5, 1.0).unwrap(),
            0.0613688291394023,
            1e-10
        ));
    }

    #[test]
    fn bad_arguments_are_errors_not_panics() {
        assert!(normal_quantile(0.0).is_err());
        assert!(normal_quantile(1.0).is_err());
        assert!(normal_quantile(f64::NAN).is_err());
        assert!(t_quantile(0.5, 0.0).is_err());
        assert!(t_quantile(0.5, f64::NAN).is_err());
        assert!(chi_squared_quantile(1.2, 1.0).is_err());
        assert!(chi_squared_sf(f64::NAN, 1.0).is_err());
        assert!(t_two_sided_p(f64::NAN, 3.0).is_err());
    }
}
