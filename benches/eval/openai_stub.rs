//! A minimal OpenAI-compatible chat server for the eval benchmark (`benches/eval/run.sh`).
//!
//! Every `POST /v1/chat/completions` waits a fixed latency, then answers with the last
//! whitespace-separated word of the last message, so a task whose target is that word
//! scores 1.0 in any harness. Nothing here is rsp code: rsp and Inspect hit the same server
//! and only the client side differs. It runs on one thread (at 2,000 requests a second the
//! server needs a fraction of a core) and counts requests and peak concurrency, printed on
//! `GET /stats` and at exit.
//!
//! Build and run: `cargo run --release -p rsp --example openai_stub -- --port 8011 --latency-ms 50`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

#[derive(Debug, Default)]
struct Stats {
    requests: AtomicU64,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

#[derive(Debug)]
struct Stub {
    latency: Duration,
    stats: Stats,
}

/// Decrements the in-flight count even if the client hangs up mid-wait.
struct Flight<'a>(&'a Stats);

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn chat(State(stub): State<Arc<Stub>>, Json(body): Json<Value>) -> Json<Value> {
    let now = stub.stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    stub.stats.peak.fetch_max(now, Ordering::SeqCst);
    let _flight = Flight(&stub.stats);
    tokio::time::sleep(stub.latency).await;
    stub.stats.requests.fetch_add(1, Ordering::SeqCst);
    let last = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .map(|m| match &m["content"] {
            Value::String(s) => s.clone(),
            // Content as a list of parts (newer OpenAI clients).
            Value::Array(parts) => parts
                .iter()
                .filter_map(|p| p["text"].as_str())
                .collect::<Vec<_>>()
                .join(" "),
            _ => String::new(),
        })
        .unwrap_or_default();
    let answer = last.split_whitespace().last().unwrap_or("").to_owned();
    let model = body["model"].as_str().unwrap_or("stub").to_owned();
    Json(json!({
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": answer},
            "finish_reason": "stop",
            "logprobs": null
        }],
        "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11}
    }))
}

async fn stats(State(stub): State<Arc<Stub>>) -> Json<Value> {
    Json(json!({
        "requests": stub.stats.requests.load(Ordering::SeqCst),
        "in_flight": stub.stats.in_flight.load(Ordering::SeqCst),
        "peak_concurrency": stub.stats.peak.load(Ordering::SeqCst),
    }))
}

/// Resets the counters between the two harnesses' runs.
async fn reset(State(stub): State<Arc<Stub>>) -> Json<Value> {
    stub.stats.requests.store(0, Ordering::SeqCst);
    stub.stats.peak.store(0, Ordering::SeqCst);
    Json(json!({"ok": true}))
}

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let port = u16::try_from(arg(&args, "--port", 8011)).unwrap_or(8011);
    let stub = Arc::new(Stub {
        latency: Duration::from_millis(arg(&args, "--latency-ms", 50)),
        stats: Stats::default(),
    });
    let app = Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/chat/completions", post(chat))
        .route("/stats", get(stats))
        .route("/reset", post(reset))
        .with_state(Arc::clone(&stub));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!(
        "openai stub on http://{}/v1, latency {:?}",
        listener.local_addr()?,
        stub.latency
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    eprintln!(
        "served {} requests, peak concurrency {}",
        stub.stats.requests.load(Ordering::SeqCst),
        stub.stats.peak.load(Ordering::SeqCst)
    );
    Ok(())
}
