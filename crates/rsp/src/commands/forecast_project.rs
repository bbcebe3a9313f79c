//! `rsp forecast [project]`: for every evidence rule of the policy, fit the rule's metric
//! across the registered checkpoints against effective compute, forecast the compute and
//! date at which the adjusted estimate reaches the alert line and the line (with bootstrap
//! intervals), compare with the next scheduled assessment, and draw one chart per rule.
//!
//! Data: one point per checkpoint, its *latest* assessment's raw estimate for the rule
//! (the numbers a determination was actually made on, with their interval), at the compute
//! recorded with that assessment. Checkpoints are grouped into lineages by their `parent`
//! links, because a trend across unrelated model families says nothing about either. The
//! fitting is `rsp_forecast::forecast_rule_crossing`; this module only gathers, groups and
//! writes.
//!
//! `rsp status` and `rsp assess` reuse it through [`forecast_model`]: the forecast of the
//! lineage of one checkpoint, turned into a short recommendation for the status line and
//! into notes (with charts) for the Capability Report (`notes.rs`).

mod notes;
mod print;
mod report;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use rsp_assess::{Assessment, NextAssessment};
use rsp_forecast::{
    BootstrapOptions, Checkpoint, MetricDirection, RuleForecast, RuleForecastOptions, RuleLines,
};
use rsp_policy::{Direction, Policy};
use rsp_store::{AssessmentRecord, AssessmentStore as _, ModelRecord, ModelStore as _};

use crate::cli::{ForecastArgs, ForecastCommand, ForecastProjectArgs};
use crate::exit::Code;
use crate::project::Project;
use crate::settings::Settings;

pub(crate) use notes::unavailable_notes;
use report::{LineageReport, Member, Next, Report, RuleReport, Skipped};

/// `rsp forecast`: the project forecast unless a subcommand is given.
pub fn dispatch(args: ForecastArgs, settings: &Settings) -> Result<Code> {
    match args.command {
        Some(ForecastCommand::Fit(cmd)) => super::forecast::run(cmd),
        Some(ForecastCommand::Project(p)) => run(&p, settings),
        None => run(&args.project, settings),
    }
}

fn run(args: &ForecastProjectArgs, settings: &Settings) -> Result<Code> {
    let project = Project::find(settings.project.as_deref())?;
    let policy = super::key::load_policy(&project)?;
    let (models, assessments) = super::key::runtime()?.block_on(async {
        let store = super::key::open_store(&project).await?;
        let models = store.list_models().await?;
        let assessments = store.list_assessments(None).await?;
        anyhow::Ok((models, assessments))
    })?;
    let plot_dir = args
        .plot_dir
        .clone()
        .unwrap_or_else(|| project.root.join("reports").join("forecast"));
    let opts = RuleForecastOptions {
        boot: BootstrapOptions {
            resamples: usize::try_from(args.bootstrap).context("--bootstrap is too large")?,
            seed: args.seed,
            level: args.level,
        },
        ..RuleForecastOptions::default()
    };
    let groups = lineages(&models, args)?;
    let mut report = Report {
        seed: args.seed,
        resamples: opts.boot.resamples,
        level: args.level,
        horizon_decades: opts.horizon_decades,
        lineages: Vec::new(),
    };
    for (name, members) in groups {
        let plot = Plot {
            dir: &plot_dir,
            prefix: &name,
        };
        report.lineages.push(forecast_lineage(
            &name,
            &members,
            &assessments,
            &policy,
            &opts,
            Some(&plot),
        )?);
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        use std::io::Write as _;
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print::text(&mut out, &report, &project.root)?;
    }
    Ok(Code::Ok)
}

/// The groups of checkpoints to forecast, each named: every lineage (connected by
/// `parent` links) by default, one lineage with `--model-lineage`, everything with `--all`.
fn lineages(
    models: &[ModelRecord],
    args: &ForecastProjectArgs,
) -> Result<Vec<(String, Vec<ModelRecord>)>> {
    if args.all {
        return Ok(vec![("all".to_owned(), models.to_vec())]);
    }
    let by_name: BTreeMap<&str, &ModelRecord> =
        models.iter().map(|m| (m.name.as_str(), m)).collect();
    let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for m in models {
        if let Some(p) = m.parent.as_deref().filter(|p| by_name.contains_key(p)) {
            children.entry(p).or_default().push(&m.name);
        }
    }
    if let Some(name) = &args.model_lineage {
        return Ok(vec![(name.clone(), lineage_of(models, name)?)]);
    }
    // Connected components of the parent graph, each named after its root.
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for m in models {
        if seen.contains(m.name.as_str()) {
            continue;
        }
        let mut component = BTreeSet::new();
        let mut stack = vec![m.name.as_str()];
        while let Some(c) = stack.pop() {
            if !component.insert(c) {
                continue;
            }
            let parent = by_name
                .get(c)
                .and_then(|r| r.parent.as_deref())
                .filter(|p| by_name.contains_key(p));
            stack.extend(parent);
            stack.extend(children.get(c).into_iter().flatten().copied());
        }
        seen.extend(component.iter().copied());
        let members: Vec<ModelRecord> = models
            .iter()
            .filter(|r| component.contains(r.name.as_str()))
            .cloned()
            .collect();
        let root = members
            .iter()
            .find(|r| r.parent.as_deref().is_none_or(|p| !component.contains(p)))
            .map_or_else(|| m.name.clone(), |r| r.name.clone());
        out.push((root, members));
    }
    Ok(out)
}

/// The lineage of checkpoint `name`: itself, its ancestors (following `parent`) and its
/// descendants, in registration order.
fn lineage_of(models: &[ModelRecord], name: &str) -> Result<Vec<ModelRecord>> {
    let by_name: BTreeMap<&str, &ModelRecord> =
        models.iter().map(|m| (m.name.as_str(), m)).collect();
    if !by_name.contains_key(name) {
        bail!("no registered model is named `{name}` (see `rsp model list`)");
    }
    let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for m in models {
        if let Some(p) = m.parent.as_deref().filter(|p| by_name.contains_key(p)) {
            children.entry(p).or_default().push(&m.name);
        }
    }
    let mut keep = BTreeSet::new();
    let mut cur = Some(name);
    while let Some(c) = cur.filter(|c| keep.insert(*c)) {
        cur = by_name.get(c).and_then(|m| m.parent.as_deref());
    }
    let mut stack = vec![name];
    while let Some(c) = stack.pop() {
        for &k in children.get(c).into_iter().flatten() {
            if keep.insert(k) {
                stack.push(k);
            }
        }
    }
    Ok(models
        .iter()
        .filter(|m| keep.contains(m.name.as_str()))
        .cloned()
        .collect())
}

/// The names of checkpoint `name`'s lineage (see [`lineage_of`]), sorted: equal lists
/// mean equal forecasts.
pub(crate) fn lineage_names(models: &[ModelRecord], name: &str) -> Result<Vec<String>> {
    let mut names: Vec<String> = lineage_of(models, name)?
        .into_iter()
        .map(|m| m.name)
        .collect();
    names.sort();
    Ok(names)
}

/// The forecast of one checkpoint's lineage (see [`lineage_of`]), for `rsp status` and
/// the assessment reports.
pub(crate) struct ModelForecast {
    lineage: LineageReport,
    level: f64,
}

/// Forecast the lineage of registered model `model` with the default options (the
/// numbers `rsp forecast` prints without flags). Prints nothing; with `charts`, draws one
/// chart per rule there as `forecast-THRESHOLD-RULE.svg` and keeps its SVG for the
/// reports.
///
/// `assessments` must be newest first, as `list_assessments` returns them.
pub(crate) fn forecast_model(
    model: &str,
    models: &[ModelRecord],
    assessments: &[AssessmentRecord],
    policy: &Policy,
    charts: Option<&Path>,
) -> Result<ModelForecast> {
    let members = lineage_of(models, model)?;
    let opts = RuleForecastOptions::default();
    let plot = charts.map(|dir| Plot {
        dir,
        prefix: "forecast",
    });
    let lineage = forecast_lineage(model, &members, assessments, policy, &opts, plot.as_ref())?;
    Ok(ModelForecast {
        lineage,
        level: opts.boot.level,
    })
}

/// Where charts go: a folder, and the file-name prefix before `-THRESHOLD-RULE.svg`.
struct Plot<'a> {
    dir: &'a Path,
    prefix: &'a str,
}

/// One checkpoint with the assessment its points come from.
struct Assessed {
    model: ModelRecord,
    record: AssessmentRecord,
    report: Assessment,
    compute: f64,
}

fn forecast_lineage(
    name: &str,
    members: &[ModelRecord],
    assessments: &[AssessmentRecord],
    policy: &Policy,
    opts: &RuleForecastOptions,
    plot: Option<&Plot<'_>>,
) -> Result<LineageReport> {
    let mut assessed = Vec::new();
    let mut skipped = Vec::new();
    for m in members {
        // `list_assessments` is newest first.
        let Some(record) = assessments.iter().find(|a| a.model == m.name) else {
            skipped.push(Skipped::new(&m.name, "no assessment"));
            continue;
        };
        let report: Assessment = serde_json::from_value(record.report.clone())
            .with_context(|| format!("assessment {} of {} cannot be read", record.id, m.name))?;
        let Some(compute) = record.compute_flop.or(m.effective_compute_flop) else {
            skipped.push(Skipped::new(&m.name, "effective compute unknown"));
            continue;
        };
        assessed.push(Assessed {
            model: m.clone(),
            record: record.clone(),
            report,
            compute,
        });
    }
    assessed.sort_by(|a, b| a.compute.total_cmp(&b.compute));
    // The schedule comes from the lineage's most recent assessment.
    let next = assessed
        .iter()
        .max_by_key(|a| a.record.created_at)
        .map(|a| Next::new(&a.report.next, &a.record.id));
    let mut rules = Vec::new();
    for threshold in &policy.thresholds {
        for (i, rule) in threshold.evidence.iter().enumerate() {
            let points: Vec<Checkpoint> = assessed
                .iter()
                .filter_map(|a| checkpoint(a, &threshold.id, i, &rule.suite, &rule.metric))
                .collect();
            let lines = RuleLines {
                direction: match rule.direction {
                    Direction::Higher => MetricDirection::Higher,
                    Direction::Lower => MetricDirection::Lower,
                },
                margin: rule.elicitation_margin,
                alert: rule.alert,
                line: rule.line,
            };
            let forecast = rsp_forecast::forecast_rule_crossing(&points, &lines, opts);
            let mut r = RuleReport::new(&threshold.id, i, rule, points, lines, forecast);
            r.recommend(next.as_ref());
            if let Some(plot) = plot.filter(|_| !r.points.is_empty()) {
                let (file, svg) = write_chart(plot, &r)?;
                r.chart = Some(file);
                r.svg = Some(svg);
            }
            rules.push(r);
        }
    }
    Ok(LineageReport {
        name: name.to_owned(),
        checkpoints: assessed
            .iter()
            .map(|a| Member {
                name: a.model.name.clone(),
                compute_flop: a.compute,
                date: a.model.date.or(a.report.model.date),
                assessment: a.record.id.clone(),
            })
            .collect(),
        skipped,
        next,
        rules,
    })
}

/// The checkpoint's raw estimate for rule `index` of `threshold`, if its assessment has
/// one for the same suite and metric (a policy edited since may have moved the rule).
fn checkpoint(
    a: &Assessed,
    threshold: &str,
    index: usize,
    suite: &str,
    metric: &str,
) -> Option<Checkpoint> {
    let det = a
        .report
        .findings
        .iter()
        .find(|f| f.id == threshold)?
        .rules
        .iter()
        .find(|d| d.rule == index && d.suite == suite && d.metric == metric)?;
    let raw = det.raw.as_ref()?;
    Some(Checkpoint {
        name: a.model.name.clone(),
        compute_flop: a.compute,
        date: a.model.date.or(a.report.model.date),
        value: raw.value,
        lower: raw.lower,
        upper: raw.upper,
        confidence: raw.confidence,
    })
}

/// Draws the rule's chart into `plot`; returns the file and the SVG.
fn write_chart(plot: &Plot<'_>, r: &RuleReport) -> Result<(PathBuf, String)> {
    let fit = match &r.forecast {
        Ok(RuleForecast::Fitted(f)) => Some(f.as_ref()),
        _ => None,
    };
    let title = format!(
        "{} rule {}: {} {}",
        r.threshold,
        r.rule + 1,
        r.suite,
        r.metric
    );
    let y = format!("adjusted {} (raw + margin {})", r.metric, r.lines.margin);
    let svg = rsp_forecast::rule_chart(&title, &y, &r.points, &r.lines, fit).render_svg()?;
    fs_err::create_dir_all(plot.dir)?;
    let file = plot.dir.join(format!(
        "{}-{}-{}.svg",
        safe(plot.prefix),
        safe(&r.threshold),
        r.rule + 1
    ));
    fs_err::write(&file, &svg)?;
    Ok((file, svg))
}

/// A file-name-safe version of an id.
fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The scheduled next assessment, for comparisons.
impl Next {
    fn new(n: &NextAssessment, assessment: &str) -> Self {
        Self {
            at_flop: n.at_flop,
            by_date: n.by_date,
            assessment: assessment.to_owned(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn model(name: &str, parent: Option<&str>) -> ModelRecord {
        ModelRecord {
            name: name.into(),
            spec: "mock/x".into(),
            base_url: None,
            effective_compute_flop: Some(1e21),
            parameters: None,
            training_tokens: None,
            date: None,
            parent: parent.map(Into::into),
            notes: None,
            created_at: chrono::Utc::now(),
        }
    }

    fn args(lineage: Option<&str>, all: bool) -> ForecastProjectArgs {
        ForecastProjectArgs {
            model_lineage: lineage.map(Into::into),
            all,
            json: false,
            plot_dir: None,
            seed: 0,
            bootstrap: 10,
            level: 0.95,
        }
    }

    fn names(g: &[(String, Vec<ModelRecord>)]) -> Vec<(String, Vec<String>)> {
        g.iter()
            .map(|(n, ms)| (n.clone(), ms.iter().map(|m| m.name.clone()).collect()))
            .collect()
    }

    #[test]
    fn lineages_follow_parent_links() {
        // a ← b ← c, b ← d (a branch), x alone, y's parent is not registered.
        let ms = [
            model("a", None),
            model("b", Some("a")),
            model("c", Some("b")),
            model("d", Some("b")),
            model("x", None),
            model("y", Some("gone")),
        ];
        let all = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            names(&lineages(&ms, &args(None, false)).unwrap()),
            vec![
                ("a".into(), all(&["a", "b", "c", "d"])),
                ("x".into(), all(&["x"])),
                ("y".into(), all(&["y"])),
            ]
        );
        // Through c: its ancestors, not its sibling branch.
        assert_eq!(
            names(&lineages(&ms, &args(Some("c"), false)).unwrap()),
            vec![("c".into(), all(&["a", "b", "c"]))]
        );
        assert_eq!(lineages(&ms, &args(None, true)).unwrap()[0].1.len(), 6);
        assert!(lineages(&ms, &args(Some("nope"), false)).is_err());
        assert_eq!(safe("KNOW 1/x"), "KNOW_1_x");
    }
}
