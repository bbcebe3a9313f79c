//! Dashboard benchmark driver (run by `benches/serve/run.sh`, which applies `wrk`).
//!
//! * `fill DB [N]` builds a project store with one model, two assessments (a real
//!   `rsp_assess::assess` on the example policy) and one run of N samples (default
//!   1,000,000), bulk-inserted with multi-row `INSERT`s in one transaction: about a
//!   minute, versus an hour through the store's one-sample API. Prints the run id.
//! * `serve DB ADDR` serves the dashboard on ADDR with a timing layer, and on Ctrl-C /
//!   SIGTERM prints server-side p50/p99 per route class (time from request to response
//!   head, excluding the client and the network).
//!
//! A plain binary (`harness = false`), not criterion: the numbers wanted are latency
//! distributions of a live server under concurrent load over a database that takes a
//! minute to build.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::extract::Request;
use axum::middleware::Next;
use chrono::Utc;
use rsp_serve::{
    AppState, AuditEntry, AuditLog, Hooks, LedgerVerifier, PolicySource, ServeConfig, VerifySummary,
};
use rsp_store::prelude::*;
use rsp_store::{
    AssessmentRecord, AssessmentStore as _, ModelRecord, NewRun, RunSource, SqliteStore,
};
use serde_json::json;

const MODEL: &str = "smol-135m";
const SPEC: &str = "embedded/smollm2-135m";
const ROWS_PER_INSERT: usize = 200;

fn policy_text() -> String {
    rsp_policy::templates::template("example")
        .unwrap()
        .text
        .to_owned()
}

async fn fill(db: &str, n: u32) {
    let _ = std::fs::remove_file(db);
    let store = SqliteStore::open(db).await.unwrap();
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
    let run = store
        .create_run(&NewRun {
            model: SPEC.into(),
            model_name: Some(MODEL.into()),
            suite: "knowledge-proxy".into(),
            task: "mc".into(),
            task_hash: "bench".into(),
            config: json!({"epochs": 1}),
            provenance: json!({}),
            total_samples: u64::from(n),
            source: RunSource::Native,
            source_sha256: None,
        })
        .await
        .unwrap();
    // Assessments: the overview's data.
    let policy: rsp_policy::Policy = toml::from_str(&policy_text()).unwrap();
    for k in 0..2i64 {
        let now = Utc::now() - chrono::Duration::days(7 * (1 - k));
        let cot = rsp_policy::Elicitation {
            chain_of_thought: true,
            few_shot: 3,
            ..Default::default()
        };
        let inputs = rsp_assess::AssessInputs {
            id: format!("assess-{k}"),
            policy_sha256: "0".repeat(64),
            model: rsp_assess::ModelFacts {
                name: MODEL.into(),
                spec: SPEC.into(),
                effective_compute_flop: Some(2.2e21),
                parameters: None,
                training_tokens: None,
                date: None,
                parent: None,
                post_training_days: None,
            },
            priors: vec![],
            runs: vec![rsp_assess::EvidenceRun {
                run_id: run.id.clone(),
                suite: "knowledge-proxy".into(),
                task: "mc".into(),
                model: MODEL.into(),
                elicitation: cot,
                completed_at: Some(now),
                imported: false,
                metrics: [(
                    "accuracy".to_owned(),
                    rsp_assess::Estimate {
                        value: 0.3,
                        lower: 0.28,
                        upper: 0.32,
                        n: u64::from(n),
                        method: "Wilson".into(),
                        confidence: 0.95,
                    },
                )]
                .into_iter()
                .collect(),
            }],
            attestations: vec![],
            decisions: vec![],
            deployment: true,
            now,
            calibration: rsp_assess::CalibrationSettings::default(),
        };
        let a = rsp_assess::assess(&policy, &inputs).unwrap();
        store
            .insert_assessment(&AssessmentRecord {
                id: format!("assess-{k}"),
                model: MODEL.into(),
                created_at: now,
                compute_flop: Some(2.2e21),
                comprehensive: a.comprehensive,
                policy_sha256: "0".repeat(64),
                decision_id: None,
                report: serde_json::to_value(&a).unwrap(),
            })
            .await
            .unwrap();
    }
    store.close().await;
    // Bulk samples on one connection, one transaction, multi-row inserts.
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(db)
                .pragma("synchronous", "OFF"),
        )
        .await
        .unwrap();
    let t0 = Instant::now();
    let mut tx = pool.begin().await.unwrap();
    let now = rsp_now();
    let mut i = 0u32;
    while i < n {
        let rows = (n - i).min(ROWS_PER_INSERT as u32);
        let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO samples (run_id, sample_id, epoch, position, value, error, retries, timing_ms, completed_at, metadata, scores, usage, target, input, output) ",
        );
        qb.push_values(i..i + rows, |mut b, p| {
            let correct = p % 10 < 3;
            let domain = ["bio", "chem", "cyber", "autonomy"][(p % 4) as usize];
            b.push_bind(run.id.clone())
                .push_bind(format!("item-{p:07}"))
                .push_bind(0i64)
                .push_bind(i64::from(p))
                .push_bind(if correct { 1.0f64 } else { 0.0 })
                .push_bind((p % 200 == 7).then_some("provider timeout"))
                .push_bind(0i64)
                .push_bind(100.0 + f64::from(p % 800))
                .push_bind(now.clone())
                .push_bind(format!(r#"{{"domain":"{domain}","difficulty":{}}}"#, p % 5 + 1))
                .push_bind(format!(r#"{{"accuracy":{{"value":{},"answer":"{}","explanation":"expected B"}}}}"#, u8::from(correct), if correct { "B" } else { "C" }))
                .push_bind(r#"{"input_tokens":57,"output_tokens":14}"#)
                .push_bind(r#"["B"]"#)
                .push_bind(format!(r#""Question {p}: which option is correct? A) one B) two C) three D) four""#))
                .push_bind(format!(r#"{{"completion":"ANSWER: {0}","messages":[{{"role":"user","content":"Question {p}: which option is correct?"}},{{"role":"assistant","content":"Let me think step by step about question {p}. The options differ in one detail; the second fits. ANSWER: {0}"}}]}}"#, if correct { "B" } else { "C" }));
        });
        qb.build().execute(&mut *tx).await.unwrap();
        i += rows;
    }
    tx.commit().await.unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await
        .unwrap();
    eprintln!(
        "inserted {n} samples in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    println!("{}", run.id);
}

fn rsp_now() -> String {
    Utc::now().format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

struct Nop;
#[async_trait]
impl LedgerVerifier for Nop {
    async fn verify(&self) -> Result<VerifySummary, String> {
        Err("not wired in the benchmark".into())
    }
}
#[async_trait]
impl AuditLog for Nop {
    async fn append(&self, _: AuditEntry) -> Result<(), String> {
        Ok(())
    }
}

type Timings = Arc<Mutex<BTreeMap<&'static str, Vec<Duration>>>>;

fn class(path: &str, query: Option<&str>) -> &'static str {
    match (path, query) {
        ("/", _) => "overview page",
        ("/api/v1/overview", _) => "overview api",
        (p, q) if p.starts_with("/runs/") && !p.contains("/samples/") => {
            if q.is_some_and(|q| {
                q.contains("error=") || q.contains("min_value") || q.contains("meta=")
            }) {
                "run page (filtered)"
            } else if q.is_some_and(|q| q.contains("after=")) {
                "run page (deep cursor)"
            } else {
                "run page (first)"
            }
        }
        (p, _) if p.contains("/samples/") => "sample page",
        (p, _) if p.starts_with("/api/v1/runs/") => "samples api",
        _ => "other",
    }
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn serve(db: &str, addr: &str) {
    let hooks = Hooks {
        verifier: Arc::new(Nop),
        audit: Arc::new(Nop),
        forecasts: None,
    };
    let mut config = ServeConfig::new(db, PolicySource::Text(policy_text()), hooks);
    config.bind = addr.parse().unwrap();
    let state = AppState::open(&config).await.unwrap();
    let timings: Timings = Arc::default();
    let t = timings.clone();
    let app = rsp_serve::router(state).layer(axum::middleware::from_fn(
        move |req: Request, next: Next| {
            let t = t.clone();
            async move {
                let c = class(req.uri().path(), req.uri().query());
                let start = Instant::now();
                let res = next.run(req).await;
                t.lock()
                    .unwrap()
                    .entry(c)
                    .or_default()
                    .push(start.elapsed());
                res
            }
        },
    ));
    let listener = tokio::net::TcpListener::bind(config.bind).await.unwrap();
    eprintln!("serving on {}", listener.local_addr().unwrap());
    let shutdown = async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).unwrap();
        tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term.recv() => {} }
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .unwrap();
    println!("server-side time per request (ms):");
    for (c, v) in timings.lock().unwrap().iter_mut() {
        v.sort();
        println!(
            "  {c:<24} n={:<7} p50={:>7.2} p99={:>7.2} max={:>7.2}",
            v.len(),
            pct(v, 0.5),
            pct(v, 0.99),
            pct(v, 1.0)
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; ignore flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    match args.first().map(String::as_str) {
        Some("fill") => rt.block_on(fill(
            &args[1],
            args.get(2).map_or(1_000_000, |n| n.parse().unwrap()),
        )),
        Some("serve") => rt.block_on(serve(
            &args[1],
            args.get(2).map_or("127.0.0.1:8719", String::as_str),
        )),
        _ => {
            eprintln!(
                "usage: serve fill DB [N] | serve serve DB [ADDR] (see benches/serve/run.sh)"
            );
        }
    }
}
