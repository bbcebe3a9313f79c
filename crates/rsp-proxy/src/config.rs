//! What an operator can tune, with defaults chosen for a proxy on the same machine as its
//! users.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use rsp_model::SecretString;

/// The default listen address: loopback only, so a fresh proxy is never reachable from the
/// network by accident.
pub const DEFAULT_BIND: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 8787);

/// How streamed output is released relative to its checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StreamMode {
    /// A chunk reaches the client only after an output check covering it has passed. Flagged
    /// text never leaves the proxy, at the price of one judge latency before the first token
    /// of each window and before `[DONE]`.
    #[default]
    Buffered,
    /// Chunks are released as they arrive while checks run alongside; a failed check cuts the
    /// stream. Up to one window plus one judge latency of flagged text can reach the client
    /// before the cut, which is then signalled by `finish_reason: "content_filter"` (the
    /// finish chunk and `[DONE]` still wait for the final check). Like Azure OpenAI's
    /// "asynchronous filter" mode.
    Async,
}

/// The proxy's settings. Build with [`ProxyConfig::new`] and adjust fields.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    /// Listen address. Defaults to [`DEFAULT_BIND`] (127.0.0.1:8787).
    pub bind: SocketAddr,
    /// The upstream's OpenAI-style base URL, including `/v1`
    /// (e.g. `http://127.0.0.1:8000/v1`); the proxy appends `/chat/completions` and `/models`.
    pub upstream_base_url: String,
    /// When set, replaces the `model` of every request before it is forwarded (the model of
    /// the CLI's `--upstream` spec); when unset the client's `model` is forwarded as is.
    pub upstream_model: Option<String>,
    /// Sent upstream as `Authorization: Bearer …` when set (the client's own `Authorization`
    /// header is then dropped). When unset, the client's header is forwarded unchanged.
    /// Never logged.
    pub upstream_api_key: Option<SecretString>,
    /// How long one guard call may take before the proxy fails closed.
    pub guard_timeout: Duration,
    /// Run an output check every this many streamed content chunks (≈ tokens), plus one at
    /// the end. At least 1.
    pub check_every_chunks: usize,
    /// Upper bound on output checks in flight for one stream; further periodic checks wait
    /// (the end-of-stream check is always started).
    pub max_checks_in_flight: usize,
    /// How streamed chunks are released; see [`StreamMode`].
    pub stream_mode: StreamMode,
    /// Send the request upstream while the input check runs, and release nothing until it
    /// passes. Hides the judge latency behind the upstream's; the cost is that the upstream
    /// sees (and may bill for) prompts that end up blocked. Off: the upstream is contacted only
    /// after the input check passes.
    pub overlap_input_check: bool,
    /// The assistant text of a refusal.
    pub refusal_message: String,
    /// Connect timeout for the upstream (streams themselves have no overall timeout).
    pub upstream_connect_timeout: Duration,
    /// Largest accepted request body.
    pub max_request_bytes: usize,
}

impl ProxyConfig {
    /// Defaults in front of `upstream_base_url`: loopback bind, 5 s guard timeout, a check
    /// every 16 chunks with at most 4 in flight, buffered streaming, overlapped input check.
    pub fn new(upstream_base_url: impl Into<String>) -> Self {
        Self {
            bind: DEFAULT_BIND,
            upstream_base_url: upstream_base_url.into(),
            upstream_model: None,
            upstream_api_key: None,
            guard_timeout: Duration::from_secs(5),
            check_every_chunks: 16,
            max_checks_in_flight: 4,
            stream_mode: StreamMode::Buffered,
            overlap_input_check: true,
            refusal_message: "I can't help with that request.".to_owned(),
            upstream_connect_timeout: Duration::from_secs(10),
            max_request_bytes: 16 * 1024 * 1024,
        }
    }

    /// Whether the bind address is a loopback address. The CLI warns when it is not, because
    /// the proxy does not authenticate its clients.
    pub fn bind_is_loopback(&self) -> bool {
        self.bind.ip().is_loopback()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_bind_is_loopback_and_others_are_not() {
        let mut c = ProxyConfig::new("http://127.0.0.1:1/v1");
        assert!(c.bind_is_loopback());
        c.bind = "[::1]:9000".parse().unwrap();
        assert!(c.bind_is_loopback());
        c.bind = "0.0.0.0:9000".parse().unwrap();
        assert!(!c.bind_is_loopback());
        c.bind = "192.168.1.4:9000".parse().unwrap();
        assert!(!c.bind_is_loopback());
    }

    #[test]
    fn api_key_does_not_debug_print() {
        let mut c = ProxyConfig::new("http://127.0.0.1:1/v1");
        c.upstream_api_key = Some(SecretString::new("sk-live-abc"));
        assert!(!format!("{c:?}").contains("sk-live-abc"));
    }
}
