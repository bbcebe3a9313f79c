//! Means of numeric scores: summary statistics and the Student-t interval.
//!
//! The t interval is exact for normal data and, by the central limit
//! theorem, approximately right for bounded scores once n is moderate. Below
//! a few hundred items with skewed scores the bootstrap ([`mod@crate::bootstrap`])
//! or, for 0/1 scores, the Wilson interval ([`crate::proportion`]) is the
//! safer choice.

use crate::dist::t_quantile;
use crate::error::{Result, check_finite, check_len};
use crate::interval::{Confidence, Interval, Method, Side};

/// Sample size, mean and spread of a set of observations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Number of observations.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Unbiased sample variance (divisor n − 1); 0 when n = 1.
    pub variance: f64,
}

impl Summary {
    /// Sample standard deviation (divisor n − 1).
    pub fn sd(&self) -> f64 {
        self.variance.sqrt()
    }

    /// Standard error of the mean, `sd / sqrt(n)`.
    pub fn standard_error(&self) -> f64 {
        (self.variance / self.n as f64).sqrt()
    }
}

/// Computes [`Summary`] with a two-pass algorithm, which avoids the
/// cancellation of the textbook one-pass sum-of-squares formula when scores
/// share a large offset.
///
/// # Errors
/// [`crate::Error::TooFewObservations`] for empty input;
/// [`crate::Error::NonFinite`] for NaN or infinite observations.
pub fn summarize(data: &[f64]) -> Result<Summary> {
    check_len("a mean", data.len(), 1)?;
    check_finite(data)?;
    Ok(summarize_unchecked(data))
}

/// [`summarize`] without validation, for data already checked.
pub(crate) fn summarize_unchecked(data: &[f64]) -> Summary {
    let n = data.len();
    let mean = data.iter().sum::<f64>() / n as f64;
    let variance = if n > 1 {
        let ss: f64 = data.iter().map(|x| (x - mean) * (x - mean)).sum();
        ss / (n - 1) as f64
    } else {
        0.0
    };
    Summary { n, mean, variance }
}

/// Two-sided Student-t interval for the mean: `mean ± t(n−1) · sd/√n`.
///
/// # Errors
/// [`crate::Error::TooFewObservations`] for fewer than two observations
/// (the spread cannot be estimated from one); [`crate::Error::NonFinite`]
/// for NaN or infinite observations.
pub fn t_interval(data: &[f64], confidence: Confidence) -> Result<Interval> {
    check_len("a t interval", data.len(), 2)?;
    check_finite(data)?;
    let s = summarize_unchecked(data);
    let q = t_quantile(1.0 - confidence.alpha() / 2.0, (s.n - 1) as f64)?;
    let half = q * s.standard_error();
    Interval::new(
        s.mean,
        s.mean - half,
        s.mean + half,
        s.n as u64,
        Method::StudentT,
        confidence,
        Side::TwoSided,
    )
}

/// One-sided Student-t upper bound for the mean, returned as
/// `[-inf, upper]`.
///
/// # Errors
/// As for [`t_interval`].
pub fn t_upper(data: &[f64], confidence: Confidence) -> Result<Interval> {
    check_len("a t bound", data.len(), 2)?;
    check_finite(data)?;
    let s = summarize_unchecked(data);
    let q = t_quantile(confidence.level(), (s.n - 1) as f64)?;
    Interval::new(
        s.mean,
        f64::NEG_INFINITY,
        s.mean + q * s.standard_error(),
        s.n as u64,
        Method::StudentT,
        confidence,
        Side::Upper,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn summary_is_stable_under_large_offsets() {
        let data: Vec<f64> = [1.0, 2.0, 3.0, 4.0].iter().map(|x| x + 1e9).collect();
        let s = summarize(&data).unwrap();
        assert!((s.variance - 5.0 / 3.0).abs() < 1e-6);
        assert!((s.mean - (1e9 + 2.5)).abs() < 1e-6);
    }

    // Reference: SciPy 1.17
    // `t.interval(0.95, 6, loc=d.mean(), scale=sem(d))`
    // = (2.1550127819312004, 4.559272932354514), the same formula as R's
    // `t.test(d)$conf.int`.
    #[test]
    fn t_interval_matches_reference() {
        let data = [2.1, 3.4, 1.9, 5.6, 4.4, 3.3, 2.8];
        let ci = t_interval(&data, Confidence::P95).unwrap();
        assert!(
            (ci.lower() - 2.1550127819312004).abs() < 1e-9,
            "{}",
            ci.lower()
        );
        assert!(
            (ci.upper() - 4.559272932354514).abs() < 1e-9,
            "{}",
            ci.upper()
        );
        assert_eq!(ci.n(), 7);
        assert_eq!(ci.method(), Method::StudentT);
    }

    #[test]
    fn t_upper_is_one_sided() {
        let data = [2.1, 3.4, 1.9, 5.6, 4.4, 3.3, 2.8];
        let up = t_upper(&data, Confidence::P95).unwrap();
        let two = t_interval(&data, Confidence::P90).unwrap();
        assert!((up.upper() - two.upper()).abs() < 1e-9);
        assert_eq!(up.lower(), f64::NEG_INFINITY);
    }

    #[test]
    fn constant_data_gives_a_point_interval_not_nan() {
        let ci = t_interval(&[0.5; 10], Confidence::P95).unwrap();
        assert_eq!((ci.lower(), ci.upper()), (0.5, 0.5));
    }

    #[test]
    fn edge_cases_are_errors() {
        assert!(matches!(
            t_interval(&[], Confidence::P95),
            Err(Error::TooFewObservations { .. })
        ));
        assert!(matches!(
            t_interval(&[1.0], Confidence::P95),
            Err(Error::TooFewObservations { .. })
        ));
        assert!(matches!(
            t_interval(&[1.0, f64::NAN], Confidence::P95),
            Err(Error::NonFinite { index: 1, .. })
        ));
        assert!(summarize(&[]).is_err());
    }
}
