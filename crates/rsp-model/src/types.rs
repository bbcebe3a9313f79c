//! Messages, generation settings and the results every provider returns.
//!
//! These types are plain data with `serde` so that the eval engine can store them verbatim
//! (and hash them for the response cache). Durations are serialised as milliseconds.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions that frame the conversation.
    System,
    /// The human (or the eval harness playing one).
    User,
    /// The model.
    Assistant,
}

impl Role {
    /// The lowercase wire name (`system`, `user`, `assistant`), shared by ChatML, OpenAI and
    /// Anthropic.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One turn of a chat.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    /// Who said it.
    pub role: Role,
    /// What was said (plain text).
    pub content: String,
}

impl Message {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: Role::System,
            content: content.into(),
        }
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            content: content.into(),
        }
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// How to generate. `Default` is greedy decoding of up to 256 tokens, one choice.
///
/// Temperature 0 means greedy (argmax) decoding on every provider that allows it. With a
/// temperature above 0, `seed` makes sampling reproducible where the provider supports seeds
/// (embedded: always; OpenAI-compatible: best effort; Anthropic: not supported).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GenerateConfig {
    /// Upper bound on generated tokens per choice.
    pub max_tokens: u32,
    /// Softmax temperature; 0 means greedy.
    pub temperature: f32,
    /// Nucleus sampling mass; 1.0 disables it.
    pub top_p: f32,
    /// Generation stops before the first occurrence of any of these strings, which are not
    /// included in the output.
    pub stop: Vec<String>,
    /// Sampling seed. Choice `i` of an `n`-choice request uses `seed + i`.
    pub seed: Option<u64>,
    /// Number of independent choices to generate for the same prompt.
    pub n: u32,
    /// Return the log-probability of every generated token.
    pub logprobs: bool,
}

impl Default for GenerateConfig {
    fn default() -> Self {
        Self {
            max_tokens: 256,
            temperature: 0.0,
            top_p: 1.0,
            stop: Vec::new(),
            seed: None,
            n: 1,
            logprobs: false,
        }
    }
}

impl GenerateConfig {
    /// Greedy decoding of at most `max_tokens` tokens.
    pub fn greedy(max_tokens: u32) -> Self {
        Self {
            max_tokens,
            ..Self::default()
        }
    }

    /// Seeded sampling at `temperature`.
    pub fn sampled(max_tokens: u32, temperature: f32, seed: u64) -> Self {
        Self {
            max_tokens,
            temperature,
            seed: Some(seed),
            ..Self::default()
        }
    }

    /// True when the output is a deterministic function of the request: greedy decoding, or
    /// sampling with a fixed seed.
    pub fn is_deterministic(&self) -> bool {
        self.temperature <= 0.0 || self.seed.is_some()
    }
}

/// Why a choice stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model ended its turn (end-of-generation token, `stop`, `end_turn`).
    EndOfTurn,
    /// A caller-supplied stop sequence was produced.
    StopSequence,
    /// `max_tokens` was reached.
    MaxTokens,
    /// The provider filtered the content.
    ContentFilter,
    /// The provider reported a reason this crate does not know.
    Other,
}

/// The log-probability of one generated token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenLogprob {
    /// The token's text.
    pub token: String,
    /// Natural-log probability under the model's unmodified distribution (temperature 1).
    pub logprob: f64,
}

/// One generated answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// The generated text, without any stop sequence.
    pub text: String,
    /// Why generation stopped.
    pub stop_reason: StopReason,
    /// Per-token log-probabilities when [`GenerateConfig::logprobs`] was set and the provider
    /// returns them.
    pub logprobs: Option<Vec<TokenLogprob>>,
}

/// Token counts, summed over all choices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the prompt (counted once even with several choices).
    pub input_tokens: u64,
    /// Tokens generated across all choices.
    pub output_tokens: u64,
}

/// What happened on the wire: attempts, retries and the errors that caused them.
///
/// The eval engine stores this with every sample, so a run's flakiness is visible after the
/// fact rather than hidden by the retry loop.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallMeta {
    /// Attempts made (1 when the first one succeeded).
    pub attempts: u32,
    /// Errors of the failed attempts, oldest first, with secrets redacted.
    pub errors: Vec<String>,
    /// The seed actually used, when the provider sampled with one (the embedded engine picks
    /// one when the request had none, so a sampled answer can still be replayed).
    pub seed: Option<u64>,
    /// True when the answer came from a [`crate::ResponseCache`] instead of the model.
    pub cached: bool,
}

impl CallMeta {
    /// Retries made (attempts after the first).
    pub fn retries(&self) -> u32 {
        self.attempts.saturating_sub(1)
    }
}

/// The result of one generate call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    /// The canonical spec of the model that answered (`embedded/…`, `openai/…`).
    pub model: String,
    /// One entry per requested choice, in order.
    pub choices: Vec<Choice>,
    /// Token counts.
    pub usage: Usage,
    /// Wall time from call to answer, including queueing and retries.
    #[serde(with = "duration_ms")]
    pub latency: Duration,
    /// Attempts, retries and errors.
    pub meta: CallMeta,
}

impl Generation {
    /// The first choice's text, or "" when there is none (a provider never returns zero
    /// choices without an error, so this is a convenience, not a way to hide failures).
    pub fn text(&self) -> &str {
        self.choices.first().map_or("", |c| c.text.as_str())
    }
}

/// A log-likelihood request, as lm-evaluation-harness's `loglikelihood`: the log-probability
/// of each continuation given the shared context.
///
/// The context is not chat-templated: scoring is over raw text. Following lm-eval, the
/// continuation's tokens are those of `context + continuation` past the context's own
/// tokenisation, so a continuation should normally start with its separating space
/// (`" Paris"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScoreRequest {
    /// The shared prefix (the question).
    pub context: String,
    /// The candidate continuations (the answers).
    pub continuations: Vec<String>,
}

impl ScoreRequest {
    /// Builds a request from a context and its candidate continuations.
    pub fn new(
        context: impl Into<String>,
        continuations: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            context: context.into(),
            continuations: continuations.into_iter().map(Into::into).collect(),
        }
    }
}

/// The score of one continuation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ContinuationScore {
    /// Sum of the continuation tokens' natural-log probabilities.
    pub logprob: f64,
    /// True when every continuation token was the model's argmax (lm-eval's `is_greedy`).
    pub is_greedy: bool,
    /// Number of continuation tokens, so callers can length-normalise.
    pub n_tokens: u32,
}

/// The result of one score call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// The canonical spec of the model that scored.
    pub model: String,
    /// One entry per continuation, in request order.
    pub scores: Vec<ContinuationScore>,
    /// Wall time from call to answer.
    #[serde(with = "duration_ms")]
    pub latency: Duration,
    /// Attempts, retries and errors.
    pub meta: CallMeta,
}

impl Scores {
    /// Index of the continuation with the highest summed log-probability (ties: first).
    pub fn argmax(&self) -> Option<usize> {
        argmax_by(&self.scores, |s| s.logprob)
    }

    /// Index of the continuation with the highest per-token log-probability (ties: first).
    pub fn argmax_normalized(&self) -> Option<usize> {
        argmax_by(&self.scores, |s| s.logprob / f64::from(s.n_tokens.max(1)))
    }
}

fn argmax_by(
    scores: &[ContinuationScore],
    key: impl Fn(&ContinuationScore) -> f64,
) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, s) in scores.iter().enumerate() {
        let k = key(s);
        if best.is_none_or(|(_, b)| k > b) {
            best = Some((i, k));
        }
    }
    best.map(|(i, _)| i)
}

/// What a provider can do, so callers can choose a scorer before they hit an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// [`GenerateConfig::logprobs`] returns per-token log-probabilities.
    pub logprobs: bool,
    /// [`crate::ModelApi::score`] works.
    pub scoring: bool,
    /// Native tool calling is available through this crate. Tool definitions are not part of
    /// [`GenerateConfig`] yet, so this is false for every provider today.
    pub tools: bool,
    /// [`crate::ModelApi::generate_stream`] yields text as it is produced (otherwise the stream
    /// carries the whole answer in one delta).
    pub streaming: bool,
    /// Seeded sampling is reproducible.
    pub seed: bool,
}

/// One event of a streamed generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StreamEvent {
    /// New text for a choice.
    Delta {
        /// Index of the choice the text belongs to.
        choice: u32,
        /// The text, appended to what came before.
        text: String,
    },
    /// The finished generation (same value `generate` would have returned); always last.
    Done(Generation),
}

mod duration_ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64() * 1000.0)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let ms = f64::deserialize(d)?;
        Ok(Duration::from_secs_f64(ms.max(0.0) / 1000.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_are_greedy_and_deterministic() {
        let c = GenerateConfig::default();
        assert_eq!(c.temperature, 0.0);
        assert!(c.is_deterministic());
        assert!(
            !GenerateConfig {
                temperature: 0.7,
                ..c
            }
            .is_deterministic()
        );
        assert!(GenerateConfig::sampled(10, 0.7, 3).is_deterministic());
    }

    #[test]
    fn config_deserialises_with_missing_fields() {
        let c: GenerateConfig = serde_json::from_str(r#"{"max_tokens": 5}"#).unwrap();
        assert_eq!(c.max_tokens, 5);
        assert_eq!(c.n, 1);
    }

    #[test]
    fn argmax_prefers_first_on_ties_and_normalises() {
        let s = |logprob, n_tokens| ContinuationScore {
            logprob,
            is_greedy: false,
            n_tokens,
        };
        let scores = Scores {
            model: "mock/x".into(),
            scores: vec![s(-4.0, 4), s(-3.0, 1), s(-3.0, 1)],
            latency: Duration::ZERO,
            meta: CallMeta::default(),
        };
        assert_eq!(scores.argmax(), Some(1));
        assert_eq!(scores.argmax_normalized(), Some(0));
    }

    #[test]
    fn generation_roundtrips_through_json_with_latency_in_ms() {
        let g = Generation {
            model: "mock/echo".into(),
            choices: vec![Choice {
                text: "hi".into(),
                stop_reason: StopReason::EndOfTurn,
                logprobs: None,
            }],
            usage: Usage {
                input_tokens: 3,
                output_tokens: 1,
            },
            latency: Duration::from_millis(1500),
            meta: CallMeta {
                attempts: 2,
                errors: vec!["HTTP 500".into()],
                seed: None,
                cached: false,
            },
        };
        let v = serde_json::to_value(&g).unwrap();
        assert_eq!(v["latency"], 1500.0);
        assert_eq!(v["choices"][0]["stop_reason"], "end_of_turn");
        let back: Generation = serde_json::from_value(v).unwrap();
        assert_eq!(back, g);
        assert_eq!(back.meta.retries(), 1);
    }
}
