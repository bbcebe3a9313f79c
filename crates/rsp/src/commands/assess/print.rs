//! What `rsp assess` and `rsp status` print: the trigger, the determination
//! table (every number with n, method and level), the required standard and
//! safeguards, and the decision with what it still needs; `rsp status` adds the lineage
//! forecast's recommendation of an earlier assessment when there is one.

use std::collections::HashMap;
use std::io::Write;

use anyhow::Result;
use rsp_assess::{Assessment, DecisionOutcome, StatusSummary, TriggerCheck};
use rsp_policy::Policy;
use rsp_store::{
    AssessmentRecord, AssessmentStore as _, GovernanceStore as _, ModelRecord, ModelStore as _,
};

use super::persist::Saved;
use crate::commands::forecast_project;
use crate::commands::sign::Review;
use crate::exit::Code;
use crate::project::Project;
use crate::settings::Settings;

pub(super) fn trigger(out: &mut impl Write, model: &str, t: &TriggerCheck) -> Result<()> {
    if t.due {
        let why: Vec<String> = t.reasons.iter().map(ToString::to_string).collect();
        writeln!(out, "assessment of {model} is due: {}", why.join("; "))?;
    } else {
        writeln!(
            out,
            "assessment of {model} is not due by the policy's triggers (running it anyway)"
        )?;
    }
    Ok(())
}

fn num(x: f64) -> String {
    if x.abs() >= 1e4 || (x != 0.0 && x.abs() < 1e-3) {
        format!("{x:.2e}")
    } else {
        format!("{x:.3}")
    }
}

pub(super) fn assessment(
    out: &mut impl Write,
    a: &Assessment,
    saved: &Saved,
    unavailable: &[(String, String)],
) -> Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "Determinations for {} under {} {} (estimate [CI] after the elicitation margin):",
        a.model.name, a.policy.name, a.policy.version
    )?;
    writeln!(
        out,
        "  {:<9} {:<16} {:<30} {:<24} {:>6} {:>6}  {:<26} evidence",
        "threshold", "status", "rule", "estimate [CI]", "alert", "line", "n · method · level"
    )?;
    for f in &a.findings {
        for (i, d) in f.rules.iter().enumerate() {
            let (label, status) = if i == 0 {
                (f.id.as_str(), f.status.to_string())
            } else {
                ("", String::new())
            };
            let est = match &d.adjusted {
                Some(e) => format!("{} [{}, {}]", num(e.value), num(e.lower), num(e.upper)),
                None => "no evidence".to_owned(),
            };
            let stats = match (&d.n, &d.method) {
                (Some(n), Some(m)) => format!("{n} · {m} · {:.0}%", d.confidence * 100.0),
                _ => "-".to_owned(),
            };
            writeln!(
                out,
                "  {:<9} {:<16} {:<30} {:<24} {:>6} {:>6}  {:<26} {}",
                label,
                status,
                format!("{}:{}", d.suite, d.metric),
                est,
                num(d.alert),
                num(d.line),
                stats,
                d.run_id.as_deref().unwrap_or("-")
            )?;
            if let Some(note) = &d.note {
                writeln!(out, "  {:<9}   note: {note}", "")?;
            }
        }
        if let Some(note) = &f.note {
            writeln!(out, "  {:<9}   {note}", "")?;
        }
    }
    for (what, why) in unavailable {
        writeln!(out, "  not run: {what}: {why}")?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "Required: {} · in place: {}",
        a.required.standards.join(" + "),
        a.required.in_place.as_deref().unwrap_or("none")
    )?;
    for s in a.safeguards.iter().filter(|s| s.required) {
        writeln!(
            out,
            "  {:<24} {:<14} {}",
            s.id,
            s.status.label(),
            s.standard
        )?;
    }
    writeln!(out)?;
    for d in &a.decisions {
        decision(out, d, saved)?;
    }
    Ok(())
}

fn decision(out: &mut impl Write, d: &DecisionOutcome, saved: &Saved) -> Result<()> {
    let verdict = if d.allowed { "ALLOWED" } else { "BLOCKED" };
    writeln!(
        out,
        "Decision {} ({}): {} {verdict}",
        saved.decision.id,
        if saved.reused_decision {
            "unchanged since it was drafted"
        } else {
            "new"
        },
        d.action
    )?;
    for r in &d.reasons {
        writeln!(out, "  - {r}")?;
    }
    if let Some(cap) = d.compute_cap_flop {
        writeln!(out, "  training compute cap: {cap:.2e} FLOP")?;
    }
    let awaiting = d.awaiting(&saved.signed_roles);
    if awaiting.is_empty() {
        writeln!(out, "  signed by: {}", saved.signed_roles.join(", "))?;
    } else {
        writeln!(
            out,
            "  awaiting signatures from: {} (`rsp sign {} --role ROLE`)",
            awaiting.join(", "),
            saved.decision.id
        )?;
    }
    Ok(())
}

/// The lineage forecasts `rsp status` has made, so a lineage of n checkpoints is fitted
/// once rather than n times (a checkpoint's lineage is its ancestors and descendants, so
/// checkpoints with the same lineage share one forecast).
#[derive(Default)]
struct Forecasts(HashMap<Vec<String>, Option<String>>);

impl Forecasts {
    /// The short recommendation of `model`'s lineage forecast, if it makes one. A forecast
    /// that fails is reported on stderr and shown as none: status must still print.
    fn short(
        &mut self,
        model: &str,
        models: &[ModelRecord],
        assessments: &[AssessmentRecord],
        policy: &Policy,
    ) -> Option<String> {
        let key = match forecast_project::lineage_names(models, model) {
            Ok(k) => k,
            Err(e) => {
                eprintln!("warning: no forecast for {model}: {e:#}");
                return None;
            }
        };
        self.0
            .entry(key)
            .or_insert_with(|| {
                match forecast_project::forecast_model(model, models, assessments, policy, None) {
                    Ok(f) => f.short(),
                    Err(e) => {
                        eprintln!("warning: no forecast for {model}'s lineage: {e:#}");
                        None
                    }
                }
            })
            .clone()
    }
}

/// `rsp status`: one line per registered model from its latest assessment, with the
/// forecast's recommendation when its lineage is heading for a line before the next
/// scheduled assessment.
pub(super) async fn status(json: bool, settings: &Settings) -> Result<Code> {
    let project = Project::find(settings.project.as_deref())?;
    let policy = crate::commands::key::load_policy(&project)?;
    let store = crate::commands::key::open_store(&project).await?;
    let mut lines: Vec<StatusSummary> = Vec::new();
    let models = store.list_models().await?;
    let all_assessments = store.list_assessments(None).await?;
    let mut forecasts = Forecasts::default();
    for m in models.clone() {
        let latest = store
            .list_assessments(Some(&m.name))
            .await?
            .into_iter()
            .next();
        let Some(record) = latest else {
            let priors = super::priors(&store, &m.name).await?;
            let check = rsp_assess::check_trigger(
                &policy.triggers,
                &super::facts(&m),
                &priors,
                false,
                chrono::Utc::now().date_naive(),
            );
            lines.push(StatusSummary::unassessed(&m.name, check.next));
            continue;
        };
        let a: Assessment = serde_json::from_value(record.report)?;
        let mut signed = Vec::new();
        if let Some(id) = &record.decision_id
            && let Some(d) = store.get_decision(id).await?
        {
            let review = Review::load(&store, &policy, d).await?;
            signed = review.signed().iter().map(|s| (*s).to_owned()).collect();
        }
        let mut line = rsp_assess::summarize(&a, &signed);
        line.forecast = forecasts.short(&m.name, &models, &all_assessments, &policy);
        lines.push(line);
    }
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&lines)?)?;
    } else if lines.is_empty() {
        writeln!(out, "no registered models; `rsp model add` registers one")?;
    } else {
        for l in &lines {
            writeln!(out, "{l}")?;
        }
    }
    Ok(Code::Ok)
}
