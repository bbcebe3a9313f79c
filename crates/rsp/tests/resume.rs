//! Exact resumption of `rsp eval`, end to end: the real binary runs a built-in suite
//! against a loopback OpenAI-compatible stub, is stopped at seeded random points (once by
//! SIGINT, then repeatedly by `kill -9`), and is re-run until it finishes. The store must
//! then hold every sample-epoch exactly once, must never have lost or rewritten a sample
//! that was committed before a kill, and must equal an uninterrupted run of the same
//! command sample by sample (order, seeds, outputs, scores) and in its summary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use rsp_store::{RunFilter, RunRecord, RunStatus, RunStore as _, SampleFilter, SqliteStore};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// Samples × epochs: 40 × 2.
const LIMIT: usize = 40;
const EPOCHS: u32 = 2;
const PLANNED: usize = LIMIT * EPOCHS as usize;
/// Interruptions before the final run: one SIGINT, then `kill -9`s.
const KILLS: usize = 6;

/// FNV-1a, so the stub's answers are a pure function of the request.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Completed responses, counted after their latency: the kill points are measured in it.
#[derive(Default)]
struct Stub {
    served: AtomicUsize,
}

/// Answers a letter chosen by the messages and the seed (so a changed seed or prompt
/// changes outputs), after 2–17 ms.
async fn chat(State(stub): State<Arc<Stub>>, Json(body): Json<Value>) -> Json<Value> {
    let h = fnv(format!("{}|{}", body["messages"], body["seed"]).as_bytes());
    tokio::time::sleep(Duration::from_millis(2 + h % 16)).await;
    let letter = ["A", "B", "C", "D"][(h >> 8) as usize % 4];
    stub.served.fetch_add(1, Ordering::SeqCst);
    Json(json!({
        "id": "stub", "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": letter},
                     "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 1, "total_tokens": 21}
    }))
}

async fn start_stub() -> (String, Arc<Stub>) {
    let stub = Arc::new(Stub::default());
    let app = Router::new()
        .route("/v1/chat/completions", post(chat))
        .with_state(Arc::clone(&stub));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/v1"), stub)
}

/// A small seeded generator (splitmix64) for the kill points.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % n.max(1)
    }
}

fn rsp(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rsp"));
    c.args(args)
        .current_dir(dir)
        .env_remove("RSP_PROJECT")
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c
}

async fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let o = rsp(dir.path(), &["init"]).output().await.unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    dir
}

fn eval_args(url: &str) -> Vec<String> {
    [
        "eval",
        "knowledge-proxy/mc",
        "--model",
        "openai/stub",
        "--base-url",
        url,
        "--limit",
        &LIMIT.to_string(),
        "--epochs",
        &EPOCHS.to_string(),
        "--max-concurrency",
        "4",
    ]
    .map(String::from)
    .to_vec()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn db(dir: &Path) -> PathBuf {
    SqliteStore::default_path(dir)
}

/// The project's runs and, for each, its samples keyed by `(sample id, epoch)`.
async fn snapshot(dir: &Path) -> Vec<(RunRecord, BTreeMap<(String, u32), Value>)> {
    if !db(dir).is_file() {
        return Vec::new();
    }
    let store = SqliteStore::open(db(dir)).await.unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), Vec::<String>::new());
    let mut out = Vec::new();
    for run in store.list_runs(&RunFilter::default()).await.unwrap() {
        let page = store
            .list_samples(&run.id, &SampleFilter::default(), None, 10_000)
            .await
            .unwrap();
        let mut samples = BTreeMap::new();
        for s in page.samples {
            let key = (s.sample_id.clone(), s.epoch);
            let v = serde_json::to_value(&s).unwrap();
            assert!(samples.insert(key, v).is_none(), "a key stored twice");
        }
        out.push((run, samples));
    }
    out
}

/// Spawns the eval and stops it with `signal` once the stub has served `after` more
/// responses (or at once when `after` is 0). Returns false if it finished first.
async fn interrupt(mut child: Child, stub: &Stub, after: usize, sigint: bool) -> (bool, Output) {
    let base = stub.served.load(Ordering::SeqCst);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if child.try_wait().unwrap().is_some() {
            return (false, child.wait_with_output().await.unwrap());
        }
        if stub.served.load(Ordering::SeqCst) >= base + after {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the eval stalled");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    if sigint {
        let pid = child.id().unwrap().to_string();
        let k = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(k.success());
    } else {
        child.start_kill().unwrap(); // SIGKILL
    }
    (true, child.wait_with_output().await.unwrap())
}

/// Sample fields that must match an uninterrupted run (everything but run id, timing and
/// wall-clock stamps).
fn comparable(mut v: Value) -> Value {
    let o = v.as_object_mut().unwrap();
    for k in ["run_id", "timing_ms", "completed_at"] {
        o.remove(k);
    }
    let extra = o["output"].as_object_mut().unwrap();
    extra.remove("started_at");
    extra.remove("completed_at");
    v
}

fn summary_without_time(run: &RunRecord) -> Value {
    let mut s = run.summary.clone().expect("a finished run has a summary");
    s.as_object_mut().unwrap().remove("finished_at");
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_runs_resume_exactly() {
    let (url, stub) = start_stub().await;
    let args = eval_args(&url);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let seed = 0x5eed_2025;
    let mut rng = Rng(seed);

    let interrupted = project().await;
    let dir = interrupted.path();
    let mut seen: BTreeMap<(String, u32), Value> = BTreeMap::new();
    let mut kills = 0;
    for round in 0..KILLS {
        let remaining = (PLANNED - seen.len()) as u64;
        // 0 kills before the first response (even before the run exists); otherwise a
        // point well inside what is left, so every round interrupts real work.
        let after = rng.below(remaining / 3) as usize;
        let sigint = round == 0;
        let child = rsp(dir, &args).spawn().unwrap();
        let (stopped, out) = interrupt(child, &stub, after.max(usize::from(sigint)), sigint).await;
        assert!(
            stopped,
            "seed {seed:#x} round {round}: finished early\n{}",
            text(&out)
        );
        kills += 1;
        if sigint {
            assert_eq!(out.status.code(), Some(130), "{}", text(&out));
            assert!(
                String::from_utf8_lossy(&out.stderr).contains("interrupted by SIGINT"),
                "{}",
                text(&out)
            );
        }
        let runs = snapshot(dir).await;
        assert!(runs.len() <= 1, "one run per identity, got {}", runs.len());
        if let Some((run, now)) = runs.into_iter().next() {
            // SIGINT marks the run; `kill -9` leaves it `running` (or as it was, when the
            // process died before reopening it). Never `completed`.
            if sigint {
                assert_eq!(run.status, RunStatus::Interrupted);
            } else {
                assert_ne!(run.status, RunStatus::Completed, "round {round}");
            }
            assert_eq!(run.total_samples, PLANNED as u64);
            for (key, before) in &seen {
                assert_eq!(
                    now.get(key),
                    Some(before),
                    "seed {seed:#x} round {round}: {key:?} was lost or rewritten"
                );
            }
            seen = now;
        }
        eprintln!(
            "round {round}: stopped after {after} responses, {} of {PLANNED} stored",
            seen.len()
        );
    }
    assert_eq!(kills, KILLS);
    assert!(seen.len() < PLANNED, "the kills left work to do");

    // The last stop was a `kill -9`, which cannot mark the run; its released lock file
    // tells the next command that nobody owns the run, so `runs list` shows it
    // `interrupted`, not `running` forever.
    let o = rsp(dir, &["runs", "list", "--json"])
        .output()
        .await
        .unwrap();
    let listed: Value = serde_json::from_slice(&o.stdout).expect("runs list --json");
    let status = listed[0]["status"].as_str().unwrap_or_default();
    assert_eq!(status, "interrupted", "{}", text(&o));
    assert_eq!(listed[0]["samples"], seen.len(), "{}", text(&o));
    let id = listed[0]["run"].as_str().unwrap().to_owned();

    // Finish with --resume (an id prefix), the same as re-running the command.
    let o = rsp(dir, &["eval", "--resume", &id[..16], "--base-url", &url])
        .output()
        .await
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let resumed_line = format!("{} run now, {} resumed", PLANNED - seen.len(), seen.len());
    assert!(stdout.contains(&resumed_line), "{}", text(&o));

    let clean = project().await;
    let o = rsp(clean.path(), &args).output().await.unwrap();
    assert!(o.status.success(), "{}", text(&o));

    let mut a = snapshot(dir).await;
    let mut b = snapshot(clean.path()).await;
    assert_eq!((a.len(), b.len()), (1, 1));
    let (run_a, samples_a) = a.remove(0);
    let (run_b, samples_b) = b.remove(0);
    assert_eq!(run_a.id, id);
    assert_eq!(run_a.status, RunStatus::Completed);
    assert_eq!(run_a.task_hash, run_b.task_hash, "same identity");

    // Every sample-epoch exactly once.
    let ids: BTreeSet<&str> = samples_a.keys().map(|(s, _)| s.as_str()).collect();
    assert_eq!(ids.len(), LIMIT);
    assert_eq!(samples_a.len(), PLANNED);
    for id in &ids {
        for e in 0..EPOCHS {
            assert!(
                samples_a.contains_key(&(id.to_string(), e)),
                "{id} epoch {e}"
            );
        }
    }
    // Nothing committed before a kill was lost or rewritten by the final run.
    for (key, before) in &seen {
        assert_eq!(samples_a.get(key), Some(before), "{key:?}");
    }
    // Sample by sample equal to the uninterrupted run: order, seeds, outputs, scores.
    let order = |m: &BTreeMap<(String, u32), Value>| {
        let mut v: Vec<(u64, u64, Value)> = m
            .values()
            .map(|s| {
                (
                    s["position"].as_u64().unwrap(),
                    s["epoch"].as_u64().unwrap(),
                    comparable(s.clone()),
                )
            })
            .collect();
        v.sort_by_key(|(p, e, _)| (*p, *e));
        v
    };
    assert_eq!(order(&samples_a), order(&samples_b));
    let (sa, sb) = (summary_without_time(&run_a), summary_without_time(&run_b));
    assert!(same_up_to_rounding(&sa, &sb), "{sa:#}\n!=\n{sb:#}");
}

/// JSON equality, except that numbers may differ in the last bits: rsp-stats sums the
/// clustered interval's per-cluster residuals in hash-map order, which varies from process
/// to process (a last-digit difference in the CR1 bounds of two identical runs). Counts,
/// estimates, methods and every other field must match exactly.
fn same_up_to_rounding(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_up_to_rounding(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_up_to_rounding(v, w)))
        }
        _ => a == b,
    }
}
