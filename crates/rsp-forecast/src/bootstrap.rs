//! Nonparametric bootstrap over data points, seeded and parallel.
//!
//! Each resample `r` draws its indices from a ChaCha8 stream selected by
//! `(seed, r)`, so the result is bit-for-bit the same whatever the number of
//! threads or the order in which rayon schedules the work. Resamples whose
//! refit fails (for example a resample with a single distinct x) are dropped
//! and counted; if fewer than half succeed the bootstrap is an error rather
//! than a silently narrow interval.
//!
//! Intervals are percentile intervals (linear interpolation between order
//! statistics, as numpy's default). Percentile intervals are equivariant under
//! monotone maps, which is why derived quantities such as a doubling time
//! (ln 2 / slope) can take their interval from the slope's.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};

/// How to bootstrap.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BootstrapOptions {
    /// Number of resamples.
    pub resamples: usize,
    /// Seed of the resampling streams.
    pub seed: u64,
    /// Two-sided confidence level of the intervals, in (0, 1).
    pub level: f64,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        Self {
            resamples: 1000,
            seed: 0,
            level: 0.95,
        }
    }
}

impl BootstrapOptions {
    pub(crate) fn validate(&self) -> Result<()> {
        if self.resamples < 2 {
            return Err(Error::InvalidOption {
                name: "resamples",
                reason: "must be at least 2",
            });
        }
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(Error::InvalidOption {
                name: "level",
                reason: "must be in (0, 1)",
            });
        }
        Ok(())
    }
}

/// A point estimate with its bootstrap standard error and percentile interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// Estimate from the full data.
    pub value: f64,
    /// Standard deviation of the bootstrap replicates.
    pub std_error: f64,
    /// Lower end of the percentile interval.
    pub lower: f64,
    /// Upper end of the percentile interval.
    pub upper: f64,
}

/// Bookkeeping about a bootstrap run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BootstrapSummary {
    /// Resamples requested.
    pub requested: usize,
    /// Resamples whose refit succeeded and entered the intervals.
    pub succeeded: usize,
    /// Confidence level of the intervals.
    pub level: f64,
    /// Seed used.
    pub seed: u64,
}

/// The indices of resample `replicate` of `n` points.
pub(crate) fn resample_indices(n: usize, seed: u64, replicate: usize) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(replicate as u64);
    (0..n).map(|_| rng.gen_range(0..n)).collect()
}

/// Run `refit` on every resample in parallel; failed refits are dropped.
pub(crate) fn run<T, F>(
    model: &'static str,
    n: usize,
    opts: &BootstrapOptions,
    refit: F,
) -> Result<(Vec<T>, BootstrapSummary)>
where
    T: Send,
    F: Fn(&[usize]) -> Option<T> + Sync,
{
    opts.validate()?;
    let out: Vec<T> = (0..opts.resamples)
        .into_par_iter()
        .filter_map(|r| refit(&resample_indices(n, opts.seed, r)))
        .collect();
    let summary = BootstrapSummary {
        requested: opts.resamples,
        succeeded: out.len(),
        level: opts.level,
        seed: opts.seed,
    };
    if out.len() < 2 || out.len() * 2 < opts.resamples {
        return Err(Error::BootstrapFailed {
            model,
            succeeded: out.len(),
            requested: opts.resamples,
        });
    }
    Ok((out, summary))
}

/// Linear-interpolation quantile of sorted, finite data.
pub(crate) fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let w = pos - lo as f64;
    sorted[lo] * (1.0 - w) + sorted[hi] * w
}

/// Summarise replicates of one quantity around its full-data value.
///
/// Callers only pass finite replicates (refits with non-finite output are
/// dropped before this point).
pub(crate) fn estimate(value: f64, mut samples: Vec<f64>, level: f64) -> Estimate {
    samples.retain(|v| v.is_finite());
    samples.sort_by(f64::total_cmp);
    let n = samples.len() as f64;
    let mean = samples.iter().sum::<f64>() / n;
    let var = samples.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    let tail = (1.0 - level) / 2.0;
    Estimate {
        value,
        std_error: var.sqrt(),
        lower: quantile_sorted(&samples, tail),
        upper: quantile_sorted(&samples, 1.0 - tail),
    }
}

/// Per-x percentile band of curves evaluated on a grid: `values[r][i]` is
/// replicate `r` at grid point `i`. Returns `(lower, upper)` per grid point.
pub(crate) fn band(values: &[Vec<f64>], points: usize, level: f64) -> Vec<(f64, f64)> {
    let tail = (1.0 - level) / 2.0;
    (0..points)
        .map(|i| {
            let mut col: Vec<f64> = values
                .iter()
                .map(|v| v[i])
                .filter(|v| v.is_finite())
                .collect();
            col.sort_by(f64::total_cmp);
            (
                quantile_sorted(&col, tail),
                quantile_sorted(&col, 1.0 - tail),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resamples_are_deterministic_and_distinct() {
        assert_eq!(resample_indices(50, 7, 3), resample_indices(50, 7, 3));
        assert_ne!(resample_indices(50, 7, 3), resample_indices(50, 7, 4));
        assert_ne!(resample_indices(50, 7, 3), resample_indices(50, 8, 3));
        assert!(resample_indices(50, 7, 3).iter().all(|&i| i < 50));
    }

    #[test]
    fn quantiles_match_numpy_linear() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&v, 0.5), 2.5);
        assert!((quantile_sorted(&v, 0.025) - 1.075).abs() < 1e-12);
        assert_eq!(quantile_sorted(&v, 1.0), 4.0);
    }

    #[test]
    fn too_many_failures_is_an_error() {
        let opts = BootstrapOptions {
            resamples: 10,
            ..Default::default()
        };
        let err = run("t", 5, &opts, |idx| (idx.len() > 5).then_some(1.0)).unwrap_err();
        assert!(
            matches!(err, Error::BootstrapFailed { requested: 10, .. }),
            "{err}"
        );
    }

    #[test]
    fn invalid_level_is_rejected() {
        let opts = BootstrapOptions {
            level: 1.0,
            ..Default::default()
        };
        assert!(matches!(
            run("t", 5, &opts, |_| Some(1.0)),
            Err(Error::InvalidOption { .. })
        ));
    }

    #[test]
    fn estimate_has_expected_spread() {
        let e = estimate(0.0, (0..=100).map(f64::from).collect(), 0.9);
        assert!((e.lower - 5.0).abs() < 1e-9 && (e.upper - 95.0).abs() < 1e-9);
        assert!((e.std_error - 29.3).abs() < 0.1);
    }
}
