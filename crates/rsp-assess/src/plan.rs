//! The evidence plan: what each threshold and safeguard needs, which
//! existing runs can be reused, and which runs must be started.
//!
//! A run is reused for a threshold rule when it is complete, evaluated the
//! same model, matches the rule's selector (`suite` matches any task of the
//! suite, `suite/task` only that task), used an elicitation that covers the
//! rule's ([`Elicitation::covers`]), is not older than the policy's
//! `max_interval_days` (evidence older than the assessment cadence would let
//! a stale run stand in for a fresh model), has the metric, and meets
//! `min_samples`. Among valid runs the newest wins. Confidence is not a
//! reason to re-run: the caller recomputes an interval from the stored
//! samples at whatever level the plan item names.
//!
//! Each elicited rule also gets an *optional* plain-prompting item on the
//! same task, so the elicitation gap can be measured. Metric safeguards get
//! items too, valid for their own `valid_days`; they are required only when
//! their standard is in the baseline, otherwise conditional on the standard
//! turning out to be required (the caller can run them after a first pass).

use std::fmt;

use chrono::{DateTime, Days, Utc};
use rsp_policy::{Elicitation, Policy, SafeguardEvidence};

use crate::determine::is_plain;
use crate::safeguards::baseline_closure;
use crate::types::{EvidenceRun, Plan, PlanItem, PlanPurpose, PlanSource, Requirement, RunRequest};

/// True when `run` belongs to `selector` (`suite` or `suite/task`).
#[must_use]
pub fn selector_matches(selector: &str, run: &EvidenceRun) -> bool {
    match selector.split_once('/') {
        Some((suite, task)) => run.suite == suite && run.task == task,
        None => run.suite == selector,
    }
}

/// What a run must satisfy to serve a plan item.
pub(crate) struct Want<'a> {
    pub model: &'a str,
    pub selector: &'a str,
    pub metric: &'a str,
    pub elicitation: &'a Elicitation,
    /// Exactly plain prompting (for elicitation baselines).
    pub plain_only: bool,
    pub task: Option<&'a str>,
    pub min_samples: Option<u32>,
    pub not_before: Option<DateTime<Utc>>,
}

/// The newest run satisfying `want`, or why the newest near miss failed.
pub(crate) fn find_run<'r>(
    runs: &'r [EvidenceRun],
    want: &Want<'_>,
) -> Result<&'r EvidenceRun, Option<String>> {
    let mut best: Option<&EvidenceRun> = None;
    let mut near_miss: Option<(&EvidenceRun, String)> = None;
    let candidates = runs.iter().filter(|r| {
        r.model == want.model
            && selector_matches(want.selector, r)
            && want.task.is_none_or(|t| r.task == t)
    });
    for run in candidates {
        let Some(done) = run.completed_at else {
            continue;
        };
        let problem = if want.plain_only && !is_plain(&run.elicitation) {
            Some(None) // Not a near miss worth reporting.
        } else if !want.plain_only && !run.elicitation.covers(want.elicitation) {
            Some(Some(format!(
                "run {} used {}, which does not cover {}",
                run.run_id,
                run.elicitation.summary(),
                want.elicitation.summary()
            )))
        } else if want.not_before.is_some_and(|t| done < t) {
            Some(Some(format!(
                "run {} finished {} and is too old",
                run.run_id,
                done.format("%Y-%m-%d")
            )))
        } else if let Some(e) = run.metrics.get(want.metric) {
            want.min_samples.filter(|&m| e.n < u64::from(m)).map(|m| {
                Some(format!(
                    "run {} has n = {} < min_samples = {m}",
                    run.run_id, e.n
                ))
            })
        } else {
            Some(Some(format!(
                "run {} has no metric `{}`",
                run.run_id, want.metric
            )))
        };
        match problem {
            None => {
                if best.is_none_or(|b| newer(run, b)) {
                    best = Some(run);
                }
            }
            Some(Some(why)) => {
                if near_miss.as_ref().is_none_or(|(b, _)| newer(run, b)) {
                    near_miss = Some((run, why));
                }
            }
            Some(None) => {}
        }
    }
    best.ok_or_else(|| near_miss.map(|(_, why)| why))
}

/// Newer completion wins; the larger run id breaks ties deterministically.
fn newer(a: &EvidenceRun, b: &EvidenceRun) -> bool {
    (a.completed_at, &a.run_id) > (b.completed_at, &b.run_id)
}

fn source_of(found: &Result<&EvidenceRun, Option<String>>) -> (PlanSource, Option<String>) {
    match found {
        Ok(run) => (
            PlanSource::Reuse {
                run_id: run.run_id.clone(),
                // `find_run` only returns completed runs.
                completed_at: run.completed_at.unwrap_or_default(),
                elicitation: run.elicitation.clone(),
                imported: run.imported,
            },
            None,
        ),
        Err(why) => (PlanSource::Run, why.clone()),
    }
}

fn days_before(now: DateTime<Utc>, days: Option<u32>) -> Option<DateTime<Utc>> {
    days.and_then(|d| now.checked_sub_days(Days::new(u64::from(d))))
}

/// The evidence plan for `model` on `now`, given the runs on record.
#[must_use]
pub fn plan(policy: &Policy, model: &str, runs: &[EvidenceRun], now: DateTime<Utc>) -> Plan {
    let valid_since = days_before(now, policy.triggers.max_interval_days);
    let mut items = Vec::new();
    for t in &policy.thresholds {
        for (i, rule) in t.evidence.iter().enumerate() {
            let confidence = policy.confidence_of(rule);
            let want = Want {
                model,
                selector: &rule.suite,
                metric: &rule.metric,
                elicitation: &rule.elicitation,
                plain_only: false,
                task: None,
                min_samples: rule.min_samples,
                not_before: valid_since,
            };
            let found = find_run(runs, &want);
            let task = found.as_ref().ok().map(|r| r.task.clone());
            let (source, note) = source_of(&found);
            items.push(PlanItem {
                purpose: PlanPurpose::Threshold {
                    threshold: t.id.clone(),
                    rule: i,
                },
                selector: rule.suite.clone(),
                metric: rule.metric.clone(),
                elicitation: rule.elicitation.clone(),
                confidence,
                min_samples: rule.min_samples,
                requirement: Requirement::Required,
                source,
                note,
            });
            if is_plain(&rule.elicitation) {
                continue;
            }
            let plain = Elicitation::default();
            let want = Want {
                elicitation: &plain,
                plain_only: true,
                task: task.as_deref(),
                min_samples: None,
                ..want
            };
            let (source, note) = source_of(&find_run(runs, &want));
            // Pin the baseline to the elicited run's task so the gap compares like with like.
            let selector = match (&task, rule.suite.contains('/')) {
                (Some(task), false) => format!("{}/{task}", rule.suite),
                _ => rule.suite.clone(),
            };
            items.push(PlanItem {
                purpose: PlanPurpose::ElicitationBaseline {
                    threshold: t.id.clone(),
                    rule: i,
                },
                selector,
                metric: rule.metric.clone(),
                elicitation: plain,
                confidence,
                min_samples: None,
                requirement: Requirement::Optional,
                source,
                note,
            });
        }
    }
    let baseline = baseline_closure(policy);
    for standard in &policy.standards {
        for sg in &standard.safeguards {
            let SafeguardEvidence::Metric {
                suite,
                metric,
                confidence,
                valid_days,
                ..
            } = &sg.evidence
            else {
                continue;
            };
            let plain = Elicitation::default();
            let want = Want {
                model,
                selector: suite,
                metric,
                elicitation: &plain,
                plain_only: false,
                task: None,
                min_samples: None,
                not_before: days_before(now, Some(*valid_days)),
            };
            let (source, note) = source_of(&find_run(runs, &want));
            items.push(PlanItem {
                purpose: PlanPurpose::Safeguard {
                    safeguard: sg.id.clone(),
                    standard: standard.id.clone(),
                },
                selector: suite.clone(),
                metric: metric.clone(),
                elicitation: plain,
                confidence: confidence.unwrap_or(policy.defaults.confidence),
                min_samples: None,
                requirement: if baseline.contains(&standard.id.as_str()) {
                    Requirement::Required
                } else {
                    Requirement::IfStandardRequired(standard.id.clone())
                },
                source,
                note,
            });
        }
    }
    Plan {
        model: model.to_owned(),
        valid_since,
        items,
    }
}

fn strength(r: &Requirement) -> u8 {
    match r {
        Requirement::Required => 2,
        Requirement::IfStandardRequired(_) => 1,
        Requirement::Optional => 0,
    }
}

impl Requirement {
    /// True when an item with this requirement must have evidence, given
    /// the required standards.
    #[must_use]
    pub fn is_needed(&self, required_standards: &[String]) -> bool {
        match self {
            Self::Required => true,
            Self::Optional => false,
            Self::IfStandardRequired(s) => required_standards.contains(s),
        }
    }
}

impl Plan {
    /// The runs to start: one per distinct (selector, elicitation) among the
    /// items not served by an existing run, in plan order. Filter on
    /// [`RunRequest::requirement`] to skip optional or conditional ones.
    #[must_use]
    pub fn run_requests(&self) -> Vec<RunRequest> {
        let mut out: Vec<RunRequest> = Vec::new();
        for item in self.items.iter().filter(|i| i.source == PlanSource::Run) {
            if let Some(r) = out
                .iter_mut()
                .find(|r| r.selector == item.selector && r.elicitation == item.elicitation)
            {
                r.min_samples = r.min_samples.max(item.min_samples);
                if strength(&item.requirement) > strength(&r.requirement) {
                    r.requirement = item.requirement.clone();
                }
            } else {
                out.push(RunRequest {
                    selector: item.selector.clone(),
                    elicitation: item.elicitation.clone(),
                    min_samples: item.min_samples,
                    requirement: item.requirement.clone(),
                });
            }
        }
        out
    }
}

impl fmt::Display for PlanPurpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Threshold { threshold, rule } => write!(f, "{threshold} rule {rule}"),
            Self::ElicitationBaseline { threshold, rule } => {
                write!(f, "{threshold} rule {rule} baseline")
            }
            Self::Safeguard { safeguard, .. } => write!(f, "safeguard {safeguard}"),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Required => f.write_str("required"),
            Self::Optional => f.write_str("optional"),
            Self::IfStandardRequired(s) => write!(f, "if {s}"),
        }
    }
}

impl fmt::Display for PlanSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Reuse {
                run_id,
                completed_at,
                imported,
                ..
            } => write!(
                f,
                "reuse {run_id} ({}{})",
                completed_at.format("%Y-%m-%d"),
                if *imported { ", imported" } else { "" }
            ),
            Self::Run => f.write_str("run"),
        }
    }
}

impl fmt::Display for Plan {
    /// The `--plan` table: one line per item, then what must run.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Evidence plan for {}", self.model)?;
        if let Some(since) = self.valid_since {
            write!(
                f,
                " (threshold runs valid since {})",
                since.format("%Y-%m-%d")
            )?;
        }
        writeln!(f)?;
        let header = [
            "for",
            "suite",
            "metric",
            "elicitation",
            "conf",
            "n min",
            "need",
            "source",
        ];
        let rows: Vec<[String; 8]> = self
            .items
            .iter()
            .map(|i| {
                [
                    i.purpose.to_string(),
                    i.selector.clone(),
                    i.metric.clone(),
                    i.elicitation.summary(),
                    format!("{}%", i.confidence * 100.0),
                    i.min_samples
                        .map_or_else(|| "-".to_owned(), |m| m.to_string()),
                    i.requirement.to_string(),
                    i.source.to_string(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: &[&str]| -> fmt::Result {
            let mut text = String::from(" ");
            for (cell, w) in cells.iter().zip(widths) {
                text.push(' ');
                text.push_str(cell);
                text.push_str(&" ".repeat(w.saturating_sub(cell.chars().count()) + 1));
            }
            writeln!(f, "{}", text.trim_end())
        };
        line(f, &header)?;
        for row in &rows {
            line(f, &row.each_ref().map(String::as_str))?;
        }
        let requests = self.run_requests();
        let reused = self
            .items
            .iter()
            .filter(|i| matches!(i.source, PlanSource::Reuse { .. }))
            .count();
        let required = requests
            .iter()
            .filter(|r| r.requirement == Requirement::Required)
            .count();
        writeln!(
            f,
            "{} item(s) reuse existing runs; {} run(s) to start, {required} of them required",
            reused,
            requests.len()
        )?;
        for item in self.items.iter().filter(|i| i.note.is_some()) {
            if let Some(note) = &item.note {
                writeln!(f, "  note ({}): {note}", item.purpose)?;
            }
        }
        Ok(())
    }
}
