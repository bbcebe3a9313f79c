//! The router: every route of the server is added here.

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;
use crate::{api, pages, security};

const CSS: &str = include_str!("../assets/app.css");
const LIVE_JS: &str = include_str!("../assets/live.js");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "no such page or endpoint")
}

/// The whole server: API, pages, assets, security headers.
pub fn router(state: AppState) -> Router {
    let mut app = Router::new();
    for (endpoint, handler) in api::endpoints() {
        app = app.route(endpoint.path, handler);
    }
    app.route("/", get(pages::overview::page))
        .route("/models/{name}", get(pages::model::page))
        .route("/runs", get(pages::runs::index))
        .route("/runs/{id}", get(pages::runs::run))
        .route(
            "/runs/{id}/samples/{sample}/{epoch}",
            get(pages::sample::page),
        )
        .route("/compare", get(pages::compare::page))
        .route("/policy", get(pages::policy::page))
        .route("/ledger", get(pages::ledger::page))
        .route("/ledger/verify", get(pages::ledger::verify))
        .route("/live", get(pages::live::page))
        .route(
            "/assets/app.css",
            get(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
        .route(
            "/assets/live.js",
            get(|| async { asset("text/javascript; charset=utf-8", LIVE_JS) }),
        )
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::host_check,
        ))
        .layer(axum::middleware::from_fn(security::headers))
        .with_state(state)
}
