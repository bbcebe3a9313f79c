//! Read endpoints: open to anyone who can reach the server.

use axum::Json;
use axum::extract::State;
use rsp_store::AssessmentStore as _;
use rsp_store::prelude::*;
use rsp_store::{RunFilter, RunStatus, SampleCursor, SampleFilter};
use serde::Deserialize;
use serde_json::Value;

use super::types::{
    CheckpointInfo, Comparison, DecisionInfo, Health, LedgerEntry, LedgerPage, LiveRun,
    ModelDetail, ModelInfo, ModelStatus, PolicyChange, PolicyDiff, PolicyInfo, PolicyVersion,
    RunInfo, SampleDetail, SamplePage,
};
use crate::error::ApiError;
use crate::extract::{P, Q};
use crate::hooks::VerifySummary;
use crate::state::AppState;
use crate::{compare, queries, view};

pub(crate) async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

pub(crate) async fn overview(
    State(s): State<AppState>,
) -> Result<Json<Vec<ModelStatus>>, ApiError> {
    Ok(Json(view::overview(&s).await?))
}

pub(crate) async fn models(State(s): State<AppState>) -> Result<Json<Vec<ModelInfo>>, ApiError> {
    let models = s.store().list_models().await?;
    Ok(Json(models.iter().map(view::model_info).collect()))
}

pub(crate) async fn model(
    State(s): State<AppState>,
    P(name): P<String>,
) -> Result<Json<ModelDetail>, ApiError> {
    Ok(Json(view::model_detail(&s, &name).await?))
}

pub(crate) async fn assessment(
    State(s): State<AppState>,
    P(id): P<String>,
) -> Result<Json<Value>, ApiError> {
    let a = s
        .store()
        .get_assessment(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("assessment", &id))?;
    Ok(Json(a.report))
}

/// Query of `GET /api/v1/runs`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunsQuery {
    pub model: Option<String>,
    pub status: Option<String>,
    pub limit: Option<u32>,
}

pub(crate) async fn list_runs(s: &AppState, q: &RunsQuery) -> Result<Vec<RunInfo>, ApiError> {
    let status = q
        .status
        .as_deref()
        .map(str::parse::<RunStatus>)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let runs = s
        .store()
        .list_runs(&RunFilter {
            model: q.model.clone(),
            status,
            limit: Some(q.limit.unwrap_or(100).clamp(1, 1000)),
            ..RunFilter::default()
        })
        .await?;
    Ok(runs.into_iter().map(view::run_info).collect())
}

pub(crate) async fn runs(
    State(s): State<AppState>,
    Q(q): Q<RunsQuery>,
) -> Result<Json<Vec<RunInfo>>, ApiError> {
    Ok(Json(list_runs(&s, &q).await?))
}

pub(crate) async fn get_run(s: &AppState, id: &str) -> Result<RunInfo, ApiError> {
    s.store()
        .get_run(id)
        .await?
        .map(view::run_info)
        .ok_or_else(|| ApiError::not_found("run", id))
}

pub(crate) async fn run(
    State(s): State<AppState>,
    P(id): P<String>,
) -> Result<Json<RunInfo>, ApiError> {
    Ok(Json(get_run(&s, &id).await?))
}

/// Query of the run browser (API and page).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SamplesQuery {
    #[serde(default, deserialize_with = "crate::extract::empty_as_none")]
    pub min_value: Option<f64>,
    #[serde(default, deserialize_with = "crate::extract::empty_as_none")]
    pub max_value: Option<f64>,
    /// `yes`, `no` or `any`.
    pub error: Option<String>,
    /// `field=value`; the value is read as JSON when it parses (`3`, `true`), else text.
    pub meta: Option<String>,
    /// `position.epoch` of the last sample seen.
    pub after: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::empty_as_none")]
    pub limit: Option<u32>,
}

impl SamplesQuery {
    pub(crate) fn filter(&self) -> Result<SampleFilter, ApiError> {
        let has_error = match self.error.as_deref() {
            None | Some("" | "any") => None,
            Some("yes") => Some(true),
            Some("no") => Some(false),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "error must be `yes`, `no` or `any`, not `{other}`"
                )));
            }
        };
        let mut metadata_eq = Vec::new();
        if let Some(m) = self.meta.as_deref().filter(|m| !m.trim().is_empty()) {
            let (k, v) = m
                .split_once('=')
                .ok_or_else(|| ApiError::bad_request("meta must be `field=value`"))?;
            let value = serde_json::from_str::<Value>(v.trim())
                .ok()
                .filter(|v| !v.is_array() && !v.is_object())
                .unwrap_or_else(|| Value::String(v.trim().to_owned()));
            metadata_eq.push((k.trim().to_owned(), value));
        }
        Ok(SampleFilter {
            min_value: self.min_value,
            max_value: self.max_value,
            has_error,
            metadata_eq,
        })
    }

    pub(crate) fn cursor(&self) -> Result<Option<SampleCursor>, ApiError> {
        let Some(a) = self.after.as_deref().filter(|a| !a.is_empty()) else {
            return Ok(None);
        };
        let bad = || ApiError::bad_request("after must be `position.epoch`, e.g. `120.0`");
        let (p, e) = a.split_once('.').ok_or_else(bad)?;
        Ok(Some(SampleCursor {
            position: p.parse().map_err(|_| bad())?,
            epoch: e.parse().map_err(|_| bad())?,
        }))
    }
}

/// One page of a run's samples, without transcripts.
pub(crate) async fn sample_page(
    s: &AppState,
    run_id: &str,
    q: &SamplesQuery,
) -> Result<SamplePage, ApiError> {
    let filter = q.filter()?;
    let after = q.cursor()?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let page = queries::sample_rows(s, run_id, &filter, after, limit).await?;
    if page.samples.is_empty() && after.is_none() && s.store().get_run(run_id).await?.is_none() {
        return Err(ApiError::not_found("run", run_id));
    }
    Ok(SamplePage {
        run_id: run_id.to_owned(),
        samples: page.samples,
        next: page.next.map(|c| format!("{}.{}", c.position, c.epoch)),
        scanned_through: page.scanned_through,
    })
}

pub(crate) async fn samples(
    State(s): State<AppState>,
    P(id): P<String>,
    Q(q): Q<SamplesQuery>,
) -> Result<Json<SamplePage>, ApiError> {
    Ok(Json(sample_page(&s, &id, &q).await?))
}

pub(crate) async fn get_sample(
    s: &AppState,
    run: &str,
    sample: &str,
    epoch: u32,
) -> Result<SampleDetail, ApiError> {
    let r = s
        .store()
        .get_sample(run, sample, epoch)
        .await?
        .ok_or_else(|| ApiError::not_found("sample", &format!("{run}/{sample}/{epoch}")))?;
    Ok(SampleDetail {
        run_id: r.run_id,
        sample_id: r.sample_id,
        epoch: r.epoch,
        position: r.position,
        input: r.input,
        target: r.target,
        output: r.output,
        scores: r.scores,
        value: r.value,
        error: r.error,
        retries: r.retries,
        usage: r.usage,
        timing_ms: r.timing_ms,
        metadata: r.metadata,
        completed_at: r.completed_at,
    })
}

pub(crate) async fn sample(
    State(s): State<AppState>,
    P((run, sample, epoch)): P<(String, String, u32)>,
) -> Result<Json<SampleDetail>, ApiError> {
    Ok(Json(get_sample(&s, &run, &sample, epoch).await?))
}

/// Query of `GET /api/v1/compare`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CompareQuery {
    pub a: String,
    pub b: String,
}

pub(crate) async fn compare(
    State(s): State<AppState>,
    Q(q): Q<CompareQuery>,
) -> Result<Json<Comparison>, ApiError> {
    Ok(Json(compare::compare(&s, &q.a, &q.b).await?))
}

pub(crate) async fn policy(State(s): State<AppState>) -> Result<Json<PolicyInfo>, ApiError> {
    let p = s.require_policy()?;
    Ok(Json(PolicyInfo {
        name: p.policy.policy.name.clone(),
        version: p.policy.policy.version.clone(),
        sha256: p.sha256,
        text: p.text,
    }))
}

pub(crate) async fn policy_versions(
    State(s): State<AppState>,
) -> Result<Json<Vec<PolicyVersion>>, ApiError> {
    Ok(Json(queries::policy_versions(&s).await?))
}

/// Query of `GET /api/v1/policy/diff`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DiffQuery {
    pub from: u64,
    pub to: u64,
}

/// The semantic diff between two policy versions recorded in the ledger.
pub(crate) async fn diff_versions(
    s: &AppState,
    from: u64,
    to: u64,
) -> Result<PolicyDiff, ApiError> {
    let versions = queries::policy_versions(s).await?;
    let load = async |idx: u64| -> Result<rsp_policy::Policy, ApiError> {
        let v = versions.iter().find(|v| v.idx == idx).ok_or_else(|| {
            ApiError::not_found("policy version at ledger index", &idx.to_string())
        })?;
        let text = queries::policy_text(s, &v.sha256)
            .await?
            .ok_or_else(|| ApiError::not_found("policy artifact", &v.sha256))?;
        Ok(crate::state::parse_policy(text)?.policy)
    };
    let old = load(from).await?;
    let new = load(to).await?;
    let d = rsp_policy::diff::diff(&old, &new);
    let weakening = d.weakening_count() as u64;
    Ok(PolicyDiff {
        from,
        to,
        old_version: d.old_version,
        new_version: d.new_version,
        weakening,
        changes: d
            .changes
            .into_iter()
            .map(|c| PolicyChange {
                kind: match c.kind {
                    rsp_policy::diff::ChangeKind::Added => "added",
                    rsp_policy::diff::ChangeKind::Removed => "removed",
                    rsp_policy::diff::ChangeKind::Changed => "changed",
                }
                .to_owned(),
                area: c.area.to_owned(),
                item: c.item,
                field: c.field,
                old: c.old,
                new: c.new,
                weakens: c.weakens,
            })
            .collect(),
    })
}

pub(crate) async fn policy_diff(
    State(s): State<AppState>,
    Q(q): Q<DiffQuery>,
) -> Result<Json<PolicyDiff>, ApiError> {
    Ok(Json(diff_versions(&s, q.from, q.to).await?))
}

/// Query of `GET /api/v1/ledger`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LedgerQuery {
    /// Entries with an index below this (newest first).
    pub before: Option<u64>,
    #[serde(default, deserialize_with = "crate::extract::empty_as_none")]
    pub limit: Option<u32>,
}

pub(crate) async fn ledger_page(s: &AppState, q: &LedgerQuery) -> Result<LedgerPage, ApiError> {
    let size = s.store().leaf_count().await?;
    let end = q.before.unwrap_or(size).min(size);
    let limit = u64::from(q.limit.unwrap_or(50).clamp(1, 500));
    let start = end.saturating_sub(limit);
    let mut leaves = s.store().leaves(start..end).await?;
    leaves.reverse();
    let checkpoint = s
        .store()
        .latest_checkpoint()
        .await?
        .map(|c| CheckpointInfo {
            size: c.size,
            text: c.text,
            created_at: c.created_at,
        });
    Ok(LedgerPage {
        size,
        checkpoint,
        entries: leaves
            .into_iter()
            .map(|l| LedgerEntry {
                idx: l.idx,
                kind: l.kind,
                created_at: l.created_at,
                leaf_hash: hex::encode(l.leaf_hash),
                artifact_sha256: l.artifact_sha256,
                leaf: serde_json::from_slice(&l.leaf).unwrap_or(Value::Null),
            })
            .collect(),
        next_before: (start > 0).then_some(start),
    })
}

pub(crate) async fn ledger(
    State(s): State<AppState>,
    Q(q): Q<LedgerQuery>,
) -> Result<Json<LedgerPage>, ApiError> {
    Ok(Json(ledger_page(&s, &q).await?))
}

pub(crate) async fn run_verifier(s: &AppState) -> Result<VerifySummary, ApiError> {
    s.hooks().verifier.verify().await.map_err(|e| {
        ApiError::internal(
            "ledger verification",
            &*Box::<dyn std::error::Error>::from(e),
        )
    })
}

pub(crate) async fn verify(State(s): State<AppState>) -> Result<Json<VerifySummary>, ApiError> {
    Ok(Json(run_verifier(&s).await?))
}

/// Query of `GET /api/v1/decisions`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecisionsQuery {
    pub model: Option<String>,
}

pub(crate) async fn decisions(
    State(s): State<AppState>,
    Q(q): Q<DecisionsQuery>,
) -> Result<Json<Vec<DecisionInfo>>, ApiError> {
    let loaded = s.policy()?;
    let policy = loaded.as_ref().map(|l| &l.policy);
    let mut out = Vec::new();
    for d in s.store().list_decisions(q.model.as_deref()).await? {
        out.push(view::decision_info(&s, policy, d).await?);
    }
    Ok(Json(out))
}

pub(crate) async fn live(State(s): State<AppState>) -> Result<Json<Vec<LiveRun>>, ApiError> {
    Ok(Json(queries::live_runs(&s).await?))
}
