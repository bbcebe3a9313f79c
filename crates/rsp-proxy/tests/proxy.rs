//! The guard proxy end to end over loopback HTTP: a streaming upstream stub, the proxy, and
//! reqwest as the client.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rsp_proxy::{GUARD_HEADER, StreamMode};
use serde_json::Value;
use support::*;

const CUT_PROMPT: &str = "one two three four five six seven eight nine ten FORBIDDEN \
    eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty \
    a b c d e f g h i j k l m n o p q r s t u v w x y z omega-end";

fn slow_stub() -> StubConfig {
    StubConfig {
        first_delay: Duration::from_millis(5),
        chunk_delay: Duration::from_millis(3),
    }
}

#[tokio::test]
async fn allowed_stream_and_completion_pass_through_unchanged() {
    let h = start(AllowAll::default(), slow_stub(), |c| {
        c.check_every_chunks = 3;
    })
    .await;
    let prompt = "the quick brown fox jumps over the lazy dog";
    let expected: String = prompt.split(' ').map(|w| format!("{w} ")).collect();

    let r = h.chat(prompt, true).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let s = parse_stream(&r.text().await.unwrap());
    assert_eq!(s.text, expected);
    assert_eq!(s.finish_reasons, ["stop"]);
    assert_eq!(s.chunks[0]["id"], "chatcmpl-stub");

    let r = h.chat(prompt, false).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get(GUARD_HEADER).is_none());
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], expected.as_str());
    assert_eq!(v["choices"][0]["finish_reason"], "stop");

    let m = h.metrics().await;
    assert_eq!(metric(&m, "rsp_guard_requests_total{stream=\"true\"}"), 1);
    assert_eq!(metric(&m, "rsp_guard_requests_total{stream=\"false\"}"), 1);
    assert_eq!(
        metric(&m, "rsp_guard_blocked_requests_total{stage=\"output\"}"),
        0
    );
    // Input checks: 2; output: at least the end-of-stream check and the completion check.
    assert_eq!(
        metric(
            &m,
            "rsp_guard_classifier_latency_seconds_count{stage=\"input\"}"
        ),
        2
    );
    assert!(
        metric(
            &m,
            "rsp_guard_classifier_latency_seconds_count{stage=\"output\"}"
        ) >= 2
    );
}

/// Buffered mode: the stream is cut at the check that sees the keyword, and the keyword never
/// reaches the client.
#[tokio::test]
async fn buffered_stream_is_cut_before_flagged_text() {
    let guard = Keyword {
        keyword: "FORBIDDEN",
        on_input: false,
    };
    let h = start(guard, slow_stub(), |c| c.check_every_chunks = 4).await;
    let full: String = CUT_PROMPT
        .split_whitespace()
        .map(|w| format!("{w} "))
        .collect();
    let s = parse_stream(&h.chat(CUT_PROMPT, true).await.text().await.unwrap());
    assert_eq!(s.finish_reasons, ["content_filter"]);
    assert!(
        !s.text.contains("FORBIDDEN"),
        "flagged text leaked: {:?}",
        s.text
    );
    assert!(full.starts_with(&s.text), "not a prefix: {:?}", s.text);
    // The windows before the keyword passed and were released.
    assert!(s.text.starts_with("one two three four "), "{:?}", s.text);
    let last = s.chunks.last().unwrap();
    assert_eq!(
        last["id"], "chatcmpl-stub",
        "the cut chunk keeps the stream's id"
    );
    assert_eq!(last["choices"][0]["delta"], serde_json::json!({}));

    let m = h.metrics().await;
    assert_eq!(
        metric(&m, "rsp_guard_blocked_requests_total{stage=\"output\"}"),
        1
    );
    assert!(
        metric(
            &m,
            "rsp_guard_blocks_total{stage=\"output\",class=\"test-class\"}"
        ) >= 1
    );
}

/// Async mode: text flows before it is checked, and the stream is cut soon after the
/// keyword, well before the upstream's end.
#[tokio::test]
async fn async_stream_is_cut_mid_stream() {
    let guard = Keyword {
        keyword: "FORBIDDEN",
        on_input: false,
    };
    let h = start(guard, slow_stub(), |c| {
        c.check_every_chunks = 2;
        c.stream_mode = StreamMode::Async;
    })
    .await;
    let full: String = CUT_PROMPT
        .split_whitespace()
        .map(|w| format!("{w} "))
        .collect();
    let s = parse_stream(&h.chat(CUT_PROMPT, true).await.text().await.unwrap());
    assert_eq!(s.finish_reasons, ["content_filter"]);
    assert!(full.starts_with(&s.text), "not a prefix: {:?}", s.text);
    assert!(!s.text.contains("omega-end"), "not cut: {:?}", s.text);
    assert!(s.text.len() < full.len());
}

/// A block verdict on the input gives an OpenAI `chat.completion` refusal (non-streaming) and
/// a well-formed refusal stream (streaming).
#[tokio::test]
async fn blocked_input_gets_well_formed_refusals() {
    let guard = Keyword {
        keyword: "bad-request",
        on_input: true,
    };
    let h = start(guard, slow_stub(), |c| {
        c.refusal_message = "Refused by policy.".into();
    })
    .await;

    let r = h.chat("please bad-request now", false).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[GUARD_HEADER], "blocked");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["object"], "chat.completion");
    assert!(v["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(v["model"], "stub-model");
    assert!(v["created"].as_u64().is_some());
    assert_eq!(v["choices"][0]["index"], 0);
    assert_eq!(v["choices"][0]["message"]["role"], "assistant");
    assert_eq!(v["choices"][0]["message"]["content"], "Refused by policy.");
    assert_eq!(v["choices"][0]["finish_reason"], "content_filter");
    assert_eq!(v["usage"]["total_tokens"], 0);

    let r = h.chat("please bad-request now", true).await;
    assert_eq!(r.headers()[GUARD_HEADER], "blocked");
    let s = parse_stream(&r.text().await.unwrap());
    assert_eq!(s.text, "Refused by policy.");
    assert_eq!(s.finish_reasons, ["content_filter"]);

    let m = h.metrics().await;
    assert_eq!(
        metric(&m, "rsp_guard_blocked_requests_total{stage=\"input\"}"),
        2
    );
    assert_eq!(
        metric(
            &m,
            "rsp_guard_blocks_total{stage=\"input\",class=\"test-class\"}"
        ),
        2
    );
}

/// Without overlap, a blocked prompt never reaches the upstream.
#[tokio::test]
async fn sequential_input_check_keeps_blocked_prompts_from_upstream() {
    let guard = Keyword {
        keyword: "bad-request",
        on_input: true,
    };
    let h = start(guard, slow_stub(), |c| c.overlap_input_check = false).await;
    let r = h.chat("bad-request", true).await;
    assert_eq!(r.headers()[GUARD_HEADER], "blocked");
    assert_eq!(h.stub.hits.load(Ordering::SeqCst), 0);
    let r = h.chat("fine", false).await;
    assert_eq!(r.status(), 200);
    assert_eq!(h.stub.hits.load(Ordering::SeqCst), 1);
}

/// Non-streaming output is checked whole and replaced when blocked.
#[tokio::test]
async fn blocked_completion_output_is_replaced() {
    let guard = Keyword {
        keyword: "FORBIDDEN",
        on_input: false,
    };
    let h = start(guard, slow_stub(), |_| {}).await;
    let v: Value = h.chat(CUT_PROMPT, false).await.json().await.unwrap();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["id"], "chatcmpl-stub");
    let content = v["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(!content.contains("FORBIDDEN"));
    assert_eq!(content, h.state.config().refusal_message);
    assert_eq!(v["choices"][0]["finish_reason"], "content_filter");
    let m = h.metrics().await;
    assert_eq!(
        metric(&m, "rsp_guard_blocked_requests_total{stage=\"output\"}"),
        1
    );
}

#[tokio::test]
async fn dead_guard_fails_closed_and_is_counted() {
    let h = start(Dead { output_only: false }, slow_stub(), |_| {}).await;
    let r = h.chat("hello", false).await;
    assert_eq!(r.headers()[GUARD_HEADER], "fail-closed");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "content_filter");
    let r = h.chat("hello", true).await;
    let s = parse_stream(&r.text().await.unwrap());
    assert_eq!(s.finish_reasons, ["content_filter"]);
    assert!(!s.text.contains("hello"));
    let m = h.metrics().await;
    assert_eq!(
        metric(
            &m,
            "rsp_guard_fail_closed_total{stage=\"input\",reason=\"error\"}"
        ),
        2
    );
    assert_eq!(
        metric(&m, "rsp_guard_blocked_requests_total{stage=\"input\"}"),
        2
    );
}

#[tokio::test]
async fn guard_dying_on_output_cuts_the_stream() {
    let h = start(Dead { output_only: true }, slow_stub(), |c| {
        c.check_every_chunks = 2;
    })
    .await;
    let s = parse_stream(&h.chat("a b c d e f", true).await.text().await.unwrap());
    assert_eq!(s.finish_reasons, ["content_filter"]);
    assert_eq!(s.text, "", "buffered mode releases nothing unchecked");
    let m = h.metrics().await;
    assert!(
        metric(
            &m,
            "rsp_guard_fail_closed_total{stage=\"output\",reason=\"error\"}"
        ) >= 1
    );
}

#[tokio::test]
async fn slow_guard_times_out_and_fails_closed() {
    let h = start(Slow, slow_stub(), |c| {
        c.guard_timeout = Duration::from_millis(150);
    })
    .await;
    let started = Instant::now();
    let r = h.chat("hello", false).await;
    assert_eq!(r.headers()[GUARD_HEADER], "fail-closed");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "content_filter");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let m = h.metrics().await;
    assert_eq!(
        metric(
            &m,
            "rsp_guard_fail_closed_total{stage=\"input\",reason=\"timeout\"}"
        ),
        1
    );
    assert_eq!(
        metric(
            &m,
            "rsp_guard_verdicts_total{stage=\"input\",verdict=\"fail_closed\"}"
        ),
        1
    );
}

/// 50 streams at once, each echoing its own marker: every client gets exactly its own text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_streams_are_never_mixed_up() {
    let guard = AllowAll {
        delay: Duration::from_millis(2),
        ..AllowAll::default()
    };
    let stub = StubConfig {
        first_delay: Duration::from_millis(10),
        chunk_delay: Duration::from_millis(1),
    };
    let h = Arc::new(start(guard, stub, |c| c.check_every_chunks = 3).await);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let h = h.clone();
        tasks.push(tokio::spawn(async move {
            let marker = format!("marker-{i:02}");
            let prompt = vec![marker.as_str(); 20].join(" ");
            let s = parse_stream(&h.chat(&prompt, true).await.text().await.unwrap());
            assert_eq!(s.finish_reasons, ["stop"], "stream {i}");
            assert_eq!(s.text, format!("{marker} ").repeat(20), "stream {i}");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let m = h.metrics().await;
    assert_eq!(metric(&m, "rsp_guard_requests_total{stream=\"true\"}"), 50);
}

#[tokio::test]
async fn upstream_model_overrides_the_clients_choice() {
    let h = start(AllowAll::default(), StubConfig::default(), |c| {
        c.upstream_model = Some("pinned-model".into());
    })
    .await;
    let s = parse_stream(&h.chat("hi there", true).await.text().await.unwrap());
    // The stub labels its chunks with the model it was asked for.
    assert!(s.chunks.iter().all(|c| c["model"] == "pinned-model"));
    assert_eq!(s.text, "hi there ");
}

#[tokio::test]
async fn models_pass_through_and_metrics_are_prometheus_text() {
    let h = start(AllowAll::default(), StubConfig::default(), |_| {}).await;
    let r = h
        .client
        .get(format!("{}/v1/models", h.proxy))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"][0]["id"], "stub-model");
    let r = h
        .client
        .get(format!("{}/metrics", h.proxy))
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = r.text().await.unwrap();
    for family in [
        "rsp_guard_requests_total counter",
        "rsp_guard_blocks_total counter",
        "rsp_guard_fail_closed_total counter",
        "rsp_guard_upstream_errors_total counter",
        "rsp_guard_classifier_latency_seconds histogram",
    ] {
        assert!(text.contains(&format!("# TYPE {family}")), "{family}");
    }
}

#[tokio::test]
async fn unreachable_upstream_is_a_502_and_counted() {
    // A port that was free a moment ago: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let config = rsp_proxy::ProxyConfig::new(format!("http://127.0.0.1:{port}/v1"));
    let state = rsp_proxy::ProxyState::new(config, Arc::new(AllowAll::default())).unwrap();
    let proxy = spawn(rsp_proxy::router(state.clone())).await;
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{proxy}/v1/chat/completions"))
        .json(&serde_json::json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["type"], "upstream_error");
    let m = state.metrics().render();
    assert_eq!(
        metric(&m, "rsp_guard_upstream_errors_total{kind=\"connect\"}"),
        1
    );
}

#[tokio::test]
async fn malformed_requests_get_an_openai_style_400() {
    let h = start(AllowAll::default(), StubConfig::default(), |_| {}).await;
    let r = h
        .client
        .post(format!("{}/v1/chat/completions", h.proxy))
        .body("{\"model\": \"m\"}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert_eq!(h.stub.hits.load(Ordering::SeqCst), 0);
}
