//! Turning what is stored into what `rsp_assess` reads: completed runs become
//! [`EvidenceRun`]s with intervals recomputed at every confidence level the
//! policy asks for, and attestations get their evidence files hashed afresh.
//!
//! A stored run counts only if it was made from the task *as it is defined
//! now* (same task file, dataset, dev split and prompt templates) with one of
//! the elicitations the policy can ask for; a run of an edited task is stale
//! and is never reused as evidence.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::Result;
use chrono::{DateTime, Utc};
use rsp_assess::{AttestationInput, Estimate, EvidenceRun};
use rsp_eval::metrics::{StatsOptions, summarise_metric};
use rsp_eval::{Catalog, Task};
use rsp_policy::{Elicitation, Policy, SafeguardEvidence};
use rsp_store::{GovernanceStore as _, ModelRecord, RunFilter, RunStatus, SqliteStore};

use crate::project::Project;
use crate::store_sink::{self, StoredRun};

/// Every confidence level some rule or metric safeguard of the policy uses.
pub(super) fn confidences(policy: &Policy) -> Vec<f64> {
    let mut levels: Vec<f64> = policy
        .thresholds
        .iter()
        .flat_map(|t| t.evidence.iter().map(|r| policy.confidence_of(r)))
        .chain(policy.standards.iter().flat_map(|s| {
            s.safeguards.iter().filter_map(|g| match &g.evidence {
                SafeguardEvidence::Metric { confidence, .. } => {
                    Some(confidence.unwrap_or(policy.defaults.confidence))
                }
                SafeguardEvidence::Attestation { .. } => None,
            })
        }))
        .collect();
    levels.sort_by(f64::total_cmp);
    levels.dedup();
    levels
}

/// The elicitations the policy can ask of a task with this `suite/task` id:
/// plain, plus every rule (or metric safeguard) whose selector names it.
fn candidate_elicitations(policy: &Policy, task_id: &str) -> Vec<Elicitation> {
    let suite = task_id.split('/').next().unwrap_or(task_id);
    let matches = |sel: &str| sel == task_id || sel == suite;
    let mut out = vec![Elicitation::default()];
    for t in &policy.thresholds {
        for r in &t.evidence {
            if matches(&r.suite) && !out.contains(&r.elicitation) {
                out.push(r.elicitation.clone());
            }
        }
    }
    out
}

/// The elicitations a stored run answers for, found by matching its recorded hashes
/// against the current task under each candidate elicitation; empty if it matches none
/// (the task changed since).
///
/// Usually one. A task whose own chain already covers a candidate is run unchanged for
/// it, so one run can answer for several: an agentic task (`use_tools` + `react`) is the
/// same run whether a rule asks for `tools` or for the plain baseline of the elicitation
/// gap, and must not be planned twice.
fn run_elicitations(task: &Task, run: &StoredRun, candidates: &[Elicitation]) -> Vec<Elicitation> {
    let p = &run.spec.provenance;
    let mut out: Vec<Elicitation> = Vec::new();
    for e in candidates {
        let Ok(t) = task.elicited(e) else { continue };
        let same = t.hashes.task == p.task_sha256
            && t.hashes.dataset == p.dataset_sha256
            && t.hashes.dev == p.dev_sha256
            && t.hashes.templates == p.templates_sha256;
        if same {
            for label in [t.elicitation(), e.clone()] {
                if !out.contains(&label) {
                    out.push(label);
                }
            }
        }
    }
    out
}

/// True when a stored run evaluated `model`.
fn is_of(run: &StoredRun, model: &ModelRecord) -> bool {
    run.record.model_name.as_deref() == Some(model.name.as_str())
        || run.launch.as_ref().is_some_and(|l| l.model == model.spec)
}

/// Completed runs of `model` as evidence, one entry per (run, confidence level).
pub(super) async fn gather_runs(
    store: &SqliteStore,
    catalog: &Catalog,
    policy: &Policy,
    model: &ModelRecord,
) -> Result<(Vec<EvidenceRun>, HashMap<String, StoredRun>)> {
    let filter = RunFilter {
        status: Some(RunStatus::Completed),
        ..RunFilter::default()
    };
    let levels = confidences(policy);
    let mut tasks: HashMap<String, Option<Task>> = HashMap::new();
    let mut out = Vec::new();
    let mut used = HashMap::new();
    for run in store_sink::list_runs(store, &filter).await? {
        if !is_of(&run, model) {
            continue;
        }
        if run.record.source != rsp_store::RunSource::Native {
            if let Some(e) = imported(store, &run, model, &levels).await? {
                out.extend(e);
                used.insert(run.record.id.clone(), run);
            }
            continue;
        }
        let task_id = run.spec.task.clone();
        let task = match tasks.get(&task_id) {
            Some(t) => t.clone(),
            None => {
                let t = catalog
                    .load(&task_id)
                    .ok()
                    .and_then(|ts| ts.into_iter().find(|t| t.id == task_id));
                tasks.insert(task_id.clone(), t.clone());
                t
            }
        };
        let Some(task) = task else { continue };
        let elicitations = run_elicitations(&task, &run, &candidate_elicitations(policy, &task_id));
        if elicitations.is_empty() {
            continue;
        }
        let samples = store_sink::samples(store, &run.record.id).await?;
        let completed_at: Option<DateTime<Utc>> = run.record.finished_at;
        let defs = task.metric_defs();
        for &level in &levels {
            let metrics = estimates(&samples, &defs, &run, task.cluster_by.as_deref(), level);
            for elicitation in &elicitations {
                out.push(EvidenceRun {
                    run_id: run.record.id.clone(),
                    suite: task.suite.clone(),
                    task: task.name.clone(),
                    model: model.name.clone(),
                    elicitation: elicitation.clone(),
                    completed_at,
                    imported: false,
                    metrics: metrics.clone(),
                });
            }
        }
        used.insert(run.record.id.clone(), run);
    }
    Ok((out, used))
}

/// Every metric of a run with its interval at `level`, recomputed from the samples.
/// Metrics without an interval (nothing scored) are left out: no evidence.
fn estimates(
    samples: &[rsp_eval::SampleResult],
    defs: &[rsp_eval::metrics::MetricDef],
    run: &StoredRun,
    cluster_by: Option<&str>,
    level: f64,
) -> BTreeMap<String, Estimate> {
    let Ok(confidence) = rsp_stats::Confidence::new(level) else {
        return BTreeMap::new();
    };
    let options = StatsOptions {
        confidence,
        cluster_by: cluster_by.map(str::to_owned),
        seed: run.spec.seed,
    };
    defs.iter()
        .filter_map(|def| {
            let m = summarise_metric(samples, def, run.spec.reducer, &options).ok()?;
            let i = m.interval?;
            Some((
                def.name.clone(),
                Estimate {
                    value: m.estimate,
                    lower: i.lower(),
                    upper: i.upper(),
                    n: m.n as u64,
                    method: i.method().to_string(),
                    confidence: level,
                },
            ))
        })
        .collect()
}

/// An imported run (Inspect, lm-eval) as evidence: its suite/task and elicitation are
/// what the importer declared (`rsp import … --as SUITE/TASK --elicitation …`), since
/// there is no rsp task file whose hashes could be matched. Metrics are recomputed from
/// the imported samples at each level, like native runs (no clustering: the importer
/// keeps no cluster field).
async fn imported(
    store: &SqliteStore,
    run: &StoredRun,
    model: &ModelRecord,
    levels: &[f64],
) -> Result<Option<Vec<EvidenceRun>>> {
    let import = run.record.config.get("import");
    let selector = import
        .and_then(|i| i.get("as"))
        .and_then(|v| v.as_str())
        .unwrap_or(&run.spec.task);
    let Some((suite, task)) = selector.split_once('/') else {
        return Ok(None);
    };
    let elicitation: Elicitation = import
        .and_then(|i| i.get("elicitation"))
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let Some(summary) = &run.summary else {
        return Ok(None);
    };
    let defs: Vec<rsp_eval::metrics::MetricDef> = summary
        .metrics
        .iter()
        .map(|m| rsp_eval::metrics::MetricDef {
            name: m.name.clone(),
            scorer: m.scorer.clone(),
            lower_is_better: m.lower_is_better,
        })
        .collect();
    let samples = store_sink::samples(store, &run.record.id).await?;
    let mut out = Vec::new();
    for &level in levels {
        let metrics = estimates(&samples, &defs, run, None, level);
        out.push(EvidenceRun {
            run_id: run.record.id.clone(),
            suite: suite.to_owned(),
            task: task.to_owned(),
            model: model.name.clone(),
            elicitation: elicitation.clone(),
            completed_at: run.record.finished_at,
            imported: true,
            metrics,
        });
    }
    Ok(Some(out))
}

/// Every attestation, with its evidence file hashed now (`None` when it is gone).
pub(super) async fn attestations(
    store: &SqliteStore,
    project: &Project,
) -> Result<Vec<AttestationInput>> {
    let mut out = Vec::new();
    for a in store.list_attestations(None).await? {
        let path = super::super::safeguard::evidence_path(project, &a.evidence_sha256);
        let now = fs_err::read(&path)
            .ok()
            .map(|b| rsp_ledger::sha256(&b).to_hex());
        out.push(AttestationInput {
            safeguard: a.safeguard,
            by_role: a.by_role,
            evidence_sha256: now,
            recorded_sha256: a.evidence_sha256,
            expires: a.expires,
            created_at: a.created_at,
        });
    }
    Ok(out)
}

/// Run ids an assessment used as evidence (plan reuse), sorted.
pub(super) fn evidence_run_ids(a: &rsp_assess::Assessment) -> BTreeSet<String> {
    a.plan
        .items
        .iter()
        .filter_map(|i| match &i.source {
            rsp_assess::PlanSource::Reuse { run_id, .. } => Some(run_id.clone()),
            rsp_assess::PlanSource::Run => None,
        })
        .collect()
}
