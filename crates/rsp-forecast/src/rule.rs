//! Forecasts for one evidence rule of a policy: where a rule's metric,
//! measured on a series of checkpoints, will reach its alert line and its
//! line, in effective compute and in calendar time.
//!
//! # Which curve
//!
//! The metric is fitted against x = log10(effective compute):
//!
//! - **Log-linear** (y = a + b·x) by default. With the handful of
//!   checkpoints a lab has (3 to 6 is typical), a straight line in log
//!   compute is the only shape the data can pin down: two parameters, and
//!   the local behaviour of any smooth scaling curve.
//! - **4-parameter sigmoid** (floor, ceiling, midpoint, slope) only when it
//!   is identifiable: at least [`RuleForecastOptions::sigmoid_min_checkpoints`]
//!   checkpoints (default 7, so the small-sample AICc of a 4-parameter fit
//!   plus its noise variance is defined), a metric bounded in [0, 1] (every
//!   estimate and interval inside it, which is what the asymptote bounds
//!   assume), the fitted midpoint inside the observed compute range (the
//!   bend is seen, not set by the bounds), and a lower AICc than the line.
//!   Otherwise a sigmoid's asymptotes are whatever its bounds say, and a
//!   crossing forecast from it is an artefact.
//!
//! The reason for the choice is returned ([`RuleFit::why`]) so reports can
//! print it.
//!
//! # Direction and margin
//!
//! Rules compare the *adjusted* estimate (the raw estimate moved by the
//! elicitation margin in the dangerous direction) with their lines. The fit
//! is to the raw estimates; a line `t` is reached when the raw metric reaches
//! `t − margin` (higher is more capable) or `t + margin` (lower is more
//! capable). Internally values are oriented so that "more capable" is up,
//! which lets the rising-curve crossing logic of [`Curve`] serve both.
//!
//! # Uncertainty
//!
//! Each bootstrap replicate (a) resamples the checkpoints with replacement,
//! which captures scatter around the trend, and (b) redraws each drawn
//! checkpoint's score from a normal with the standard error implied by its
//! own confidence interval, which captures eval sampling error. With three
//! or four checkpoints either source alone understates the uncertainty; the
//! two overlap somewhat, so the intervals err wide, which here means the
//! lower end of a crossing comes *earlier*: the safe side for a forecast
//! that schedules assessments. Replicate `r` uses ChaCha8 stream
//! (seed, r), so results do not depend on thread count. The compute-vs-date
//! line is refitted on the same resample, so date intervals carry both
//! uncertainties.
//!
//! # Dates
//!
//! Dates come from a log-linear compute trend: log10 C = c + d·days, fitted
//! by OLS on the dated checkpoints (at least two distinct dates). A crossing
//! at compute x happens on the day that line reaches x; if compute is not
//! growing with time, never.

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

use crate::bootstrap::{BootstrapOptions, BootstrapSummary};
use crate::crossing::{CrossingForecast, Curve, forecast_crossing};
use crate::error::{Error, Result};
use crate::quality::FitQuality;
use crate::rule_curve::{
    ComputeDateLine, DatedRuleCurve, LogLinear, MetricDirection, RuleCurve, RuleModel, RuleShape,
};
use crate::sigmoid::{SigmoidData, SigmoidOptions, fit_sigmoid};
use crate::trend::date_to_x;

const MODEL: &str = "rule forecast";

/// One checkpoint's measurement of a rule's metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checkpoint {
    /// Checkpoint (model) name.
    pub name: String,
    /// Effective training compute, FLOP (> 0).
    pub compute_flop: f64,
    /// Checkpoint date, if registered.
    pub date: Option<NaiveDate>,
    /// Raw point estimate of the metric.
    pub value: f64,
    /// Lower end of its confidence interval.
    pub lower: f64,
    /// Upper end of its confidence interval.
    pub upper: f64,
    /// Confidence level of that interval, in (0, 1).
    pub confidence: f64,
}

/// The rule's lines and margin, in the metric's units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RuleLines {
    /// Direction of capability.
    pub direction: MetricDirection,
    /// Elicitation margin added (in the capable direction) to the raw estimate.
    pub margin: f64,
    /// Alert line.
    pub alert: f64,
    /// Capability line.
    pub line: f64,
}

impl RuleLines {
    /// The raw value at which the adjusted estimate reaches `threshold`.
    #[must_use]
    pub fn raw_threshold(&self, threshold: f64) -> f64 {
        threshold - self.direction.sign() * self.margin
    }
}

/// Options of [`forecast_rule_crossing`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RuleForecastOptions {
    /// Fewer checkpoints than this: no fit, no extrapolation (default 3).
    pub min_checkpoints: usize,
    /// Fewest checkpoints for which the sigmoid is considered (default 7).
    pub sigmoid_min_checkpoints: usize,
    /// How far past the latest checkpoint a crossing still counts as
    /// forecast, in decades of compute (default 2, i.e. 100×): a trend
    /// extrapolated further than that is not evidence of anything.
    pub horizon_decades: f64,
    /// Bootstrap settings.
    pub boot: BootstrapOptions,
}

impl Default for RuleForecastOptions {
    fn default() -> Self {
        Self {
            min_checkpoints: 3,
            sigmoid_min_checkpoints: 7,
            horizon_decades: 2.0,
            boot: BootstrapOptions::default(),
        }
    }
}

/// Where one line (alert or line) is reached.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineForecast {
    /// The line, compared with the adjusted estimate.
    pub threshold: f64,
    /// The raw metric value that corresponds to it.
    pub raw_threshold: f64,
    /// Crossing in log10 FLOP, with the compute horizon applied.
    pub compute: CrossingForecast,
    /// Crossing in days since 1970-01-01 (see [`crate::x_to_date`]); `None`
    /// without a compute-vs-date line.
    pub date: Option<CrossingForecast>,
}

/// A fitted rule and its forecasts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleFit {
    /// Shape used.
    pub model: RuleModel,
    /// Why that shape.
    pub why: String,
    /// Full-data curve.
    pub curve: RuleCurve,
    /// Diagnostics in the metric's units (residuals in checkpoint order).
    pub quality: FitQuality,
    /// Compute-vs-date line, when at least two distinct dates are known.
    pub dates: Option<ComputeDateLine>,
    /// log10 FLOP of the most compute-rich checkpoint.
    pub latest_log10_flop: f64,
    /// log10 FLOP past which crossings are "not within the forecast range".
    pub horizon_log10_flop: f64,
    /// Alert-line forecast.
    pub alert: LineForecast,
    /// Line forecast.
    pub line: LineForecast,
    /// Bootstrap refits of the curve.
    #[serde(skip)]
    pub replicates: Vec<RuleCurve>,
    /// Bootstrap bookkeeping.
    pub summary: BootstrapSummary,
}

/// The outcome for one rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RuleForecast {
    /// Not enough checkpoints to fit anything; nothing is extrapolated.
    TooFewCheckpoints {
        /// Checkpoints with an estimate.
        got: usize,
        /// Checkpoints needed.
        needed: usize,
    },
    /// A fit and its forecasts.
    Fitted(Box<RuleFit>),
}

fn validate(points: &[Checkpoint]) -> Result<()> {
    for (i, p) in points.iter().enumerate() {
        for (what, v) in [
            ("checkpoint value", p.value),
            ("checkpoint lower", p.lower),
            ("checkpoint upper", p.upper),
            ("checkpoint compute", p.compute_flop),
        ] {
            if !v.is_finite() {
                return Err(Error::NonFinite {
                    what,
                    index: i,
                    value: v,
                });
            }
        }
        if p.compute_flop <= 0.0 {
            return Err(Error::NonPositive {
                what: "checkpoint compute",
                index: i,
                value: p.compute_flop,
            });
        }
        if !(p.confidence > 0.0 && p.confidence < 1.0) {
            return Err(Error::InvalidOption {
                name: "confidence",
                reason: "each checkpoint's confidence must be in (0, 1)",
            });
        }
    }
    Ok(())
}

/// OLS of y on x; `None` with fewer than two distinct x.
fn ols(x: &[f64], y: &[f64]) -> Option<(f64, f64)> {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let sxx: f64 = x.iter().map(|v| (v - mx).powi(2)).sum();
    if sxx.is_nan() || sxx <= 1e-300 {
        return None;
    }
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let slope = sxy / sxx;
    Some((my - slope * mx, slope))
}

fn date_line(days: &[(f64, f64)], reference: f64) -> Option<ComputeDateLine> {
    let (x, y): (Vec<f64>, Vec<f64>) = days.iter().copied().unzip();
    let (a, b) = ols(&x, &y)?;
    Some(ComputeDateLine {
        intercept: a + b * reference,
        slope_per_day: b,
        reference,
    })
}

/// Small-sample corrected AIC of a least-squares fit with `k` parameters
/// (counting the noise variance).
fn aicc(rss: f64, n: usize, k: usize) -> Option<f64> {
    let (nf, kf) = (n as f64, k as f64);
    (n > k + 1).then(|| {
        nf * (rss.max(f64::MIN_POSITIVE) / nf).ln()
            + 2.0 * kf
            + 2.0 * kf * (kf + 1.0) / (nf - kf - 1.0)
    })
}

/// Everything a refit needs, fixed from the full data.
struct Setup {
    model: RuleModel,
    sigmoid_opts: SigmoidOptions,
}

impl Setup {
    fn fit(&self, x: &[f64], y_oriented: &[f64]) -> Option<RuleShape> {
        match self.model {
            RuleModel::LogLinear => ols(x, y_oriented)
                .map(|(intercept, slope)| RuleShape::LogLinear(LogLinear { intercept, slope })),
            RuleModel::Sigmoid => {
                let data = SigmoidData::new(x, y_oriented).ok()?;
                fit_sigmoid(&data, &self.sigmoid_opts)
                    .ok()
                    .map(|f| RuleShape::Sigmoid(f.curve))
            }
        }
    }
}

/// Choose the shape (see the module docs) and fit it to the full data.
fn choose(
    x: &[f64],
    y_oriented: &[f64],
    bounded: bool,
    opts: &RuleForecastOptions,
    sign: f64,
) -> Result<(Setup, RuleShape, String)> {
    let (xmin, xmax) = x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let span = xmax - xmin;
    let range = if sign > 0.0 { (0.0, 1.0) } else { (-1.0, 0.0) };
    let sigmoid_opts = SigmoidOptions {
        floor: range,
        ceiling: range,
        midpoint: Some((xmin - span, xmax + span)),
        ..SigmoidOptions::default()
    };
    let linear = Setup {
        model: RuleModel::LogLinear,
        sigmoid_opts,
    };
    let line = linear.fit(x, y_oriented).ok_or(Error::Constant {
        what: "checkpoint compute",
        value: x.first().copied().unwrap_or(0.0),
    })?;
    let n = x.len();
    let rss = |s: &RuleShape| -> f64 {
        let c = RuleCurve {
            shape: *s,
            direction: MetricDirection::Higher,
        };
        x.iter()
            .zip(y_oriented)
            .map(|(&xi, &yi)| (c.value(xi) - yi).powi(2))
            .sum()
    };
    if !bounded {
        let why = "log-linear: the metric is not bounded in [0, 1], so a sigmoid's asymptotes would be guesses".to_owned();
        return Ok((linear, line, why));
    }
    if n < opts.sigmoid_min_checkpoints {
        let why = format!(
            "log-linear: {n} checkpoints, a sigmoid needs at least {}",
            opts.sigmoid_min_checkpoints
        );
        return Ok((linear, line, why));
    }
    let sig_setup = Setup {
        model: RuleModel::Sigmoid,
        sigmoid_opts,
    };
    let Some(sig) = sig_setup.fit(x, y_oriented) else {
        let why = "log-linear: the sigmoid fit failed".to_owned();
        return Ok((linear, line, why));
    };
    let (a_lin, a_sig) = (aicc(rss(&line), n, 3), aicc(rss(&sig), n, 5));
    let mid = match sig {
        RuleShape::Sigmoid(s) => s.midpoint,
        RuleShape::LogLinear(_) => f64::NAN,
    };
    match (a_lin, a_sig) {
        (Some(l), Some(s)) if s < l && (xmin..=xmax).contains(&mid) => {
            let why = format!(
                "sigmoid: {n} checkpoints, midpoint inside the data, AICc {s:.1} < {l:.1} (log-linear)"
            );
            Ok((sig_setup, sig, why))
        }
        (Some(l), Some(s)) if s < l => {
            let why = format!(
                "log-linear: the sigmoid's midpoint (1e{mid:.2} FLOP) is outside the data, so its bend is not identified"
            );
            Ok((linear, line, why))
        }
        (Some(l), Some(s)) => {
            let why = format!("log-linear: AICc {l:.1} ≤ {s:.1} (sigmoid)");
            Ok((linear, line, why))
        }
        _ => {
            let why = format!("log-linear: too few checkpoints ({n}) for AICc");
            Ok((linear, line, why))
        }
    }
}

/// Standard normal draw (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.r#gen::<f64>();
    let u2: f64 = rng.r#gen::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Fit the rule's metric across `points` and forecast where the adjusted
/// estimate reaches the alert line and the line (see the module docs).
///
/// Fewer than `opts.min_checkpoints` points give
/// [`RuleForecast::TooFewCheckpoints`] rather than an extrapolation.
pub fn forecast_rule_crossing(
    points: &[Checkpoint],
    lines: &RuleLines,
    opts: &RuleForecastOptions,
) -> Result<RuleForecast> {
    opts.boot.validate()?;
    if !(opts.horizon_decades.is_finite() && opts.horizon_decades >= 0.0) {
        return Err(Error::InvalidOption {
            name: "horizon_decades",
            reason: "must be finite and non-negative",
        });
    }
    for (name, v) in [
        ("margin", lines.margin),
        ("alert", lines.alert),
        ("line", lines.line),
    ] {
        if !v.is_finite() {
            return Err(Error::InvalidOption {
                name,
                reason: "must be finite",
            });
        }
    }
    let needed = opts.min_checkpoints.max(2);
    if points.len() < needed {
        return Ok(RuleForecast::TooFewCheckpoints {
            got: points.len(),
            needed,
        });
    }
    validate(points)?;
    let sign = lines.direction.sign();
    let x: Vec<f64> = points.iter().map(|p| p.compute_flop.log10()).collect();
    let y: Vec<f64> = points.iter().map(|p| sign * p.value).collect();
    let se: Vec<f64> = points
        .iter()
        .map(|p| {
            let z = Normal::standard().inverse_cdf(0.5 + p.confidence / 2.0);
            ((p.upper - p.lower) / (2.0 * z)).max(0.0)
        })
        .collect();
    let bounded = points.iter().all(|p| {
        [p.value, p.lower, p.upper]
            .iter()
            .all(|v| (0.0..=1.0).contains(v))
    });
    let (setup, shape, why) = choose(&x, &y, bounded, opts, sign)?;
    let curve = RuleCurve {
        shape,
        direction: lines.direction,
    };

    let dated: Vec<(usize, f64)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((i, date_to_x(p.date?))))
        .collect();
    let reference = dated.first().map_or(0.0, |d| d.1);
    let dates = date_line(
        &dated.iter().map(|&(i, d)| (d, x[i])).collect::<Vec<_>>(),
        reference,
    );

    let n = points.len();
    let boot = opts.boot;
    let reps: Vec<(RuleCurve, Option<ComputeDateLine>)> = (0..boot.resamples)
        .into_par_iter()
        .filter_map(|r| {
            let mut rng = ChaCha8Rng::seed_from_u64(boot.seed);
            rng.set_stream(r as u64);
            let idx: Vec<usize> = (0..n).map(|_| rng.gen_range(0..n)).collect();
            let xs: Vec<f64> = idx.iter().map(|&i| x[i]).collect();
            let ys: Vec<f64> = idx
                .iter()
                .map(|&i| y[i] + se[i] * normal(&mut rng))
                .collect();
            let shape = setup.fit(&xs, &ys)?;
            let days: Vec<(f64, f64)> = idx
                .iter()
                .filter_map(|&i| Some((date_to_x(points[i].date?), x[i])))
                .collect();
            let d = dates.and_then(|_| date_line(&days, reference));
            Some((
                RuleCurve {
                    shape,
                    direction: lines.direction,
                },
                d,
            ))
        })
        .collect();
    if reps.len() < 2 || reps.len() * 2 < boot.resamples {
        return Err(Error::BootstrapFailed {
            model: MODEL,
            succeeded: reps.len(),
            requested: boot.resamples,
        });
    }
    let summary = BootstrapSummary {
        requested: boot.resamples,
        succeeded: reps.len(),
        level: boot.level,
        seed: boot.seed,
    };

    let latest = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let horizon = latest + opts.horizon_decades;
    let curves: Vec<RuleCurve> = reps.iter().map(|r| r.0).collect();
    let dated_reps: Vec<DatedRuleCurve> = reps
        .iter()
        .filter_map(|&(curve, d)| Some(DatedRuleCurve { curve, dates: d? }))
        .collect();
    let forecast = |threshold: f64| -> Result<LineForecast> {
        let raw = lines.raw_threshold(threshold);
        let compute = forecast_crossing(&curve, &curves, raw, Some(horizon), boot.level)?;
        let date = match dates {
            Some(d) if !dated_reps.is_empty() => Some(forecast_crossing(
                &DatedRuleCurve { curve, dates: d },
                &dated_reps,
                raw,
                d.day_of(horizon),
                boot.level,
            )?),
            _ => None,
        };
        Ok(LineForecast {
            threshold,
            raw_threshold: raw,
            compute,
            date,
        })
    };
    let alert = forecast(lines.alert)?;
    let line = forecast(lines.line)?;
    let residuals = x
        .iter()
        .zip(points)
        .map(|(&xi, p)| curve.value(xi) - p.value)
        .collect();
    let observed: Vec<f64> = points.iter().map(|p| p.value).collect();
    Ok(RuleForecast::Fitted(Box::new(RuleFit {
        model: setup.model,
        why,
        curve,
        quality: FitQuality::new(&observed, residuals, None),
        dates,
        latest_log10_flop: latest,
        horizon_log10_flop: horizon,
        alert,
        line,
        replicates: curves,
        summary,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crossing::{Crossing, CrossingOutcome};
    use crate::sigmoid::Sigmoid;
    use crate::trend::x_to_date;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Checkpoints doubling compute every 60 days from 1e21 FLOP.
    fn series(values: &[f64]) -> Vec<Checkpoint> {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| Checkpoint {
                name: format!("m{i}"),
                compute_flop: 1e21 * 2f64.powi(i as i32),
                date: Some(day("2026-01-01") + chrono::TimeDelta::days(60 * i as i64)),
                value: v,
                lower: (v - 0.03).max(0.0),
                upper: (v + 0.03).min(1.0),
                confidence: 0.95,
            })
            .collect()
    }

    const KNOW: RuleLines = RuleLines {
        direction: MetricDirection::Higher,
        margin: 0.05,
        alert: 0.60,
        line: 0.80,
    };

    fn opts() -> RuleForecastOptions {
        RuleForecastOptions {
            boot: BootstrapOptions {
                resamples: 400,
                seed: 7,
                level: 0.95,
            },
            ..Default::default()
        }
    }

    fn fitted(f: RuleForecast) -> RuleFit {
        match f {
            RuleForecast::Fitted(f) => *f,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn too_few_checkpoints_are_not_extrapolated() {
        let f = forecast_rule_crossing(&series(&[0.3, 0.4]), &KNOW, &opts()).unwrap();
        assert_eq!(f, RuleForecast::TooFewCheckpoints { got: 2, needed: 3 });
    }

    #[test]
    fn exact_log_linear_trend_crosses_where_the_algebra_says() {
        // 0.2 per decade = 0.0602 per doubling; alert 0.60 − 0.05 margin = 0.55 raw.
        let per_doubling = 0.2 * 2f64.log10();
        let values: Vec<f64> = (0..4).map(|i| 0.30 + per_doubling * f64::from(i)).collect();
        let fit = fitted(forecast_rule_crossing(&series(&values), &KNOW, &opts()).unwrap());
        assert_eq!(fit.model, RuleModel::LogLinear);
        let x_alert = 21.0 + (0.55 - 0.30) / 0.2;
        match fit.alert.compute.outcome {
            CrossingOutcome::Reached { x } => assert!((x - x_alert).abs() < 1e-9, "{x}"),
            other => panic!("{other:?}"),
        }
        // The interval brackets the point and is finite at both ends.
        match (fit.alert.compute.lower, fit.alert.compute.upper) {
            (Some(Crossing::At(lo)), Some(Crossing::At(hi))) => {
                assert!(lo < x_alert && x_alert < hi, "{lo} {x_alert} {hi}");
            }
            other => panic!("{other:?}"),
        }
        // Compute doubles every 60 days: the alert is 0.25/0.2 decades past
        // 1e21, i.e. 1.25 / log10(2) doublings after 2026-01-01.
        let days = 1.25 / 2f64.log10() * 60.0;
        let want = day("2026-01-01") + chrono::TimeDelta::days(days.round() as i64);
        match fit.alert.date.as_ref().unwrap().outcome {
            CrossingOutcome::Reached { x } => assert_eq!(x_to_date(x), Some(want)),
            other => panic!("{other:?}"),
        }
        // The line (0.75 raw) is 2.25 decades past 1e21: beyond the horizon
        // of 2 decades past the latest checkpoint (8e21)? 21 + 2.25 = 23.25 <
        // 21.9 + 2, so within it.
        assert!(matches!(
            fit.line.compute.outcome,
            CrossingOutcome::Reached { x } if (x - 23.25).abs() < 1e-9
        ));
    }

    #[test]
    fn flat_metric_never_reaches_and_lower_direction_is_mirrored() {
        let fit = fitted(forecast_rule_crossing(&series(&[0.1; 4]), &KNOW, &opts()).unwrap());
        assert_eq!(fit.alert.compute.outcome, CrossingOutcome::NeverReached);
        // Falling times (lower is more capable): 100, 80, 60, 40 minutes per
        // doubling; line 10 with margin 5 means raw 15 is the crossing.
        let pts = series(&[100.0, 80.0, 60.0, 40.0]);
        let lines = RuleLines {
            direction: MetricDirection::Lower,
            margin: 5.0,
            alert: 30.0,
            line: 10.0,
        };
        let fit = fitted(forecast_rule_crossing(&pts, &lines, &opts()).unwrap());
        assert!(fit.why.contains("not bounded"), "{}", fit.why);
        let slope = -20.0 / 2f64.log10();
        let want = 21.0 + (15.0 - 100.0) / slope;
        assert!(matches!(
            fit.line.compute.outcome,
            CrossingOutcome::Reached { x } if (x - want).abs() < 1e-9
        ));
        assert!((fit.curve.value(21.0) - 100.0).abs() < 1e-9);
    }

    #[test]
    fn far_crossings_are_beyond_the_horizon() {
        // 0.01 per doubling: the line (0.75 raw) is decades away.
        let values: Vec<f64> = (0..4).map(|i| 0.30 + 0.01 * f64::from(i)).collect();
        let fit = fitted(forecast_rule_crossing(&series(&values), &KNOW, &opts()).unwrap());
        assert!(matches!(
            fit.line.compute.outcome,
            CrossingOutcome::NotReachedWithinHorizon { .. }
        ));
    }

    #[test]
    fn sigmoid_is_used_only_when_identifiable() {
        let s = Sigmoid {
            floor: 0.2,
            ceiling: 0.9,
            midpoint: 22.0,
            slope: 3.0,
        };
        let pts: Vec<Checkpoint> = (0..9)
            .map(|i| {
                let x = 21.0 + 0.25 * f64::from(i);
                let v = s.value(x);
                Checkpoint {
                    name: format!("m{i}"),
                    compute_flop: 10f64.powf(x),
                    date: None,
                    value: v,
                    lower: v - 0.01,
                    upper: v + 0.01,
                    confidence: 0.95,
                }
            })
            .collect();
        let fit = fitted(forecast_rule_crossing(&pts, &KNOW, &opts()).unwrap());
        assert_eq!(fit.model, RuleModel::Sigmoid, "{}", fit.why);
        assert!(fit.dates.is_none() && fit.alert.date.is_none());
        // Six points of the same curve: too few for the sigmoid.
        let fit = fitted(forecast_rule_crossing(&pts[..6], &KNOW, &opts()).unwrap());
        assert_eq!(fit.model, RuleModel::LogLinear);
        assert!(fit.why.contains("at least 7"), "{}", fit.why);
    }

    #[test]
    fn seeded_and_validated() {
        let values = [0.3, 0.37, 0.41, 0.5];
        let a = forecast_rule_crossing(&series(&values), &KNOW, &opts()).unwrap();
        let b = forecast_rule_crossing(&series(&values), &KNOW, &opts()).unwrap();
        assert_eq!(a, b);
        let mut bad = series(&values);
        bad[1].compute_flop = 0.0;
        assert!(matches!(
            forecast_rule_crossing(&bad, &KNOW, &opts()),
            Err(Error::NonPositive { index: 1, .. })
        ));
        let mut same = series(&values);
        for p in &mut same {
            p.compute_flop = 1e21;
        }
        assert!(matches!(
            forecast_rule_crossing(&same, &KNOW, &opts()),
            Err(Error::Constant { .. })
        ));
    }
}
