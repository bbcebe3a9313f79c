//! [`assess`]: one call from inputs to the whole [`Assessment`].
//!
//! The order mirrors the issue: trigger, plan, determinations, calibration,
//! required standards, safeguards, fired actions, decisions. Determinations
//! use exactly the runs the plan chose, so the report's plan and findings
//! can never disagree about which evidence was used.

use rsp_policy::Policy;

use crate::calibration::calibrate_rule;
use crate::combine::combine_threshold;
use crate::decision::{decide, fired_actions};
use crate::determine::{RuleEvidence, determine_rule, estimate_at};
use crate::error::Result;
use crate::plan::plan;
use crate::safeguards::{SafeguardInputs, evaluate_safeguards, required_standards};
use crate::trigger::{check_trigger, next_after};
use crate::types::{
    AssessInputs, Assessment, DecisionAction, EvidenceRun, Plan, PlanPurpose, PlanSource,
    PolicyRef, Requirement, SCHEMA_VERSION,
};

/// The run a plan item reuses, if any.
fn reused<'a>(plan: &'a Plan, purpose: &PlanPurpose) -> Option<&'a str> {
    plan.items
        .iter()
        .find(|i| &i.purpose == purpose)
        .and_then(|i| match &i.source {
            PlanSource::Reuse { run_id, .. } => Some(run_id.as_str()),
            PlanSource::Run => None,
        })
}

/// The run entry for `run_id` at `confidence` (or any entry when the metric
/// is absent, so the determination can say so).
fn run_for<'a>(
    runs: &'a [EvidenceRun],
    run_id: Option<&str>,
    metric: &str,
    confidence: f64,
    what: &str,
) -> Result<Option<&'a EvidenceRun>> {
    let Some(id) = run_id else {
        return Ok(None);
    };
    Ok(match estimate_at(runs, id, metric, confidence, what)? {
        Some((run, _)) => Some(run),
        None => runs.iter().find(|r| r.run_id == id),
    })
}

/// Assess `inputs.model` under `policy`.
///
/// # Errors
/// [`crate::Error::ConfidenceMismatch`] when a run's estimate is at another
/// confidence level than the policy asks for (recompute it and call again);
/// [`crate::Error::InvalidEstimate`] for NaN or inverted intervals;
/// [`crate::Error::Stats`] if the calibration rejects a scenario.
pub fn assess(policy: &Policy, inputs: &AssessInputs) -> Result<Assessment> {
    let today = inputs.now.date_naive();
    let model = &inputs.model;
    let trigger = check_trigger(
        &policy.triggers,
        model,
        &inputs.priors,
        inputs.deployment,
        today,
    );
    let plan = plan(policy, &model.name, &inputs.runs, inputs.now);

    let mut findings = Vec::new();
    let mut calibration = Vec::new();
    for t in &policy.thresholds {
        let mut rules = Vec::new();
        for (i, rule) in t.evidence.iter().enumerate() {
            let what = format!("{} rule {i} ({} {})", t.id, rule.suite, rule.metric);
            let confidence = policy.confidence_of(rule);
            let main = PlanPurpose::Threshold {
                threshold: t.id.clone(),
                rule: i,
            };
            let base = PlanPurpose::ElicitationBaseline {
                threshold: t.id.clone(),
                rule: i,
            };
            let run = run_for(
                &inputs.runs,
                reused(&plan, &main),
                &rule.metric,
                confidence,
                &what,
            )?;
            // The plain run only contributes its point estimate.
            let plain =
                reused(&plan, &base).and_then(|id| inputs.runs.iter().find(|r| r.run_id == id));
            let d = determine_rule(policy, t, i, RuleEvidence { run, plain })?;
            if let Some(c) = calibrate_rule(policy, t, i, Some(&d), &inputs.calibration)? {
                calibration.push(c);
            }
            rules.push(d);
        }
        findings.push(combine_threshold(policy, t, rules));
    }
    // Comprehensive = every threshold that can block (tracked domains) has all its
    // evidence. Research and exploratory domains are reported, and their gaps are
    // listed, but they do not keep the compute trigger from resetting, just as they
    // do not raise the required standard.
    let blocking: Vec<&str> = findings
        .iter()
        .filter(|f| f.blocking)
        .map(|f| f.id.as_str())
        .collect();
    let comprehensive = plan
        .items
        .iter()
        .filter(|i| {
            i.requirement == Requirement::Required
                && matches!(&i.purpose, PlanPurpose::Threshold { threshold, .. } if blocking.contains(&threshold.as_str()))
        })
        .all(|i| matches!(i.source, PlanSource::Reuse { .. }))
        && findings
            .iter()
            .filter(|f| f.blocking)
            .flat_map(|f| &f.rules)
            .all(|d| d.status != crate::types::Status::NoEvidence);

    let required = required_standards(policy, &findings, &[]);
    let safeguards = evaluate_safeguards(
        policy,
        &required.standards,
        &SafeguardInputs {
            model: &model.name,
            runs: &inputs.runs,
            attestations: &inputs.attestations,
            now: inputs.now,
        },
    )?;
    let required = required_standards(policy, &findings, &safeguards);
    let fired = fired_actions(policy, &findings, &safeguards);
    let requested = if inputs.decisions.is_empty() {
        vec![DecisionAction::Deploy]
    } else {
        inputs.decisions.clone()
    };
    let decisions = requested
        .into_iter()
        .map(|a| decide(policy, a, model, &findings, &safeguards, &fired))
        .collect();
    let next = if comprehensive {
        next_after(&policy.triggers, today, model.effective_compute_flop)
    } else {
        trigger.next.clone()
    };
    Ok(Assessment {
        schema_version: SCHEMA_VERSION,
        id: inputs.id.clone(),
        created_at: inputs.now,
        policy: PolicyRef {
            name: policy.policy.name.clone(),
            version: policy.policy.version.clone(),
            sha256: inputs.policy_sha256.clone(),
        },
        model: model.clone(),
        trigger,
        plan,
        findings,
        comprehensive,
        required,
        safeguards,
        fired_actions: fired,
        decisions,
        calibration,
        calibration_settings: inputs.calibration.clone(),
        next,
    })
}
