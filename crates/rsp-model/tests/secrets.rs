//! API keys never appear in logs, errors or Debug output. In its own test
//! binary so that its tracing subscriber is the only one in the process
//! (tracing caches callsite interest process-wide, and tests running in
//! parallel without a subscriber would otherwise hide events from it).

#![allow(clippy::unwrap_used)]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rsp_model::{Error, GenerateConfig, ModelApi};
use support::{KEY, Reply, Stub, ask, factory};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn api_keys_never_appear_in_logs_errors_or_debug_output() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let echo = format!(r#"{{"error":{{"message":"Incorrect API key provided: {KEY}"}}}}"#);
    let stub = Stub::start(vec![
        Reply::status(500, &echo),
        Reply::status(401, &echo),
        Reply::raw(&format!(r#"{{"broken": "{KEY}"#)),
    ])
    .await;
    let factory = factory(&stub, 1, Duration::from_secs(5));
    let model = factory.openai("m").unwrap();
    let first = model
        .generate(&ask(), &GenerateConfig::default())
        .await
        .unwrap_err();
    let second = model
        .generate(&ask(), &GenerateConfig::default())
        .await
        .unwrap_err();
    let anthropic = factory.anthropic("c").unwrap();

    let mut texts = vec![
        first.to_string(),
        format!("{first:?}"),
        format!("{first:#?}"),
        second.to_string(),
        format!("{second:?}"),
        format!("{model:?}"),
        format!("{anthropic:?}"),
        format!("{factory:?}"),
        format!("{:?}", factory.options()),
    ];
    texts.push(String::from_utf8(capture.0.lock().unwrap().clone()).unwrap());
    let logs = texts.last().unwrap().clone();
    assert!(
        logs.contains("model request failed"),
        "the retry was logged: {logs}"
    );
    for t in &texts {
        assert!(!t.contains(KEY), "API key leaked into: {t}");
    }
    assert!(
        first.to_string().contains("***"),
        "the echoed key is redacted, not dropped: {first}"
    );
    assert!(matches!(second, Error::MalformedResponse { .. }));
}
