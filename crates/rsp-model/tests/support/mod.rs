//! A scripted OpenAI/Anthropic-compatible server on a loopback port, for real-HTTP tests.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Response, StatusCode, Uri};
use rsp_model::{
    Message, ProviderEnv, ProviderFactory, ProviderOptions, RetryPolicy, SecretString,
};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Status, extra headers and a JSON (or any) body.
    Json {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// Wait, then answer 200 with the body.
    Slow { delay: Duration, body: String },
    /// A `text/event-stream` body made of these lines.
    Sse(Vec<String>),
}

impl Reply {
    pub fn ok(body: &serde_json::Value) -> Self {
        Reply::Json {
            status: 200,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    pub fn status(status: u16, body: &str) -> Self {
        Reply::Json {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    pub fn rate_limited(retry_after: &str) -> Self {
        Reply::Json {
            status: 429,
            headers: vec![("retry-after", retry_after.to_owned())],
            body: r#"{"error":{"message":"slow down"}}"#.to_owned(),
        }
    }

    pub fn raw(body: &str) -> Self {
        Reply::Json {
            status: 200,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }
}

/// What the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub headers: HeaderMap,
    pub body: serde_json::Value,
}

#[derive(Default)]
struct State {
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Option<Reply>>,
    seen: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

/// A running stub server.
pub struct Stub {
    pub addr: SocketAddr,
    state: Arc<State>,
}

impl Stub {
    /// Starts a server answering with `script` in order, then with 500s.
    pub async fn start(script: Vec<Reply>) -> Self {
        let state = Arc::new(State::default());
        *state.script.lock().unwrap() = script.into();
        let s = state.clone();
        let app = Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let s = s.clone();
            async move { handle(s, uri, headers, body).await }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, state }
    }

    /// Answer with `reply` once the script is exhausted.
    pub fn set_default(&self, reply: Reply) {
        *self.state.default.lock().unwrap() = Some(reply);
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn root_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    pub fn peak_concurrency(&self) -> usize {
        self.state.peak.load(Ordering::SeqCst)
    }
}

async fn handle(state: Arc<State>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response<Body> {
    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    state.seen.lock().unwrap().push(Seen {
        path: uri.path().to_owned(),
        headers,
        body: json,
    });
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.peak.fetch_max(now, Ordering::SeqCst);
    let reply = {
        let next = state.script.lock().unwrap().pop_front();
        next.or_else(|| state.default.lock().unwrap().clone())
    };
    let response = match reply {
        None => Response::builder()
            .status(500)
            .body(Body::from("script exhausted"))
            .unwrap(),
        Some(Reply::Json {
            status,
            headers,
            body,
        }) => {
            let mut b = Response::builder()
                .status(StatusCode::from_u16(status).unwrap())
                .header("content-type", "application/json");
            for (k, v) in headers {
                b = b.header(k, v);
            }
            b.body(Body::from(body)).unwrap()
        }
        Some(Reply::Slow { delay, body }) => {
            tokio::time::sleep(delay).await;
            Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap()
        }
        Some(Reply::Sse(lines)) => {
            let text: String = lines.iter().map(|l| format!("{l}\n\n")).collect();
            Response::builder()
                .status(200)
                .header("content-type", "text/event-stream")
                .body(Body::from(text))
                .unwrap()
        }
    };
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

/// A chat completion body with one choice.
pub fn chat_ok(text: &str) -> serde_json::Value {
    serde_json::json!({
        "id": "x", "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}
    })
}

/// A `/completions` echo body for `prompts`, tokenised on spaces, with the given
/// per-token logprob for every token of each prompt and one generated token.
pub fn echo_body(prompts: &[(&str, f64)]) -> serde_json::Value {
    let choices: Vec<_> = prompts
        .iter()
        .enumerate()
        .map(|(i, (prompt, lp))| {
            let mut tokens = Vec::new();
            let mut offsets = Vec::new();
            let mut lps = Vec::new();
            let mut tops = Vec::new();
            let mut at = 0;
            // Spaces start the next token, as in BPE vocabularies.
            let words: Vec<&str> = prompt.split(' ').collect();
            for (k, w) in words.iter().enumerate() {
                let tok = if k == 0 { w.to_string() } else { format!(" {w}") };
                offsets.push(at);
                at += tok.chars().count();
                lps.push(if k == 0 { serde_json::Value::Null } else { serde_json::json!(lp) });
                tops.push(if k == 0 { serde_json::Value::Null } else { serde_json::json!({ tok.clone(): lp }) });
                tokens.push(tok);
            }
            // The one generated token (max_tokens = 1), which must not be scored.
            tokens.push(".".into());
            offsets.push(at);
            lps.push(serde_json::json!(-9.0));
            tops.push(serde_json::json!({".": -9.0}));
            serde_json::json!({
                "index": i, "text": format!("{prompt}."), "finish_reason": "length",
                "logprobs": {"tokens": tokens, "token_logprobs": lps, "top_logprobs": tops, "text_offset": offsets}
            })
        })
        .collect();
    serde_json::json!({"id": "c", "object": "text_completion", "choices": choices})
}

pub const KEY: &str = "sk-test-DO-NOT-LEAK-1234";

pub fn fast_retry(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(5),
    }
}

pub fn factory(stub: &Stub, max_retries: u32, timeout: Duration) -> ProviderFactory {
    let env = ProviderEnv {
        openai_api_key: Some(SecretString::new(KEY)),
        openai_base_url: Some(stub.base_url()),
        anthropic_api_key: Some(SecretString::new(KEY)),
        anthropic_base_url: Some(stub.root_url()),
        ..ProviderEnv::default()
    };
    ProviderFactory::new(ProviderOptions {
        retry: fast_retry(max_retries),
        request_timeout: timeout,
        initial_concurrency: 4,
        max_concurrency: 8,
        ..ProviderOptions::new(env)
    })
    .unwrap()
}

pub fn ask() -> Vec<Message> {
    vec![Message::system("be brief"), Message::user("hi")]
}
