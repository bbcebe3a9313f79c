//! Logging of the guard proxy, in its own test binary: the test installs the process-wide
//! subscriber, so no other test's events (or tracing's per-callsite interest cache, shared
//! across threads) can interfere.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use support::*;

/// The upstream key reaches the upstream but never the logs (captured at TRACE, including
/// reqwest's and hyper's own events) nor a client; prompt and output text appear in logs only
/// as hashes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_and_text_never_reach_the_logs() {
    let buf = LogBuffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(buf.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    const KEY: &str = "sk-SECRET-upstream-key-123";
    const CLIENT_TOKEN: &str = "client-SECRET-token-456";
    const PROMPT_MARK: &str = "PROMPTMARK-xyzzy";
    let guard = Keyword {
        keyword: "FORBIDDEN",
        on_input: false,
    };
    let stub = StubConfig {
        first_delay: Duration::from_millis(5),
        chunk_delay: Duration::from_millis(3),
    };
    let h = start(guard, stub, |c| {
        c.upstream_api_key = Some(rsp_model::SecretString::new(KEY));
    })
    .await;
    let send = |prompt: String, stream: bool| {
        h.client
            .post(format!("{}/v1/chat/completions", h.proxy))
            .bearer_auth(CLIENT_TOKEN)
            .json(&serde_json::json!({"model": "m", "stream": stream,
                                      "messages": [{"role": "user", "content": prompt}]}))
            .send()
    };
    let r = send(format!("hello {PROMPT_MARK}"), true).await.unwrap();
    parse_stream(&r.text().await.unwrap());
    let r = send(format!("{PROMPT_MARK} FORBIDDEN"), false)
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The upstream rejects the key and quotes it back: the client must not see it either.
    let r = send("ECHO-KEY".into(), false).await.unwrap();
    assert_eq!(r.status(), 401);
    let body = r.text().await.unwrap();
    assert!(!body.contains(KEY), "{body}");
    assert!(body.contains("***"), "{body}");

    let seen = h.stub.auth_seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    assert!(
        seen.iter()
            .all(|a| a.as_deref() == Some(&*format!("Bearer {KEY}")))
    );

    let logs = buf.contents();
    assert!(
        logs.contains("guard verdict"),
        "verdicts must be logged:\n{logs}"
    );
    assert!(logs.contains("text_sha256"), "{logs}");
    assert!(logs.contains("verdict=\"block\""), "{logs}");
    for secret in [KEY, CLIENT_TOKEN, PROMPT_MARK, "Bearer", "FORBIDDEN"] {
        assert!(
            !logs.contains(secret),
            "{secret:?} leaked into the logs:\n{logs}"
        );
    }
}

#[derive(Clone, Default)]
struct LogBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl LogBuffer {
    fn contents(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = LogBuffer;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
