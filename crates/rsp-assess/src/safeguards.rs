//! Required standards and the state of every safeguard.
//!
//! # Which standards are required
//!
//! The required set is the **baseline** plus, for every threshold that
//! counts as crossed in a tracked domain
//! ([`ThresholdFinding::raises_standard`]), the closure of the standard it
//! `requires` ([`Policy::standard_closure`]). The union of closures is the
//! issue's "highest standard plus everything it includes" when standards
//! form a ladder, and stays correct when they do not (Anthropic's separate
//! ASL-3 Deployment and Security standards, GDM's response plans).
//!
//! The **baseline** is the closure of the first standard, in policy order,
//! that no threshold `requires` directly. Rationale: a standard some
//! threshold requires is conditional by definition, so it cannot be what
//! every model gets; of the unconditional ones, policies list the lowest
//! first (ASL-2 before ASL-3, SL2 before SL3). Taking only the first avoids
//! making building blocks such as `ASL-3-Deployment`, which no threshold
//! names but higher standards include, into a baseline. A policy where
//! every standard is conditional (OpenAI's PF v2 starts at High) has no
//! baseline.
//!
//! # Safeguard status
//!
//! Attestations: the policy's role must have attested (another role's
//! attestation is not evidence: `missing`), the evidence file must still
//! hash to what was recorded (`unverified` otherwise: the document changed
//! after it was attested), and it must be within both its own expiry date
//! and the policy's `valid_days` from when it was recorded (`expired`).
//! Metric safeguards: the newest complete run of the suite on this model;
//! `max` is checked against the upper bound and `min` against the lower
//! bound, so the bound must hold with the stated confidence; a measurement
//! older than `valid_days` is `expired`.

use std::cmp::Ordering;

use chrono::{DateTime, Days, NaiveDate, Utc};
use rsp_policy::{Policy, Safeguard, SafeguardEvidence, Standard};

use crate::determine::estimate_at;
use crate::error::Result;
use crate::plan::{Want, find_run};
use crate::types::{
    AttestationInput, EvidenceRun, RequiredStandards, SafeguardEvidenceFinding, SafeguardFinding,
    SafeguardStatus, ThresholdFinding,
};

/// The baseline standard (see the module doc), if the policy has one.
#[must_use]
pub fn baseline_standard(policy: &Policy) -> Option<&Standard> {
    policy
        .standards
        .iter()
        .find(|s| !policy.thresholds.iter().any(|t| t.requires == s.id))
}

/// Ids of the baseline standard's closure.
#[must_use]
pub fn baseline_closure(policy: &Policy) -> Vec<&str> {
    baseline_standard(policy)
        .map(|b| {
            policy
                .standard_closure(&b.id)
                .into_iter()
                .map(|s| s.id.as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// Rank of a standard for "highest": larger closure first, then later in
/// the policy.
fn rank(policy: &Policy, id: &str) -> (usize, usize) {
    let size = policy.standard_closure(id).len();
    let pos = policy
        .standards
        .iter()
        .position(|s| s.id == id)
        .unwrap_or(0);
    (size, pos)
}

/// The required standards for `findings`; `in_place` is filled from
/// `safeguards` (pass `&[]` to leave it empty).
#[must_use]
pub fn required_standards(
    policy: &Policy,
    findings: &[ThresholdFinding],
    safeguards: &[SafeguardFinding],
) -> RequiredStandards {
    let baseline = baseline_standard(policy).map(|s| s.id.clone());
    let mut because = std::collections::BTreeMap::<String, Vec<String>>::new();
    let mut roots: Vec<&str> = baseline.iter().map(String::as_str).collect();
    for f in findings.iter().filter(|f| f.raises_standard()) {
        because
            .entry(f.requires.clone())
            .or_default()
            .push(f.id.clone());
        roots.push(&f.requires);
    }
    let mut set: Vec<&str> = Vec::new();
    for root in roots {
        for s in policy.standard_closure(root) {
            if !set.contains(&s.id.as_str()) {
                set.push(&s.id);
            }
        }
    }
    let standards: Vec<String> = policy
        .standards
        .iter()
        .filter(|s| set.contains(&s.id.as_str()))
        .map(|s| s.id.clone())
        .collect();
    let highest = standards.iter().max_by_key(|id| rank(policy, id)).cloned();
    let in_place = if safeguards.is_empty() {
        None
    } else {
        policy
            .standards
            .iter()
            .filter(|s| closure_in_place(policy, &s.id, safeguards))
            .map(|s| &s.id)
            .max_by_key(|id| rank(policy, id))
            .cloned()
    };
    RequiredStandards {
        baseline,
        highest,
        standards,
        because,
        in_place,
    }
}

/// True when every safeguard in `standard`'s closure is in place.
#[must_use]
pub fn closure_in_place(policy: &Policy, standard: &str, safeguards: &[SafeguardFinding]) -> bool {
    not_in_place(policy, standard, safeguards).is_empty()
}

/// Safeguards of `standard`'s closure that are not in place, with status.
/// A safeguard absent from `safeguards` counts as missing.
#[must_use]
pub fn not_in_place(
    policy: &Policy,
    standard: &str,
    safeguards: &[SafeguardFinding],
) -> Vec<(String, SafeguardStatus)> {
    policy
        .standard_closure(standard)
        .into_iter()
        .flat_map(|s| &s.safeguards)
        .filter_map(|sg| {
            let status = safeguards
                .iter()
                .find(|f| f.id == sg.id)
                .map_or(SafeguardStatus::Missing, |f| f.status);
            (status != SafeguardStatus::InPlace).then(|| (sg.id.clone(), status))
        })
        .collect()
}

/// The inputs [`evaluate_safeguards`] reads.
#[derive(Debug, Clone, Copy)]
pub struct SafeguardInputs<'a> {
    /// Model registry name (metric runs must be on it).
    pub model: &'a str,
    /// Available runs.
    pub runs: &'a [EvidenceRun],
    /// Recorded attestations.
    pub attestations: &'a [AttestationInput],
    /// The assessment's clock.
    pub now: DateTime<Utc>,
}

/// The state of every safeguard of the policy, in policy order, marking
/// those in `required` standards.
///
/// # Errors
/// [`crate::Error::ConfidenceMismatch`] if a metric safeguard's run has the
/// metric only at another confidence level.
pub fn evaluate_safeguards(
    policy: &Policy,
    required: &[String],
    inputs: &SafeguardInputs<'_>,
) -> Result<Vec<SafeguardFinding>> {
    let mut out = Vec::new();
    for standard in &policy.standards {
        for sg in &standard.safeguards {
            let (status, evidence, note) = match &sg.evidence {
                SafeguardEvidence::Attestation { by, valid_days } => {
                    attestation_status(sg, by, *valid_days, inputs)
                }
                SafeguardEvidence::Metric {
                    suite,
                    metric,
                    max,
                    min,
                    confidence,
                    valid_days,
                } => {
                    let spec = MetricSpec {
                        suite,
                        metric,
                        max: *max,
                        min: *min,
                        confidence: *confidence,
                        valid_days: *valid_days,
                    };
                    metric_status(policy, sg, &spec, inputs)?
                }
            };
            out.push(SafeguardFinding {
                id: sg.id.clone(),
                standard: standard.id.clone(),
                kind: sg.kind,
                description: sg.description.clone(),
                required: required.contains(&standard.id),
                status,
                evidence,
                note,
            });
        }
    }
    Ok(out)
}

type Judged = (SafeguardStatus, SafeguardEvidenceFinding, Option<String>);

fn add_days(day: NaiveDate, days: u32) -> NaiveDate {
    day.checked_add_days(Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MAX)
}

/// Judge one attestation; returns its status, last valid day and a note.
fn judge_attestation(
    a: &AttestationInput,
    by: &str,
    valid_days: u32,
    today: NaiveDate,
) -> (SafeguardStatus, NaiveDate, Option<String>) {
    let valid_until = a
        .expires
        .min(add_days(a.created_at.date_naive(), valid_days));
    if a.by_role != by {
        return (
            SafeguardStatus::Missing,
            valid_until,
            Some(format!(
                "attested by `{}`, but the policy requires `{by}`: not evidence",
                a.by_role
            )),
        );
    }
    let intact = a
        .evidence_sha256
        .as_deref()
        .is_some_and(|h| h.eq_ignore_ascii_case(&a.recorded_sha256));
    if !intact {
        let why = match &a.evidence_sha256 {
            None => "the evidence file is gone".to_owned(),
            Some(h) => format!(
                "the evidence file now hashes to {h}, not the recorded {}",
                a.recorded_sha256
            ),
        };
        return (SafeguardStatus::Unverified, valid_until, Some(why));
    }
    if today > valid_until {
        return (
            SafeguardStatus::Expired,
            valid_until,
            Some(format!("valid until {valid_until}")),
        );
    }
    (SafeguardStatus::InPlace, valid_until, None)
}

/// The best attestation for `sg`: in place if any is; otherwise the most
/// telling failure (tampering, then expiry, then wrong role), newest first.
fn attestation_status(
    sg: &Safeguard,
    by: &str,
    valid_days: u32,
    inputs: &SafeguardInputs<'_>,
) -> Judged {
    let today = inputs.now.date_naive();
    let preference = |s: SafeguardStatus| match s {
        SafeguardStatus::InPlace => 0,
        SafeguardStatus::Unverified => 1,
        SafeguardStatus::Expired => 2,
        SafeguardStatus::FailingBound => 3,
        SafeguardStatus::Missing => 4,
    };
    let best = inputs
        .attestations
        .iter()
        .filter(|a| a.safeguard == sg.id && a.created_at <= inputs.now)
        .map(|a| (a, judge_attestation(a, by, valid_days, today)))
        .min_by(|(a, (sa, ..)), (b, (sb, ..))| {
            preference(*sa)
                .cmp(&preference(*sb))
                .then(b.created_at.cmp(&a.created_at))
        });
    match best {
        Some((a, (status, valid_until, note))) => (
            status,
            SafeguardEvidenceFinding::Attestation {
                required_role: by.to_owned(),
                valid_days,
                attestation: Some(a.clone()),
                valid_until: Some(valid_until),
            },
            note,
        ),
        None => (
            SafeguardStatus::Missing,
            SafeguardEvidenceFinding::Attestation {
                required_role: by.to_owned(),
                valid_days,
                attestation: None,
                valid_until: None,
            },
            Some(format!("no attestation by `{by}` recorded")),
        ),
    }
}

/// The fields of a metric safeguard's evidence.
struct MetricSpec<'a> {
    suite: &'a String,
    metric: &'a String,
    max: Option<f64>,
    min: Option<f64>,
    confidence: Option<f64>,
    valid_days: u32,
}

fn metric_status(
    policy: &Policy,
    sg: &Safeguard,
    spec: &MetricSpec<'_>,
    inputs: &SafeguardInputs<'_>,
) -> Result<Judged> {
    let MetricSpec {
        suite,
        metric,
        max,
        min,
        confidence,
        valid_days,
    } = spec;
    let confidence = confidence.unwrap_or(policy.defaults.confidence);
    let plain = rsp_policy::Elicitation::default();
    // Any age: an old run is reported as expired rather than as missing.
    let want = Want {
        model: inputs.model,
        selector: suite,
        metric,
        elicitation: &plain,
        plain_only: false,
        task: None,
        min_samples: None,
        not_before: None,
    };
    let mut finding = SafeguardEvidenceFinding::Metric {
        suite: (*suite).clone(),
        metric: (*metric).clone(),
        max: *max,
        min: *min,
        confidence,
        valid_days: *valid_days,
        run_id: None,
        estimate: None,
        measured_at: None,
        valid_until: None,
    };
    let Ok(run) = find_run(inputs.runs, &want) else {
        return Ok((
            SafeguardStatus::Missing,
            finding,
            Some(format!(
                "no complete run of `{suite}` with `{metric}` on this model"
            )),
        ));
    };
    let what = format!("safeguard {}", sg.id);
    let Some((run, estimate)) = estimate_at(inputs.runs, &run.run_id, metric, confidence, &what)?
    else {
        return Ok((SafeguardStatus::Missing, finding, None));
    };
    let measured_at = run.completed_at.unwrap_or(inputs.now);
    let valid_until = add_days(measured_at.date_naive(), *valid_days);
    let mut failures = Vec::new();
    // Written so that a NaN bound fails the check instead of passing it.
    if let Some(max) = max
        && estimate.upper.partial_cmp(max).is_none_or(Ordering::is_gt)
    {
        failures.push(format!(
            "upper bound {:.4} exceeds max {max}",
            estimate.upper
        ));
    }
    if let Some(min) = min
        && estimate.lower.partial_cmp(min).is_none_or(Ordering::is_lt)
    {
        failures.push(format!(
            "lower bound {:.4} is below min {min}",
            estimate.lower
        ));
    }
    let (status, note) = if inputs.now.date_naive() > valid_until {
        (
            SafeguardStatus::Expired,
            Some(format!(
                "measured {}, valid until {valid_until}",
                measured_at.format("%Y-%m-%d")
            )),
        )
    } else if failures.is_empty() {
        (SafeguardStatus::InPlace, None)
    } else {
        (SafeguardStatus::FailingBound, Some(failures.join("; ")))
    };
    if let SafeguardEvidenceFinding::Metric {
        run_id,
        estimate: e,
        measured_at: m,
        valid_until: v,
        ..
    } = &mut finding
    {
        *run_id = Some(run.run_id.clone());
        *e = Some(estimate.clone());
        *m = Some(measured_at);
        *v = Some(valid_until);
    }
    Ok((status, finding, note))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{at, est, example_policy, run};

    fn attestation(safeguard: &str, by: &str, created: &str, expires: &str) -> AttestationInput {
        AttestationInput {
            safeguard: safeguard.into(),
            by_role: by.into(),
            evidence_sha256: Some("ab12".into()),
            recorded_sha256: "AB12".into(),
            expires: NaiveDate::parse_from_str(expires, "%Y-%m-%d").unwrap(),
            created_at: at(created),
        }
    }

    fn status_of(
        attestations: &[AttestationInput],
        runs: &[EvidenceRun],
        now: &str,
        id: &str,
    ) -> SafeguardFinding {
        let policy = example_policy();
        let inputs = SafeguardInputs {
            model: "m",
            runs,
            attestations,
            now: at(now),
        };
        evaluate_safeguards(&policy, &["ASL-2".to_owned()], &inputs)
            .unwrap()
            .into_iter()
            .find(|f| f.id == id)
            .unwrap()
    }

    #[test]
    fn attestation_by_the_right_role_in_date_is_in_place() {
        let a = [attestation("model-card", "rso", "2026-11-01", "2027-11-01")];
        let f = status_of(&a, &[], "2026-12-01", "model-card");
        assert_eq!(f.status, SafeguardStatus::InPlace);
        assert!(f.required);
        let a = [attestation(
            "security-hardening",
            "security",
            "2026-11-01",
            "2027-11-01",
        )];
        assert!(!status_of(&a, &[], "2026-12-01", "security-hardening").required);
    }

    #[test]
    fn wrong_role_is_not_evidence() {
        let a = [attestation("model-card", "ceo", "2026-11-01", "2027-11-01")];
        let f = status_of(&a, &[], "2026-12-01", "model-card");
        assert_eq!(f.status, SafeguardStatus::Missing);
        assert!(f.note.unwrap().contains("requires `rso`"));
    }

    #[test]
    fn expiry_is_the_earlier_of_date_and_valid_days() {
        // weights-access-control: valid 180 days, attester said a year.
        let a = [attestation(
            "weights-access-control",
            "security",
            "2026-01-01",
            "2027-01-01",
        )];
        let last_day = status_of(&a, &[], "2026-06-30", "weights-access-control");
        assert_eq!(last_day.status, SafeguardStatus::InPlace);
        let after = status_of(&a, &[], "2026-07-01", "weights-access-control");
        assert_eq!(after.status, SafeguardStatus::Expired);
        // And the attester's own, earlier, date.
        let a = [attestation(
            "weights-access-control",
            "security",
            "2026-01-01",
            "2026-02-01",
        )];
        let f = status_of(&a, &[], "2026-02-02", "weights-access-control");
        assert_eq!(f.status, SafeguardStatus::Expired);
    }

    #[test]
    fn tampered_or_missing_file_is_unverified() {
        let mut a = attestation("model-card", "rso", "2026-11-01", "2027-11-01");
        a.evidence_sha256 = Some("ff00".into());
        let f = status_of(&[a.clone()], &[], "2026-12-01", "model-card");
        assert_eq!(f.status, SafeguardStatus::Unverified);
        a.evidence_sha256 = None;
        let f = status_of(&[a], &[], "2026-12-01", "model-card");
        assert_eq!(f.status, SafeguardStatus::Unverified);
    }

    #[test]
    fn a_valid_attestation_wins_over_older_bad_ones() {
        let mut bad = attestation("model-card", "rso", "2026-01-01", "2027-01-01");
        bad.evidence_sha256 = Some("ff00".into());
        let good = attestation("model-card", "rso", "2026-11-01", "2027-11-01");
        let f = status_of(&[bad, good], &[], "2026-12-01", "model-card");
        assert_eq!(f.status, SafeguardStatus::InPlace);
    }

    fn guard_run(upper: f64, done: &str) -> EvidenceRun {
        let plain = rsp_policy::Elicitation::default();
        run(
            "g1",
            "guard-eval",
            "asr",
            plain,
            done,
            "attack_success_rate",
            est(upper / 2.0, 0.0, upper, 400),
        )
    }

    #[test]
    fn metric_bound_is_checked_on_the_upper_bound() {
        let ok = status_of(
            &[],
            &[guard_run(0.05, "2026-11-01")],
            "2026-11-02",
            "constitutional-guard",
        );
        assert_eq!(ok.status, SafeguardStatus::InPlace, "max is inclusive");
        let fail = status_of(
            &[],
            &[guard_run(0.06, "2026-11-01")],
            "2026-11-02",
            "constitutional-guard",
        );
        assert_eq!(fail.status, SafeguardStatus::FailingBound);
        assert!(fail.note.unwrap().contains("exceeds max 0.05"));
        let old = status_of(
            &[],
            &[guard_run(0.02, "2026-01-01")],
            "2026-11-02",
            "constitutional-guard",
        );
        assert_eq!(old.status, SafeguardStatus::Expired);
        let none = status_of(&[], &[], "2026-11-02", "constitutional-guard");
        assert_eq!(none.status, SafeguardStatus::Missing);
    }

    #[test]
    fn metric_min_uses_the_lower_bound() {
        let mut policy = example_policy();
        let sg = &mut policy.standards[1].safeguards[0];
        sg.evidence = SafeguardEvidence::Metric {
            suite: "guard-eval".into(),
            metric: "attack_success_rate".into(),
            max: None,
            min: Some(0.01),
            confidence: None,
            valid_days: 90,
        };
        let runs = [guard_run(0.05, "2026-11-01")]; // lower bound 0.0
        let inputs = SafeguardInputs {
            model: "m",
            runs: &runs,
            attestations: &[],
            now: at("2026-11-02"),
        };
        let f = evaluate_safeguards(&policy, &[], &inputs).unwrap();
        assert_eq!(f[2].id, "constitutional-guard");
        assert_eq!(f[2].status, SafeguardStatus::FailingBound);
    }

    #[test]
    fn baseline_is_the_first_standard_no_threshold_requires() {
        let policy = example_policy();
        assert_eq!(baseline_standard(&policy).unwrap().id, "ASL-2");
        assert_eq!(baseline_closure(&policy), vec!["ASL-2"]);
        for (name, expected) in [
            ("anthropic-rsp-v2.2", Some("ASL-2")),
            ("openai-pf-v2", None),
            ("gdm-fsf-v3", Some("SL2")),
        ] {
            let text = rsp_policy::templates::template(name).unwrap().text;
            let p: Policy = toml::from_str(text).unwrap();
            assert_eq!(
                baseline_standard(&p).map(|s| s.id.as_str()),
                expected,
                "{name}"
            );
        }
    }
}
