//! The guard proxy: an OpenAI-compatible chat-completions endpoint that puts a [`Guard`] in
//! front of any OpenAI-compatible upstream.
//!
//! # Design
//!
//! - **One seam.** The proxy knows classifiers only through the small async [`Guard`] trait
//!   (`classify(messages, output) -> verdict`), so the constitutional classifier, a remote
//!   judge or a test stub plug in without this crate depending on them.
//! - **Fail closed.** Every guard call goes through one wrapper with a timeout; an error, a
//!   panic or a timeout is a block, counted in `rsp_guard_fail_closed_total`. There is no
//!   path by which an unchecked byte of output reaches a client in the default
//!   [`StreamMode::Buffered`].
//! - **Latency hidden, not added.** The input check runs *concurrently* with the upstream
//!   call ([`ProxyConfig::overlap_input_check`]); the upstream's response is read only once
//!   the input passed, and dropped unread otherwise. Output checks over growing prefixes run
//!   alongside the relay, several in flight, completing in order (see the `stream` module).
//!   What remains on the critical path is one judge latency after the last token (the
//!   end-of-stream check), and in buffered mode one per release window.
//! - **Well-formed refusals.** A blocked input gets HTTP 200 with a normal `chat.completion`
//!   (or chunk stream ending in `[DONE]`) whose assistant text is the refusal and whose
//!   `finish_reason` is `"content_filter"`, OpenAI's own value, so existing clients need no
//!   changes; the `x-rsp-guard` header says `blocked` or `fail-closed`. A stream that turns
//!   unsafe ends with an empty-delta `content_filter` chunk and `[DONE]`.
//! - **No secrets in logs.** The upstream key is a [`rsp_model::SecretString`], sent as a
//!   sensitive header and redacted from upstream error bodies; verdict logs carry the checked
//!   text only as a SHA-256 prefix and a length.
//! - **No global state.** Metrics, the HTTP client and the request counter live in
//!   [`ProxyState`]; several proxies can run in one process (the tests do).
//!
//! ```no_run
//! # async fn demo(guard: std::sync::Arc<dyn rsp_proxy::Guard>) -> Result<(), rsp_proxy::Error> {
//! let config = rsp_proxy::ProxyConfig::new("http://127.0.0.1:8000/v1");
//! rsp_proxy::serve(config, guard, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod check;
mod config;
mod error;
mod guard;
mod handlers;
mod metrics;
mod openai;
mod router;
mod sse;
mod stream;
mod upstream;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

pub use config::{DEFAULT_BIND, ProxyConfig, StreamMode};
pub use error::Error;
pub use guard::{Guard, GuardFailure, GuardVerdict, Stage};
pub use handlers::GUARD_HEADER;
pub use metrics::{FailReason, Metrics};
pub use router::{ProxyState, router};

/// Binds `config.bind` and serves until `shutdown` resolves. In-flight streams are allowed to
/// finish (axum's graceful shutdown).
pub async fn serve(
    config: ProxyConfig,
    guard: Arc<dyn Guard>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let addr = config.bind;
    let state = ProxyState::new(config, guard)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })?;
    serve_on(listener, state, shutdown).await
}

/// Serves on an already-bound listener (tests bind `127.0.0.1:0`; the CLI can bind itself to
/// print the address first).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: ProxyState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    tracing::info!(
        addr = ?addr,
        loopback = addr.is_some_and(|a| a.ip().is_loopback()),
        stream_mode = ?state.config().stream_mode,
        check_every_chunks = state.config().check_every_chunks,
        guard_timeout_ms = u64::try_from(state.config().guard_timeout.as_millis()).unwrap_or(u64::MAX),
        "guard proxy listening"
    );
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(Error::Serve)
}
