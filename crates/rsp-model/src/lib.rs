//! Models for rsp: the [`ModelApi`] trait and its providers.
//!
//! # Design
//!
//! Everything rsp asks of a model goes through one small, object-safe async trait,
//! [`ModelApi`], shared as `Arc<dyn ModelApi>`:
//!
//! - [`ModelApi::generate`] answers a chat ([`Message`]s) under a [`GenerateConfig`]
//!   (max tokens, temperature, top-p, stop sequences, seed, `n` choices, logprobs) and
//!   returns a [`Generation`]: text and [`StopReason`] per choice, token [`Usage`], latency,
//!   optional logprobs, and [`CallMeta`] (attempts and the errors that caused retries, so the
//!   eval engine can store them).
//! - [`ModelApi::generate_stream`] yields the same answer as [`StreamEvent`]s while it is
//!   produced (for `rsp chat` and the guard proxy).
//! - [`ModelApi::score`] is lm-evaluation-harness's `loglikelihood`: summed log-probability,
//!   `is_greedy` and token count of each continuation of a shared context ([`Scores`]).
//! - [`ModelApi::capabilities`] says up front what works, so a caller can pick a scorer
//!   instead of catching [`Error::Unsupported`].
//!
//! Providers are built from Inspect-style `provider/model` specs by a [`ProviderFactory`]
//! (see [`factory`] for the table). The environment is read once into a [`ProviderEnv`];
//! API keys are [`SecretString`]s that print as `***` and are scrubbed from every error
//! body.
//!
//! - **embedded** ([`EmbeddedModel`]): a GGUF run in-process by llama.cpp on a dedicated
//!   engine thread with continuous batching, so concurrent requests share forward passes and
//!   scoring evaluates a question once for all its answers.
//! - **openai** ([`OpenAiModel`]) and **anthropic** ([`AnthropicModel`]): one shared
//!   `reqwest` client, retries with exponential backoff, jitter and `Retry-After`
//!   ([`RetryPolicy`]), and an adaptive (AIMD) concurrency limit per provider
//!   ([`AdaptiveLimiter`]). Malformed or truncated bodies are errors, never empty answers.
//! - **mock** ([`MockModel`]): deterministic scripts for unit tests.
//!
//! The response cache ([`ResponseCache`], [`cache_key`], [`generate_cached`]) is storage-
//! agnostic; see [`cache`] for when it must be bypassed.

#![deny(missing_docs)]
// Tests may unwrap: a panic is the failure report.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod anthropic;
mod api;
pub mod cache;
mod embedded;
mod error;
pub mod factory;
mod http;
mod limiter;
mod mock;
mod openai;
mod retry;
mod secret;
mod types;

pub use anthropic::{AnthropicModel, DEFAULT_ANTHROPIC_BASE_URL};
pub use api::{GenerationStream, ModelApi, whole_answer_stream};
pub use cache::{CacheKey, CacheMode, InMemoryCache, ResponseCache, cache_key, generate_cached};
pub use embedded::{
    DEFAULT_MODEL_FILE, EmbeddedModel, EmbeddedOptions, EngineError, resolve_model_path,
};
pub use error::Error;
pub use factory::{ModelSpec, ProviderEnv, ProviderFactory, ProviderOptions};
pub use limiter::{AdaptiveLimiter, Permit};
pub use mock::MockModel;
pub use openai::{DEFAULT_OPENAI_BASE_URL, OpenAiModel};
pub use retry::RetryPolicy;
pub use secret::SecretString;
pub use types::{
    CallMeta, Capabilities, Choice, ContinuationScore, GenerateConfig, Generation, Message, Role,
    ScoreRequest, Scores, StopReason, StreamEvent, TokenLogprob, Usage,
};
