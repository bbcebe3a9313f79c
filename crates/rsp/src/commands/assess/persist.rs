//! Saving an assessment: the audit trail (policy → runs → determinations →
//! assessment → decision, each leaf naming what it depends on), the stored
//! assessment that later triggers and `rsp status` read, the decision to sign,
//! and the reports (with the forecast of the model's lineage).
//!
//! A decision is identified by its content: the model, the action, and an
//! outcome that includes the policy hash and the evidence used. Re-assessing
//! with nothing changed finds the stored decision, so signatures carry over
//! and a CI gate turns green once the roles have signed; any change in the
//! evidence drafts a new decision that needs signing again.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use chrono::Utc;
use rsp_assess::report::{
    self, ForecastNote, Format, ReportExtras, ReportKind, SignatureLine, Transcript,
};
use rsp_assess::{Assessment, DecisionAction, DecisionOutcome};
use rsp_eval::SampleResult;
use rsp_ledger::{Hash, LeafKind};
use rsp_store::{
    AssessmentRecord, AssessmentStore as _, DecisionRecord, DecisionStatus, GovernanceStore as _,
    ModelStore as _,
};
use serde_json::{Value, json};

use super::Context;
use super::evidence::evidence_run_ids;
use crate::audit::{self, ProjectLog, meta};
use crate::commands::sign::Review;
use crate::store_sink::{self, StoredRun};

/// What was saved, for printing and the exit code.
pub(super) struct Saved {
    pub decision: DecisionRecord,
    pub reused_decision: bool,
    pub signed_roles: Vec<String>,
    pub signatures: Vec<SignatureLine>,
}

use crate::audit::canonical;

fn action_of(a: &DecisionAction) -> (rsp_store::DecisionAction, Value) {
    match a {
        DecisionAction::Deploy => (rsp_store::DecisionAction::Deploy, json!({})),
        DecisionAction::Train { to_flop } => (
            rsp_store::DecisionAction::Train,
            json!({ "to_flop": to_flop }),
        ),
    }
}

/// The stored outcome of a decision: the verdict plus what it rests on.
fn outcome(a: &Assessment, d: &DecisionOutcome) -> Result<Value> {
    let findings: BTreeMap<&str, Value> = a
        .findings
        .iter()
        .map(|f| {
            (
                f.id.as_str(),
                serde_json::to_value(f.status).unwrap_or(Value::Null),
            )
        })
        .collect();
    let safeguards: BTreeMap<&str, &str> = a
        .safeguards
        .iter()
        .filter(|s| s.required)
        .map(|s| (s.id.as_str(), s.status.label()))
        .collect();
    Ok(json!({
        "allowed": d.allowed,
        "reasons": d.reasons,
        "compute_cap_flop": d.compute_cap_flop,
        "required_signers": d.required_signers,
        "informed": d.informed,
        "policy_sha256": a.policy.sha256,
        "evidence_runs": evidence_run_ids(a),
        "findings": findings,
        "required_standards": a.required.standards,
        "safeguards": safeguards,
    }))
}

/// The audit trail, the stored assessment and the (found or drafted) decision.
pub(super) async fn save(
    ctx: &Context<'_>,
    log: &ProjectLog<'_>,
    assessment: &Assessment,
    stored: &HashMap<String, StoredRun>,
    unavailable: &[(String, String)],
) -> Result<Saved> {
    let policy = audit::log_policy(log, ctx.project).await?;
    let mut run_hashes: HashMap<String, Hash> = HashMap::new();
    for id in evidence_run_ids(assessment) {
        if let Some(run) = stored.get(&id) {
            run_hashes.insert(id, audit::log_run(log, ctx.store.as_ref(), run).await?);
        }
    }
    let mut determinations = Vec::new();
    for f in &assessment.findings {
        let mut deps = vec![policy];
        for r in &f.rules {
            for id in r.run_id.iter().chain(r.plain_run_id.iter()) {
                if let Some(h) = run_hashes.get(id) {
                    deps.push(*h);
                }
            }
        }
        deps.sort_by_key(|h| h.to_hex());
        deps.dedup();
        let doc =
            json!({"type": "rsp.determination/v1", "assessment": assessment.id, "finding": f});
        let a = log
            .append(
                LeafKind::Determination,
                &canonical(&doc)?,
                "application/json",
                &deps,
                meta([
                    ("id", format!("{}/{}", assessment.id, f.id).into()),
                    ("threshold", f.id.clone().into()),
                    ("status", serde_json::to_value(f.status)?),
                ]),
            )
            .await?;
        determinations.push(a.artifact);
    }
    let mut doc = serde_json::to_value(assessment)?;
    if let Value::Object(m) = &mut doc {
        m.insert("not_run".into(), json!(unavailable));
    }
    let mut deps = determinations.clone();
    deps.push(policy);
    let assessed = log
        .append(
            LeafKind::Other,
            &canonical(&doc)?,
            "application/json",
            &deps,
            meta([
                ("id", assessment.id.clone().into()),
                ("type", "assessment".into()),
                ("model", assessment.model.name.clone().into()),
            ]),
        )
        .await?;

    let d = assessment
        .decisions
        .first()
        .context("the assessment made no decision")?;
    let (action, params) = action_of(&d.action);
    let outcome = outcome(assessment, d)?;
    let existing = ctx
        .store
        .list_decisions(Some(&assessment.model.name))
        .await?
        .into_iter()
        .find(|x| x.action == action && x.params == params && x.outcome == outcome);
    let reused = existing.is_some();
    let decision = match existing {
        Some(x) => x,
        None => {
            let record = DecisionRecord {
                id: rsp_store::new_id(),
                model: assessment.model.name.clone(),
                action,
                params,
                status: if d.required_signers.is_empty() {
                    DecisionStatus::Final
                } else {
                    DecisionStatus::Draft
                },
                outcome,
                created_at: Utc::now(),
            };
            ctx.store.insert_decision(&record).await?;
            log.append(
                LeafKind::Decision,
                &canonical(&serde_json::to_value(&record)?)?,
                "application/json",
                &[assessed.artifact],
                meta([
                    ("id", record.id.clone().into()),
                    ("action", record.action.as_str().into()),
                    ("allowed", d.allowed.into()),
                ]),
            )
            .await?;
            record
        }
    };
    ctx.store
        .insert_assessment(&AssessmentRecord {
            id: assessment.id.clone(),
            model: assessment.model.name.clone(),
            created_at: assessment.created_at,
            compute_flop: assessment.model.effective_compute_flop,
            comprehensive: assessment.comprehensive,
            policy_sha256: assessment.policy.sha256.clone(),
            decision_id: Some(decision.id.clone()),
            report: serde_json::to_value(assessment)?,
        })
        .await?;
    let review = Review::load(ctx.store.as_ref(), ctx.policy, decision.clone()).await?;
    let signed_roles = review.signed().iter().map(|s| (*s).to_owned()).collect();
    let signatures = review
        .signatures
        .iter()
        .map(|c| SignatureLine {
            role: c.record.role.clone(),
            key_id: c.record.public_key.chars().take(16).collect(),
            signed_at: c.record.signed_at,
            valid: c.ok(),
        })
        .collect();
    Ok(Saved {
        decision,
        reused_decision: reused,
        signed_roles,
        signatures,
    })
}

fn transcript(s: &SampleResult) -> Transcript {
    let primary = s.scores.values().next();
    Transcript {
        sample_id: s.sample_id.clone(),
        epoch: s.epoch,
        input: s.input.clone(),
        target: s.target.clone(),
        output: s.output.clone(),
        messages: s
            .messages
            .iter()
            .map(|m| (m.role.as_str().to_owned(), m.content.clone()))
            .collect(),
        score: primary.map(|p| p.value.as_f64()),
        explanation: primary.and_then(|p| p.explanation.clone()),
        error: s.error.clone(),
    }
}

/// The forecast of the assessed model's lineage (this assessment included, so call it
/// after [`save`]) as report notes, with the charts drawn into `dir`. It never fails: a
/// forecast that cannot be made becomes notes saying why, because a trend is context for
/// the determinations, never a reason to lose them.
pub(super) async fn forecast_notes(ctx: &Context<'_>, dir: &Path) -> Vec<ForecastNote> {
    let store = ctx.store.as_ref();
    let listed = async {
        anyhow::Ok((
            store.list_models().await?,
            store.list_assessments(None).await?,
        ))
    }
    .await;
    let forecast = listed.and_then(|(models, assessments)| {
        crate::commands::forecast_project::forecast_model(
            &ctx.model.name,
            &models,
            &assessments,
            ctx.policy,
            Some(dir),
        )
    });
    match forecast {
        Ok(f) => f.notes(),
        Err(e) => {
            crate::commands::forecast_project::unavailable_notes(ctx.policy, &format!("{e:#}"))
        }
    }
}

/// Writes both reports in all three formats; returns the paths.
pub(super) async fn write_reports(
    ctx: &Context<'_>,
    assessment: &Assessment,
    saved: &Saved,
    forecasts: Vec<ForecastNote>,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    let mut transcripts = BTreeMap::new();
    for id in evidence_run_ids(assessment) {
        let samples = store_sink::samples(ctx.store.as_ref(), &id).await?;
        let all: Vec<Transcript> = samples.iter().map(transcript).collect();
        let picked = report::sample_transcripts(&all, report::TRANSCRIPTS_PER_RUN, &assessment.id)
            .into_iter()
            .cloned()
            .collect();
        transcripts.insert(id, picked);
    }
    let extras = ReportExtras {
        transcripts,
        decisions: vec![report::DecisionRecord {
            action: assessment
                .decisions
                .first()
                .map_or(DecisionAction::Deploy, |d| d.action),
            id: saved.decision.id.clone(),
            status: saved.decision.status.as_str().to_owned(),
            signatures: saved.signatures.clone(),
        }],
        rsp_version: env!("CARGO_PKG_VERSION").to_owned(),
        policy_sha256: Some(ctx.policy_sha256.clone()),
        forecasts,
    };
    fs_err::create_dir_all(dir)?;
    let mut written = Vec::new();
    for kind in [ReportKind::Capability, ReportKind::Safeguards] {
        for format in [Format::Markdown, Format::Html, Format::Json] {
            let text = report::render(kind, format, assessment, &extras)?;
            let path = dir.join(format!("{}.{}", kind.stem(), format.extension()));
            // Write then rename, so a reader never sees half a report.
            let tmp = path.with_extension("partial");
            fs_err::write(&tmp, text)?;
            fs_err::rename(&tmp, &path)?;
            written.push(path);
        }
    }
    Ok(written)
}
