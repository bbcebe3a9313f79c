//! Shared pieces of the proxy's integration tests: a streaming OpenAI-style upstream stub,
//! test guards, and a client-side reader that checks stream well-formedness.
#![allow(dead_code, clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rsp_model::Message;
use rsp_proxy::{Guard, GuardFailure, GuardVerdict, ProxyConfig, ProxyState};
use serde_json::{Value, json};

/// How the stub upstream behaves. Its reply is the last user message, word by word: each
/// whitespace-separated word is one chunk (`"word "`).
#[derive(Debug, Clone, Default)]
pub struct StubConfig {
    pub first_delay: Duration,
    pub chunk_delay: Duration,
}

#[derive(Debug, Default)]
pub struct StubState {
    pub config: StubConfig,
    pub hits: AtomicUsize,
    pub auth_seen: Mutex<Vec<Option<String>>>,
}

pub fn reply_words(body: &Value) -> Vec<String> {
    let last_user = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_owned();
    last_user
        .split_whitespace()
        .map(|w| format!("{w} "))
        .collect()
}

async fn stub_chat(State(s): State<Arc<StubState>>, headers: HeaderMap, body: Bytes) -> Response {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let auth = headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_owned());
    s.auth_seen.lock().unwrap().push(auth.clone());
    let body: Value = serde_json::from_slice(&body).unwrap();
    let words = reply_words(&body);
    if words.iter().any(|w| w.trim() == "ECHO-KEY") {
        // Like a real server rejecting a key and quoting it back.
        let msg = format!("Incorrect API key provided: {}", auth.unwrap_or_default());
        return (
            StatusCode::UNAUTHORIZED,
            json!({"error": {"message": msg}}).to_string(),
        )
            .into_response();
    }
    let model = body["model"].as_str().unwrap_or("stub").to_owned();
    if body["stream"] != true {
        tokio::time::sleep(s.config.first_delay).await;
        let text: String = words.concat();
        return axum::Json(json!({
            "id": "chatcmpl-stub", "object": "chat.completion", "created": 1, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
        }))
        .into_response();
    }
    let cfg = s.config.clone();
    let stream = async_stream(&words, model, cfg);
    (
        [("content-type", "text/event-stream")],
        Body::from_stream(stream),
    )
        .into_response()
}

fn async_stream(
    words: &[String],
    model: String,
    cfg: StubConfig,
) -> impl futures::Stream<Item = Result<Bytes, std::convert::Infallible>> + use<> {
    let chunk = move |delta: Value, finish: Value| {
        let v = json!({"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 1,
                       "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        format!("data: {v}\n\n")
    };
    let mut frames = vec![chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    frames.extend(
        words
            .iter()
            .map(|w| chunk(json!({"content": w}), Value::Null)),
    );
    frames.push(chunk(json!({}), json!("stop")));
    frames.push("data: [DONE]\n\n".to_owned());
    futures::stream::unfold((0usize, frames), move |(i, frames)| {
        let cfg = cfg.clone();
        async move {
            let f = frames.get(i)?.clone();
            let delay = if i == 0 {
                cfg.first_delay
            } else {
                cfg.chunk_delay
            };
            tokio::time::sleep(delay).await;
            Some((Ok(Bytes::from(f)), (i + 1, frames)))
        }
    })
}

async fn stub_models() -> axum::Json<Value> {
    axum::Json(
        json!({"object": "list", "data": [{"id": "stub-model", "object": "model", "owned_by": "test"}]}),
    )
}

/// Serves `app` on a fresh loopback port and returns `http://127.0.0.1:PORT`.
pub async fn spawn(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

pub async fn spawn_stub(config: StubConfig) -> (String, Arc<StubState>) {
    let state = Arc::new(StubState {
        config,
        ..StubState::default()
    });
    let app = Router::new()
        .route("/v1/chat/completions", post(stub_chat))
        .route("/v1/models", get(stub_models))
        .with_state(state.clone());
    (spawn(app).await, state)
}

pub struct Harness {
    pub proxy: String,
    pub stub: Arc<StubState>,
    pub state: ProxyState,
    pub client: reqwest::Client,
}

/// A stub upstream and a proxy in front of it.
pub async fn start(
    guard: impl Guard + 'static,
    stub: StubConfig,
    tweak: impl FnOnce(&mut ProxyConfig),
) -> Harness {
    let (upstream, stub) = spawn_stub(stub).await;
    let mut config = ProxyConfig::new(format!("{upstream}/v1"));
    config.guard_timeout = Duration::from_secs(2);
    tweak(&mut config);
    let state = ProxyState::new(config, Arc::new(guard)).unwrap();
    let proxy = spawn(rsp_proxy::router(state.clone())).await;
    Harness {
        proxy,
        stub,
        state,
        client: reqwest::Client::new(),
    }
}

impl Harness {
    pub async fn chat(&self, prompt: &str, stream: bool) -> reqwest::Response {
        self.client
            .post(format!("{}/v1/chat/completions", self.proxy))
            .json(&json!({"model": "stub-model", "stream": stream,
                          "messages": [{"role": "user", "content": prompt}]}))
            .send()
            .await
            .unwrap()
    }

    pub async fn metrics(&self) -> String {
        let r = self
            .client
            .get(format!("{}/metrics", self.proxy))
            .send()
            .await
            .unwrap();
        r.text().await.unwrap()
    }
}

/// Value of the series `line_prefix` (e.g. `name{labels}`) in a metrics dump.
pub fn metric(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no series {series} in\n{text}"))
        .parse()
        .unwrap()
}

/// A client's view of a finished stream.
#[derive(Debug)]
pub struct ClientStream {
    pub chunks: Vec<Value>,
    pub text: String,
    pub finish_reasons: Vec<String>,
}

/// Reads an SSE body and asserts it is a well-formed OpenAI stream: only `data:` frames,
/// every frame before the last a `chat.completion.chunk`, the last `[DONE]`, no text after
/// the first finish reason.
pub fn parse_stream(body: &str) -> ClientStream {
    assert!(
        body.ends_with("data: [DONE]\n\n"),
        "stream must end with [DONE]: {body:?}"
    );
    let frames: Vec<&str> = body.split("\n\n").filter(|f| !f.is_empty()).collect();
    let mut chunks = Vec::new();
    let mut text = String::new();
    let mut finish_reasons = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        let data = f
            .strip_prefix("data: ")
            .unwrap_or_else(|| panic!("not a data frame: {f:?}"));
        if i == frames.len() - 1 {
            assert_eq!(data, "[DONE]");
            break;
        }
        let v: Value = serde_json::from_str(data).unwrap();
        assert_eq!(v["object"], "chat.completion.chunk", "{v}");
        for c in v["choices"].as_array().unwrap() {
            let t = c["delta"]["content"].as_str().unwrap_or("");
            assert!(
                finish_reasons.is_empty() || t.is_empty(),
                "text after the finish chunk: {t:?}"
            );
            text.push_str(t);
            if let Some(r) = c["finish_reason"].as_str() {
                finish_reasons.push(r.to_owned());
            }
        }
        chunks.push(v);
    }
    ClientStream {
        chunks,
        text,
        finish_reasons,
    }
}

// ---- guards ----

#[derive(Debug, Default)]
pub struct AllowAll {
    pub delay: Duration,
    pub calls: AtomicUsize,
}

#[async_trait]
impl Guard for AllowAll {
    async fn classify(&self, _: &[Message], _: Option<&str>) -> Result<GuardVerdict, GuardFailure> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        Ok(GuardVerdict::allow(0.01))
    }
}

/// Blocks when the checked text contains `keyword`: the output only, or the input only.
#[derive(Debug)]
pub struct Keyword {
    pub keyword: &'static str,
    pub on_input: bool,
}

#[async_trait]
impl Guard for Keyword {
    async fn classify(
        &self,
        messages: &[Message],
        output: Option<&str>,
    ) -> Result<GuardVerdict, GuardFailure> {
        let hit = match (output, self.on_input) {
            (Some(out), false) => out.contains(self.keyword),
            (None, true) => messages.iter().any(|m| m.content.contains(self.keyword)),
            _ => false,
        };
        Ok(if hit {
            GuardVerdict::block(0.97, vec!["test-class".into()])
        } else {
            GuardVerdict::allow(0.02)
        })
    }
}

/// Always errors, at the input or (with `output_only`) only on output checks.
#[derive(Debug)]
pub struct Dead {
    pub output_only: bool,
}

#[async_trait]
impl Guard for Dead {
    async fn classify(
        &self,
        _: &[Message],
        output: Option<&str>,
    ) -> Result<GuardVerdict, GuardFailure> {
        if self.output_only && output.is_none() {
            return Ok(GuardVerdict::allow(0.0));
        }
        Err(GuardFailure::new("judge connection refused"))
    }
}

/// Never answers in time.
#[derive(Debug)]
pub struct Slow;

#[async_trait]
impl Guard for Slow {
    async fn classify(&self, _: &[Message], _: Option<&str>) -> Result<GuardVerdict, GuardFailure> {
        tokio::time::sleep(Duration::from_secs(30)).await;
        Ok(GuardVerdict::allow(0.0))
    }
}
