//! Guard-proxy overhead: added latency and throughput in front of a fixed-latency upstream.
//!
//! Everything runs in this process over loopback HTTP: an OpenAI-style upstream stub that
//! waits `RSP_BENCH_UPSTREAM_MS` (200) and then streams `RSP_BENCH_CHUNKS` (32) chunks, a
//! sleep-based guard standing in for a remote judge (`RSP_BENCH_JUDGE_MS`, 50), and
//! `RSP_BENCH_CONCURRENCY` (50) closed-loop clients. Each request carries a unique marker the
//! stub echoes in every chunk, so a dropped, truncated or mixed-up stream is detected.
//!
//! Phase 1 compares direct-to-upstream with the proxy in three configurations, interleaved
//! round-robin over `RSP_BENCH_REPS` (3) repetitions so machine-load drift hits all alike.
//! Phase 2 measures maximum requests/s with a zero-latency upstream and an instant guard.
//!
//! Run: `cargo bench -p rsp-proxy --bench overhead` (or `benches/proxy/run.sh`).
#![allow(clippy::unwrap_used, clippy::cast_precision_loss)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::post;
use futures::StreamExt as _;
use rsp_model::Message;
use rsp_proxy::{Guard, GuardFailure, GuardVerdict, ProxyConfig, ProxyState, StreamMode};
use serde_json::{Value, json};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Debug, Clone, Copy)]
struct StubCfg {
    latency: Duration,
    chunks: usize,
}

async fn stub_chat(State(cfg): State<StubCfg>, body: Bytes) -> impl IntoResponse {
    let body: Value = serde_json::from_slice(&body).unwrap();
    let marker = body["messages"][0]["content"].as_str().unwrap().to_owned();
    let frame = |delta: Value, finish: Value| {
        let v = json!({"id": "chatcmpl-b", "object": "chat.completion.chunk", "created": 1,
                       "model": "stub", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        Bytes::from(format!("data: {v}\n\n"))
    };
    let mut frames = vec![frame(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    for _ in 0..cfg.chunks {
        frames.push(frame(json!({"content": format!("{marker} ")}), Value::Null));
    }
    frames.push(frame(json!({}), json!("stop")));
    frames.push(Bytes::from_static(b"data: [DONE]\n\n"));
    let latency = cfg.latency;
    let stream = futures::stream::once(async move {
        tokio::time::sleep(latency).await;
        futures::stream::iter(frames.into_iter().map(Ok::<_, Infallible>))
    })
    .flatten();
    (
        [("content-type", "text/event-stream")],
        Body::from_stream(stream),
    )
}

async fn spawn(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// A remote judge stand-in: answers "allow" after a fixed delay.
#[derive(Debug)]
struct SleepGuard(Duration);

#[async_trait]
impl Guard for SleepGuard {
    async fn classify(&self, _: &[Message], _: Option<&str>) -> Result<GuardVerdict, GuardFailure> {
        tokio::time::sleep(self.0).await;
        Ok(GuardVerdict::allow(0.0))
    }
}

/// One request's timings (ms) from send to first content, last content and `[DONE]`.
#[derive(Debug, Clone, Copy)]
struct Sample {
    first: f64,
    last: f64,
    done: f64,
}

/// Sends one streaming request and verifies the stream; `None` when it was dropped, cut,
/// malformed or carried another request's text.
async fn one(client: &reqwest::Client, url: &str, marker: &str, chunks: usize) -> Option<Sample> {
    let t0 = Instant::now();
    let r = client
        .post(url)
        .json(&json!({"model": "stub", "stream": true,
                      "messages": [{"role": "user", "content": marker}]}))
        .send()
        .await
        .ok()?;
    let mut body = r.bytes_stream();
    let mut buf = String::new();
    let (mut first, mut last, mut done) = (None, None, None);
    let mut text = String::new();
    let mut finish = None;
    while let Some(b) = body.next().await {
        buf.push_str(std::str::from_utf8(&b.ok()?).ok()?);
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let data = frame.trim_end().strip_prefix("data: ")?;
            let now = t0.elapsed().as_secs_f64() * 1e3;
            if data == "[DONE]" {
                done = Some(now);
                continue;
            }
            let v: Value = serde_json::from_str(data).ok()?;
            let c = &v["choices"][0];
            if let Some(t) = c["delta"]["content"].as_str().filter(|t| !t.is_empty()) {
                first.get_or_insert(now);
                last = Some(now);
                text.push_str(t);
            }
            if let Some(f) = c["finish_reason"].as_str() {
                finish = Some(f.to_owned());
            }
        }
    }
    let ok = finish.as_deref() == Some("stop") && text == format!("{marker} ").repeat(chunks);
    ok.then_some(Sample {
        first: first?,
        last: last?,
        done: done?,
    })
}

/// `concurrency` clients each sending `per_client` requests back to back.
async fn load(
    client: &reqwest::Client,
    url: &str,
    tag: &str,
    concurrency: usize,
    per_client: usize,
    chunks: usize,
) -> (Vec<Sample>, usize, Duration) {
    let dropped = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..concurrency {
        let (client, url, tag, dropped) = (
            client.clone(),
            url.to_owned(),
            tag.to_owned(),
            dropped.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for i in 0..per_client {
                let marker = format!("{tag}-c{c}-r{i}");
                match one(&client, &url, &marker, chunks).await {
                    Some(s) => out.push(s),
                    None => {
                        dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            out
        }));
    }
    let mut samples = Vec::new();
    for t in tasks {
        samples.extend(t.await.unwrap());
    }
    (samples, dropped.load(Ordering::Relaxed), started.elapsed())
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn sorted(v: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = v.collect();
    v.sort_by(f64::total_cmp);
    v
}

async fn proxy(upstream: &str, judge: Duration, tweak: impl FnOnce(&mut ProxyConfig)) -> String {
    let mut config = ProxyConfig::new(format!("{upstream}/v1"));
    tweak(&mut config);
    let state = ProxyState::new(config, Arc::new(SleepGuard(judge))).unwrap();
    format!(
        "{}/v1/chat/completions",
        spawn(rsp_proxy::router(state)).await
    )
}

#[derive(Default)]
struct Acc {
    samples: Vec<Sample>,
    dropped: usize,
    requests: usize,
    wall: Duration,
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    let upstream_ms = env("RSP_BENCH_UPSTREAM_MS", 200);
    let judge_ms = env("RSP_BENCH_JUDGE_MS", 50);
    let concurrency = env("RSP_BENCH_CONCURRENCY", 50) as usize;
    let per_client = env("RSP_BENCH_PER_CLIENT", 6) as usize;
    let reps = env("RSP_BENCH_REPS", 3) as usize;
    let chunks = env("RSP_BENCH_CHUNKS", 32) as usize;
    let every = env("RSP_BENCH_CHECK_EVERY", 16) as usize;
    let judge = Duration::from_millis(judge_ms);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .build()
        .unwrap();

    let stub_cfg = StubCfg {
        latency: Duration::from_millis(upstream_ms),
        chunks,
    };
    let upstream = spawn(
        Router::new()
            .route("/v1/chat/completions", post(stub_chat))
            .with_state(stub_cfg),
    )
    .await;
    let configs: Vec<(&str, String)> = vec![
        ("direct", format!("{upstream}/v1/chat/completions")),
        (
            "proxy buffered, overlapped input",
            proxy(&upstream, judge, |c| c.check_every_chunks = every).await,
        ),
        (
            "proxy async, overlapped input",
            proxy(&upstream, judge, |c| {
                c.check_every_chunks = every;
                c.stream_mode = StreamMode::Async;
            })
            .await,
        ),
        (
            "proxy buffered, sequential input",
            proxy(&upstream, judge, |c| {
                c.check_every_chunks = every;
                c.overlap_input_check = false;
            })
            .await,
        ),
    ];
    println!(
        "phase 1: upstream {upstream_ms} ms then {chunks} chunks; judge {judge_ms} ms; \
         check every {every} chunks; {concurrency} concurrent streams x {per_client} requests x {reps} reps"
    );
    // Warm-up: open pooled connections everywhere.
    for (tag, url) in &configs {
        load(&client, url, &format!("warm-{tag}"), concurrency, 1, chunks).await;
    }
    let mut acc: Vec<Acc> = configs.iter().map(|_| Acc::default()).collect();
    for rep in 0..reps {
        for (k, (tag, url)) in configs.iter().enumerate() {
            let (s, dropped, wall) = load(
                &client,
                url,
                &format!("{tag}-{rep}"),
                concurrency,
                per_client,
                chunks,
            )
            .await;
            let a = &mut acc[k];
            a.requests += concurrency * per_client;
            a.dropped += dropped;
            a.samples.extend(s);
            a.wall += wall;
        }
    }
    let base = |f: fn(&Sample) -> f64| pct(&sorted(acc[0].samples.iter().map(f)), 0.5);
    let (b_first, b_last, b_done) = (base(|s| s.first), base(|s| s.last), base(|s| s.done));
    println!();
    println!(
        "| config | first token p50 / p99 (ms) | last token p50 / p99 | [DONE] p50 / p99 | added p50: first / last / [DONE] | req/s | dropped or mixed |"
    );
    println!("|---|---|---|---|---|---|---|");
    for ((tag, _), a) in configs.iter().zip(&acc) {
        let f = sorted(a.samples.iter().map(|s| s.first));
        let l = sorted(a.samples.iter().map(|s| s.last));
        let d = sorted(a.samples.iter().map(|s| s.done));
        let added =
            |p50: f64, b: f64| format!("{:+.0} ms ({:+.1}%)", p50 - b, (p50 - b) / b * 100.0);
        println!(
            "| {tag} | {:.0} / {:.0} | {:.0} / {:.0} | {:.0} / {:.0} | {} / {} / {} | {:.0} | {} of {} |",
            pct(&f, 0.5),
            pct(&f, 0.99),
            pct(&l, 0.5),
            pct(&l, 0.99),
            pct(&d, 0.5),
            pct(&d, 0.99),
            added(pct(&f, 0.5), b_first),
            added(pct(&l, 0.5), b_last),
            added(pct(&d, 0.5), b_done),
            a.samples.len() as f64 / a.wall.as_secs_f64(),
            a.dropped,
            a.requests,
        );
    }

    // Phase 2: capacity. Zero-latency upstream, instant guard, many clients.
    let cap_conc = env("RSP_BENCH_CAP_CONCURRENCY", 64) as usize;
    let cap_per = env("RSP_BENCH_CAP_PER_CLIENT", 20) as usize;
    let fast = StubCfg {
        latency: Duration::ZERO,
        chunks,
    };
    let upstream = spawn(
        Router::new()
            .route("/v1/chat/completions", post(stub_chat))
            .with_state(fast),
    )
    .await;
    let targets = vec![
        ("direct", format!("{upstream}/v1/chat/completions")),
        (
            "proxy buffered",
            proxy(&upstream, Duration::ZERO, |c| c.check_every_chunks = every).await,
        ),
    ];
    println!();
    println!(
        "phase 2: max throughput, upstream 0 ms, guard 0 ms, {cap_conc} clients x {cap_per} requests ({chunks} chunks each)"
    );
    println!("| target | req/s | dropped or mixed |");
    println!("|---|---|---|");
    for (tag, url) in &targets {
        load(&client, url, &format!("warm2-{tag}"), cap_conc, 1, chunks).await;
        let (s, dropped, wall) = load(
            &client,
            url,
            &format!("cap-{tag}"),
            cap_conc,
            cap_per,
            chunks,
        )
        .await;
        println!(
            "| {tag} | {:.0} | {dropped} of {} |",
            s.len() as f64 / wall.as_secs_f64(),
            cap_conc * cap_per
        );
    }
}
