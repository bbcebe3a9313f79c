//! The proxy's shared state and its routes.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::check::Checker;
use crate::config::ProxyConfig;
use crate::error::Error;
use crate::guard::Guard;
use crate::handlers;
use crate::metrics::Metrics;

/// Everything a request handler needs: settings, the upstream client, the guard and the
/// metrics. Cheap to clone (one `Arc`).
#[derive(Debug, Clone)]
pub struct ProxyState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: ProxyConfig,
    client: reqwest::Client,
    chat_url: reqwest::Url,
    models_url: reqwest::Url,
    checker: Checker,
    metrics: Arc<Metrics>,
    next_request_id: AtomicU64,
}

impl ProxyState {
    /// Validates the upstream URL and builds the HTTP client. The client is built here, not
    /// per request, so connections to the upstream are pooled.
    pub fn new(config: ProxyConfig, guard: Arc<dyn Guard>) -> Result<Self, Error> {
        let base = config.upstream_base_url.trim_end_matches('/');
        let parse = |suffix: &str| {
            let url = format!("{base}{suffix}");
            reqwest::Url::parse(&url).map_err(|source| Error::InvalidUpstreamUrl {
                url: config.upstream_base_url.clone(),
                source,
            })
        };
        let chat_url = parse("/chat/completions")?;
        let models_url = parse("/models")?;
        if !matches!(chat_url.scheme(), "http" | "https") {
            return Err(Error::UnsupportedScheme {
                url: config.upstream_base_url.clone(),
            });
        }
        let client = reqwest::Client::builder()
            .connect_timeout(config.upstream_connect_timeout)
            // Streams are long-lived and must not be cut by a pool-level timeout; idle
            // connections are kept so a burst of requests reuses them.
            .pool_max_idle_per_host(256)
            .build()
            .map_err(Error::Client)?;
        let metrics = Arc::new(Metrics::new());
        let checker = Checker::new(guard, config.guard_timeout, metrics.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                client,
                chat_url,
                models_url,
                checker,
                metrics,
                next_request_id: AtomicU64::new(1),
            }),
        })
    }

    /// The settings.
    pub fn config(&self) -> &ProxyConfig {
        &self.inner.config
    }

    /// The live metrics (what `GET /metrics` renders).
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub(crate) fn checker(&self) -> &Checker {
        &self.inner.checker
    }

    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.inner.client
    }

    pub(crate) fn chat_url(&self) -> &reqwest::Url {
        &self.inner.chat_url
    }

    pub(crate) fn models_url(&self) -> &reqwest::Url {
        &self.inner.models_url
    }

    /// A process-unique id tying a request's log lines together.
    pub(crate) fn next_request_id(&self) -> u64 {
        self.inner.next_request_id.fetch_add(1, Ordering::Relaxed)
    }
}

/// The proxy's routes: `POST /v1/chat/completions`, `GET /v1/models`, `GET /metrics`.
pub fn router(state: ProxyState) -> Router {
    let limit = state.config().max_request_bytes;
    Router::new()
        .route("/v1/chat/completions", post(handlers::chat_completions))
        .route("/v1/models", get(handlers::models))
        .route("/metrics", get(handlers::metrics))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::{GuardFailure, GuardVerdict};
    use async_trait::async_trait;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use rsp_model::Message;
    use tower::ServiceExt as _;

    #[derive(Debug)]
    struct Allow;

    #[async_trait]
    impl Guard for Allow {
        async fn classify(
            &self,
            _: &[Message],
            _: Option<&str>,
        ) -> Result<GuardVerdict, GuardFailure> {
            Ok(GuardVerdict::allow(0.0))
        }
    }

    fn app() -> Router {
        let state = ProxyState::new(ProxyConfig::new("http://127.0.0.1:9/v1/"), Arc::new(Allow));
        router(state.unwrap())
    }

    #[tokio::test]
    async fn metrics_and_bad_requests_without_a_port() {
        let r = app()
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let body = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&body).contains("rsp_guard_requests_total"));

        let r = app()
            .oneshot(
                Request::post("/v1/chat/completions")
                    .body(Body::from("not json"))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let r = app()
            .oneshot(Request::get("/v1/nope").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn bad_upstream_urls_are_rejected() {
        let bad = |url: &str| ProxyState::new(ProxyConfig::new(url), Arc::new(Allow)).is_err();
        assert!(bad("not a url"));
        assert!(bad("ftp://example.com/v1"));
        assert!(!bad("https://api.example.com/v1"));
    }
}
