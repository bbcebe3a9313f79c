//! Seeded, parallel bootstrap intervals: percentile and BCa.
//!
//! Resamples come from seeded ChaCha8 streams, one per fixed chunk of
//! resamples, so a bootstrap interval is reproducible from its seed alone,
//! whatever the number of rayon threads.
//!
//! # Methods
//! * **Percentile**: the α/2 and 1 − α/2 quantiles of the replicates
//!   (interpolated as R's default `quantile` type 7).
//! * **BCa** (Efron 1987): the same quantiles after correcting for median
//!   bias (`z0`) and skewness (acceleration `a`, from the jackknife). It has
//!   second-order accurate coverage and is the default.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dist::{normal_cdf, normal_quantile};
use crate::error::{Error, Result, check_finite, check_len};
use crate::interval::{Confidence, Interval, Method, Side};
use crate::rng::{IndexSampler, par_chunks};

/// Fewest resamples accepted: below this the tail quantiles are noise.
pub const MIN_RESAMPLES: usize = 100;

/// Which bootstrap interval to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BootstrapMethod {
    /// Plain percentile interval.
    Percentile,
    /// Bias-corrected and accelerated interval.
    Bca,
}

/// Settings for a bootstrap run. The seed has no default on purpose: every
/// bootstrap number rsp reports must be reproducible from its log, so the
/// config serialises alongside the result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapConfig {
    /// Number of resamples (at least [`MIN_RESAMPLES`]).
    pub resamples: usize,
    /// Seed for the ChaCha8 streams.
    pub seed: u64,
    /// Confidence level of the two-sided interval.
    pub confidence: Confidence,
    /// Percentile or BCa.
    pub method: BootstrapMethod,
}

impl BootstrapConfig {
    /// Default resample count: enough for stable 95% tails.
    pub const DEFAULT_RESAMPLES: usize = 10_000;

    /// BCa at 95% with [`Self::DEFAULT_RESAMPLES`] resamples.
    pub fn new(seed: u64) -> Self {
        BootstrapConfig {
            resamples: Self::DEFAULT_RESAMPLES,
            seed,
            confidence: Confidence::P95,
            method: BootstrapMethod::Bca,
        }
    }

    /// Sets the number of resamples.
    #[must_use]
    pub fn with_resamples(mut self, resamples: usize) -> Self {
        self.resamples = resamples;
        self
    }

    /// Sets the confidence level.
    #[must_use]
    pub fn with_confidence(mut self, confidence: Confidence) -> Self {
        self.confidence = confidence;
        self
    }

    /// Sets the interval method.
    #[must_use]
    pub fn with_method(mut self, method: BootstrapMethod) -> Self {
        self.method = method;
        self
    }

    fn validate(&self) -> Result<()> {
        if self.resamples < MIN_RESAMPLES {
            return Err(Error::InvalidParameter {
                name: "resamples",
                expected: "at least 100",
                value: self.resamples as f64,
            });
        }
        Ok(())
    }
}

/// Replicates of the mean, without materialising each resample.
/// `data` must be non-empty.
fn mean_replicates(data: &[f64], resamples: usize, seed: u64) -> Vec<f64> {
    let n = data.len();
    let Some(index) = IndexSampler::new(n) else {
        return Vec::new();
    };
    par_chunks(resamples, seed, |rng, len| {
        (0..len)
            .map(|_| (0..n).map(|_| data[index.sample(rng)]).sum::<f64>() / n as f64)
            .collect()
    })
}

/// Replicates of an arbitrary statistic; one resample buffer per chunk.
fn statistic_replicates<F>(data: &[f64], statistic: &F, resamples: usize, seed: u64) -> Vec<f64>
where
    F: Fn(&[f64]) -> f64 + Sync,
{
    let n = data.len();
    let Some(index) = IndexSampler::new(n) else {
        return Vec::new();
    };
    par_chunks(resamples, seed, |rng, len| {
        let mut buf = vec![0.0; n];
        (0..len)
            .map(|_| {
                for slot in &mut buf {
                    *slot = data[index.sample(rng)];
                }
                statistic(&buf)
            })
            .collect()
    })
}

/// R type-7 quantile of sorted, non-empty data.
pub(crate) fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Acceleration from leave-one-out estimates (Efron & Tibshirani 1993,
/// eq. 14.15). Zero when the jackknife shows no spread.
fn acceleration(jackknife: &[f64]) -> f64 {
    let m = jackknife.iter().sum::<f64>() / jackknife.len() as f64;
    let (mut s2, mut s3) = (0.0, 0.0);
    for &t in jackknife {
        let d = m - t;
        s2 += d * d;
        s3 += d * d * d;
    }
    if s2 > 0.0 {
        s3 / (6.0 * s2.powf(1.5))
    } else {
        0.0
    }
}

/// Turns sorted replicates into the requested interval.
pub(crate) fn interval_from_replicates(
    estimate: f64,
    reps: &mut [f64],
    jackknife: impl FnOnce() -> Vec<f64>,
    n: usize,
    config: &BootstrapConfig,
) -> Result<Interval> {
    if reps.is_empty() {
        return Err(Error::TooFewObservations {
            what: "a bootstrap interval (resamples)",
            needed: MIN_RESAMPLES,
            got: 0,
        });
    }
    if let Some(index) = reps.iter().position(|x| !x.is_finite()) {
        return Err(Error::NonFinite {
            index,
            value: reps[index],
        });
    }
    reps.sort_unstable_by(f64::total_cmp);
    let alpha = config.confidence.alpha();
    let (q_lo, q_hi, method) = match config.method {
        BootstrapMethod::Percentile => {
            (alpha / 2.0, 1.0 - alpha / 2.0, Method::BootstrapPercentile)
        }
        BootstrapMethod::Bca => {
            let below = reps.partition_point(|&t| t < estimate);
            let not_above = reps.partition_point(|&t| t <= estimate);
            let ties = not_above - below;
            let p0 = (below as f64 + 0.5 * ties as f64) / reps.len() as f64;
            if p0 <= 0.0 || p0 >= 1.0 {
                return Err(Error::BcaUndefined {
                    reason: "every resample fell on one side of the estimate",
                });
            }
            let z0 = normal_quantile(p0)?;
            let a = acceleration(&jackknife());
            let adjust = |q: f64| -> Result<f64> {
                let z = normal_quantile(q)? + z0;
                let denom = 1.0 - a * z;
                if denom <= 0.0 {
                    return Err(Error::BcaUndefined {
                        reason: "the acceleration is too large for this confidence level",
                    });
                }
                normal_cdf(z0 + z / denom)
            };
            (
                adjust(alpha / 2.0)?,
                adjust(1.0 - alpha / 2.0)?,
                Method::BootstrapBca,
            )
        }
    };
    Interval::new(
        estimate,
        quantile_sorted(reps, q_lo),
        quantile_sorted(reps, q_hi),
        n as u64,
        method,
        config.confidence,
        Side::TwoSided,
    )
}

/// Bootstrap interval for the mean of `data`.
///
/// # Errors
/// [`Error::TooFewObservations`] for fewer than two observations;
/// [`Error::NonFinite`] for NaN/infinite data; [`Error::InvalidParameter`]
/// for fewer than [`MIN_RESAMPLES`] resamples; [`Error::BcaUndefined`] when
/// BCa cannot be computed (use the percentile method then).
pub fn bootstrap_mean(data: &[f64], config: &BootstrapConfig) -> Result<Interval> {
    bootstrap_mean_with_replicates(data, config).map(|(interval, _)| interval)
}

/// [`bootstrap_mean`] that also hands back the sorted replicates, for
/// callers (the paired bootstrap's p-value) that need the distribution.
pub(crate) fn bootstrap_mean_with_replicates(
    data: &[f64],
    config: &BootstrapConfig,
) -> Result<(Interval, Vec<f64>)> {
    check_len("a bootstrap interval", data.len(), 2)?;
    check_finite(data)?;
    config.validate()?;
    let n = data.len();
    let total: f64 = data.iter().sum();
    let estimate = total / n as f64;
    let mut reps = mean_replicates(data, config.resamples, config.seed);
    // Leave-one-out means in O(n) instead of n re-evaluations.
    let jackknife = || data.iter().map(|x| (total - x) / (n - 1) as f64).collect();
    let interval = interval_from_replicates(estimate, &mut reps, jackknife, n, config)?;
    Ok((interval, reps))
}

/// Bootstrap interval for any statistic of one sample (median, trimmed
/// mean, ...). The statistic must return a finite number for every resample.
///
/// BCa evaluates the statistic on all n leave-one-out samples (in
/// parallel), so its cost is O(n²) for a linear-time statistic.
///
/// # Errors
/// As for [`bootstrap_mean`], plus [`Error::NonFinite`] if the statistic
/// returns NaN or infinity on some resample.
pub fn bootstrap<F>(data: &[f64], statistic: F, config: &BootstrapConfig) -> Result<Interval>
where
    F: Fn(&[f64]) -> f64 + Sync,
{
    check_len("a bootstrap interval", data.len(), 2)?;
    check_finite(data)?;
    config.validate()?;
    let estimate = statistic(data);
    let mut reps = statistic_replicates(data, &statistic, config.resamples, config.seed);
    let jackknife = || {
        (0..data.len())
            .into_par_iter()
            .map(|i| {
                let rest: Vec<f64> = data
                    .iter()
                    .enumerate()
                    .filter_map(|(j, &x)| (j != i).then_some(x))
                    .collect();
                statistic(&rest)
            })
            .collect()
    };
    interval_from_replicates(estimate, &mut reps, jackknife, data.len(), config)
}

/// Bootstrap standard error of the mean: the standard deviation of the
/// resampled means (Inspect's `bootstrap_stderr`).
///
/// # Errors
/// As for [`bootstrap_mean`].
pub fn bootstrap_standard_error(data: &[f64], resamples: usize, seed: u64) -> Result<f64> {
    check_len("a bootstrap standard error", data.len(), 2)?;
    check_finite(data)?;
    BootstrapConfig::new(seed)
        .with_resamples(resamples)
        .validate()?;
    let reps = mean_replicates(data, resamples, seed);
    let m = reps.iter().sum::<f64>() / reps.len() as f64;
    let var = reps.iter().map(|r| (r - m) * (r - m)).sum::<f64>() / (reps.len() - 1) as f64;
    Ok(var.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<f64> {
        // A skewed sample (exponential-like) so BCa and percentile differ.
        (1..=40).map(|i| (f64::from(i) / 41.0).ln().abs()).collect()
    }

    #[test]
    fn quantile_type7_interpolates() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&v, 0.0), 1.0);
        assert_eq!(quantile_sorted(&v, 1.0), 4.0);
        assert!((quantile_sorted(&v, 0.5) - 2.5).abs() < 1e-12);
        assert!((quantile_sorted(&v, 0.25) - 1.75).abs() < 1e-12);
    }

    #[test]
    fn same_seed_same_interval_different_seed_different_interval() {
        let data = sample();
        let cfg = BootstrapConfig::new(7).with_resamples(1000);
        let a = bootstrap_mean(&data, &cfg).unwrap();
        let b = bootstrap_mean(&data, &cfg).unwrap();
        assert_eq!(a, b);
        let c = bootstrap_mean(&data, &BootstrapConfig { seed: 8, ..cfg }).unwrap();
        assert_ne!(a.lower(), c.lower());
    }

    #[test]
    fn results_do_not_depend_on_thread_count() {
        let data = sample();
        let cfg = BootstrapConfig::new(11).with_resamples(1000);
        let many = bootstrap_mean(&data, &cfg).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let one = pool.install(|| bootstrap_mean(&data, &cfg).unwrap());
        assert_eq!(many, one);
    }

    #[test]
    fn generic_statistic_agrees_with_mean_fast_path() {
        // Same seed and same draw order, so the replicates are identical.
        let data = sample();
        let cfg = BootstrapConfig::new(3).with_resamples(500);
        let fast = bootstrap_mean(&data, &cfg).unwrap();
        let slow = bootstrap(&data, |xs| xs.iter().sum::<f64>() / xs.len() as f64, &cfg).unwrap();
        assert!((fast.lower() - slow.lower()).abs() < 1e-12);
        assert!((fast.upper() - slow.upper()).abs() < 1e-12);
    }

    #[test]
    fn bca_shifts_right_for_right_skewed_data() {
        // For a right-skewed sample the BCa interval for the mean moves
        // upward relative to the percentile interval.
        let data = sample();
        let cfg = BootstrapConfig::new(5).with_resamples(4000);
        let pct = bootstrap_mean(&data, &cfg.with_method(BootstrapMethod::Percentile)).unwrap();
        let bca = bootstrap_mean(&data, &cfg).unwrap();
        assert_eq!(bca.method(), Method::BootstrapBca);
        assert!(bca.upper() > pct.upper());
        assert!(bca.lower() > pct.lower());
    }

    #[test]
    fn percentile_interval_is_close_to_t_for_symmetric_data() {
        let data: Vec<f64> = (0..200).map(|i| f64::from(i % 20)).collect();
        let cfg = BootstrapConfig::new(1)
            .with_resamples(4000)
            .with_method(BootstrapMethod::Percentile);
        let boot = bootstrap_mean(&data, &cfg).unwrap();
        let t = crate::mean::t_interval(&data, Confidence::P95).unwrap();
        assert!((boot.lower() - t.lower()).abs() < 0.1, "{boot} vs {t}");
        assert!((boot.upper() - t.upper()).abs() < 0.1, "{boot} vs {t}");
    }

    #[test]
    fn constant_data_gives_point_interval() {
        let ci = bootstrap_mean(&[2.0; 20], &BootstrapConfig::new(1).with_resamples(200)).unwrap();
        assert_eq!((ci.lower(), ci.upper()), (2.0, 2.0));
    }

    #[test]
    fn standard_error_close_to_analytic() {
        let data = sample();
        let se = bootstrap_standard_error(&data, 4000, 9).unwrap();
        let s = crate::mean::summarize(&data).unwrap();
        // The bootstrap uses the plug-in variance (divisor n), so compare
        // with sd * sqrt((n-1)/n) / sqrt(n), allowing Monte Carlo error.
        let n = data.len() as f64;
        let analytic = s.sd() * ((n - 1.0) / n).sqrt() / n.sqrt();
        assert!(
            (se - analytic).abs() / analytic < 0.05,
            "{se} vs {analytic}"
        );
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let cfg = BootstrapConfig::new(1);
        assert!(matches!(
            bootstrap_mean(&[], &cfg),
            Err(Error::TooFewObservations { .. })
        ));
        assert!(matches!(
            bootstrap_mean(&[1.0], &cfg),
            Err(Error::TooFewObservations { .. })
        ));
        assert!(matches!(
            bootstrap_mean(&[1.0, f64::NAN], &cfg),
            Err(Error::NonFinite { .. })
        ));
        assert!(matches!(
            bootstrap_mean(&[1.0, 2.0], &cfg.with_resamples(10)),
            Err(Error::InvalidParameter {
                name: "resamples",
                ..
            })
        ));
        let nan_stat = bootstrap(&[1.0, 2.0, 3.0], |_| f64::NAN, &cfg.with_resamples(100));
        assert!(matches!(nan_stat, Err(Error::NonFinite { .. })));
    }

    #[test]
    fn bca_undefined_is_reported() {
        // The number of distinct values: 30 on the sample, and below 30 on
        // every resample that is not a permutation (probability 30!/30^30,
        // about 1e-12). All replicates fall below the estimate, so z0 is
        // infinite and BCa must refuse rather than return garbage.
        let data: Vec<f64> = (0..30).map(f64::from).collect();
        let distinct = |xs: &[f64]| {
            let mut v = xs.to_vec();
            v.sort_unstable_by(f64::total_cmp);
            v.dedup();
            v.len() as f64
        };
        let cfg = BootstrapConfig::new(1).with_resamples(200);
        let err = bootstrap(&data, distinct, &cfg);
        assert!(matches!(err, Err(Error::BcaUndefined { .. })), "{err:?}");
        let pct = bootstrap(
            &data,
            distinct,
            &cfg.with_method(BootstrapMethod::Percentile),
        );
        assert!(pct.unwrap().upper() < 30.0);
    }
}
