//! The rsp dashboard and JSON API: "what level is each model at, and why?" in one glance,
//! down to every sample.
//!
//! # Design
//!
//! * **One router, two faces.** [`router`] serves server-rendered HTML pages (maud, no
//!   JavaScript build step) and a JSON API under `/api/v1`. Both call the same view
//!   functions, so a number on a page and in the API are the same number.
//! * **The endpoint list is the documentation.** Each API route is declared once with its
//!   handler, parameters, body and response types and roles; the router and the OpenAPI
//!   3.1 document at `/api/v1/openapi.json` are both built from that list, and the
//!   schemas are derived from the types the handlers serialize.
//! * **Read-only by default.** Reads are open; writes (attestations, signatures, starting
//!   runs) need `Authorization: Bearer <token>` whose role allows them. Only SHA-256
//!   hashes of tokens are stored ([`create_token`]). Tokens never appear in logs.
//! * **Strict headers, no inline code.** Every response carries a CSP without
//!   `unsafe-inline`, `frame-ancestors 'none'`, `nosniff` and `no-referrer`; the pages
//!   use one stylesheet and one small vendored script (live progress over SSE).
//! * **Fast at a million samples.** The run browser pages with keyset cursors on the
//!   store's `(run_id, position, epoch)` index; nothing on a page counts or scans a run's
//!   samples. Queries the store lacks run on a read-only pool of the dashboard's own.
//! * **Seams to the binary.** Verifying and appending to the ledger need the project's
//!   log key, so they come in as traits ([`LedgerVerifier`], [`AuditLog`], [`Forecasts`])
//!   that `rsp serve` implements.
#![deny(missing_docs)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")
)]

pub mod api;
mod auth;
mod compare;
mod config;
mod error;
mod extract;
mod hooks;
mod live;
mod openapi;
mod pages;
mod queries;
mod routes;
mod security;
mod signoff;
mod state;
mod view;

use std::future::Future;

pub use auth::{Caller, NewToken, Role, TOKEN_PREFIX, UnknownRole, create_token, hash_token};
pub use config::{DEFAULT_BIND, PolicySource, ServeConfig};
pub use error::{ApiError, ErrorBody, ErrorCode, ErrorDetail, ServeError};
pub use hooks::{
    AuditEntry, AuditLog, ForecastChart, Forecasts, Hooks, LedgerVerifier, VerifySummary,
};
pub use openapi::document as openapi_document;
pub use routes::router;
pub use security::CSP;
pub use signoff::{SIGNOFF_TYPE, signed_message};
pub use state::{AppState, LoadedPolicy};

/// Opens the store, binds `config.bind` and serves until `shutdown` completes.
///
/// A bind address reachable from other machines is logged as a warning (the CLI should
/// also print [`ServeConfig::exposure_warning`]). [`serve_with`] also reports the address
/// actually bound (useful with port 0).
pub async fn serve(
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    serve_with(config, shutdown, |_| {}).await
}

/// [`serve`], calling `on_bound` with the bound address before accepting connections.
pub async fn serve_with(
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_bound: impl FnOnce(std::net::SocketAddr),
) -> Result<(), ServeError> {
    if let Some(w) = config.exposure_warning() {
        tracing::warn!("{w}");
    }
    let state = AppState::open(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener.local_addr().map_err(ServeError::Serve)?;
    on_bound(addr);
    tracing::info!(%addr, "rsp dashboard listening");
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(ServeError::Serve)
}
