//! The retrying, rate-adapting HTTP exchange shared by the hosted providers.
//!
//! Each provider instance owns one [`Transport`]: the shared `reqwest::Client` (one
//! connection pool per process, built by [`crate::ProviderFactory`]), its retry policy, its
//! AIMD limiter and its secret (for redaction). Every failed attempt is recorded in
//! [`CallMeta::errors`] so retries are visible to the caller even when the call succeeds.

use std::time::Duration;

use rand::SeedableRng as _;
use reqwest::header::HeaderMap;
use reqwest::{Client, Response, StatusCode};
use serde::Serialize;

use crate::limiter::AdaptiveLimiter;
use crate::retry::{self, RetryPolicy};
use crate::{CallMeta, Error, SecretString};

/// How long an error-body excerpt may be in errors and metadata.
const EXCERPT_CHARS: usize = 300;

/// One provider's HTTP machinery.
#[derive(Debug)]
pub(crate) struct Transport {
    pub(crate) client: Client,
    pub(crate) provider: &'static str,
    pub(crate) retry: RetryPolicy,
    pub(crate) limiter: AdaptiveLimiter,
    pub(crate) secret: Option<SecretString>,
    pub(crate) timeout: Duration,
}

impl Transport {
    /// Scrubs the secret out of `text` and cuts it to an excerpt.
    pub(crate) fn excerpt(&self, text: &str) -> String {
        let redacted = match &self.secret {
            Some(s) => s.redact(text),
            None => text.to_owned(),
        };
        let mut out: String = redacted.chars().take(EXCERPT_CHARS).collect();
        if redacted.chars().count() > EXCERPT_CHARS {
            out.push('…');
        }
        out
    }

    /// POSTs `body` as JSON and returns the whole response body of the first 2xx answer.
    pub(crate) async fn post_json<B: Serialize + ?Sized>(
        &self,
        url: &str,
        headers: &HeaderMap,
        body: &B,
        meta: &mut CallMeta,
    ) -> Result<Vec<u8>, Error> {
        match self.exchange(url, headers, body, meta, Mode::Whole).await? {
            Exchanged::Whole(bytes) => Ok(bytes),
            Exchanged::Streaming(_) => Err(Error::IncompleteResponse {
                provider: self.provider,
                what: "a complete body",
            }),
        }
    }

    /// POSTs `body` and returns the first 2xx response unread, for server-sent events.
    /// Retries cover the exchange up to the response headers; once text has started to flow
    /// a failure ends the stream with an error instead (replaying would duplicate output).
    pub(crate) async fn post_streaming<B: Serialize + ?Sized>(
        &self,
        url: &str,
        headers: &HeaderMap,
        body: &B,
        meta: &mut CallMeta,
    ) -> Result<Response, Error> {
        match self
            .exchange(url, headers, body, meta, Mode::Streaming)
            .await?
        {
            Exchanged::Streaming(resp) => Ok(resp),
            Exchanged::Whole(_) => Err(Error::IncompleteResponse {
                provider: self.provider,
                what: "a streaming body",
            }),
        }
    }

    async fn exchange<B: Serialize + ?Sized>(
        &self,
        url: &str,
        headers: &HeaderMap,
        body: &B,
        meta: &mut CallMeta,
        mode: Mode,
    ) -> Result<Exchanged, Error> {
        let mut rng = rand::rngs::StdRng::from_entropy();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            meta.attempts = attempt;
            let retries_left = attempt <= self.retry.max_retries;
            let permit = self.limiter.acquire().await;
            let mut request = self.client.post(url).headers(headers.clone()).json(body);
            if mode == Mode::Whole {
                request = request.timeout(self.timeout);
            }
            let failure = match request.send().await {
                Ok(resp) if resp.status().is_success() => match mode {
                    Mode::Streaming => {
                        self.limiter.on_success();
                        return Ok(Exchanged::Streaming(resp));
                    }
                    Mode::Whole => match resp.bytes().await {
                        Ok(bytes) => {
                            self.limiter.on_success();
                            return Ok(Exchanged::Whole(bytes.to_vec()));
                        }
                        Err(e) => Failure::Transport(e),
                    },
                },
                Ok(resp) => {
                    let status = resp.status();
                    let after = retry::retry_after(resp.headers());
                    let text = resp.text().await.unwrap_or_default();
                    Failure::Status {
                        status,
                        after,
                        body: self.excerpt(&text),
                    }
                }
                Err(e) => Failure::Transport(e),
            };
            drop(permit);
            let wait = match failure {
                Failure::Status {
                    status,
                    after,
                    body,
                } => {
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        self.limiter.on_overload();
                    }
                    let note = format!("HTTP {}: {body}", status.as_u16());
                    tracing::debug!(provider = self.provider, attempt, %note, "model request failed");
                    meta.errors.push(note);
                    if !(retry::is_retryable_status(status) && retries_left) {
                        return Err(Error::Status {
                            provider: self.provider,
                            status: status.as_u16(),
                            attempts: attempt,
                            body,
                        });
                    }
                    self.retry.delay(attempt - 1, after, &mut rng)
                }
                Failure::Transport(e) => {
                    let note = self.excerpt(&error_chain(&e));
                    tracing::debug!(provider = self.provider, attempt, %note, "model request failed");
                    meta.errors.push(note);
                    if !(retry::is_retryable_transport(&e) && retries_left) {
                        return Err(Error::Http {
                            provider: self.provider,
                            attempts: attempt,
                            source: e,
                        });
                    }
                    self.retry.delay(attempt - 1, None, &mut rng)
                }
            };
            tokio::time::sleep(wait).await;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Whole,
    Streaming,
}

enum Exchanged {
    Whole(Vec<u8>),
    Streaming(Response),
}

enum Failure {
    Status {
        status: StatusCode,
        after: Option<Duration>,
        body: String,
    },
    Transport(reqwest::Error),
}

/// An error and its causes on one line ("error sending request: connection reset").
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// Parses a JSON body, turning failures into [`Error::MalformedResponse`] with a redacted
/// excerpt (a truncated body must be an error, never an empty answer).
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    transport: &Transport,
    body: &[u8],
) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|source| Error::MalformedResponse {
        provider: transport.provider,
        excerpt: transport.excerpt(&String::from_utf8_lossy(body)),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport(secret: Option<&str>) -> Transport {
        Transport {
            client: Client::new(),
            provider: "openai",
            retry: RetryPolicy::none(),
            limiter: AdaptiveLimiter::new(1, 1),
            secret: secret.map(SecretString::new),
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn excerpt_redacts_and_truncates() {
        let t = transport(Some("sk-123"));
        assert_eq!(t.excerpt("bad key sk-123"), "bad key ***");
        let long = "x".repeat(1000);
        let e = t.excerpt(&long);
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
        assert!(e.ends_with('…'));
    }

    #[test]
    fn truncated_json_is_a_malformed_response() {
        let t = transport(Some("sk-123"));
        let err = parse_json::<serde_json::Value>(&t, br#"{"choices": [{"text": "sk-123 hal"#)
            .unwrap_err();
        match err {
            Error::MalformedResponse { excerpt, .. } => {
                assert!(
                    excerpt.contains("***") && !excerpt.contains("sk-123"),
                    "{excerpt}"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
