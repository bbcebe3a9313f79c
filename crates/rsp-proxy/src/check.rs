//! One guard call made safe: bounded by a timeout, failing closed, measured and logged.
//!
//! Everything the proxy learns about a verdict goes through [`Checker::check`], so the
//! fail-closed rule, the metrics and the no-secrets logging live in one place. Logs carry the
//! checked text only as a SHA-256 prefix and a length: enough to correlate a verdict with a
//! request an operator holds, not enough to read it.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt as _;
use rsp_model::Message;
use sha2::{Digest, Sha256};

use crate::guard::{Guard, GuardFailure, Stage};
use crate::metrics::{FailReason, Metrics};

/// What the proxy does with one check.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decision {
    /// Block (a block verdict, or a failure).
    pub block: bool,
    /// Classes the guard named.
    pub classes: Vec<String>,
    /// Set when the block came from a failure rather than a verdict.
    pub fail: Option<FailReason>,
}

/// A guard with the proxy's timeout and metrics attached.
#[derive(Debug, Clone)]
pub(crate) struct Checker {
    guard: Arc<dyn Guard>,
    timeout: Duration,
    metrics: Arc<Metrics>,
}

impl Checker {
    pub(crate) fn new(guard: Arc<dyn Guard>, timeout: Duration, metrics: Arc<Metrics>) -> Self {
        Self {
            guard,
            timeout,
            metrics,
        }
    }

    /// Classifies `messages` (input, `output == None`) or one choice's `output`. Never fails:
    /// an error, a panic or a timeout in the guard is a block.
    pub(crate) async fn check(
        &self,
        request_id: u64,
        choice: u32,
        messages: &[Message],
        output: Option<&str>,
    ) -> Decision {
        let stage = if output.is_some() {
            Stage::Output
        } else {
            Stage::Input
        };
        let started = Instant::now();
        let call = AssertUnwindSafe(self.guard.classify(messages, output)).catch_unwind();
        let result = match tokio::time::timeout(self.timeout, call).await {
            Ok(Ok(Ok(verdict))) => Ok(verdict),
            Ok(Ok(Err(failure))) => Err((FailReason::Error, Some(failure))),
            Ok(Err(_panic)) => Err((
                FailReason::Error,
                Some(GuardFailure::new("the guard panicked")),
            )),
            Err(_elapsed) => Err((FailReason::Timeout, None)),
        };
        let latency = started.elapsed();
        let (hash, len) = match output {
            Some(text) => fingerprint([text]),
            None => fingerprint(
                messages
                    .iter()
                    .flat_map(|m| [m.role.as_str(), m.content.as_str()]),
            ),
        };
        let latency_ms = latency.as_secs_f64() * 1e3;
        match result {
            Ok(verdict) => {
                self.metrics
                    .check(stage, latency, Ok((verdict.block, &verdict.classes)));
                let classes = verdict.classes.join(",");
                if verdict.block {
                    tracing::warn!(
                        request_id, stage = stage.as_str(), choice, verdict = "block",
                        p_block = verdict.p_block, classes = %classes, latency_ms,
                        text_sha256 = %hash, text_len = len, "guard verdict"
                    );
                } else {
                    tracing::info!(
                        request_id, stage = stage.as_str(), choice, verdict = "allow",
                        p_block = verdict.p_block, latency_ms,
                        text_sha256 = %hash, text_len = len, "guard verdict"
                    );
                }
                Decision {
                    block: verdict.block,
                    classes: verdict.classes,
                    fail: None,
                }
            }
            Err((reason, failure)) => {
                self.metrics.check(stage, latency, Err(reason));
                let error = failure.map(|f| error_chain(&f)).unwrap_or_default();
                tracing::error!(
                    request_id, stage = stage.as_str(), choice, verdict = "fail_closed",
                    reason = reason.as_str(), error = %error, latency_ms,
                    text_sha256 = %hash, text_len = len, "guard unavailable; failing closed"
                );
                Decision {
                    block: true,
                    classes: Vec::new(),
                    fail: Some(reason),
                }
            }
        }
    }
}

/// First 16 hex digits of the SHA-256 of the parts (each followed by a NUL, so part
/// boundaries matter) and their total length in bytes.
fn fingerprint<'a>(parts: impl IntoIterator<Item = &'a str>) -> (String, usize) {
    let mut h = Sha256::new();
    let mut len = 0;
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
        len += p.len();
    }
    let digest = h.finalize();
    (hex::encode(&digest[..8]), len)
}

/// `outer: inner: innermost`, like anyhow's `{:#}`.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::GuardVerdict;
    use async_trait::async_trait;

    #[derive(Debug)]
    struct Fixed(Result<GuardVerdict, ()>, Duration);

    #[async_trait]
    impl Guard for Fixed {
        async fn classify(
            &self,
            _: &[Message],
            _: Option<&str>,
        ) -> Result<GuardVerdict, GuardFailure> {
            tokio::time::sleep(self.1).await;
            self.0.clone().map_err(|()| GuardFailure::new("boom"))
        }
    }

    #[derive(Debug)]
    struct Panics;

    #[async_trait]
    impl Guard for Panics {
        async fn classify(
            &self,
            _: &[Message],
            _: Option<&str>,
        ) -> Result<GuardVerdict, GuardFailure> {
            panic!("guard bug")
        }
    }

    fn checker(g: impl Guard + 'static, timeout_ms: u64) -> (Checker, Arc<Metrics>) {
        let m = Arc::new(Metrics::new());
        let c = Checker::new(Arc::new(g), Duration::from_millis(timeout_ms), m.clone());
        (c, m)
    }

    #[tokio::test]
    async fn error_timeout_and_panic_fail_closed() {
        let msgs = [Message::user("hi")];
        let (c, m) = checker(Fixed(Err(()), Duration::ZERO), 1000);
        let d = c.check(1, 0, &msgs, None).await;
        assert_eq!(d.fail, Some(FailReason::Error));
        assert!(d.block);
        assert_eq!(m.fail_closed_count(Stage::Input, FailReason::Error), 1);

        let (c, m) = checker(
            Fixed(Ok(GuardVerdict::allow(0.0)), Duration::from_secs(30)),
            20,
        );
        let d = c.check(1, 0, &msgs, Some("out")).await;
        assert_eq!(d.fail, Some(FailReason::Timeout));
        assert!(d.block);
        assert_eq!(m.fail_closed_count(Stage::Output, FailReason::Timeout), 1);

        let (c, m) = checker(Panics, 1000);
        let d = c.check(1, 0, &msgs, None).await;
        assert_eq!(d.fail, Some(FailReason::Error));
        assert_eq!(m.fail_closed_count(Stage::Input, FailReason::Error), 1);
    }

    #[tokio::test]
    async fn verdicts_pass_through() {
        let msgs = [Message::user("hi")];
        let (c, _) = checker(Fixed(Ok(GuardVerdict::allow(0.1)), Duration::ZERO), 1000);
        assert!(!c.check(1, 0, &msgs, None).await.block);
        let v = GuardVerdict::block(0.9, vec!["x".into()]);
        let (c, _) = checker(Fixed(Ok(v), Duration::ZERO), 1000);
        let d = c.check(1, 0, &msgs, None).await;
        assert!(d.block && d.fail.is_none());
        assert_eq!(d.classes, ["x"]);
    }

    #[test]
    fn fingerprint_respects_boundaries() {
        let (a, la) = fingerprint(["ab", "c"]);
        let (b, lb) = fingerprint(["a", "bc"]);
        assert_ne!(a, b);
        assert_eq!((la, lb), (3, 3));
        assert_eq!(a.len(), 16);
    }
}
