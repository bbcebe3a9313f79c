//! A realistic project store for the server tests, built through `rsp-store` and a real
//! `rsp_assess::assess` on the example policy (the one `rsp init` writes).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{Duration, Utc};
use ed25519_dalek::{Signer as _, SigningKey};
use rsp_assess::{AssessInputs, CalibrationSettings, Estimate, EvidenceRun, ModelFacts};
use rsp_policy::Elicitation;
use rsp_serve::{
    AppState, AuditEntry, AuditLog, Hooks, LedgerVerifier, PolicySource, Role, ServeConfig,
    VerifySummary,
};
use rsp_store::prelude::*;
use rsp_store::{
    AssessmentRecord, AssessmentStore as _, DecisionAction, DecisionRecord, DecisionStatus,
    KeyRecord, ModelRecord, NewRun, RunSource, RunStatus, SampleRecord, SqliteStore,
};
use serde_json::json;

pub const MODEL: &str = "smol-135m";
pub const SPEC: &str = "embedded/smollm2-135m";

pub fn example_policy() -> String {
    rsp_policy::templates::template("example")
        .unwrap()
        .text
        .to_owned()
}

/// Records what the server asked to append to the ledger.
#[derive(Default)]
pub struct FakeAudit(pub Mutex<Vec<AuditEntry>>);

#[async_trait]
impl AuditLog for FakeAudit {
    async fn append(&self, entry: AuditEntry) -> Result<(), String> {
        self.0.lock().unwrap().push(entry);
        Ok(())
    }
}

pub struct FakeVerifier;

#[async_trait]
impl LedgerVerifier for FakeVerifier {
    async fn verify(&self) -> Result<VerifySummary, String> {
        Ok(VerifySummary {
            ok: true,
            leaves: 3,
            checkpoints: 1,
            root: Some("ab".repeat(32)),
            problems: vec![],
        })
    }
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub state: AppState,
    pub store: SqliteStore,
    pub audit: Arc<FakeAudit>,
    pub run_a: String,
    pub run_b: String,
    pub decision_id: String,
    pub assessment_id: String,
    pub keys: Vec<(String, SigningKey)>,
    pub tokens: Vec<(Role, String)>,
}

impl Fixture {
    pub fn token(&self, role: Role) -> &str {
        &self.tokens.iter().find(|(r, _)| *r == role).unwrap().1
    }
    pub fn key(&self, role: &str) -> &SigningKey {
        &self.keys.iter().find(|(r, _)| r == role).unwrap().1
    }
    /// A valid signature request body for `role` on the fixture's decision.
    pub async fn signature_body(&self, role: &str) -> serde_json::Value {
        let d = self
            .store
            .get_decision(&self.decision_id)
            .await
            .unwrap()
            .unwrap();
        let key = self.key(role);
        let msg = rsp_serve::signed_message(&d, role).unwrap();
        json!({
            "role": role,
            "public_key": hex::encode(key.verifying_key().to_bytes()),
            "signature": hex::encode(key.sign(&msg).to_bytes()),
        })
    }
}

fn sample(run: &str, i: u32, correct: bool, judged: bool) -> SampleRecord {
    let mut scores = json!({"accuracy": {"value": if correct { 1.0 } else { 0.0 }, "answer": if correct { "B" } else { "C" },
        "explanation": format!("expected B, read {}", if correct { "B" } else { "C" })}});
    if judged {
        scores["judge"] = json!({"value": 1.0, "explanation": "graded by judge",
            "metadata": {"judge_model": "mock/judge", "judge_raw": "The answer names the right gas.\nGRADE: C", "judge_prompt": "Grade this."}});
    }
    SampleRecord {
        run_id: run.into(),
        sample_id: format!("q{i:03}"),
        epoch: 0,
        position: i,
        input: json!(format!("Question {i}: which gas do plants absorb?")),
        target: json!(["B"]),
        output: json!({
            "messages": [
                {"role": "user", "content": format!("Question {i}: which gas do plants absorb?")},
                {"role": "assistant", "content": format!("Thinking step by step about question {i}. ANSWER: {}", if correct { "B" } else { "C" })}
            ],
            "completion": format!("ANSWER: {}", if correct { "B" } else { "C" }),
        }),
        scores,
        value: Some(if correct { 1.0 } else { 0.0 }),
        error: (i == 7).then(|| "provider timeout after 3 retries".to_owned()),
        retries: 0,
        usage: json!({"input_tokens": 40, "output_tokens": 12}),
        timing_ms: 120.0 + f64::from(i),
        metadata: json!({"domain": if i.is_multiple_of(2) { "bio" } else { "chem" }, "difficulty": i % 3}),
        completed_at: Utc::now(),
    }
}

async fn run(store: &SqliteStore, n: u32, correct_every: u32) -> String {
    let r = store
        .create_run(&NewRun {
            model: SPEC.into(),
            model_name: Some(MODEL.into()),
            suite: "knowledge-proxy".into(),
            task: "mc".into(),
            task_hash: "h1".into(),
            config: json!({"epochs": 1}),
            provenance: json!({}),
            total_samples: u64::from(n),
            source: RunSource::Native,
            source_sha256: None,
        })
        .await
        .unwrap();
    let samples: Vec<SampleRecord> = (0..n)
        .map(|i| sample(&r.id, i, i % correct_every == 0, i == 3))
        .collect();
    store.record_samples(&samples).await.unwrap();
    store
        .set_run_status(&r.id, RunStatus::Completed)
        .await
        .unwrap();
    r.id
}

fn est(value: f64, n: u64) -> Estimate {
    let i = rsp_stats::wilson(
        (value * n as f64).round() as u64,
        n,
        rsp_stats::Confidence::P95,
    )
    .unwrap();
    Estimate {
        value,
        lower: i.lower(),
        upper: i.upper(),
        n,
        method: "Wilson".into(),
        confidence: 0.95,
    }
}

/// Builds the store and the server state. `live_run` adds a run still in flight.
pub async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rsp.db");
    let store = SqliteStore::open(&db).await.unwrap();
    store
        .upsert_model(&ModelRecord {
            name: MODEL.into(),
            spec: SPEC.into(),
            base_url: None,
            effective_compute_flop: Some(2.2e21),
            parameters: Some(1.35e8),
            training_tokens: Some(2e12),
            date: None,
            parent: None,
            notes: None,
            created_at: Utc::now(),
        })
        .await
        .unwrap();
    let run_a = run(&store, 120, 3).await;
    let run_b = run(&store, 120, 2).await;
    let policy_text = example_policy();
    let policy: rsp_policy::Policy = toml::from_str(&policy_text).unwrap();
    let policy_sha = rsp_ledger::sha256(policy_text.as_bytes()).to_hex();
    let cot = Elicitation {
        chain_of_thought: true,
        few_shot: 3,
        ..Elicitation::default()
    };
    let mut assessment_id = String::new();
    let mut decision_id = String::new();
    // Two assessments a week apart, so the model page has a history.
    for (k, value) in [(0i64, 0.28), (1, 0.34)] {
        let now = Utc::now() - Duration::days(7 * (1 - k));
        let id = format!("assess-{k}");
        let inputs = AssessInputs {
            id: id.clone(),
            policy_sha256: policy_sha.clone(),
            model: ModelFacts {
                name: MODEL.into(),
                spec: SPEC.into(),
                effective_compute_flop: Some(2.2e21),
                parameters: Some(1.35e8),
                training_tokens: Some(2e12),
                date: None,
                parent: None,
                post_training_days: None,
            },
            priors: vec![],
            runs: vec![EvidenceRun {
                run_id: run_a.clone(),
                suite: "knowledge-proxy".into(),
                task: "mc".into(),
                model: MODEL.into(),
                elicitation: cot.clone(),
                completed_at: Some(now),
                imported: false,
                metrics: [("accuracy".to_owned(), est(value, 120))]
                    .into_iter()
                    .collect(),
            }],
            attestations: vec![],
            decisions: vec![],
            deployment: true,
            now,
            calibration: CalibrationSettings::default(),
        };
        let a = rsp_assess::assess(&policy, &inputs).unwrap();
        let d = a.decisions.first().unwrap();
        let decision = DecisionRecord {
            id: format!("dec-{k}"),
            model: MODEL.into(),
            action: DecisionAction::Deploy,
            params: json!({}),
            status: DecisionStatus::Draft,
            outcome: json!({"allowed": d.allowed, "assessment": id}),
            created_at: now,
        };
        store.insert_decision(&decision).await.unwrap();
        store
            .insert_assessment(&AssessmentRecord {
                id: id.clone(),
                model: MODEL.into(),
                created_at: now,
                compute_flop: Some(2.2e21),
                comprehensive: a.comprehensive,
                policy_sha256: policy_sha.clone(),
                decision_id: Some(decision.id.clone()),
                report: serde_json::to_value(&a).unwrap(),
            })
            .await
            .unwrap();
        assessment_id = id;
        decision_id = decision.id;
    }
    let mut keys = Vec::new();
    for (i, role) in ["rso", "ceo"].into_iter().enumerate() {
        let k = SigningKey::from_bytes(&[u8::try_from(i + 1).unwrap(); 32]);
        store
            .insert_key(&KeyRecord {
                role: role.into(),
                public_key: hex::encode(k.verifying_key().to_bytes()),
                created_at: Utc::now(),
            })
            .await
            .unwrap();
        keys.push((role.to_owned(), k));
    }
    // Two policy versions in the ledger; the second lowers a line's confidence (weaker).
    let v2 = policy_text
        .replace(
            "version = \"1.0.0\"\neffective",
            "version = \"1.1.0\"\neffective",
        )
        .replacen(
            "confidence = 0.95\nelicitation = { chain_of_thought = true, few_shot = 3 }",
            "confidence = 0.80\nelicitation = { chain_of_thought = true, few_shot = 3 }",
            1,
        );
    assert_ne!(v2, policy_text);
    for text in [&policy_text, &v2] {
        let leaf = serde_json::to_vec(&json!({"kind": "policy_version", "meta": {"version": "x"}}))
            .unwrap();
        let hash = rsp_ledger::leaf_hash(&leaf);
        store
            .append_leaf(
                &leaf,
                hash.as_bytes(),
                "policy_version",
                Some(&rsp_store::Artifact::new(
                    text.as_bytes().to_vec(),
                    "application/toml",
                )),
            )
            .await
            .unwrap();
    }
    store
        .put_checkpoint(2, "example.org/log\n2\nAAAA\n\n— key sig\n")
        .await
        .unwrap();
    let mut tokens = Vec::new();
    for role in Role::ALL {
        let t = rsp_serve::create_token(&store, role).await.unwrap();
        tokens.push((role, t.token));
    }
    let audit = Arc::new(FakeAudit::default());
    let hooks = Hooks {
        verifier: Arc::new(FakeVerifier),
        audit: audit.clone(),
        forecasts: None,
    };
    let mut config = ServeConfig::new(&db, PolicySource::Text(policy_text), hooks);
    config.live_poll = std::time::Duration::from_millis(100);
    let state = AppState::open(&config).await.unwrap();
    Fixture {
        dir,
        state,
        store,
        audit,
        run_a,
        run_b,
        decision_id,
        assessment_id,
        keys,
        tokens,
    }
}
