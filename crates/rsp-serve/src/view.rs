//! Assembling what the pages and the API show from the store: one function per view, so
//! the HTML and the JSON always carry the same numbers.

use std::collections::BTreeMap;

use chrono::Utc;
use rsp_assess::{Assessment, Determination, StatusSummary};
use rsp_policy::{DecisionKind, Policy};
use rsp_store::AssessmentStore as _;
use rsp_store::prelude::*;
use rsp_store::{AssessmentRecord, DecisionAction, DecisionRecord, ModelRecord, RunRecord};

use crate::api::types::{
    AssessmentBrief, DecisionInfo, DeployInfo, HistoryPoint, ModelDetail, ModelInfo, ModelStatus,
    NearestInfo, NextInfo, RuleHistory, RunInfo, SignatureInfo, ThresholdRow,
};
use crate::error::ApiError;
use crate::signoff;
use crate::state::AppState;

/// A run as the API shows it.
pub fn run_info(r: RunRecord) -> RunInfo {
    RunInfo {
        id: r.id,
        model: r.model,
        model_name: r.model_name,
        suite: r.suite,
        task: r.task,
        status: r.status.as_str().to_owned(),
        source: r.source.as_str().to_owned(),
        created_at: r.created_at,
        finished_at: r.finished_at,
        total_samples: r.total_samples,
        summary: r.summary,
    }
}

/// A model as the API shows it.
pub fn model_info(m: &ModelRecord) -> ModelInfo {
    ModelInfo {
        name: m.name.clone(),
        spec: m.spec.clone(),
        effective_compute_flop: m.effective_compute_flop,
        parameters: m.parameters,
        date: m.date.map(|d| d.to_string()),
        parent: m.parent.clone(),
    }
}

/// The newest assessment of `model`, parsed. Reads one row (not the model's whole
/// history, whose reports can be large).
pub async fn latest_assessment(
    state: &AppState,
    model: &str,
) -> Result<Option<(AssessmentRecord, Assessment)>, ApiError> {
    let id: Option<String> = sqlx::query_scalar(
        "SELECT id FROM assessments WHERE model = ? ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(model)
    .fetch_optional(state.db())
    .await?;
    let Some(id) = id else { return Ok(None) };
    let Some(record) = state.store().get_assessment(&id).await? else {
        return Ok(None);
    };
    let parsed = parse_assessment(&record)?;
    Ok(Some((record, parsed)))
}

fn parse_assessment(record: &AssessmentRecord) -> Result<Assessment, ApiError> {
    serde_json::from_value(record.report.clone())
        .map_err(|e| ApiError::internal("decoding a stored assessment report", &e))
}

fn kind(action: DecisionAction) -> DecisionKind {
    match action {
        DecisionAction::Deploy => DecisionKind::Deploy,
        DecisionAction::Train => DecisionKind::Train,
    }
}

/// A decision with every signature re-verified against the registered keys. Without a
/// policy the required signers are unknown and listed as empty.
pub async fn decision_info(
    state: &AppState,
    policy: Option<&Policy>,
    d: DecisionRecord,
) -> Result<DecisionInfo, ApiError> {
    let keys = state.store().list_keys(None).await?;
    let sigs = state.store().signatures(&d.id).await?;
    let signatures: Vec<SignatureInfo> = sigs
        .iter()
        .map(|s| SignatureInfo {
            role: s.role.clone(),
            public_key: s.public_key.clone(),
            signed_at: s.signed_at,
            valid: signoff::valid(&d, s, &keys),
        })
        .collect();
    let required: Vec<String> = policy
        .map(|p| p.signers(kind(d.action)).map(|r| r.id.clone()).collect())
        .unwrap_or_default();
    let missing = required
        .iter()
        .filter(|r| !signatures.iter().any(|s| s.valid && &s.role == *r))
        .cloned()
        .collect();
    Ok(DecisionInfo {
        id: d.id,
        model: d.model,
        action: d.action.as_str().to_owned(),
        status: d.status.as_str().to_owned(),
        created_at: d.created_at,
        outcome: d.outcome,
        required_signers: required,
        missing_signers: missing,
        signatures,
    })
}

fn facts(m: &ModelRecord) -> rsp_assess::ModelFacts {
    rsp_assess::ModelFacts {
        name: m.name.clone(),
        spec: m.spec.clone(),
        effective_compute_flop: m.effective_compute_flop,
        parameters: m.parameters,
        training_tokens: m.training_tokens,
        date: m.date,
        parent: m.parent.clone(),
        post_training_days: None,
    }
}

fn next_info(n: &rsp_assess::NextAssessment) -> NextInfo {
    NextInfo {
        at_flop: n.at_flop,
        by_date: n.by_date.map(|d| d.to_string()),
    }
}

/// The overview row of one model.
pub async fn model_status(
    state: &AppState,
    policy: Option<&Policy>,
    model: &ModelRecord,
) -> Result<ModelStatus, ApiError> {
    let Some((record, a)) = latest_assessment(state, &model.name).await? else {
        let next = policy.map_or(
            NextInfo {
                at_flop: None,
                by_date: None,
            },
            |p| {
                let check = rsp_assess::check_trigger(
                    &p.triggers,
                    &facts(model),
                    &[],
                    false,
                    Utc::now().date_naive(),
                );
                next_info(&check.next)
            },
        );
        return Ok(ModelStatus {
            model: model.name.clone(),
            assessment: None,
            assessed_at: None,
            required: None,
            in_place: None,
            safeguards_in_place: 0,
            safeguards_required: 0,
            deploy: None,
            nearest: None,
            next,
        });
    };
    let decision = match &record.decision_id {
        Some(id) => match state.store().get_decision(id).await? {
            Some(d) => Some(decision_info(state, policy, d).await?),
            None => None,
        },
        None => None,
    };
    let signed: Vec<String> = decision
        .as_ref()
        .map(|d| {
            d.signatures
                .iter()
                .filter(|s| s.valid)
                .map(|s| s.role.clone())
                .collect()
        })
        .unwrap_or_default();
    let summary: StatusSummary = rsp_assess::summarize(&a, &signed);
    let required_sg = a.safeguards.iter().filter(|s| s.required);
    let (mut in_place, mut required) = (0u32, 0u32);
    for s in required_sg {
        required += 1;
        if s.status == rsp_assess::SafeguardStatus::InPlace {
            in_place += 1;
        }
    }
    Ok(ModelStatus {
        model: model.name.clone(),
        assessment: Some(record.id.clone()),
        assessed_at: Some(record.created_at),
        required: summary.required,
        in_place: summary.in_place,
        safeguards_in_place: in_place,
        safeguards_required: required,
        deploy: summary.deploy.map(|d| DeployInfo {
            allowed: d.allowed,
            decision_id: decision.as_ref().map(|x| x.id.clone()),
            decision_status: decision.as_ref().map(|x| x.status.clone()),
            signed: signed.clone(),
            awaiting: d.awaiting,
            blocked_by: d.blocked_by,
        }),
        nearest: summary.nearest.map(|n| NearestInfo {
            threshold: n.threshold,
            suite: n.suite,
            metric: n.metric,
            status: n.status.label().to_owned(),
            estimate: n.estimate,
            lower: n.lower,
            upper: n.upper,
            margin: n.margin,
            against: match n.against {
                rsp_assess::status::LineKind::Alert => "alert".to_owned(),
                rsp_assess::status::LineKind::Line => "line".to_owned(),
            },
            line: n.line,
        }),
        next: next_info(&summary.next),
    })
}

/// Every registered model's overview row, by name.
pub async fn overview(state: &AppState) -> Result<Vec<ModelStatus>, ApiError> {
    let loaded = state.policy()?;
    let policy = loaded.as_ref().map(|l| &l.policy);
    let models = state.store().list_models().await?;
    let mut rows = Vec::with_capacity(models.len());
    for m in &models {
        rows.push(model_status(state, policy, m).await?);
    }
    Ok(rows)
}

fn direction(d: rsp_policy::Direction) -> &'static str {
    match d {
        rsp_policy::Direction::Higher => "higher",
        rsp_policy::Direction::Lower => "lower",
    }
}

fn threshold_rows(a: &Assessment) -> Vec<ThresholdRow> {
    let mut rows = Vec::new();
    for f in &a.findings {
        for d in &f.rules {
            rows.push(ThresholdRow {
                threshold: f.id.clone(),
                name: f.name.clone(),
                domain: f.domain.clone(),
                threshold_status: f.status.label().to_owned(),
                rule: u32::try_from(d.rule).unwrap_or(u32::MAX),
                suite: d.suite.clone(),
                metric: d.metric.clone(),
                status: d.status.label().to_owned(),
                estimate: d.raw.as_ref().map(|e| e.value),
                lower: d.raw.as_ref().map(|e| e.lower),
                upper: d.raw.as_ref().map(|e| e.upper),
                confidence: d.confidence,
                n: d.n,
                margin: d.margin,
                alert: d.alert,
                line: d.line,
                direction: direction(d.direction).to_owned(),
                elicitation_gap: d.elicitation_gap,
                run_id: d.run_id.clone(),
                note: d.note.clone().or_else(|| f.note.clone()),
            });
        }
    }
    rows
}

/// Key of a rule across assessments.
fn rule_key(d: &Determination) -> (String, String, String) {
    (d.threshold.clone(), d.suite.clone(), d.metric.clone())
}

/// A model's page: facts, overview row, thresholds, per-rule history.
pub async fn model_detail(state: &AppState, name: &str) -> Result<ModelDetail, ApiError> {
    let model = state
        .store()
        .get_model(name)
        .await?
        .ok_or_else(|| ApiError::not_found("model", name))?;
    let loaded = state.policy()?;
    let status = model_status(state, loaded.as_ref().map(|l| &l.policy), &model).await?;
    let records = state.store().list_assessments(Some(name)).await?;
    let mut thresholds = Vec::new();
    let mut history: BTreeMap<(String, String, String), RuleHistory> = BTreeMap::new();
    let mut order: Vec<(String, String, String)> = Vec::new();
    // Oldest first, so the history's lines end at the latest assessment's values.
    for (i, record) in records.iter().rev().enumerate() {
        let a = parse_assessment(record)?;
        if i + 1 == records.len() {
            thresholds = threshold_rows(&a);
        }
        for d in a.findings.iter().flat_map(|f| &f.rules) {
            let key = rule_key(d);
            let entry = history.entry(key.clone()).or_insert_with(|| {
                order.push(key.clone());
                RuleHistory {
                    threshold: d.threshold.clone(),
                    suite: d.suite.clone(),
                    metric: d.metric.clone(),
                    alert: d.alert,
                    line: d.line,
                    points: Vec::new(),
                }
            });
            entry.alert = d.alert;
            entry.line = d.line;
            if let Some(raw) = &d.raw {
                entry.points.push(HistoryPoint {
                    assessment: record.id.clone(),
                    at: record.created_at,
                    estimate: raw.value,
                    lower: raw.lower,
                    upper: raw.upper,
                });
            }
        }
    }
    let history = order
        .into_iter()
        .filter_map(|k| history.remove(&k))
        .collect();
    Ok(ModelDetail {
        model: model_info(&model),
        status,
        thresholds,
        history,
        assessments: records
            .iter()
            .map(|r| AssessmentBrief {
                id: r.id.clone(),
                created_at: r.created_at,
                compute_flop: r.compute_flop,
                comprehensive: r.comprehensive,
            })
            .collect(),
    })
}
