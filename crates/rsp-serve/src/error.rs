//! The two error types: [`ServeError`] for starting the server, [`ApiError`] for a request.
//!
//! `ApiError` is the only error a handler returns. It renders every failure as the same
//! JSON body, `{"error": {"code": "...", "message": "..."}}`, so clients branch on a stable
//! `code` rather than on prose. Internal failures (the store, a corrupt report) are logged
//! once, with their whole cause chain, and reach the client only as a generic message: a
//! file path or SQL text in a response would tell an attacker more than a user needs.

use std::net::SocketAddr;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The project store could not be opened.
    #[error("cannot open the project store")]
    Store(#[source] rsp_store::Error),
    /// The dashboard's own read connection or index setup failed.
    #[error("cannot prepare the store at {location} for serving")]
    Prepare {
        /// The database file.
        location: String,
        /// The driver failure.
        #[source]
        source: sqlx::Error,
    },
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS failure.
        #[source]
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("the server stopped with an error")]
    Serve(#[source] std::io::Error),
    /// A token could not be stored.
    #[error("cannot store the new token")]
    Token(#[source] rsp_store::Error),
}

/// A stable, machine-readable error code: the `code` field of every error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No credentials, or credentials that name no token.
    Unauthorized,
    /// A valid token whose role may not do this.
    Forbidden,
    /// No such record or page.
    NotFound,
    /// The request is malformed (bad query parameter, bad JSON).
    BadRequest,
    /// The request is well formed but the policy or the record's state refuses it.
    Unprocessable,
    /// The record is in a state that forbids the change (a final decision).
    Conflict,
    /// The server has no policy configured, which this request needs.
    NoPolicy,
    /// The server does not offer this operation.
    NotImplemented,
    /// Something failed on the server; details are in its log.
    Internal,
}

impl ErrorCode {
    fn status(self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict => StatusCode::CONFLICT,
            Self::NoPolicy => StatusCode::SERVICE_UNAVAILABLE,
            Self::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// A failed request, rendered as a JSON error body with the matching status code.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
}

/// The JSON error body.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The inside of [`ErrorBody`].
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ErrorDetail {
    /// Stable code: `unauthorized`, `forbidden`, `not_found`, `bad_request`,
    /// `unprocessable`, `conflict`, `no_policy`, `not_implemented` or `internal`.
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
}

impl ApiError {
    /// An error with `code` and a message for the client.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// 404 for a named record.
    pub fn not_found(what: &str, key: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} `{key}` not found"))
    }

    /// 400 with a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadRequest, message)
    }

    /// 422 with a message.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unprocessable, message)
    }

    /// A server-side failure: logged here with its cause chain, hidden from the client.
    pub fn internal(context: &str, err: &(dyn std::error::Error + 'static)) -> Self {
        let mut chain = err.to_string();
        let mut cause = err.source();
        while let Some(c) = cause {
            chain.push_str(": ");
            chain.push_str(&c.to_string());
            cause = c.source();
        }
        tracing::error!(context, error = %chain, "request failed");
        Self::new(
            ErrorCode::Internal,
            "internal error; the server log has the details",
        )
    }

    /// The code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// The client-facing message.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn body(&self) -> ErrorBody {
        let code = serde_json::to_value(self.code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        ErrorBody {
            error: ErrorDetail {
                code,
                message: self.message.clone(),
            },
        }
    }
}

impl From<rsp_store::Error> for ApiError {
    fn from(err: rsp_store::Error) -> Self {
        match &err {
            rsp_store::Error::NotFound { what, key } => Self::not_found(what, key),
            rsp_store::Error::AlreadyExists { .. } | rsp_store::Error::DecisionFinal { .. } => {
                Self::new(ErrorCode::Conflict, err.to_string())
            }
            rsp_store::Error::InvalidFilter { .. } => Self::bad_request(err.to_string()),
            _ => Self::internal("store", &err),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        Self::internal("dashboard query", &err)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status(), Json(self.body())).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_client_codes_and_hide_internals() {
        let nf: ApiError = rsp_store::Error::NotFound {
            what: "run",
            key: "r1".into(),
        }
        .into();
        assert_eq!(nf.status(), StatusCode::NOT_FOUND);
        assert_eq!(nf.message(), "run `r1` not found");
        let q: ApiError = rsp_store::Error::Query {
            op: "get_run",
            location: "/secret/path/rsp.db".into(),
            source: sqlx::Error::RowNotFound,
        }
        .into();
        assert_eq!(q.code(), ErrorCode::Internal);
        assert!(!q.message().contains("/secret"), "{}", q.message());
        assert_eq!(q.body().error.code, "internal");
    }
}
