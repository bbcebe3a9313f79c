//! The project forecast as data: what `--json` prints and the text table reads.
//!
//! Crossings are reported in the units people schedule by (FLOP and calendar dates), with
//! an explicit `when` instead of a bare number: a fitted crossing below the latest
//! checkpoint is "already reached", one past the forecast horizon is "beyond range", and
//! a fit that never gets there says so. Interval ends can themselves be "already" or
//! "never" (see `rsp_forecast::Crossing`).

use std::path::PathBuf;

use chrono::NaiveDate;
use rsp_forecast::{
    Checkpoint, Crossing, CrossingForecast, CrossingOutcome, LineForecast, RuleFit, RuleForecast,
    RuleLines, date_to_x, x_to_date,
};
use rsp_policy::EvidenceRule;
use serde::Serialize;

/// The whole forecast.
#[derive(Debug, Serialize)]
pub(super) struct Report {
    pub seed: u64,
    pub resamples: usize,
    pub level: f64,
    /// Crossings further than this many decades of compute past the latest checkpoint
    /// are "beyond range".
    pub horizon_decades: f64,
    pub lineages: Vec<LineageReport>,
}

/// One lineage of checkpoints.
#[derive(Debug, Serialize)]
pub(super) struct LineageReport {
    pub name: String,
    /// Assessed checkpoints, by compute.
    pub checkpoints: Vec<Member>,
    /// Members that contribute no point, and why.
    pub skipped: Vec<Skipped>,
    /// The next scheduled assessment, from the lineage's latest assessment.
    pub next: Option<Next>,
    pub rules: Vec<RuleReport>,
}

#[derive(Debug, Serialize)]
pub(super) struct Member {
    pub name: String,
    pub compute_flop: f64,
    pub date: Option<NaiveDate>,
    /// The assessment the points come from (the checkpoint's latest).
    pub assessment: String,
}

#[derive(Debug, Serialize)]
pub(super) struct Skipped {
    pub name: String,
    pub reason: String,
}

impl Skipped {
    pub fn new(name: &str, reason: &str) -> Self {
        Self {
            name: name.to_owned(),
            reason: reason.to_owned(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub(super) struct Next {
    pub at_flop: Option<f64>,
    pub by_date: Option<NaiveDate>,
    /// The assessment that scheduled it.
    pub assessment: String,
}

/// Where a forecast crossing stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum When {
    /// Ahead of the latest checkpoint, within the horizon.
    Forecast,
    /// The fit is past the line at or before the latest checkpoint.
    AlreadyReached,
    /// The fit crosses, but further out than the horizon.
    BeyondRange,
    /// The fit never reaches the line.
    Never,
}

/// An interval end.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "kebab-case")]
pub(super) enum End<T> {
    Already,
    At(T),
    /// Past the forecast horizon: a number there would be extrapolation, not evidence.
    BeyondRange,
    Never,
}

/// A crossing in FLOP or dates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(super) struct Projection<T> {
    pub when: When,
    /// The fitted crossing (also for "already reached" and "beyond range").
    pub value: Option<T>,
    pub lower: Option<End<T>>,
    pub upper: Option<End<T>>,
    pub level: f64,
}

impl<T: Copy> Projection<T> {
    fn new(
        f: &CrossingForecast,
        latest: f64,
        horizon: Option<f64>,
        map: impl Fn(f64) -> Option<T>,
    ) -> Self {
        let (when, value) = match f.outcome {
            CrossingOutcome::AlreadyReached => (When::AlreadyReached, None),
            CrossingOutcome::Reached { x } if x <= latest => (When::AlreadyReached, map(x)),
            CrossingOutcome::Reached { x } => (When::Forecast, map(x)),
            CrossingOutcome::NotReachedWithinHorizon { x, .. } => (When::BeyondRange, map(x)),
            CrossingOutcome::NeverReached => (When::Never, None),
        };
        let end = |c: Option<Crossing>| {
            c.and_then(|c| match c {
                Crossing::Always => Some(End::Already),
                Crossing::At(x) if horizon.is_some_and(|h| x > h) => Some(End::BeyondRange),
                Crossing::At(x) => map(x).map(End::At),
                Crossing::Never => Some(End::Never),
            })
        };
        Self {
            when,
            value,
            lower: end(f.lower),
            upper: end(f.upper),
            level: f.level,
        }
    }

    /// The value when the crossing is ahead and forecast.
    pub fn ahead(&self) -> Option<T> {
        (self.when == When::Forecast)
            .then_some(self.value)
            .flatten()
    }
}

/// One line's forecast in scheduling units.
#[derive(Debug, Serialize)]
pub(super) struct LineSummary {
    /// The policy line (compared with the adjusted estimate).
    pub threshold: f64,
    /// The raw metric value that corresponds to it.
    pub raw_threshold: f64,
    pub compute_flop: Projection<f64>,
    /// `None` without at least two dated checkpoints.
    pub date: Option<Projection<NaiveDate>>,
}

impl LineSummary {
    fn new(l: &LineForecast, fit: &RuleFit, latest_day: Option<f64>) -> Self {
        Self {
            threshold: l.threshold,
            raw_threshold: l.raw_threshold,
            compute_flop: Projection::new(
                &l.compute,
                fit.latest_log10_flop,
                Some(fit.horizon_log10_flop),
                |x| Some(10f64.powf(x)),
            ),
            date: l.date.as_ref().zip(latest_day).map(|(d, latest)| {
                let horizon = fit.dates.and_then(|d| d.day_of(fit.horizon_log10_flop));
                Projection::new(d, latest, horizon, x_to_date)
            }),
        }
    }
}

/// The fitted curve, for JSON readers.
#[derive(Debug, Serialize)]
pub(super) struct FitSummary {
    pub model: &'static str,
    pub why: String,
    pub curve: rsp_forecast::RuleCurve,
    pub dates: Option<rsp_forecast::ComputeDateLine>,
    pub r_squared: Option<f64>,
    pub rmse: f64,
    pub bootstrap_succeeded: usize,
}

/// An earlier assessment than scheduled.
#[derive(Debug, Serialize)]
pub(super) struct Recommendation {
    /// `alert` or `line`: which crossing comes before the schedule.
    pub crossing: &'static str,
    pub threshold: f64,
    /// Assess by this compute (the forecast crossing)…
    pub at_flop: f64,
    /// …or by this date, whichever comes first.
    pub by_date: Option<NaiveDate>,
    /// The scheduled next assessment it comes before.
    pub scheduled_at_flop: Option<f64>,
    pub scheduled_by_date: Option<NaiveDate>,
}

/// One rule's result.
#[derive(Debug, Serialize)]
pub(super) struct RuleReport {
    pub threshold: String,
    /// Index of the rule within the threshold's evidence (0-based).
    pub rule: usize,
    pub suite: String,
    pub metric: String,
    pub lines: RuleLines,
    /// One point per checkpoint with an estimate, by compute.
    pub points: Vec<Checkpoint>,
    /// `forecast`, `too-few-checkpoints` or `error`.
    pub status: &'static str,
    /// Plain explanation when there is no forecast.
    pub message: Option<String>,
    pub fit: Option<FitSummary>,
    pub alert: Option<LineSummary>,
    pub line: Option<LineSummary>,
    pub recommendation: Option<Recommendation>,
    pub chart: Option<PathBuf>,
    /// The chart as drawn, for reports that embed it.
    #[serde(skip)]
    pub svg: Option<String>,
    #[serde(skip)]
    pub forecast: Result<RuleForecast, rsp_forecast::Error>,
}

impl RuleReport {
    pub fn new(
        threshold: &str,
        rule: usize,
        spec: &EvidenceRule,
        points: Vec<Checkpoint>,
        lines: RuleLines,
        forecast: rsp_forecast::Result<RuleForecast>,
    ) -> Self {
        let latest_day = points
            .iter()
            .filter_map(|p| p.date.map(date_to_x))
            .reduce(f64::max);
        let (status, message, fit, alert, line) = match &forecast {
            Ok(RuleForecast::TooFewCheckpoints { got, needed }) => (
                "too-few-checkpoints",
                Some(format!(
                    "{got} checkpoint(s) with an estimate; at least {needed} are needed to \
                     forecast, so nothing is extrapolated"
                )),
                None,
                None,
                None,
            ),
            Ok(RuleForecast::Fitted(f)) => (
                "forecast",
                None,
                Some(FitSummary {
                    model: f.model.label(),
                    why: f.why.clone(),
                    curve: f.curve,
                    dates: f.dates,
                    r_squared: f.quality.r_squared,
                    rmse: f.quality.rmse,
                    bootstrap_succeeded: f.summary.succeeded,
                }),
                Some(LineSummary::new(&f.alert, f, latest_day)),
                Some(LineSummary::new(&f.line, f, latest_day)),
            ),
            Err(e) => (
                "error",
                Some(format!("cannot forecast: {e}")),
                None,
                None,
                None,
            ),
        };
        Self {
            threshold: threshold.to_owned(),
            rule,
            suite: spec.suite.clone(),
            metric: spec.metric.clone(),
            lines,
            points,
            status,
            message,
            fit,
            alert,
            line,
            recommendation: None,
            chart: None,
            svg: None,
            forecast,
        }
    }

    /// Recommend an earlier assessment when the alert crossing (else the line's) is
    /// forecast ahead of the latest checkpoint and before the scheduled next assessment,
    /// in compute or in time.
    pub fn recommend(&mut self, next: Option<&Next>) {
        let Some(next) = next else { return };
        for (name, l) in [("alert", &self.alert), ("line", &self.line)] {
            let Some(l) = l else { continue };
            let Some(flop) = l.compute_flop.ahead() else {
                continue;
            };
            let date = l.date.as_ref().and_then(Projection::ahead);
            let sooner_compute = next.at_flop.is_some_and(|n| flop < n);
            let sooner_date = date.zip(next.by_date).is_some_and(|(d, n)| d < n);
            if sooner_compute || sooner_date {
                self.recommendation = Some(Recommendation {
                    crossing: name,
                    threshold: l.threshold,
                    at_flop: flop,
                    by_date: date,
                    scheduled_at_flop: next.at_flop,
                    scheduled_by_date: next.by_date,
                });
                return;
            }
        }
    }
}
