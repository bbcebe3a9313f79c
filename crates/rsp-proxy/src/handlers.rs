//! Request handlers: chat completions (guarded), models (passthrough), metrics.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::future::join_all;
use rsp_model::Message;
use serde_json::Value;

use crate::check::Decision;
use crate::guard::Stage;
use crate::metrics::UpstreamErrorKind;
use crate::openai::{self, ChatRequest};
use crate::router::ProxyState;
use crate::{stream, upstream};

/// Set on refusals of the input, so a client or a test can tell a guard refusal from a
/// model's own: `blocked` (a block verdict) or `fail-closed` (the guard failed).
pub const GUARD_HEADER: &str = "x-rsp-guard";

/// A request failure shown to the client as an OpenAI-style error body. Internals are logged
/// once here and never echoed beyond a generic message.
#[derive(Debug)]
enum ApiError {
    BadRequest(String),
    UpstreamUnavailable,
    UpstreamBody,
    UpstreamStatus(StatusCode, String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::BadRequest(msg) => (
                StatusCode::BAD_REQUEST,
                openai::error_body(&msg, "invalid_request_error").to_string(),
            ),
            ApiError::UpstreamUnavailable => (
                StatusCode::BAD_GATEWAY,
                openai::error_body("the upstream is unavailable", "upstream_error").to_string(),
            ),
            ApiError::UpstreamBody => (
                StatusCode::BAD_GATEWAY,
                openai::error_body("the upstream sent an unreadable response", "upstream_error")
                    .to_string(),
            ),
            // The upstream's own error, passed through (already redacted) so clients see
            // e.g. its 429 or 400 as if they had called it directly.
            ApiError::UpstreamStatus(status, body) => (status, body),
        };
        (status, [(CONTENT_TYPE, "application/json")], body).into_response()
    }
}

/// `POST /v1/chat/completions`.
pub(crate) async fn chat_completions(
    State(state): State<ProxyState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let model_override = state.config().upstream_model.as_deref();
    let request = match openai::parse_request(body, model_override) {
        Ok(r) => r,
        Err(msg) => return ApiError::BadRequest(msg).into_response(),
    };
    let id = state.next_request_id();
    state.metrics().request(request.stream);
    tracing::debug!(
        request_id = id,
        stream = request.stream,
        "chat completion request"
    );
    match guarded(&state, id, request, &headers).await {
        Ok(r) | Err(r) => r,
    }
}

/// The guarded exchange. `Err` carries an early response (refusal or error).
async fn guarded(
    state: &ProxyState,
    id: u64,
    request: ChatRequest,
    headers: &HeaderMap,
) -> Result<Response, Response> {
    let messages = Arc::new(request.messages);
    let (decision, sent) = input_and_upstream(state, id, &messages, request.body, headers).await;
    if decision.block {
        state.metrics().blocked_request(Stage::Input);
        return Err(refusal(
            state,
            id,
            &request.model,
            request.stream,
            &decision,
        ));
    }
    let response = match sent {
        Some(Ok(r)) => r,
        Some(Err(e)) => {
            state.metrics().upstream_error(UpstreamErrorKind::Connect);
            tracing::error!(request_id = id, error = %e.without_url(), "upstream request failed");
            return Err(ApiError::UpstreamUnavailable.into_response());
        }
        None => return Err(ApiError::UpstreamUnavailable.into_response()),
    };
    let status = response.status();
    if !status.is_success() {
        state.metrics().upstream_error(UpstreamErrorKind::Status);
        tracing::warn!(
            request_id = id,
            status = status.as_u16(),
            "upstream error status"
        );
        let text = response.text().await.unwrap_or_default();
        let status = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        return Err(
            ApiError::UpstreamStatus(status, upstream::redact(state, &text)).into_response(),
        );
    }
    if request.stream {
        return Ok(stream::respond(state, id, messages, response));
    }
    whole_completion(state, id, &messages, response).await
}

/// Runs the input check and the upstream call, overlapped when configured: the upstream
/// request starts at once and its response is dropped unread if the input is blocked, so
/// nothing the upstream produced reaches the client before the input passed. Without
/// overlap the upstream is only contacted after the check passed. The response is `None`
/// when blocked.
async fn input_and_upstream(
    state: &ProxyState,
    id: u64,
    messages: &[Message],
    body: Bytes,
    headers: &HeaderMap,
) -> (Decision, Option<Result<reqwest::Response, reqwest::Error>>) {
    let input = state.checker().check(id, 0, messages, None);
    if !state.config().overlap_input_check {
        let decision = input.await;
        if decision.block {
            return (decision, None);
        }
        let sent = upstream::send_chat(state, headers, body).await;
        return (decision, Some(sent));
    }
    let send = upstream::send_chat(state, headers, body);
    tokio::pin!(input, send);
    tokio::select! {
        decision = &mut input => {
            if decision.block {
                (decision, None)
            } else {
                (decision, Some(send.await))
            }
        }
        sent = &mut send => {
            let decision = input.await;
            let sent = (!decision.block).then_some(sent);
            (decision, sent)
        }
    }
}

/// Reads a non-streamed completion, checks every choice's text (concurrently) and replaces
/// blocked choices with the refusal.
async fn whole_completion(
    state: &ProxyState,
    id: u64,
    messages: &[Message],
    response: reqwest::Response,
) -> Result<Response, Response> {
    let bytes = match response.bytes().await {
        Ok(b) => b,
        Err(e) => {
            state.metrics().upstream_error(UpstreamErrorKind::Body);
            tracing::error!(request_id = id, error = %e.without_url(), "upstream body failed");
            return Err(ApiError::UpstreamBody.into_response());
        }
    };
    let Ok(mut completion) = serde_json::from_slice::<Value>(&bytes) else {
        state.metrics().upstream_error(UpstreamErrorKind::Body);
        tracing::error!(request_id = id, "upstream completion is not JSON");
        return Err(ApiError::UpstreamBody.into_response());
    };
    let texts = openai::completion_texts(&completion);
    let checks = texts.iter().enumerate().map(|(pos, text)| {
        let choice = u32::try_from(pos).unwrap_or(u32::MAX);
        state
            .checker()
            .check(id, choice, messages, Some(text.as_str()))
    });
    let decisions = join_all(checks).await;
    let mut blocked = false;
    for (pos, d) in decisions.iter().enumerate() {
        if d.block {
            blocked = true;
            openai::refuse_choice(&mut completion, pos, &state.config().refusal_message);
        }
    }
    if blocked {
        state.metrics().blocked_request(Stage::Output);
    }
    Ok(Json(completion).into_response())
}

/// The refusal for a blocked input, in the shape the client asked for.
fn refusal(
    state: &ProxyState,
    id: u64,
    model: &str,
    stream: bool,
    decision: &Decision,
) -> Response {
    let rid = format!("chatcmpl-rsp-{id}");
    let message = &state.config().refusal_message;
    let tag = if decision.fail.is_some() {
        "fail-closed"
    } else {
        "blocked"
    };
    let guard_header = (
        HeaderName::from_static(GUARD_HEADER),
        HeaderValue::from_static(tag),
    );
    if stream {
        (
            [
                (CONTENT_TYPE, HeaderValue::from_static("text/event-stream")),
                guard_header,
            ],
            openai::refusal_stream(&rid, model, message),
        )
            .into_response()
    } else {
        (
            [guard_header],
            Json(openai::refusal_completion(&rid, model, message)),
        )
            .into_response()
    }
}

/// `GET /v1/models`: the upstream's list, unchanged.
pub(crate) async fn models(State(state): State<ProxyState>, headers: HeaderMap) -> Response {
    let response = match upstream::get_models(&state, &headers).await {
        Ok(r) => r,
        Err(e) => {
            state.metrics().upstream_error(UpstreamErrorKind::Connect);
            tracing::error!(error = %e.without_url(), "upstream models request failed");
            return ApiError::UpstreamUnavailable.into_response();
        }
    };
    let status =
        StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    if !status.is_success() {
        state.metrics().upstream_error(UpstreamErrorKind::Status);
    }
    match response.text().await {
        Ok(text) => (
            status,
            [(CONTENT_TYPE, "application/json")],
            upstream::redact(&state, &text),
        )
            .into_response(),
        Err(e) => {
            state.metrics().upstream_error(UpstreamErrorKind::Body);
            tracing::error!(error = %e.without_url(), "upstream models body failed");
            ApiError::UpstreamBody.into_response()
        }
    }
}

/// `GET /metrics` in the Prometheus text format.
pub(crate) async fn metrics(State(state): State<ProxyState>) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics().render(),
    )
        .into_response()
}
