//! Security headers on every response.
//!
//! The pages need no inline script or style: CSS and the one small script are served from
//! `/assets/`, and charts are inline SVG drawn with presentation attributes, so the CSP can
//! forbid everything inline. `frame-ancestors 'none'` (and `X-Frame-Options` for old
//! browsers) stops clickjacking; `form-action 'self'` keeps the filter forms on this
//! origin. The HTML forms only filter (GET) and change nothing, so they need no CSRF token;
//! writes exist only in the API and need a bearer header a browser never adds by itself.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// The Content-Security-Policy of every response.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const HEADERS: &[(&str, &str)] = &[
    ("content-security-policy", CSP),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    ),
];

/// Adds the security headers (and `Cache-Control: no-store` outside `/assets/`, since
/// pages show live governance state).
pub async fn headers(req: Request, next: Next) -> Response {
    let is_asset = req.uri().path().starts_with("/assets/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    for (name, value) in HEADERS {
        h.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    if !is_asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Host names a loopback server answers to. Checking the `Host` header defeats DNS
/// rebinding: a web page on `evil.example` that re-points its name at 127.0.0.1 still
/// sends `Host: evil.example`, so it cannot read the unauthenticated dashboard through
/// the victim's browser.
pub const LOOPBACK_HOSTS: &[&str] = &["localhost", "127.0.0.1", "[::1]"];

/// True when `host` (a `Host` header value, with or without a port) names one of
/// `allowed`.
pub fn host_allowed(host: &str, allowed: &[&str]) -> bool {
    let name = if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or(host)
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    allowed.iter().any(|a| a.eq_ignore_ascii_case(name))
}

/// Rejects requests whose `Host` is not a loopback name when the server listens on
/// loopback (see [`LOOPBACK_HOSTS`]). Requests without a `Host` header (HTTP/1.0, or a
/// router called in-process) pass: a browser always sends one.
pub async fn host_check(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if state.loopback_only()
        && let Some(host) = req.headers().get(header::HOST)
        && !host.to_str().is_ok_and(|h| host_allowed(h, LOOPBACK_HOSTS))
    {
        return ApiError::new(
            ErrorCode::Forbidden,
            "this server only answers to localhost, 127.0.0.1 and [::1] (DNS rebinding protection)",
        )
        .into_response();
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_checked_without_their_port() {
        for ok in [
            "localhost",
            "localhost:8719",
            "127.0.0.1:8719",
            "[::1]:8719",
            "LOCALHOST",
        ] {
            assert!(host_allowed(ok, LOOPBACK_HOSTS), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8719",
            "127.0.0.1.evil.example",
            "[::2]:8719",
            "",
        ] {
            assert!(!host_allowed(bad, LOOPBACK_HOSTS), "{bad}");
        }
    }
}
