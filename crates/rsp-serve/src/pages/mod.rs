//! Server-rendered HTML pages (maud).
//!
//! maud over askama: templates are Rust expressions checked by the compiler, every
//! interpolation is escaped unless wrapped in `PreEscaped`, and there are no template files
//! to ship or keep in sync with the structs. Pages carry no inline script or style (see
//! [`crate::security`]); colour always comes with text, so a status reads the same to a
//! colour-blind user and a screen reader.

pub(crate) mod chart;
pub(crate) mod compare;
pub(crate) mod ledger;
pub(crate) mod live;
pub(crate) mod model;
pub(crate) mod overview;
pub(crate) mod policy;
pub(crate) mod runs;
pub(crate) mod sample;

use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use crate::error::ApiError;

/// A page or an HTML error page.
pub(crate) type PageResult = Result<Html<String>, PageError>;

/// An [`ApiError`] rendered as an HTML page with the same status.
#[derive(Debug)]
pub(crate) struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl From<rsp_store::Error> for PageError {
    fn from(e: rsp_store::Error) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let body = layout(
            &format!("Error {}", status.as_u16()),
            "",
            &html! {
                h1 { "Error " (status.as_u16()) }
                p.error-message { (self.0.message()) }
                p { a href="/" { "Back to the overview" } }
            },
        );
        (status, body).into_response()
    }
}

const NAV: &[(&str, &str, &str)] = &[
    ("overview", "/", "Overview"),
    ("runs", "/runs", "Runs"),
    ("compare", "/compare", "Compare"),
    ("policy", "/policy", "Policy"),
    ("ledger", "/ledger", "Ledger"),
    ("live", "/live", "Live runs"),
];

/// The page frame: navigation, main content, stylesheet and the small script.
pub(crate) fn layout(title: &str, active: &str, body: &Markup) -> Html<String> {
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · rsp" }
                link rel="stylesheet" href="/assets/app.css";
                script src="/assets/live.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    span.brand { "rsp" }
                    nav aria-label="Main" {
                        ul {
                            @for (id, href, label) in NAV {
                                li {
                                    @if *id == active {
                                        a href=(href) aria-current="page" { (label) }
                                    } @else {
                                        a href=(href) { (label) }
                                    }
                                }
                            }
                        }
                    }
                }
                main #main { (body) }
            }
        }
    };
    Html(page.into_string())
}

/// A status badge: colour from the class, meaning from the symbol and the words.
pub(crate) fn status_badge(status: &str) -> Markup {
    let (symbol, words) = match status {
        "ruled-out" => ("✓", "ruled out"),
        "alert" => ("▲", "alert"),
        "no-evidence" => ("?", "no evidence"),
        "cannot-rule-out" => ("!", "cannot rule out"),
        "crossed" => ("✕", "crossed"),
        "in-place" => ("✓", "in place"),
        "allowed" => ("✓", "allowed"),
        "blocked" => ("✕", "blocked"),
        "awaiting" => ("…", "awaiting signatures"),
        "running" => ("▶", "running"),
        "completed" => ("✓", "completed"),
        "failed" => ("✕", "failed"),
        "interrupted" => ("‖", "interrupted"),
        "ok" => ("✓", "verified"),
        "bad" => ("✕", "verification failed"),
        other => ("•", other),
    };
    html! {
        span class={ "badge st-" (status) } {
            span aria-hidden="true" { (symbol) " " }
            (words)
        }
    }
}

/// A number with three decimals, or a dash.
pub(crate) fn num(x: Option<f64>) -> String {
    x.map_or_else(|| "—".to_owned(), |v| format!("{v:.3}"))
}

/// `[lo, hi]` with three decimals, or a dash.
pub(crate) fn ci(lo: Option<f64>, hi: Option<f64>) -> String {
    match (lo, hi) {
        (Some(l), Some(h)) => format!("[{l:.3}, {h:.3}]"),
        _ => "—".to_owned(),
    }
}

/// Percent-encodes a path segment or query value.
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Pretty JSON for display.
pub(crate) fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_escapes_everything_but_unreserved() {
        assert_eq!(enc("a b/c?d=é"), "a%20b%2Fc%3Fd%3D%C3%A9");
        assert_eq!(enc("item-01_x.y~"), "item-01_x.y~");
    }

    #[test]
    fn badges_carry_words_not_only_colour() {
        let b = status_badge("cannot-rule-out").into_string();
        assert!(
            b.contains("st-cannot-rule-out") && b.contains("cannot rule out"),
            "{b}"
        );
        let unknown = status_badge("<x>").into_string();
        assert!(
            unknown.contains("&lt;x&gt;") && !unknown.contains("<x>"),
            "{unknown}"
        );
    }
}
