//! Round trips and rules for every record type, on a real SQLite file.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rsp_store::prelude::*;
use rsp_store::{
    Artifact, AttestationRecord, DecisionAction, DecisionRecord, DecisionStatus, Error, KeyRecord,
    ModelRecord, NewRun, RunFilter, RunKey, RunSource, RunStatus, SignatureRecord, SqliteStore,
    TokenRecord, new_id,
};
use serde_json::json;

async fn store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(SqliteStore::default_path(dir.path()))
        .await
        .unwrap();
    (dir, Arc::new(store))
}

fn at(secs: i64, nanos: u32) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, nanos).unwrap()
}

fn model(name: &str) -> ModelRecord {
    ModelRecord {
        name: name.into(),
        spec: format!("embedded/{name}"),
        base_url: Some("http://localhost:8080/v1".into()),
        effective_compute_flop: Some(2.3e21),
        parameters: Some(1.35e8),
        training_tokens: Some(2e12),
        date: NaiveDate::from_ymd_opt(2024, 11, 1),
        parent: None,
        notes: Some("first checkpoint".into()),
        created_at: at(1_700_000_000, 123_456_789),
    }
}

fn new_run(model: &str, task_hash: &str) -> NewRun {
    NewRun {
        model: model.into(),
        model_name: Some("smol".into()),
        suite: "knowledge".into(),
        task: "science-mc".into(),
        task_hash: task_hash.into(),
        config: json!({"seed": 7, "epochs": 2, "solvers": ["generate"]}),
        provenance: json!({"rsp": "0.1.0"}),
        total_samples: 40,
        source: RunSource::Native,
        source_sha256: None,
    }
}

#[tokio::test]
async fn models_upsert_keeps_first_registration_time() {
    let (_dir, store) = store().await;
    assert_eq!(store.get_model("smol").await.unwrap(), None);
    let first = model("smol");
    store.upsert_model(&first).await.unwrap();
    assert_eq!(store.get_model("smol").await.unwrap(), Some(first.clone()));

    let mut changed = first.clone();
    changed.notes = None;
    changed.effective_compute_flop = None;
    changed.date = None;
    changed.parent = Some("smol-base".into());
    changed.created_at = at(1_800_000_000, 0);
    store.upsert_model(&changed).await.unwrap();
    let got = store.get_model("smol").await.unwrap().unwrap();
    assert_eq!(got.notes, None);
    assert_eq!(got.parent.as_deref(), Some("smol-base"));
    assert_eq!(got.effective_compute_flop, None);
    assert_eq!(got.created_at, first.created_at);

    store.upsert_model(&model("alpha")).await.unwrap();
    let names: Vec<_> = store
        .list_models()
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["alpha", "smol"]);
}

#[tokio::test]
async fn runs_round_trip_and_track_status_summary_and_latest() {
    let (_dir, store) = store().await;
    let created = store
        .create_run(&new_run("embedded/smol", "h1"))
        .await
        .unwrap();
    assert_eq!(created.status, RunStatus::Running);
    assert_eq!(created.id.len(), 26);
    assert_eq!(
        store.get_run(&created.id).await.unwrap(),
        Some(created.clone())
    );

    let key = RunKey {
        model: "embedded/smol".into(),
        suite: "knowledge".into(),
        task: "science-mc".into(),
        task_hash: "h1".into(),
    };
    assert_eq!(store.latest_completed_run(&key).await.unwrap(), None);
    assert_eq!(
        store.latest_run(&key, None).await.unwrap().map(|r| r.id),
        Some(created.id.clone())
    );

    let summary = json!({"accuracy": {"mean": 0.25, "ci": [0.12, 0.41]}});
    store.set_run_summary(&created.id, &summary).await.unwrap();
    store
        .set_run_status(&created.id, RunStatus::Completed)
        .await
        .unwrap();
    let done = store.get_run(&created.id).await.unwrap().unwrap();
    assert_eq!(done.status, RunStatus::Completed);
    assert_eq!(done.summary, Some(summary));
    assert!(done.finished_at.is_some_and(|t| t >= done.created_at));

    // A newer run that is still going is the latest, but not the latest completed.
    let newer = store
        .create_run(&new_run("embedded/smol", "h1"))
        .await
        .unwrap();
    assert!(newer.id > created.id || newer.created_at > created.created_at);
    assert_eq!(
        store.latest_run(&key, None).await.unwrap().map(|r| r.id),
        Some(newer.id.clone())
    );
    assert_eq!(
        store
            .latest_completed_run(&key)
            .await
            .unwrap()
            .map(|r| r.id),
        Some(created.id.clone())
    );
    // A different task hash is a different key.
    let other = RunKey {
        task_hash: "h2".into(),
        ..key.clone()
    };
    assert_eq!(store.latest_run(&other, None).await.unwrap(), None);

    // Resuming clears finished_at.
    store
        .set_run_status(&created.id, RunStatus::Interrupted)
        .await
        .unwrap();
    store
        .set_run_status(&created.id, RunStatus::Running)
        .await
        .unwrap();
    assert_eq!(
        store
            .get_run(&created.id)
            .await
            .unwrap()
            .unwrap()
            .finished_at,
        None
    );

    let mut imported = new_run("openai/gpt-x", "h9");
    imported.source = RunSource::LmEval;
    imported.source_sha256 = Some("ab".repeat(32));
    let imported = store.create_run(&imported).await.unwrap();
    assert_eq!(
        store.get_run(&imported.id).await.unwrap().unwrap().source,
        RunSource::LmEval
    );

    let all = store.list_runs(&RunFilter::default()).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.windows(2).all(|w| w[0].created_at >= w[1].created_at));
    let smol = RunFilter {
        model: Some("embedded/smol".into()),
        status: Some(RunStatus::Running),
        ..RunFilter::default()
    };
    assert_eq!(store.list_runs(&smol).await.unwrap().len(), 2);
    let one = RunFilter {
        limit: Some(1),
        ..RunFilter::default()
    };
    assert_eq!(
        store.list_runs(&one).await.unwrap()[0].id,
        imported.id,
        "newest first"
    );

    for err in [
        store.set_run_status("nope", RunStatus::Failed).await,
        store.set_run_summary("nope", &json!({})).await,
    ] {
        assert!(
            matches!(err, Err(Error::NotFound { what: "run", .. })),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn cache_put_get_replace_and_clear() {
    let (_dir, store) = store().await;
    assert_eq!(store.cache_get("k1").await.unwrap(), None);
    let v1 = json!({"text": "Paris", "meta": {"tokens": 7}});
    store.cache_put("k1", &v1).await.unwrap();
    store.cache_put("k2", &json!("x")).await.unwrap();
    assert_eq!(store.cache_get("k1").await.unwrap(), Some(v1));
    store.cache_put("k1", &json!(null)).await.unwrap();
    assert_eq!(store.cache_get("k1").await.unwrap(), Some(json!(null)));
    assert_eq!(store.cache_len().await.unwrap(), 2);
    assert_eq!(store.cache_clear().await.unwrap(), 2);
    assert_eq!(store.cache_len().await.unwrap(), 0);
    assert_eq!(store.cache_get("k2").await.unwrap(), None);
}

#[tokio::test]
async fn ledger_leaves_artifacts_and_checkpoints() {
    let (_dir, store) = store().await;
    assert_eq!(store.leaf_count().await.unwrap(), 0);
    assert_eq!(store.latest_checkpoint().await.unwrap(), None);

    let report = Artifact::new(b"# report\n".to_vec(), "text/markdown");
    let i0 = store
        .append_leaf(b"{\"a\":1}", &[1; 32], "run", Some(&report))
        .await
        .unwrap();
    let i1 = store
        .append_leaf(b"{\"b\":2}", &[2; 32], "decision", None)
        .await
        .unwrap();
    // The same artifact again is deduplicated, not an error.
    let i2 = store
        .append_leaf(b"{\"c\":3}", &[3; 32], "run", Some(&report))
        .await
        .unwrap();
    assert_eq!((i0, i1, i2), (0, 1, 2));
    assert_eq!(store.leaf_count().await.unwrap(), 3);

    let leaves = store.leaves(1..10).await.unwrap();
    assert_eq!(leaves.len(), 2);
    assert_eq!(leaves[0].idx, 1);
    assert_eq!(leaves[0].leaf, b"{\"b\":2}");
    assert_eq!(leaves[0].kind, "decision");
    assert_eq!(leaves[0].artifact_sha256, None);
    assert_eq!(leaves[1].leaf_hash, [3; 32]);
    assert_eq!(
        leaves[1].artifact_sha256.as_deref(),
        Some(report.sha256.as_str())
    );
    assert_eq!(
        store.leaf_hashes(0..3).await.unwrap(),
        vec![[1; 32], [2; 32], [3; 32]]
    );
    assert!(store.leaves(3..5).await.unwrap().is_empty());
    assert_eq!(
        store.artifact(&report.sha256).await.unwrap(),
        Some(report.clone())
    );
    assert_eq!(store.artifact(&"0".repeat(64)).await.unwrap(), None);

    // A lying artifact is refused and nothing is appended.
    let mut forged = report.clone();
    forged.bytes = b"# forged\n".to_vec();
    let err = store
        .append_leaf(b"{}", &[9; 32], "run", Some(&forged))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ArtifactHashMismatch { .. }), "{err:?}");
    assert_eq!(store.leaf_count().await.unwrap(), 3);

    let c2 = store
        .put_checkpoint(2, "rsp.example/log\n2\nAAAA\n")
        .await
        .unwrap();
    let c3 = store
        .put_checkpoint(3, "rsp.example/log\n3\nBBBB\n")
        .await
        .unwrap();
    let err = store.put_checkpoint(4, "too big").await.unwrap_err();
    assert!(
        matches!(err, Error::CheckpointBeyondLog { size: 4, count: 3 }),
        "{err:?}"
    );
    assert_eq!(store.checkpoints().await.unwrap(), vec![c2, c3.clone()]);
    assert_eq!(store.latest_checkpoint().await.unwrap(), Some(c3));
}

#[tokio::test]
async fn ledger_rows_cannot_be_rewritten_even_with_raw_sql() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rsp.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store
        .append_leaf(b"{}", &[0; 32], "run", None)
        .await
        .unwrap();
    store.close().await;

    // Another program writing the file directly hits the schema's triggers.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    for sql in [
        "UPDATE leaves SET kind = 'x'",
        "DELETE FROM leaves",
        "INSERT INTO leaves (idx, leaf, leaf_hash, kind, created_at)
         VALUES (5, x'00', zeroblob(32), 'gap', 'now')",
    ] {
        let err = sqlx::query(sql).execute(&pool).await.unwrap_err();
        assert!(err.to_string().contains("ledger leaves"), "{sql}: {err}");
    }
}

#[tokio::test]
async fn attestations_decisions_signatures_keys_and_tokens() {
    let (_dir, store) = store().await;
    let att = AttestationRecord {
        id: new_id(),
        safeguard: "access-control".into(),
        evidence_sha256: "cd".repeat(32),
        evidence_path: "evidence/access.pdf".into(),
        by_role: "security-lead".into(),
        created_at: at(1_700_000_000, 1),
        expires: NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(),
    };
    store.insert_attestation(&att).await.unwrap();
    let mut other = att.clone();
    other.id = new_id();
    other.safeguard = "red-teaming".into();
    other.created_at = at(1_700_000_001, 0);
    store.insert_attestation(&other).await.unwrap();
    assert_eq!(
        store.get_attestation(&att.id).await.unwrap(),
        Some(att.clone())
    );
    assert_eq!(
        store
            .list_attestations(Some("access-control"))
            .await
            .unwrap(),
        vec![att.clone()]
    );
    assert_eq!(
        store.list_attestations(None).await.unwrap(),
        vec![att.clone(), other]
    );
    let dup = store.insert_attestation(&att).await.unwrap_err();
    assert!(
        matches!(
            dup,
            Error::AlreadyExists {
                what: "attestation",
                ..
            }
        ),
        "{dup:?}"
    );

    let decision = DecisionRecord {
        id: new_id(),
        model: "smol".into(),
        action: DecisionAction::Train,
        params: json!({"to_flop": 1e24}),
        status: DecisionStatus::Draft,
        outcome: json!({"allowed": true, "reasons": []}),
        created_at: at(1_700_000_100, 5),
    };
    store.insert_decision(&decision).await.unwrap();
    assert_eq!(
        store.get_decision(&decision.id).await.unwrap(),
        Some(decision.clone())
    );
    assert_eq!(store.list_decisions(Some("smol")).await.unwrap().len(), 1);
    assert!(
        store
            .list_decisions(Some("other"))
            .await
            .unwrap()
            .is_empty()
    );

    let sig = SignatureRecord {
        decision_id: decision.id.clone(),
        role: "ceo".into(),
        public_key: "ef".repeat(32),
        signature: "01".repeat(64),
        signed_at: at(1_700_000_200, 0),
    };
    store.insert_signature(&sig).await.unwrap();
    assert_eq!(
        store.signatures(&decision.id).await.unwrap(),
        vec![sig.clone()]
    );
    let twice = store.insert_signature(&sig).await.unwrap_err();
    assert!(
        matches!(
            twice,
            Error::AlreadyExists {
                what: "signature",
                ..
            }
        ),
        "{twice:?}"
    );
    let orphan = SignatureRecord {
        decision_id: "missing".into(),
        ..sig.clone()
    };
    let err = store.insert_signature(&orphan).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotFound {
                what: "decision",
                ..
            }
        ),
        "{err:?}"
    );

    store
        .set_decision_status(&decision.id, DecisionStatus::Final)
        .await
        .unwrap();
    assert_eq!(
        store
            .get_decision(&decision.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        DecisionStatus::Final
    );
    let frozen = store
        .set_decision_status(&decision.id, DecisionStatus::Draft)
        .await
        .unwrap_err();
    assert!(matches!(frozen, Error::DecisionFinal { .. }), "{frozen:?}");
    let missing = store
        .set_decision_status("missing", DecisionStatus::Final)
        .await
        .unwrap_err();
    assert!(matches!(missing, Error::NotFound { .. }), "{missing:?}");

    let k1 = KeyRecord {
        role: "ceo".into(),
        public_key: "aa".repeat(32),
        created_at: at(1_700_000_000, 0),
    };
    let k2 = KeyRecord {
        role: "rso".into(),
        public_key: "bb".repeat(32),
        created_at: at(1_700_000_001, 0),
    };
    store.insert_key(&k1).await.unwrap();
    store.insert_key(&k2).await.unwrap();
    assert_eq!(
        store.list_keys(Some("rso")).await.unwrap(),
        vec![k2.clone()]
    );
    assert_eq!(store.list_keys(None).await.unwrap(), vec![k1.clone(), k2]);
    assert!(matches!(
        store.insert_key(&k1).await,
        Err(Error::AlreadyExists { what: "key", .. })
    ));

    let token = TokenRecord {
        token_hash: "5e".repeat(32),
        role: "auditor".into(),
        created_at: at(1_700_000_000, 0),
    };
    store.insert_token(&token).await.unwrap();
    assert_eq!(
        store.token_by_hash(&token.token_hash).await.unwrap(),
        Some(token.clone())
    );
    assert_eq!(store.token_by_hash("00").await.unwrap(), None);
    let err = store.insert_token(&token).await.unwrap_err();
    assert!(!err.to_string().contains(&token.token_hash), "{err}");
}

#[tokio::test]
async fn in_memory_store_works_and_errors_name_the_location() {
    let store = SqliteStore::open_in_memory().await.unwrap();
    store.upsert_model(&model("m")).await.unwrap();
    assert_eq!(store.list_models().await.unwrap().len(), 1);
    // A dropped table makes every later statement fail with a message naming the store.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.db");
    let file = SqliteStore::open(&path).await.unwrap();
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("DROP TABLE response_cache")
        .execute(&pool)
        .await
        .unwrap();
    let err = file.cache_len().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Query {
                op: "cache_len",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("x.db"), "{err}");
}
