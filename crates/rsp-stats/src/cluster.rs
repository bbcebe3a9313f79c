//! Cluster-robust standard errors for a mean.
//!
//! Eval items are often not independent: several questions share a passage,
//! a task family, or a generated template. Treating them as independent
//! understates the standard error. Following Miller (2024, "Adding Error
//! Bars to Evals", arXiv 2411.00640, section 2.3), the variance of the mean
//! is estimated with the sandwich formula over clusters,
//!
//! ```text
//! V = G/(G-1) · (1/n²) · Σ_c ( Σ_{i∈c} (x_i − x̄) )²
//! ```
//!
//! where `G/(G-1)` is the CR1 small-sample correction (Stata's and
//! statsmodels' default for an intercept-only model). The interval uses a t
//! reference on `G − 1` degrees of freedom rather than the normal: with few
//! clusters the normal reference is known to under-cover (Cameron & Miller
//! 2015), and for many clusters the two agree.
//!
//! The **design effect** is `V / (s²/n)`, the factor by which clustering
//! inflates the variance relative to independent sampling; `n / deff` is the
//! effective sample size.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;

use crate::dist::t_quantile;
use crate::error::{Error, Result, check_finite, check_len};
use crate::interval::{Confidence, Interval, Method, Side};
use crate::mean::summarize_unchecked;

/// A mean with a cluster-robust interval and the diagnostics that explain
/// how much clustering mattered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusteredMean {
    /// The mean with its CR1 interval (`n` counts observations).
    pub interval: Interval,
    /// Cluster-robust (CR1) standard error.
    pub standard_error: f64,
    /// Standard error assuming independent observations, `s/√n`.
    pub iid_standard_error: f64,
    /// Variance inflation from clustering: `(SE_CR1 / SE_iid)²`. Set to 1
    /// when the data have no spread at all (both variances are zero).
    pub design_effect: f64,
    /// Number of distinct clusters.
    pub clusters: usize,
}

impl ClusteredMean {
    /// `n / design_effect`: how many independent observations the clustered
    /// sample is worth.
    pub fn effective_n(&self) -> f64 {
        self.interval.n() as f64 / self.design_effect
    }
}

impl fmt::Display for ClusteredMean {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.interval, f)?;
        write!(
            f,
            "; design effect {:.2} over {} clusters",
            self.design_effect, self.clusters
        )
    }
}

/// Mean of `values` with a CR1 cluster-robust interval, where `keys[i]` is
/// the cluster of `values[i]` (for example a sample-metadata field).
///
/// # Errors
/// [`Error::LengthMismatch`] if the slices differ in length;
/// [`Error::TooFewObservations`] for fewer than two observations or fewer
/// than two clusters (the cluster variance is then not estimable);
/// [`Error::NonFinite`] for NaN/infinite values.
pub fn clustered_mean<K: Eq + Hash>(
    values: &[f64],
    keys: &[K],
    confidence: Confidence,
) -> Result<ClusteredMean> {
    if values.len() != keys.len() {
        return Err(Error::LengthMismatch {
            what: "values and cluster keys",
            left: values.len(),
            right: keys.len(),
        });
    }
    check_len("a clustered standard error", values.len(), 2)?;
    check_finite(values)?;
    let summary = summarize_unchecked(values);
    let n = values.len() as f64;

    // Sum of residuals per cluster.
    // Clusters are summed in first-seen order (not hash order), so the same data
    // always gives bit-identical bounds.
    let mut slot: HashMap<&K, usize> = HashMap::new();
    let mut residual_sums: Vec<f64> = Vec::new();
    for (x, k) in values.iter().zip(keys) {
        let i = *slot.entry(k).or_insert_with(|| {
            residual_sums.push(0.0);
            residual_sums.len() - 1
        });
        residual_sums[i] += x - summary.mean;
    }
    let g = residual_sums.len();
    if g < 2 {
        return Err(Error::TooFewObservations {
            what: "a clustered standard error (counting clusters)",
            needed: 2,
            got: g,
        });
    }
    let gf = g as f64;
    let meat: f64 = residual_sums.iter().map(|e| e * e).sum();
    let variance = gf / (gf - 1.0) * meat / (n * n);
    let standard_error = variance.sqrt();
    let iid_variance = summary.variance / n;
    let design_effect = if iid_variance > 0.0 {
        variance / iid_variance
    } else {
        1.0
    };

    let q = t_quantile(1.0 - confidence.alpha() / 2.0, gf - 1.0)?;
    let half = q * standard_error;
    let interval = Interval::new(
        summary.mean,
        summary.mean - half,
        summary.mean + half,
        values.len() as u64,
        Method::ClusteredCr1,
        confidence,
        Side::TwoSided,
    )?;
    Ok(ClusteredMean {
        interval,
        standard_error,
        iid_standard_error: iid_variance.sqrt(),
        design_effect,
        clusters: g,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const Y: [f64; 17] = [
        1., 1., 0., 1., 0., 0., 0., 1., 1., 1., 1., 0., 0., 1., 1., 0., 0.,
    ];
    const G: [u32; 17] = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 4, 4, 4];

    // Reference: statsmodels 0.14
    // `OLS(y, ones).fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)`
    // gives bse 0.15396951876323178 and conf_int [0.10192384798604776,
    // 0.9568996814257171] (t on G-1 = 4 df); the plain OLS bse is
    // 0.12478354962115547, so the design effect is 1.522491349480969.
    #[test]
    fn matches_statsmodels_cluster_robust_ols() {
        let r = clustered_mean(&Y, &G, Confidence::P95).unwrap();
        assert!((r.interval.estimate() - 0.5294117647058825).abs() < 1e-12);
        assert!((r.standard_error - 0.15396951876323178).abs() < 1e-12);
        assert!((r.iid_standard_error - 0.12478354962115547).abs() < 1e-12);
        assert!((r.design_effect - 1.522491349480969).abs() < 1e-9);
        assert!((r.interval.lower() - 0.10192384798604776).abs() < 1e-9);
        assert!((r.interval.upper() - 0.9568996814257171).abs() < 1e-9);
        assert_eq!(r.clusters, 5);
        assert_eq!(r.interval.n(), 17);
        assert_eq!(r.interval.method(), Method::ClusteredCr1);
    }

    #[test]
    fn singleton_clusters_reduce_to_the_iid_standard_error() {
        // With one observation per cluster, G/(G-1)·Σe²/n² = s²/n exactly.
        let keys: Vec<usize> = (0..Y.len()).collect();
        let r = clustered_mean(&Y, &keys, Confidence::P95).unwrap();
        assert!((r.design_effect - 1.0).abs() < 1e-12);
        assert!((r.standard_error - r.iid_standard_error).abs() < 1e-12);
    }

    #[test]
    fn perfectly_correlated_clusters_inflate_by_cluster_size() {
        // 10 clusters of 5 identical values: deff ≈ cluster size.
        let values: Vec<f64> = (0..50).map(|i| f64::from((i / 5) % 2)).collect();
        let keys: Vec<i32> = (0..50).map(|i| i / 5).collect();
        let r = clustered_mean(&values, &keys, Confidence::P95).unwrap();
        // Exact: G/(G-1)·Σ(5e)²/n² over s²/n = (10/9)·(25·Σe²)/(2500)
        // divided by (Σ_i e_i²/49)/50 with Σ_i e_i² = 5·Σe² → 49/9.
        assert!(
            (r.design_effect - 49.0 / 9.0).abs() < 1e-9,
            "{}",
            r.design_effect
        );
        assert!((r.effective_n() - 50.0 * 9.0 / 49.0).abs() < 1e-9);
        assert!(
            r.to_string()
                .ends_with("; design effect 5.44 over 10 clusters")
        );
    }

    #[test]
    fn edge_cases_are_errors() {
        let c = Confidence::P95;
        assert!(matches!(
            clustered_mean(&[1.0, 2.0], &[1], c),
            Err(Error::LengthMismatch { .. })
        ));
        assert!(matches!(
            clustered_mean::<u8>(&[], &[], c),
            Err(Error::TooFewObservations { .. })
        ));
        assert!(matches!(
            clustered_mean(&[1.0, 2.0, 3.0], &["a", "a", "a"], c),
            Err(Error::TooFewObservations { got: 1, .. })
        ));
        assert!(matches!(
            clustered_mean(&[1.0, f64::NAN], &[1, 2], c),
            Err(Error::NonFinite { .. })
        ));
    }

    #[test]
    fn constant_values_have_unit_design_effect() {
        let r = clustered_mean(&[1.0; 6], &[1, 1, 2, 2, 3, 3], Confidence::P95).unwrap();
        assert_eq!(r.design_effect, 1.0);
        assert_eq!(r.standard_error, 0.0);
    }
}
