//! End to end through `assess` on the example policy `rsp init` writes.
#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rsp_assess::{
    AssessInputs, AttestationInput, CalibrationSettings, DecisionAction, EXIT_ALLOWED,
    EXIT_AWAITING_SIGNATURES, EXIT_BLOCKED, Estimate, EvidenceRun, ModelFacts, PlanSource,
    PriorAssessment, Reason, Requirement, SafeguardStatus, Status, StatusSummary, assess,
    exit_code, summarize,
};
use rsp_policy::{Elicitation, Policy};

fn policy() -> Policy {
    toml::from_str(rsp_policy::templates::template("example").unwrap().text).unwrap()
}

fn at(date: &str) -> DateTime<Utc> {
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    Utc.from_utc_datetime(&d.and_hms_opt(12, 0, 0).unwrap())
}

fn run(
    id: &str,
    suite: &str,
    task: &str,
    el: Elicitation,
    v: (f64, f64, f64),
    n: u64,
) -> EvidenceRun {
    EvidenceRun {
        run_id: id.into(),
        suite: suite.into(),
        task: task.into(),
        model: "smollm2-135m".into(),
        elicitation: el,
        completed_at: Some(at("2026-11-20")),
        imported: false,
        metrics: [(
            "accuracy".to_owned(),
            Estimate {
                value: v.0,
                lower: v.1,
                upper: v.2,
                n,
                method: "Wilson".into(),
                confidence: 0.95,
            },
        )]
        .into_iter()
        .collect(),
    }
}

fn attest(safeguard: &str, by: &str) -> AttestationInput {
    AttestationInput {
        safeguard: safeguard.into(),
        by_role: by.into(),
        evidence_sha256: Some("aa".into()),
        recorded_sha256: "aa".into(),
        expires: NaiveDate::from_ymd_opt(2027, 11, 1).unwrap(),
        created_at: at("2026-11-01"),
    }
}

fn inputs(runs: Vec<EvidenceRun>, attestations: Vec<AttestationInput>) -> AssessInputs {
    AssessInputs {
        id: "a-0001".into(),
        policy_sha256: "00".repeat(32),
        model: ModelFacts {
            name: "smollm2-135m".into(),
            spec: "embedded".into(),
            effective_compute_flop: Some(1.6e21),
            parameters: Some(1.35e8),
            training_tokens: Some(2e12),
            date: NaiveDate::from_ymd_opt(2024, 11, 1),
            parent: None,
            post_training_days: None,
        },
        priors: vec![],
        runs,
        attestations,
        decisions: vec![],
        deployment: true,
        now: at("2026-11-28"),
        calibration: CalibrationSettings::default(),
    }
}

fn cot(shots: u32, best_of_n: u32) -> Elicitation {
    Elicitation {
        chain_of_thought: true,
        few_shot: shots,
        best_of_n,
        tools: false,
    }
}

fn tools() -> Elicitation {
    Elicitation {
        tools: true,
        ..Elicitation::default()
    }
}

/// Low scores on every suite, a plain baseline for knowledge, ASL-2 attested.
fn benign() -> AssessInputs {
    inputs(
        vec![
            run(
                "r-know",
                "knowledge-proxy",
                "mc",
                cot(3, 1),
                (0.31, 0.25, 0.38),
                150,
            ),
            run(
                "r-know-plain",
                "knowledge-proxy",
                "mc",
                Elicitation::default(),
                (0.27, 0.21, 0.34),
                150,
            ),
            run(
                "r-cyber",
                "cyber-proxy",
                "ctf",
                cot(0, 4),
                (0.10, 0.05, 0.18),
                100,
            ),
            run(
                "r-auto",
                "autonomy-proxy",
                "files",
                tools(),
                (0.05, 0.01, 0.15),
                40,
            ),
        ],
        vec![
            attest("model-card", "rso"),
            attest("weights-access-control", "security"),
        ],
    )
}

#[test]
fn fresh_project_plan_table() {
    let mut i = inputs(vec![], vec![]);
    // One stale run and one with too weak an elicitation, to show the notes.
    let mut old = run(
        "r-old",
        "knowledge-proxy",
        "mc",
        cot(3, 1),
        (0.3, 0.2, 0.4),
        150,
    );
    old.completed_at = Some(at("2026-03-01"));
    i.runs = vec![
        old,
        run(
            "r-weak",
            "cyber-proxy",
            "ctf",
            cot(0, 1),
            (0.1, 0.05, 0.2),
            100,
        ),
    ];
    let a = assess(&policy(), &i).unwrap();
    insta::assert_snapshot!("fresh_plan", a.plan.to_string());
    let requests = a.plan.run_requests();
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.requirement == Requirement::Required)
            .count(),
        3
    );
    // Two guard metrics share one (guard-eval, plain) run, needed only for ASL-3.
    let guard: Vec<_> = requests
        .iter()
        .filter(|r| r.selector == "guard-eval")
        .collect();
    assert_eq!(guard.len(), 1);
    assert_eq!(
        guard[0].requirement,
        Requirement::IfStandardRequired("ASL-3".into())
    );
}

#[test]
fn no_evidence_blocks_under_treat_as_crossed() {
    let a = assess(&policy(), &inputs(vec![], vec![])).unwrap();
    assert!(!a.comprehensive);
    assert!(a.findings.iter().all(|f| f.status == Status::NoEvidence));
    assert_eq!(a.required.standards, ["ASL-2", "ASL-3"]);
    assert_eq!(a.required.highest.as_deref(), Some("ASL-3"));
    assert_eq!(
        a.required.because["ASL-3"],
        ["KNOW-1", "CYBER-1"],
        "AUTO-1 is research"
    );
    let d = &a.decisions[0];
    assert!(!d.allowed);
    assert!(
        d.reasons
            .iter()
            .all(|r| matches!(r, Reason::Safeguards { .. } | Reason::Baseline { .. }))
    );
    assert!(matches!(&d.reasons[0], Reason::Baseline { standard, .. } if standard == "ASL-2"));
    assert_eq!(exit_code(d, &["rso".into(), "ceo".into()]), EXIT_BLOCKED);
    // Calibration still reports the policy's operating point at min_samples.
    assert_eq!(a.calibration.len(), 1);
    assert_eq!(a.calibration[0].n, 100);
}

#[test]
fn benign_model_is_asl2_and_may_deploy_once_signed() {
    let mut i = benign();
    i.decisions = vec![
        DecisionAction::Deploy,
        DecisionAction::Train { to_flop: 6.4e21 },
    ];
    let a = assess(&policy(), &i).unwrap();
    assert!(a.comprehensive);
    assert!(
        a.findings.iter().all(|f| f.status == Status::RuledOut),
        "{:#?}",
        a.findings
    );
    let know = &a.findings[0].rules[0];
    assert!((know.elicitation_gap.unwrap() - 0.04).abs() < 1e-12);
    assert_eq!(know.plain_run_id.as_deref(), Some("r-know-plain"));
    assert_eq!(a.required.standards, ["ASL-2"]);
    assert_eq!(a.required.in_place.as_deref(), Some("ASL-2"));
    let guard = a
        .safeguards
        .iter()
        .find(|s| s.id == "constitutional-guard")
        .unwrap();
    assert!(!guard.required);
    assert_eq!(guard.status, SafeguardStatus::Missing);
    assert!(a.decisions.iter().all(|d| d.allowed));
    assert_eq!(
        exit_code(&a.decisions[0], &["rso".into()]),
        EXIT_AWAITING_SIGNATURES
    );
    assert_eq!(
        exit_code(&a.decisions[0], &["rso".into(), "ceo".into()]),
        EXIT_ALLOWED
    );
    assert_eq!(a.next.at_flop, Some(6.4e21));
    assert_eq!(a.next.by_date, NaiveDate::from_ymd_opt(2027, 5, 27));
    assert!(
        a.plan
            .items
            .iter()
            .all(|i| i.requirement != Requirement::Required
                || matches!(i.source, PlanSource::Reuse { .. }))
    );

    insta::assert_snapshot!("benign_plan", a.plan.to_string());
    let signed = summarize(&a, &["rso".into(), "ceo".into()]);
    insta::assert_snapshot!("status_signed", signed.to_string());
    let draft = summarize(&a, &[]);
    insta::assert_snapshot!("status_draft", draft.to_string());
    let json = serde_json::to_string(&signed).unwrap();
    assert_eq!(
        serde_json::from_str::<StatusSummary>(&json).unwrap(),
        signed
    );
}

#[test]
fn a_research_domain_without_evidence_does_not_make_it_partial() {
    let mut i = benign();
    i.runs.retain(|r| r.suite != "autonomy-proxy");
    let a = assess(&policy(), &i).unwrap();
    let auto = a.findings.iter().find(|f| f.id == "AUTO-1").unwrap();
    assert_eq!(auto.status, Status::NoEvidence);
    assert!(!auto.blocking);
    assert!(a.comprehensive, "only tracked domains must be complete");
    assert!(a.next.at_flop.is_some(), "the compute trigger resets");
    // A tracked threshold without evidence does.
    i.runs.retain(|r| r.suite != "cyber-proxy");
    assert!(!assess(&policy(), &i).unwrap().comprehensive);
}

#[test]
fn knowledge_not_ruled_out_requires_asl3_and_caps_training() {
    let mut i = benign();
    i.runs[0] = run(
        "r-know",
        "knowledge-proxy",
        "mc",
        cot(3, 1),
        (0.70, 0.62, 0.77),
        150,
    );
    i.decisions = vec![
        DecisionAction::Deploy,
        DecisionAction::Train { to_flop: 6.4e21 },
    ];
    let a = assess(&policy(), &i).unwrap();
    let know = &a.findings[0];
    assert_eq!(know.status, Status::CannotRuleOut);
    assert!(know.treated_as_crossed);
    assert!(know.rules[0].more_samples_to_rule_out.unwrap() > 0);
    assert_eq!(a.required.highest.as_deref(), Some("ASL-3"));
    assert_eq!(a.required.in_place.as_deref(), Some("ASL-2"));
    let fired: Vec<&str> = a.fired_actions.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(fired, ["pause-deployment", "early-warning"]);
    let (deploy, train) = (&a.decisions[0], &a.decisions[1]);
    assert!(!deploy.allowed && !train.allowed);
    assert_eq!(train.compute_cap_flop, Some(1.6e21));
    let line = summarize(&a, &[]).to_string();
    assert!(
        line.contains(
            "ASL-3 required · ASL-2 in place · deploy: blocked by KNOW-1, constitutional-guard"
        ),
        "{line}"
    );
    assert!(
        line.contains(
            "nearest line: knowledge-proxy 0.70 [0.62,0.77] +0.05 vs line 0.80 (cannot-rule-out)"
        ),
        "{line}"
    );
}

#[test]
fn wrong_confidence_is_an_error_not_a_finding() {
    let mut i = benign();
    for e in i.runs[0].metrics.values_mut() {
        e.confidence = 0.9;
    }
    let err = assess(&policy(), &i).unwrap_err();
    assert!(err.to_string().contains("recompute it at 0.95"), "{err}");
}

#[test]
fn assessment_json_round_trips() {
    let mut i = benign();
    i.priors = vec![PriorAssessment {
        id: "a-0000".into(),
        date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        compute_flop: Some(3e20),
        comprehensive: true,
    }];
    i.calibration.simulations = 2000;
    let a = assess(&policy(), &i).unwrap();
    assert!(a.trigger.due);
    assert_eq!(a.trigger.reasons.len(), 3, "{:?}", a.trigger.reasons);
    let json = serde_json::to_string_pretty(&a).unwrap();
    let back: rsp_assess::Assessment = serde_json::from_str(&json).unwrap();
    assert_eq!(back, a);
    let inputs_json = serde_json::to_string(&i).unwrap();
    let again: AssessInputs = serde_json::from_str(&inputs_json).unwrap();
    assert_eq!(
        assess(&policy(), &again).unwrap(),
        a,
        "inputs reproduce the assessment"
    );
}
