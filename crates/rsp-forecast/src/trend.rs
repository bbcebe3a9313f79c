//! Log-linear capability trends over calendar time, METR style.
//!
//! A point is on the *frontier* when its value is at least the running
//! maximum of every point released strictly earlier (METR, "Measuring AI
//! Ability to Complete Long Tasks", arXiv 2503.14499). The frontier is found
//! over the whole history and only then restricted to `since`, so a model
//! released after the cut-off still has to beat everything before it. The
//! trend is OLS of ln(value) on the date (in days) and the doubling time is
//! ln 2 / slope.
//!
//! [`FrontierScope::SinceDate`] is the other rule METR uses: the doubling
//! times of their trendline code (`get_sota_agents` in METR's
//! eval-analysis-public, used for the "from 2023" and "from 2024" fits)
//! drop releases before the cut-off *first* and take the running maximum
//! within the window, so the first release after the cut-off is always
//! frontier. The two rules agree on METR's published data since 2023 (TH 1.1:
//! 130.80 days; TH 1.0: 165.00 vs 165.25, published 165) and differ since 2024
//! (96.77 vs 94.14 days on the 2026-01-30 TH 1.1 snapshot; METR's blog says 89,
//! which neither rule reproduces from the published horizons).
//!
//! Same-day releases: by default ([`DuplicateDates::KeepAll`]) they stay
//! separate observations — each is compared only against strictly earlier
//! dates, so both can be frontier, and OLS handles repeated x. The
//! alternatives keep only the highest value of each date or reject the input.
//!
//! x units: days since 1970-01-01 (see [`date_to_x`]); the bootstrap resamples
//! the points used by the fit (after filtering).

use chrono::NaiveDate;
use serde::Serialize;

use crate::bootstrap::{self, BootstrapOptions, BootstrapSummary, Estimate};
use crate::crossing::{Crossing, Curve};
use crate::error::{Error, Result};
use crate::quality::FitQuality;
use crate::validate;

const MODEL: &str = "log-linear trend";

/// The x coordinate of a date: days since 1970-01-01.
pub fn date_to_x(date: NaiveDate) -> f64 {
    (date - NaiveDate::default()).num_days() as f64
}

/// The date of an x coordinate, rounded to the nearest day; `None` outside
/// chrono's calendar range.
pub fn x_to_date(x: f64) -> Option<NaiveDate> {
    if !x.is_finite() || x.abs() > 1e8 {
        return None;
    }
    NaiveDate::default().checked_add_signed(chrono::TimeDelta::days(x.round() as i64))
}

/// What to do with several points on one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum DuplicateDates {
    /// Keep them all as separate observations.
    #[default]
    KeepAll,
    /// Keep only the highest value of each date (the first listed on ties).
    MaxPerDate,
    /// Reject the input with [`Error::DuplicateDate`].
    Error,
}

/// Over which releases the frontier's running maximum is taken (see the
/// module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum FrontierScope {
    /// Every release, then `since` is applied: a model released after the
    /// cut-off must beat everything before it, including releases before the
    /// cut-off (METR's published `is_sota` flag).
    #[default]
    WholeHistory,
    /// Only releases on or after `since` (METR's trendline fits from a date).
    SinceDate,
}

/// Which points enter the trend.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct TrendOptions {
    /// Only points released on or after this date.
    pub since: Option<NaiveDate>,
    /// Keep only frontier points.
    pub frontier_only: bool,
    /// Whether the frontier is judged against the whole history or only
    /// against releases since `since` (no effect without `since`).
    pub frontier_scope: FrontierScope,
    /// Same-day policy.
    pub duplicate_dates: DuplicateDates,
}

/// Frontier mask in input order: `values[i]` is at least the maximum of every
/// value with a strictly earlier date.
pub fn frontier(dates: &[NaiveDate], values: &[f64]) -> Vec<bool> {
    let mut order: Vec<usize> = (0..dates.len()).collect();
    order.sort_by_key(|&i| dates[i]);
    let mut mask = vec![false; dates.len()];
    let mut best_before = f64::NEG_INFINITY;
    let mut k = 0;
    while k < order.len() {
        let day = dates[order[k]];
        let mut best_today = f64::NEG_INFINITY;
        let mut j = k;
        while j < order.len() && dates[order[j]] == day {
            let i = order[j];
            mask[i] = values[i] >= best_before;
            best_today = best_today.max(values[i]);
            j += 1;
        }
        best_before = best_before.max(best_today);
        k = j;
    }
    mask
}

/// An exponential trend ln v = intercept + slope · (x − reference).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrendLine {
    /// Growth rate of ln(value) per day.
    pub slope_per_day: f64,
    /// ln(value) at `reference`.
    pub intercept: f64,
    /// x of the reference date (days since 1970-01-01).
    pub reference: f64,
}

impl TrendLine {
    /// Days for the value to double; `None` if it is not growing.
    pub fn doubling_time_days(&self) -> Option<f64> {
        (self.slope_per_day > 0.0).then(|| std::f64::consts::LN_2 / self.slope_per_day)
    }

    /// Predicted value on a date.
    pub fn value_at(&self, date: NaiveDate) -> f64 {
        self.value(date_to_x(date))
    }
}

impl Curve for TrendLine {
    fn value(&self, x: f64) -> f64 {
        (self.intercept + self.slope_per_day * (x - self.reference)).exp()
    }

    /// Rising direction: the first date from which the value stays ≥ threshold.
    fn crossing(&self, threshold: f64) -> Crossing {
        if threshold <= 0.0 {
            return Crossing::Always;
        }
        if self.slope_per_day > 0.0 {
            Crossing::At(self.reference + (threshold.ln() - self.intercept) / self.slope_per_day)
        } else if self.slope_per_day == 0.0 && self.intercept >= threshold.ln() {
            Crossing::Always
        } else {
            Crossing::Never
        }
    }
}

/// A fitted trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendFit {
    /// The fitted line.
    pub line: TrendLine,
    /// Diagnostics in ln(value).
    pub quality: FitQuality,
    /// Indices (into the input) of the points used, in date order.
    pub used: Vec<usize>,
    /// (x, ln value) of the points used, in date order.
    points: Vec<(f64, f64)>,
}

impl TrendFit {
    /// (date, value) of the points used.
    pub fn points(&self) -> Vec<(NaiveDate, f64)> {
        self.points
            .iter()
            .filter_map(|&(x, y)| Some((x_to_date(x)?, y.exp())))
            .collect()
    }
}

fn ols(points: &[(f64, f64)], reference: f64) -> Option<TrendLine> {
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let slope = sxy / sxx;
    Some(TrendLine {
        slope_per_day: slope,
        intercept: my + slope * (reference - mx),
        reference,
    })
}

/// Fit a log-linear trend of `values` (all > 0) against `dates`.
pub fn fit_trend(dates: &[NaiveDate], values: &[f64], opts: &TrendOptions) -> Result<TrendFit> {
    validate::same_len("dates", dates.len(), "values", values.len())?;
    let logs = validate::positive_logs("values", values)?;
    let in_window = |i: usize| opts.since.is_none_or(|s| dates[i] >= s);
    let mut keep: Vec<bool> = if opts.frontier_only {
        match opts.frontier_scope {
            FrontierScope::WholeHistory => frontier(dates, values),
            FrontierScope::SinceDate => {
                // Releases before the window are not competitors: give them
                // no value, so the running maximum starts inside it.
                let windowed: Vec<f64> = (0..dates.len())
                    .map(|i| {
                        if in_window(i) {
                            values[i]
                        } else {
                            f64::NEG_INFINITY
                        }
                    })
                    .collect();
                frontier(dates, &windowed)
            }
        }
    } else {
        vec![true; dates.len()]
    };
    let mut order: Vec<usize> = (0..dates.len()).collect();
    order.sort_by_key(|&i| dates[i]);
    match opts.duplicate_dates {
        DuplicateDates::KeepAll => {}
        DuplicateDates::Error => {
            if let Some(w) = order.windows(2).find(|w| dates[w[0]] == dates[w[1]]) {
                return Err(Error::DuplicateDate { date: dates[w[0]] });
            }
        }
        DuplicateDates::MaxPerDate => {
            // `order` is stable, so within a date the first listed wins ties.
            let mut k = 0;
            while k < order.len() {
                let mut j = k;
                let mut best = order[k];
                while j < order.len() && dates[order[j]] == dates[order[k]] {
                    if values[order[j]] > values[best] {
                        best = order[j];
                    }
                    j += 1;
                }
                for &i in &order[k..j] {
                    keep[i] &= i == best;
                }
                k = j;
            }
        }
    }
    let used: Vec<usize> = order
        .into_iter()
        .filter(|&i| keep[i] && in_window(i))
        .collect();
    validate::enough(MODEL, 3, used.len())?;
    let points: Vec<(f64, f64)> = used
        .iter()
        .map(|&i| (date_to_x(dates[i]), logs[i]))
        .collect();
    let xs: Vec<f64> = points.iter().map(|p| p.0).collect();
    if xs.iter().all(|&x| x == xs[0]) {
        return Err(Error::Constant {
            what: "dates",
            value: xs[0],
        });
    }
    let line = ols(&points, points[0].0).ok_or(Error::Constant {
        what: "dates",
        value: xs[0],
    })?;
    let ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    let residuals = points.iter().map(|p| line.value(p.0).ln() - p.1).collect();
    Ok(TrendFit {
        line,
        quality: FitQuality::new(&ys, residuals, None),
        used,
        points,
    })
}

/// Bootstrap uncertainty of a trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendUncertainty {
    /// Slope of ln(value) per day.
    pub slope_per_day: Estimate,
    /// Doubling time in days; `None` when the full-data trend is not growing.
    pub doubling_time_days: Option<Estimate>,
    /// Whether the upper end of the doubling-time interval is unbounded
    /// (some replicates do not grow, so "never doubles" is not excluded).
    pub doubling_upper_unbounded: bool,
    /// Refitted lines.
    pub replicates: Vec<TrendLine>,
    /// Run bookkeeping.
    pub summary: BootstrapSummary,
}

/// Resample the fit's points and refit; resamples with a single date fail.
pub fn bootstrap_trend(fit: &TrendFit, boot: &BootstrapOptions) -> Result<TrendUncertainty> {
    let (reps, summary) = bootstrap::run(MODEL, fit.points.len(), boot, |idx| {
        let pts: Vec<(f64, f64)> = idx.iter().map(|&i| fit.points[i]).collect();
        ols(&pts, fit.line.reference)
    })?;
    let slopes: Vec<f64> = reps.iter().map(|l| l.slope_per_day).collect();
    let slope = bootstrap::estimate(fit.line.slope_per_day, slopes, boot.level);
    let growing: Vec<f64> = reps
        .iter()
        .filter_map(TrendLine::doubling_time_days)
        .collect();
    // Percentile intervals map through the decreasing ln2/slope: the slope's
    // upper end gives the shortest doubling time.
    let doubling = fit.line.doubling_time_days().map(|d| {
        let se = bootstrap::estimate(d, growing.clone(), boot.level).std_error;
        let ln2 = std::f64::consts::LN_2;
        Estimate {
            value: d,
            std_error: se,
            lower: ln2 / slope.upper,
            upper: if slope.lower > 0.0 {
                ln2 / slope.lower
            } else {
                f64::INFINITY
            },
        }
    });
    Ok(TrendUncertainty {
        slope_per_day: slope,
        doubling_upper_unbounded: slope.lower <= 0.0,
        doubling_time_days: doubling,
        replicates: reps,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn frontier_compares_with_strictly_earlier_dates() {
        let dates = [
            d("2020-01-01"),
            d("2021-01-01"),
            d("2021-01-01"),
            d("2022-01-01"),
            d("2019-01-01"),
        ];
        let values = [2.0, 1.5, 3.0, 2.9, 1.0];
        assert_eq!(
            frontier(&dates, &values),
            vec![true, false, true, false, true]
        );
        // A same-day pair both above the earlier max are both frontier.
        assert_eq!(
            frontier(&dates[..3], &[1.0, 2.0, 3.0]),
            vec![true, true, true]
        );
    }

    #[test]
    fn exact_exponential_gives_exact_doubling_time() {
        let dates: Vec<NaiveDate> = (0..5)
            .map(|k| d("2023-01-01") + chrono::TimeDelta::days(100 * k))
            .collect();
        let values: Vec<f64> = (0..5)
            .map(|k| 2f64.powf(f64::from(k * 100) / 150.0))
            .collect();
        let fit = fit_trend(&dates, &values, &TrendOptions::default()).unwrap();
        assert!((fit.line.doubling_time_days().unwrap() - 150.0).abs() < 1e-9);
        assert!((fit.quality.r_squared.unwrap() - 1.0).abs() < 1e-12);
        let x = match fit.line.crossing(values[4] * 2.0) {
            Crossing::At(x) => x,
            other => panic!("{other:?}"),
        };
        assert_eq!(x_to_date(x), Some(dates[4] + chrono::TimeDelta::days(150)));
        assert_eq!(fit.line.crossing(-1.0), Crossing::Always);
    }

    #[test]
    fn duplicate_date_policies() {
        let dates = [
            d("2023-01-01"),
            d("2023-06-01"),
            d("2023-06-01"),
            d("2024-01-01"),
        ];
        let values = [1.0, 2.0, 3.0, 4.0];
        let all = TrendOptions::default();
        assert_eq!(fit_trend(&dates, &values, &all).unwrap().used.len(), 4);
        let max = TrendOptions {
            duplicate_dates: DuplicateDates::MaxPerDate,
            ..all
        };
        assert_eq!(
            fit_trend(&dates, &values, &max).unwrap().used,
            vec![0, 2, 3]
        );
        let err = TrendOptions {
            duplicate_dates: DuplicateDates::Error,
            ..all
        };
        assert!(matches!(
            fit_trend(&dates, &values, &err),
            Err(Error::DuplicateDate { .. })
        ));
    }

    #[test]
    fn degenerate_trends_are_errors() {
        let same = [d("2023-01-01"); 3];
        assert!(matches!(
            fit_trend(&same, &[1.0, 2.0, 3.0], &TrendOptions::default()),
            Err(Error::Constant { .. })
        ));
        let dates = [d("2023-01-01"), d("2023-02-01"), d("2023-03-01")];
        assert!(matches!(
            fit_trend(&dates, &[1.0, 0.0, 3.0], &TrendOptions::default()),
            Err(Error::NonPositive { index: 1, .. })
        ));
        assert!(matches!(
            fit_trend(&dates[..2], &[1.0, 2.0], &TrendOptions::default()),
            Err(Error::TooFewPoints { .. })
        ));
        let frontier = TrendOptions {
            frontier_only: true,
            ..Default::default()
        };
        assert!(matches!(
            fit_trend(&dates, &[3.0, 2.0, 1.0], &frontier),
            Err(Error::TooFewPoints { got: 1, .. })
        ));
    }

    #[test]
    fn window_scope_restarts_the_running_maximum_at_since() {
        let d = |m: u32| NaiveDate::from_ymd_opt(2024, m, 1).unwrap();
        // A strong early release, then a dip after the cut-off, then growth.
        let dates = [d(1), d(2), d(4), d(5), d(6), d(7)];
        let values = [50.0, 2.0, 3.0, 60.0, 80.0, 120.0];
        let since = Some(d(3));
        let used = |scope| {
            let opts = TrendOptions {
                since,
                frontier_only: true,
                frontier_scope: scope,
                ..Default::default()
            };
            fit_trend(&dates, &values, &opts).unwrap().used
        };
        // Whole history: 3.0 does not beat the earlier 50, so it is dropped.
        assert_eq!(used(FrontierScope::WholeHistory), vec![3, 4, 5]);
        // Window: the first release after the cut-off starts the frontier.
        assert_eq!(used(FrontierScope::SinceDate), vec![2, 3, 4, 5]);
        // Without `since` the scope changes nothing.
        let all = TrendOptions {
            frontier_only: true,
            frontier_scope: FrontierScope::SinceDate,
            ..Default::default()
        };
        assert_eq!(
            fit_trend(&dates, &values, &all).unwrap().used,
            vec![0, 3, 4, 5]
        );
    }

    #[test]
    fn shrinking_trend_never_crosses_and_has_no_doubling_time() {
        let dates = [
            d("2023-01-01"),
            d("2023-02-01"),
            d("2023-03-01"),
            d("2023-04-01"),
        ];
        let fit = fit_trend(&dates, &[4.0, 3.0, 2.0, 1.0], &TrendOptions::default()).unwrap();
        assert_eq!(fit.line.doubling_time_days(), None);
        assert_eq!(fit.line.crossing(10.0), Crossing::Never);
        let u = bootstrap_trend(
            &fit,
            &BootstrapOptions {
                resamples: 200,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(u.doubling_time_days.is_none());
        assert!(u.slope_per_day.upper <= 0.0 + 1e-12);
    }
}
