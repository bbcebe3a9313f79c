//! Hosted providers against a real HTTP server on a loopback port: retries, `Retry-After`,
//! the adaptive limit, timeouts, malformed bodies, scoring with echoed logprobs, streaming,
//! and the Anthropic format. Secrets staying secret: see `secrets.rs`.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use rsp_model::{
    Error, GenerateConfig, ModelApi, ProviderEnv, ProviderFactory, ProviderOptions, ScoreRequest,
    StopReason, StreamEvent,
};
use support::{KEY, Reply, Stub, ask, chat_ok, echo_body, factory};

#[tokio::test]
async fn chat_completion_success_is_parsed_and_authenticated() {
    let stub = Stub::start(vec![Reply::ok(&chat_ok("Hello!"))]).await;
    let model = factory(&stub, 0, Duration::from_secs(5))
        .build("openai/test-model")
        .unwrap();
    let config = GenerateConfig {
        stop: vec!["\n".into()],
        seed: Some(3),
        ..GenerateConfig::greedy(16)
    };
    let g = model.generate(&ask(), &config).await.unwrap();
    assert_eq!(g.text(), "Hello!");
    assert_eq!(g.model, "openai/test-model");
    assert_eq!(g.choices[0].stop_reason, StopReason::EndOfTurn);
    assert_eq!((g.usage.input_tokens, g.usage.output_tokens), (11, 3));
    assert_eq!(g.meta.attempts, 1);
    let seen = stub.seen();
    assert_eq!(seen[0].path, "/v1/chat/completions");
    assert_eq!(seen[0].headers["authorization"], format!("Bearer {KEY}"));
    assert_eq!(seen[0].body["model"], "test-model");
    assert_eq!(seen[0].body["max_tokens"], 16);
    assert_eq!(seen[0].body["seed"], 3);
    assert_eq!(seen[0].body["stop"][0], "\n");
    assert_eq!(seen[0].body["messages"][0]["role"], "system");
}

#[tokio::test]
async fn retries_429_honouring_retry_after_and_500_then_succeeds() {
    let stub = Stub::start(vec![
        Reply::rate_limited("0.4"),
        Reply::status(500, "boom"),
        Reply::ok(&chat_ok("ok")),
    ])
    .await;
    let model = factory(&stub, 3, Duration::from_secs(5))
        .openai("m")
        .unwrap();
    let started = Instant::now();
    let g = model
        .generate(&ask(), &GenerateConfig::default())
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "Retry-After of 0.4 s must be honoured"
    );
    assert_eq!(g.text(), "ok");
    assert_eq!(g.meta.attempts, 3);
    assert_eq!(g.meta.retries(), 2);
    assert_eq!(g.meta.errors.len(), 2);
    assert!(
        g.meta.errors[0].starts_with("HTTP 429"),
        "{:?}",
        g.meta.errors
    );
    assert!(
        g.meta.errors[1].starts_with("HTTP 500: boom"),
        "{:?}",
        g.meta.errors
    );
    assert_eq!(stub.seen().len(), 3);
}

#[tokio::test]
async fn rate_limits_shrink_the_concurrency_limit_and_successes_grow_it_back() {
    let stub = Stub::start(vec![Reply::rate_limited("0"), Reply::rate_limited("0")]).await;
    stub.set_default(Reply::ok(&chat_ok("ok")));
    let model = factory(&stub, 5, Duration::from_secs(5))
        .openai("m")
        .unwrap();
    assert_eq!(model.concurrency_limit(), 4);
    let g = model
        .generate(&ask(), &GenerateConfig::default())
        .await
        .unwrap();
    assert_eq!(g.meta.attempts, 3);
    // 4 → 2 → 1 on the two 429s, then one success: 1 + 1/1 = 2.
    assert_eq!(model.concurrency_limit(), 2);
    for _ in 0..3 {
        model
            .generate(&ask(), &GenerateConfig::default())
            .await
            .unwrap();
    }
    assert_eq!(
        model.concurrency_limit(),
        3,
        "grows back additively, not all at once"
    );
}

#[tokio::test]
async fn concurrent_calls_never_exceed_the_limit() {
    let stub = Stub::start(Vec::new()).await;
    stub.set_default(Reply::Slow {
        delay: Duration::from_millis(60),
        body: chat_ok("ok").to_string(),
    });
    let env = ProviderEnv {
        openai_base_url: Some(stub.base_url()),
        ..ProviderEnv::default()
    };
    let factory = ProviderFactory::new(ProviderOptions {
        initial_concurrency: 2,
        max_concurrency: 2,
        ..ProviderOptions::new(env)
    })
    .unwrap();
    let model: Arc<dyn ModelApi> = factory.build("openai/m").unwrap();
    let calls = (0..8).map(|_| {
        let m = model.clone();
        tokio::spawn(async move { m.generate(&ask(), &GenerateConfig::default()).await })
    });
    for r in futures::future::join_all(calls).await {
        assert_eq!(r.unwrap().unwrap().text(), "ok");
    }
    assert_eq!(stub.peak_concurrency(), 2);
    assert!(
        stub.seen()[0].headers.get("authorization").is_none(),
        "no key configured, none sent"
    );
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let stub = Stub::start(vec![
        Reply::status(400, r#"{"error":"bad request"}"#),
        Reply::ok(&chat_ok("never")),
    ])
    .await;
    let model = factory(&stub, 5, Duration::from_secs(5))
        .build("openai/m")
        .unwrap();
    let err = model
        .generate(&ask(), &GenerateConfig::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Status {
                status: 400,
                attempts: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(stub.seen().len(), 1);
}

#[tokio::test]
async fn exhausted_retries_report_the_last_status_and_attempts() {
    let stub = Stub::start(Vec::new()).await;
    stub.set_default(Reply::status(503, "overloaded"));
    let model = factory(&stub, 2, Duration::from_secs(5))
        .build("openai/m")
        .unwrap();
    let err = model
        .generate(&ask(), &GenerateConfig::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Status { status: 503, attempts: 3, ref body, .. } if body == "overloaded"),
        "{err:?}"
    );
    assert_eq!(stub.seen().len(), 3);
}

#[tokio::test]
async fn slow_responses_time_out_and_are_retried() {
    let slow = Reply::Slow {
        delay: Duration::from_millis(1500),
        body: chat_ok("late").to_string(),
    };
    let stub = Stub::start(vec![slow, Reply::ok(&chat_ok("in time"))]).await;
    let model = factory(&stub, 1, Duration::from_millis(200))
        .build("openai/m")
        .unwrap();
    let g = model
        .generate(&ask(), &GenerateConfig::default())
        .await
        .unwrap();
    assert_eq!(g.text(), "in time");
    assert_eq!(g.meta.attempts, 2);
    assert!(
        g.meta.errors[0].contains("timed out") || g.meta.errors[0].contains("timeout"),
        "{:?}",
        g.meta.errors
    );

    let slow = Reply::Slow {
        delay: Duration::from_millis(1500),
        body: chat_ok("late").to_string(),
    };
    let stub = Stub::start(vec![slow.clone(), slow]).await;
    let model = factory(&stub, 1, Duration::from_millis(200))
        .build("openai/m")
        .unwrap();
    match model
        .generate(&ask(), &GenerateConfig::default())
        .await
        .unwrap_err()
    {
        Error::Http {
            attempts, source, ..
        } => {
            assert_eq!(attempts, 2);
            assert!(source.is_timeout());
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn truncated_and_empty_bodies_are_errors_not_empty_answers() {
    let stub = Stub::start(vec![
        Reply::raw(r#"{"choices": [{"index": 0, "message": {"content": "Par"#),
        Reply::ok(&serde_json::json!({"choices": []})),
        Reply::raw(""),
    ])
    .await;
    let model = factory(&stub, 3, Duration::from_secs(5))
        .build("openai/m")
        .unwrap();
    let err = model
        .generate(&ask(), &GenerateConfig::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::MalformedResponse { .. }), "{err:?}");
    let err = model
        .generate(&ask(), &GenerateConfig::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::IncompleteResponse {
                what: "choices",
                ..
            }
        ),
        "{err:?}"
    );
    let err = model
        .generate(&ask(), &GenerateConfig::default())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::MalformedResponse { .. }), "{err:?}");
    assert_eq!(
        stub.seen().len(),
        3,
        "malformed bodies are recorded errors, not retried"
    );
}

#[tokio::test]
async fn scores_continuations_from_echoed_logprobs() {
    let context = "The capital of France is";
    let body = echo_body(&[
        ("The capital of France is Paris", -0.5),
        ("The capital of France is Berlin", -4.0),
    ]);
    let stub = Stub::start(vec![Reply::ok(&body)]).await;
    let model = factory(&stub, 0, Duration::from_secs(5))
        .build("openai/m")
        .unwrap();
    assert!(model.capabilities().scoring);
    let scores = model
        .score(&ScoreRequest::new(context, [" Paris", " Berlin"]))
        .await
        .unwrap();
    assert_eq!(scores.argmax(), Some(0));
    assert_eq!(scores.scores[0].n_tokens, 1);
    assert!(
        (scores.scores[0].logprob - -0.5).abs() < 1e-9,
        "the generated token is not scored"
    );
    assert!((scores.scores[1].logprob - -4.0).abs() < 1e-9);
    assert!(scores.scores[0].is_greedy);
    let seen = &stub.seen()[0];
    assert_eq!(seen.path, "/v1/completions");
    assert_eq!(seen.body["echo"], true);
    assert_eq!(seen.body["logprobs"], 1);
    assert_eq!(seen.body["prompt"][1], "The capital of France is Berlin");
}

#[tokio::test]
async fn scoring_without_echoed_logprobs_is_a_clear_error() {
    let stub = Stub::start(vec![Reply::ok(
        &serde_json::json!({"choices": [{"index": 0, "text": "x"}]}),
    )])
    .await;
    let model = factory(&stub, 0, Duration::from_secs(5))
        .build("openai/m")
        .unwrap();
    let err = model
        .score(&ScoreRequest::new("Q", [" A"]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::IncompleteResponse { .. }), "{err:?}");
    assert!(err.to_string().contains("echo"), "{err}");
}

fn sse(data: &serde_json::Value) -> String {
    format!("data: {data}")
}

#[tokio::test]
async fn streams_server_sent_events() {
    let chunk = |text: &str, finish: Option<&str>| {
        sse(
            &serde_json::json!({"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}),
        )
    };
    let lines = vec![
        chunk("Par", None),
        chunk("is", None),
        chunk(".", Some("stop")),
        sse(
            &serde_json::json!({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3}}),
        ),
        "data: [DONE]".to_owned(),
    ];
    let stub = Stub::start(vec![
        Reply::Sse(lines.clone()),
        Reply::Sse(lines[..2].to_vec()),
    ])
    .await;
    let model = factory(&stub, 0, Duration::from_secs(5))
        .build("openai/m")
        .unwrap();
    let mut stream = model
        .generate_stream(&ask(), &GenerateConfig::default())
        .await
        .unwrap();
    let mut deltas = Vec::new();
    let mut done = None;
    while let Some(event) = stream.next().await {
        match event.unwrap() {
            StreamEvent::Delta { text, .. } => deltas.push(text),
            StreamEvent::Done(g) => done = Some(g),
        }
    }
    assert_eq!(deltas, ["Par", "is", "."]);
    let done = done.unwrap();
    assert_eq!(done.text(), "Paris.");
    assert_eq!(done.usage.output_tokens, 3);
    assert_eq!(stub.seen()[0].body["stream"], true);

    // A stream cut off before its end is an error, not a short answer.
    let mut stream = model
        .generate_stream(&ask(), &GenerateConfig::default())
        .await
        .unwrap();
    let events: Vec<_> = stream.by_ref().collect().await;
    assert!(
        matches!(events.last(), Some(Err(Error::IncompleteResponse { .. }))),
        "{events:?}"
    );
}

#[tokio::test]
async fn anthropic_messages_api_format_and_retries() {
    let ok = serde_json::json!({
        "id": "msg", "type": "message", "role": "assistant",
        "content": [{"type": "text", "text": "Bonjour"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 9, "output_tokens": 2}
    });
    let stub = Stub::start(vec![
        Reply::status(
            529,
            r#"{"type":"error","error":{"type":"overloaded_error"}}"#,
        ),
        Reply::ok(&ok),
    ])
    .await;
    let model = factory(&stub, 2, Duration::from_secs(5))
        .build("anthropic/claude-test")
        .unwrap();
    assert!(!model.capabilities().scoring);
    let g = model
        .generate(&ask(), &GenerateConfig::greedy(32))
        .await
        .unwrap();
    assert_eq!(g.text(), "Bonjour");
    assert_eq!(g.choices[0].stop_reason, StopReason::EndOfTurn);
    assert_eq!(g.meta.attempts, 2);
    let seen = &stub.seen()[1];
    assert_eq!(seen.path, "/v1/messages");
    assert_eq!(seen.headers["x-api-key"], KEY);
    assert_eq!(seen.headers["anthropic-version"], "2023-06-01");
    assert_eq!(seen.body["system"], "be brief");
    assert_eq!(
        seen.body["messages"].as_array().unwrap().len(),
        1,
        "system is lifted out of messages"
    );
    assert_eq!(seen.body["max_tokens"], 32);
    let err = model
        .score(&ScoreRequest::new("Q", [" A"]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err:?}");
}
