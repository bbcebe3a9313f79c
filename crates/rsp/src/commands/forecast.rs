//! `rsp forecast fit chinchilla|power|sigmoid|trend`: fit a scaling law or
//! a capability trend to any CSV, with bootstrap intervals, goodness of fit,
//! residuals, JSON output and an SVG chart.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result};
use rsp_forecast::{
    BootstrapOptions, Chart, ChinchillaData, ChinchillaLaw, ChinchillaOptions, ComputeLawData,
    ComputeLawOptions, Crossing, Curve, Estimate, FitQuality, Scale, SigmoidData, SigmoidOptions,
    Table, ThresholdKind, TrendOptions,
};
use serde_json::json;

use crate::cli::{FitArgs, FitCommand, FitCommon};
use crate::exit::Code;

pub fn run(cmd: FitCommand) -> Result<Code> {
    match cmd {
        FitCommand::Chinchilla {
            data,
            n,
            flop,
            tokens,
            loss,
            drop_highest,
            common,
        } => chinchilla(
            &data,
            &n,
            flop.as_deref(),
            tokens.as_deref(),
            &loss,
            drop_highest,
            &common,
        ),
        FitCommand::Power(FitArgs { data, x, y, common }) => power(&data, &x, &y, &common),
        FitCommand::Sigmoid(FitArgs { data, x, y, common }) => sigmoid(&data, &x, &y, &common),
        FitCommand::Trend {
            data,
            date,
            value,
            frontier,
            since,
            common,
        } => trend(&data, &date, &value, frontier, since.as_deref(), &common),
    }
}

/// Run `refit` with the command's bootstrap options, or skip it when
/// `--bootstrap 0` asks for point estimates only.
fn bootstrapped<T>(
    c: &FitCommon,
    refit: impl FnOnce(&BootstrapOptions) -> rsp_forecast::Result<T>,
) -> Result<Option<T>> {
    if c.bootstrap == 0 {
        return Ok(None);
    }
    let opts = BootstrapOptions {
        resamples: c.bootstrap,
        seed: c.seed,
        level: c.level,
    };
    Ok(Some(refit(&opts)?))
}

/// One row of the parameter table.
struct Row<'a> {
    name: &'a str,
    value: f64,
    est: Option<&'a Estimate>,
}

fn print_table(out: &mut impl std::io::Write, rows: &[Row<'_>], c: &FitCommon) -> Result<()> {
    let level = format!("{}%", c.level * 100.0);
    if c.bootstrap > 0 {
        writeln!(
            out,
            "{:<14} {:>14}  {:<32} {:>12}",
            "parameter",
            "estimate",
            format!("{level} CI (bootstrap percentile)"),
            "std. error"
        )?;
    } else {
        writeln!(
            out,
            "{:<14} {:>14}  (no bootstrap: --bootstrap 0)",
            "parameter", "estimate"
        )?;
    }
    for r in rows {
        match r.est {
            Some(e) => writeln!(
                out,
                "{:<14} {:>14.6}  {:<32} {:>12.4e}",
                r.name,
                r.value,
                format!("[{:.6}, {:.6}]", e.lower, e.upper),
                e.std_error
            )?,
            None => writeln!(out, "{:<14} {:>14.6}", r.name, r.value)?,
        }
    }
    if c.bootstrap > 0 {
        writeln!(
            out,
            "bootstrap: {} resamples of the data points, seed {}",
            c.bootstrap, c.seed
        )?;
    }
    Ok(())
}

fn print_quality(out: &mut impl std::io::Write, q: &FitQuality, space: &str) -> Result<()> {
    let mut sorted = q.residuals.clone();
    sorted.sort_by(f64::total_cmp);
    let pick = |p: f64| {
        sorted
            .get(((sorted.len().saturating_sub(1)) as f64 * p).round() as usize)
            .copied()
    };
    write!(
        out,
        "goodness of fit ({space}): n = {}, RMSE = {:.4e}",
        q.n, q.rmse
    )?;
    if let Some(r2) = q.r_squared {
        write!(out, ", R² = {r2:.4}")?;
    }
    if let Some(h) = q.huber_objective {
        write!(out, ", summed Huber = {h:.6e}")?;
    }
    writeln!(out)?;
    if let (Some(lo), Some(med), Some(hi)) = (pick(0.0), pick(0.5), pick(1.0)) {
        writeln!(
            out,
            "residuals: min {lo:.4e}, median {med:.4e}, max {hi:.4e}"
        )?;
    }
    Ok(())
}

fn finish(
    c: &FitCommon,
    json: &serde_json::Value,
    text: &[u8],
    chart: Option<Chart>,
) -> Result<Code> {
    let mut out = std::io::stdout().lock();
    if c.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
    } else {
        out.write_all(text)?;
    }
    if let (Some(path), Some(mut chart)) = (&c.plot, chart) {
        for t in &c.alert {
            chart = chart.threshold(*t, &format!("alert {t}"), ThresholdKind::Alert);
        }
        for t in &c.line {
            chart = chart.threshold(*t, &format!("line {t}"), ThresholdKind::Line);
        }
        let svg = chart.render_svg()?;
        fs_err::write(path, svg)?;
        if !c.json {
            writeln!(out, "chart: {}", path.display())?;
        }
    }
    Ok(Code::Ok)
}

fn bounds(xs: impl Iterator<Item = f64>) -> (f64, f64) {
    xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    })
}

/// The loss at the compute-optimal allocation, as a curve in compute, so a
/// two-input Chinchilla law can be drawn against training FLOP.
struct OptimalLoss(ChinchillaLaw);

impl Curve for OptimalLoss {
    fn value(&self, c: f64) -> f64 {
        self.0
            .compute_optimal(c)
            .map_or(f64::NAN, |a| self.0.loss(a.params, a.tokens))
    }

    fn crossing(&self, threshold: f64) -> Crossing {
        // Loss falls with compute: bisect in log10 C over a wide range.
        let (mut lo, mut hi) = (10.0_f64, 35.0_f64);
        if self.value(10f64.powf(lo)) <= threshold {
            return Crossing::Always;
        }
        if self.value(10f64.powf(hi)) > threshold {
            return Crossing::Never;
        }
        for _ in 0..100 {
            let mid = 0.5 * (lo + hi);
            if self.value(10f64.powf(mid)) > threshold {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Crossing::At(10f64.powf(hi))
    }
}

fn chinchilla(
    path: &Path,
    n_col: &str,
    flop_col: Option<&str>,
    tokens_col: Option<&str>,
    loss_col: &str,
    drop_highest: usize,
    c: &FitCommon,
) -> Result<Code> {
    let table = Table::read(path)?;
    let n = table.f64_column(n_col)?;
    let loss = table.f64_column(loss_col)?;
    let data = match (flop_col, tokens_col) {
        (_, Some(t)) => ChinchillaData::new(&n, &table.f64_column(t)?, &loss)?,
        (Some(f), None) => ChinchillaData::from_flops(&n, &table.f64_column(f)?, &loss)?,
        (None, None) => anyhow::bail!("give --flop COLUMN (tokens = FLOP / 6N) or --tokens COLUMN"),
    };
    let data = if drop_highest > 0 {
        data.drop_highest_losses(drop_highest)?
    } else {
        data
    };
    let opts = ChinchillaOptions::default();
    let fit = rsp_forecast::fit_chinchilla(&data, &opts)?;
    let unc = bootstrapped(c, |b| {
        rsp_forecast::bootstrap_chinchilla(&data, &fit, &opts, b)
    })?;
    let law = fit.law;
    let mut text = Vec::new();
    writeln!(
        text,
        "Chinchilla law L(N, D) = E + A/N^α + B/D^β, fitted in log space (LSE, summed Huber δ = {}, L-BFGS)",
        opts.huber_delta
    )?;
    writeln!(
        text,
        "data: {} ({} points{}); starts: {} ({} converged)",
        path.display(),
        data.len(),
        if drop_highest > 0 {
            format!(", {drop_highest} highest losses dropped")
        } else {
            String::new()
        },
        fit.starts,
        fit.converged
    )?;
    let e = |f: fn(&rsp_forecast::ChinchillaUncertainty) -> &Estimate| unc.as_ref().map(f);
    print_table(
        &mut text,
        &[
            Row {
                name: "E",
                value: law.e,
                est: e(|u| &u.e),
            },
            Row {
                name: "A",
                value: law.a,
                est: e(|u| &u.a),
            },
            Row {
                name: "B",
                value: law.b,
                est: e(|u| &u.b),
            },
            Row {
                name: "alpha",
                value: law.alpha,
                est: e(|u| &u.alpha),
            },
            Row {
                name: "beta",
                value: law.beta,
                est: e(|u| &u.beta),
            },
        ],
        c,
    )?;
    if let Some(x) = law.exponents() {
        writeln!(
            text,
            "compute-optimal allocation: N_opt ∝ C^{:.4}, D_opt ∝ C^{:.4}",
            x.a, x.b
        )?;
    }
    print_quality(&mut text, &fit.quality, "log loss")?;
    let flops: Vec<f64> = data.points().iter().map(|(n, d, _)| 6.0 * n * d).collect();
    let (lo, hi) = bounds(flops.iter().copied());
    let mut chart = Chart::new(
        "Loss at the compute-optimal allocation",
        "training FLOP",
        "loss",
        Scale::Log10,
        Scale::Linear,
    );
    chart.points = data
        .points()
        .iter()
        .map(|(n, d, l)| (6.0 * n * d, *l))
        .collect();
    let reps: Vec<OptimalLoss> = unc
        .as_ref()
        .map(|u| u.replicates.iter().copied().map(OptimalLoss).collect())
        .unwrap_or_default();
    let chart = chart.with_fit(&OptimalLoss(law), &reps, (lo, hi * 10.0), 80, c.level);
    let json = json!({"model": "chinchilla", "data": path, "points": data.len(), "fit": fit, "uncertainty": unc});
    finish(c, &json, &text, Some(chart))
}

fn power(path: &Path, x_col: &str, y_col: &str, c: &FitCommon) -> Result<Code> {
    let table = Table::read(path)?;
    let data = ComputeLawData::new(&table.f64_column(x_col)?, &table.f64_column(y_col)?)?;
    let opts = ComputeLawOptions::default();
    let fit = rsp_forecast::fit_compute_law(&data, &opts)?;
    let unc = bootstrapped(c, |b| {
        rsp_forecast::bootstrap_compute_law(&data, &fit, &opts, b)
    })?;
    let mut text = Vec::new();
    writeln!(
        text,
        "power law L(C) = E + A·C^-α, fitted in log space (summed Huber δ = {})",
        opts.huber_delta
    )?;
    writeln!(
        text,
        "data: {} ({} points)",
        path.display(),
        data.points().len()
    )?;
    print_table(
        &mut text,
        &[
            Row {
                name: "E",
                value: fit.law.e,
                est: unc.as_ref().map(|u| &u.e),
            },
            Row {
                name: "A",
                value: fit.law.a,
                est: unc.as_ref().map(|u| &u.a),
            },
            Row {
                name: "alpha",
                value: fit.law.alpha,
                est: unc.as_ref().map(|u| &u.alpha),
            },
        ],
        c,
    )?;
    print_quality(&mut text, &fit.quality, "log loss")?;
    let pts = data.points();
    let (lo, hi) = bounds(pts.iter().map(|p| p.0));
    let mut chart = Chart::new(
        "Power law in compute",
        x_col,
        y_col,
        Scale::Log10,
        Scale::Linear,
    );
    chart.points = pts;
    let reps = unc
        .as_ref()
        .map(|u| u.replicates.clone())
        .unwrap_or_default();
    let chart = chart.with_fit(&fit.law, &reps, (lo, hi * 10.0), 80, c.level);
    let json = json!({"model": "power", "data": path, "fit": fit, "uncertainty": unc});
    finish(c, &json, &text, Some(chart))
}

fn sigmoid(path: &Path, x_col: &str, y_col: &str, c: &FitCommon) -> Result<Code> {
    let table = Table::read(path)?;
    let data = SigmoidData::from_compute(&table.f64_column(x_col)?, &table.f64_column(y_col)?)?;
    let opts = SigmoidOptions::default();
    let fit = rsp_forecast::fit_sigmoid(&data, &opts)?;
    let unc = bootstrapped(c, |b| {
        rsp_forecast::bootstrap_sigmoid(&data, &fit, &opts, b)
    })?;
    let s = fit.curve;
    let mut text = Vec::new();
    writeln!(
        text,
        "sigmoid score = floor + (ceiling − floor) / (1 + exp(−slope·(log10 C − midpoint))), least squares"
    )?;
    writeln!(
        text,
        "data: {} ({} points)",
        path.display(),
        data.points().len()
    )?;
    print_table(
        &mut text,
        &[
            Row {
                name: "floor",
                value: s.floor,
                est: unc.as_ref().map(|u| &u.floor),
            },
            Row {
                name: "ceiling",
                value: s.ceiling,
                est: unc.as_ref().map(|u| &u.ceiling),
            },
            Row {
                name: "midpoint",
                value: s.midpoint,
                est: unc.as_ref().map(|u| &u.midpoint),
            },
            Row {
                name: "slope",
                value: s.slope,
                est: unc.as_ref().map(|u| &u.slope),
            },
        ],
        c,
    )?;
    print_quality(&mut text, &fit.quality, "score")?;
    let reps = unc
        .as_ref()
        .map(|u| u.replicates.clone())
        .unwrap_or_default();
    print_crossings(&mut text, &s, &reps, c, |x| {
        format!("{:.3e} FLOP", 10f64.powf(x))
    })?;
    let pts = data.points();
    let (lo, hi) = bounds(pts.iter().map(|p| p.0));
    let mut chart = Chart::new(
        "Score against training compute",
        "log10 training FLOP",
        y_col,
        Scale::Linear,
        Scale::Linear,
    );
    chart.points = pts;
    let chart = chart.with_fit(&s, &reps, (lo, hi + 1.0), 80, c.level);
    let json = json!({"model": "sigmoid", "data": path, "fit": fit, "uncertainty": unc});
    finish(c, &json, &text, Some(chart))
}

fn trend(
    path: &Path,
    date_col: &str,
    value_col: &str,
    frontier: bool,
    since: Option<&str>,
    c: &FitCommon,
) -> Result<Code> {
    let table = Table::read(path)?;
    let dates = table.date_column(date_col)?;
    let values = table.f64_column(value_col)?;
    let since = since
        .map(|s| {
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .with_context(|| format!("--since {s}: expected YYYY-MM-DD"))
        })
        .transpose()?;
    let opts = TrendOptions {
        since,
        frontier_only: frontier,
        ..TrendOptions::default()
    };
    let fit = rsp_forecast::fit_trend(&dates, &values, &opts)?;
    let unc = bootstrapped(c, |b| rsp_forecast::bootstrap_trend(&fit, b))?;
    let mut text = Vec::new();
    writeln!(
        text,
        "log-linear trend ln({value_col}) = a + b·date, OLS{}",
        if frontier {
            ", frontier models only"
        } else {
            ""
        }
    )?;
    writeln!(
        text,
        "data: {} ({} of {} rows used)",
        path.display(),
        fit.used.len(),
        dates.len()
    )?;
    let doubling = fit.line.doubling_time_days();
    print_table(
        &mut text,
        &[
            Row {
                name: "slope/day",
                value: fit.line.slope_per_day,
                est: unc.as_ref().map(|u| &u.slope_per_day),
            },
            Row {
                name: "doubling days",
                value: doubling.unwrap_or(f64::INFINITY),
                est: unc.as_ref().and_then(|u| u.doubling_time_days.as_ref()),
            },
        ],
        c,
    )?;
    if unc.as_ref().is_some_and(|u| u.doubling_upper_unbounded) {
        writeln!(
            text,
            "note: the doubling time's upper bound is unbounded (some resamples show no growth)"
        )?;
    }
    print_quality(&mut text, &fit.quality, "ln value")?;
    let reps = unc
        .as_ref()
        .map(|u| u.replicates.clone())
        .unwrap_or_default();
    print_crossings(&mut text, &fit.line, &reps, c, |x| {
        rsp_forecast::x_to_date(x).map_or_else(|| format!("day {x:.0}"), |d| d.to_string())
    })?;
    let pts: Vec<(f64, f64)> = fit
        .points()
        .iter()
        .map(|(d, v)| (rsp_forecast::date_to_x(*d), *v))
        .collect();
    let (lo, hi) = bounds(pts.iter().map(|p| p.0));
    let mut chart = Chart::new(
        "Trend over time",
        "release date",
        value_col,
        Scale::Date,
        Scale::Log10,
    );
    chart.points = pts;
    let chart = chart.with_fit(&fit.line, &reps, (lo, hi + 365.0), 80, c.level);
    let json = json!({"model": "trend", "data": path, "fit": fit, "uncertainty": unc, "doubling_time_days": doubling});
    finish(c, &json, &text, Some(chart))
}

/// One line per `--alert`/`--line` value: where the fit crosses it, with
/// the bootstrap interval of that crossing.
fn print_crossings<C: Curve>(
    text: &mut Vec<u8>,
    curve: &C,
    replicates: &[C],
    c: &FitCommon,
    show: impl Fn(f64) -> String,
) -> Result<()> {
    for t in c.alert.iter().chain(&c.line) {
        let f = rsp_forecast::forecast_crossing(curve, replicates, *t, None, c.level)?;
        writeln!(text, "crossing {t}: {}", describe_crossing(&f, &show))?;
    }
    Ok(())
}

fn describe_crossing(f: &rsp_forecast::CrossingForecast, show: impl Fn(f64) -> String) -> String {
    let end = |c: Option<Crossing>| match c {
        Some(Crossing::At(x)) => show(x),
        Some(Crossing::Always) => "already".to_owned(),
        Some(Crossing::Never) | None => "never".to_owned(),
    };
    let point = match f.outcome {
        rsp_forecast::CrossingOutcome::AlreadyReached => "already reached".to_owned(),
        rsp_forecast::CrossingOutcome::Reached { x } => format!("at {}", show(x)),
        rsp_forecast::CrossingOutcome::NotReachedWithinHorizon { x, .. } => {
            format!("after the horizon, at {}", show(x))
        }
        rsp_forecast::CrossingOutcome::NeverReached => {
            "never (the fitted curve does not reach it)".to_owned()
        }
    };
    format!(
        "{point}; {}% interval [{}, {}]",
        f.level * 100.0,
        end(f.lower),
        end(f.upper)
    )
}
