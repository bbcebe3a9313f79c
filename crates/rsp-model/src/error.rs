//! The crate's one error type.
//!
//! Every variant names the provider and the cause; causes travel as `#[source]` so callers
//! that print the chain (`{:#}` with anyhow, miette) see them once. No variant ever holds an
//! API key: HTTP bodies are redacted before they get here (see [`crate::SecretString`]).

use std::path::PathBuf;

use crate::embedded::EngineError;

/// Everything that can go wrong when building a provider or calling a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The spec string does not have the `provider/model` shape or names an invalid model.
    #[error("invalid model spec `{spec}`: {reason}")]
    InvalidSpec {
        /// The spec as given.
        spec: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The provider part of the spec is not one this crate knows.
    #[error(
        "unknown model provider `{provider}` in `{spec}` (known: embedded, openai, anthropic, mock)"
    )]
    UnknownProvider {
        /// The spec as given.
        spec: String,
        /// The provider part.
        provider: String,
    },
    /// A hosted provider needs an API key and none was configured.
    #[error("{provider} needs an API key: set {var}")]
    MissingApiKey {
        /// Provider name.
        provider: &'static str,
        /// Environment variable to set.
        var: &'static str,
    },
    /// The GGUF file for the embedded model is not there.
    #[error(
        "embedded model not found at {}; run `scripts/fetch-model.sh` to download the default model \
         (SmolLM2-135M-Instruct, verified by sha256), or set RSP_MODEL_PATH to a GGUF file",
        path.display()
    )]
    ModelNotFound {
        /// Where the file was expected.
        path: PathBuf,
    },
    /// llama.cpp could not load or run the embedded model.
    #[error("embedded model {}", path.display())]
    Engine {
        /// The GGUF file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: EngineError,
    },
    /// The embedded engine thread has stopped (it panicked or was shut down).
    #[error("the embedded engine thread has stopped")]
    EngineStopped,
    /// The request does not fit the model's context window.
    #[error("request needs {needed} tokens but the context window holds {limit}")]
    ContextOverflow {
        /// Tokens the request needs (prompt plus `max_tokens`, or context plus continuation).
        needed: usize,
        /// Tokens available.
        limit: usize,
    },
    /// The request is not valid for any provider.
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// The provider cannot do what was asked (e.g. scoring on Anthropic).
    #[error("{model} does not support {feature}")]
    Unsupported {
        /// Canonical spec of the model.
        model: String,
        /// The missing capability.
        feature: &'static str,
    },
    /// The HTTP exchange failed (connection, timeout, body read) on the last attempt.
    #[error("{provider} request failed after {attempts} attempt(s)")]
    Http {
        /// Provider name.
        provider: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The last transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status on the last attempt.
    #[error("{provider} returned HTTP {status} after {attempts} attempt(s): {body}")]
    Status {
        /// Provider name.
        provider: &'static str,
        /// HTTP status code.
        status: u16,
        /// Attempts made.
        attempts: u32,
        /// The start of the response body, secrets redacted.
        body: String,
    },
    /// The response body was not the JSON the API promises (truncated, or another shape).
    #[error("{provider} returned a malformed response (body starts: {excerpt:?})")]
    MalformedResponse {
        /// Provider name.
        provider: &'static str,
        /// The start of the body, secrets redacted.
        excerpt: String,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// The response parsed but lacks something the call needs (no choices, no logprobs).
    #[error("{provider} response is missing {what}")]
    IncompleteResponse {
        /// Provider name.
        provider: &'static str,
        /// What was missing.
        what: &'static str,
    },
    /// The HTTP client could not be built.
    #[error("could not build the HTTP client")]
    Client(#[source] reqwest::Error),
    /// A `mock/` spec named a script that does not exist, or the `mock/error` script ran.
    #[error("mock model: {0}")]
    Mock(&'static str),
    /// A [`crate::ResponseCache`] backend failed.
    #[error("response cache")]
    Cache(#[source] Box<dyn std::error::Error + Send + Sync>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_not_found_says_how_to_fix_it() {
        let e = Error::ModelNotFound {
            path: PathBuf::from("/x/m.gguf"),
        };
        let s = e.to_string();
        assert!(s.contains("scripts/fetch-model.sh"), "{s}");
        assert!(s.contains("RSP_MODEL_PATH"), "{s}");
        assert!(s.contains("/x/m.gguf"), "{s}");
    }
}
