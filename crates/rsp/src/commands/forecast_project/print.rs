//! The text form of the project forecast: per lineage, a header with its checkpoints and
//! schedule, a table with one row per rule (compute crossings, then dates on a second
//! row), then the notes a reader acts on: which curve was fitted and why, plain messages
//! where nothing was forecast, recommendations, and chart paths.

use std::fmt::Display;
use std::io::Write;
use std::path::Path;

use anyhow::Result;

use super::report::{
    End, LineSummary, LineageReport, Projection, Recommendation, Report, RuleReport, When,
};
use crate::commands::model::sci;

pub(super) fn text(out: &mut impl Write, report: &Report, root: &Path) -> Result<()> {
    if report.lineages.is_empty() {
        writeln!(out, "no registered models; `rsp model add` registers one")?;
        return Ok(());
    }
    for (i, l) in report.lineages.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        lineage(out, l, report, root)?;
    }
    Ok(())
}

fn lineage(out: &mut impl Write, l: &LineageReport, report: &Report, root: &Path) -> Result<()> {
    let names: Vec<&str> = l.checkpoints.iter().map(|c| c.name.as_str()).collect();
    writeln!(
        out,
        "Lineage {}: {} assessed checkpoint(s){}{}",
        l.name,
        names.len(),
        if names.is_empty() { "" } else { ": " },
        names.join(", ")
    )?;
    for s in &l.skipped {
        writeln!(out, "  {} contributes no point: {}", s.name, s.reason)?;
    }
    if l.checkpoints.is_empty() {
        writeln!(
            out,
            "  nothing to forecast: assess its checkpoints first (`rsp assess --model NAME`)"
        )?;
        return Ok(());
    }
    if let Some(n) = &l.next {
        let parts: Vec<String> = n
            .at_flop
            .map(|f| format!("at {} FLOP", sci(f)))
            .into_iter()
            .chain(n.by_date.map(|d| format!("by {d}")))
            .collect();
        writeln!(
            out,
            "  next scheduled assessment: {} (from assessment {})",
            if parts.is_empty() {
                "none scheduled".to_owned()
            } else {
                parts.join(" or ")
            },
            n.assessment
        )?;
    }
    writeln!(
        out,
        "  crossings of the adjusted estimate (raw + margin); {}% bootstrap intervals, {} \
         resamples, seed {}",
        report.level * 100.0,
        report.resamples,
        report.seed
    )?;
    writeln!(out)?;
    let rows: Vec<[String; 5]> = l.rules.iter().flat_map(rows).collect();
    let head = ["rule", "n", "fit", "alert", "line"].map(str::to_owned);
    let mut widths = head.clone().map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    for r in std::iter::once(&head).chain(&rows) {
        let cells: Vec<String> = r
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        writeln!(out, "  {}", cells.join("  ").trim_end())?;
    }
    writeln!(out)?;
    for r in &l.rules {
        notes(out, r, root)?;
    }
    Ok(())
}

fn label(r: &RuleReport) -> String {
    format!("{} {} {}", r.threshold, r.suite, r.metric)
}

/// One or two table rows per rule: compute crossings, then date crossings.
fn rows(r: &RuleReport) -> Vec<[String; 5]> {
    let n = r.points.len().to_string();
    let fit = r.fit.as_ref().map_or("-", |f| f.model).to_owned();
    match (&r.alert, &r.line) {
        (Some(a), Some(l)) => {
            let mut v = vec![[
                label(r),
                n,
                fit,
                cell(&a.compute_flop, |f| format!("{} FLOP", sci(*f)), sci_end),
                cell(&l.compute_flop, |f| format!("{} FLOP", sci(*f)), sci_end),
            ]];
            if let (Some(ad), Some(ld)) = (&a.date, &l.date) {
                v.push([
                    String::new(),
                    String::new(),
                    String::new(),
                    cell(ad, ToString::to_string, |d| d.to_string()),
                    cell(ld, ToString::to_string, |d| d.to_string()),
                ]);
            }
            v
        }
        _ => vec![[label(r), n, fit, "-".into(), "-".into()]],
    }
}

pub(super) fn sci_end(v: &f64) -> String {
    sci(*v)
}

/// `1.8e22 FLOP [1.2e22, 3.4e22]`, `already reached`, `never under this fit`, …
pub(super) fn cell<T>(
    p: &Projection<T>,
    show: impl Fn(&T) -> String,
    end: impl Fn(&T) -> String,
) -> String {
    let end = |e: &Option<End<T>>| match e {
        Some(End::At(v)) => end(v),
        Some(End::Already) => "already".to_owned(),
        Some(End::BeyondRange) => "beyond range".to_owned(),
        Some(End::Never) | None => "never".to_owned(),
    };
    let interval = format!("[{}, {}]", end(&p.lower), end(&p.upper));
    match (p.when, &p.value) {
        (When::Forecast, Some(v)) => format!("{} {interval}", show(v)),
        (When::AlreadyReached, _) => "already reached".to_owned(),
        (When::BeyondRange, _) => format!("not within the forecast range {interval}"),
        (When::Never, _) | (When::Forecast, None) => format!("never under this fit {interval}"),
    }
}

fn notes(out: &mut impl Write, r: &RuleReport, root: &Path) -> Result<()> {
    let lines = &r.lines;
    writeln!(
        out,
        "  {} (alert {}, line {}, margin {}):",
        label(r),
        lines.alert,
        lines.line,
        lines.margin
    )?;
    if let Some(m) = &r.message {
        writeln!(out, "    {m}")?;
    }
    if let Some(f) = &r.fit {
        let r2 = f
            .r_squared
            .map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"));
        writeln!(out, "    fit: {} (R² {r2})", f.why)?;
        if f.dates.is_none() {
            writeln!(
                out,
                "    dates: fewer than two checkpoints have a registered date (`rsp model add \
                 --date`), so only compute is forecast"
            )?;
        }
    }
    for l in [&r.alert, &r.line].into_iter().flatten() {
        if let Some(v) = l
            .compute_flop
            .value
            .filter(|_| l.compute_flop.when == When::AlreadyReached)
        {
            writeln!(
                out,
                "    the fit reaches {} at {} FLOP, at or below the latest checkpoint: the \
                 assessments' own determinations govern",
                l.threshold,
                sci(v)
            )?;
        }
        beyond(out, l)?;
    }
    if let Some(rec) = &r.recommendation {
        writeln!(out, "    RECOMMENDATION: {}", recommendation(rec))?;
    }
    if let Some(c) = &r.chart {
        writeln!(out, "    chart: {}", shown(c, root))?;
    }
    Ok(())
}

/// `assess earlier, at 1.4e22 FLOP or by 2026-10-03, where …; the next assessment is only
/// scheduled at …` (no final full stop).
pub(super) fn recommendation(rec: &Recommendation) -> String {
    let schedule: Vec<String> = rec
        .scheduled_at_flop
        .map(|f| format!("{} FLOP", sci(f)))
        .into_iter()
        .chain(rec.scheduled_by_date.map(|d| d.to_string()))
        .collect();
    let by = rec
        .by_date
        .map(|d| format!(" or by {d}"))
        .unwrap_or_default();
    format!(
        "assess earlier, at {} FLOP{by}, where the adjusted estimate is forecast to reach the \
         {} {}; the next assessment is only scheduled at {}",
        sci(rec.at_flop),
        crossing_name(rec.crossing),
        rec.threshold,
        schedule.join(" or by ")
    )
}

/// `alert line` or `line`.
pub(super) fn crossing_name(crossing: &str) -> &'static str {
    if crossing == "alert" {
        "alert line"
    } else {
        "line"
    }
}

fn beyond(out: &mut impl Write, l: &LineSummary) -> Result<()> {
    if l.compute_flop.when == When::BeyondRange {
        writeln!(
            out,
            "    {}: the fit crosses only past the forecast range{}",
            l.threshold,
            l.compute_flop
                .value
                .map(|v| format!(" (at {} FLOP)", sci(v)))
                .unwrap_or_default()
        )?;
    }
    Ok(())
}

/// A path relative to the project root when it is inside it.
fn shown(p: &Path, root: &Path) -> impl Display {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}
