//! Calls to the upstream, with the credential attached and hidden.

use axum::body::Bytes;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue};

use crate::router::ProxyState;

/// The `Authorization` value to send upstream: the configured key, else the client's own
/// header. Marked sensitive so HTTP-level debug output never shows it.
fn authorization(state: &ProxyState, client_headers: &HeaderMap) -> Option<HeaderValue> {
    let mut value = match &state.config().upstream_api_key {
        Some(key) => HeaderValue::from_str(&format!("Bearer {}", key.expose())).ok()?,
        None => client_headers.get(AUTHORIZATION)?.clone(),
    };
    value.set_sensitive(true);
    Some(value)
}

/// `POST {base}/chat/completions` with the client's body, verbatim.
pub(crate) async fn send_chat(
    state: &ProxyState,
    client_headers: &HeaderMap,
    body: Bytes,
) -> Result<reqwest::Response, reqwest::Error> {
    let mut req = state
        .client()
        .post(state.chat_url().clone())
        .header(CONTENT_TYPE, "application/json")
        .body(body);
    if let Some(auth) = authorization(state, client_headers) {
        req = req.header(AUTHORIZATION, auth);
    }
    req.send().await
}

/// `GET {base}/models`.
pub(crate) async fn get_models(
    state: &ProxyState,
    client_headers: &HeaderMap,
) -> Result<reqwest::Response, reqwest::Error> {
    let mut req = state.client().get(state.models_url().clone());
    if let Some(auth) = authorization(state, client_headers) {
        req = req.header(AUTHORIZATION, auth);
    }
    req.send().await
}

/// Removes the configured API key from text the upstream sent back (some servers echo a
/// bad key in their error body) before it reaches the client or a log.
pub(crate) fn redact(state: &ProxyState, text: &str) -> String {
    match &state.config().upstream_api_key {
        Some(key) => key.redact(text),
        None => text.to_owned(),
    }
}
