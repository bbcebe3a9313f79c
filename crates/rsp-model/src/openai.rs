//! OpenAI-compatible provider (`openai/<model>`): OpenAI itself, vLLM, llama.cpp's server,
//! Ollama — anything that speaks `/chat/completions` and `/completions`.
//!
//! Generation uses `/chat/completions` (streamed with server-sent events when asked).
//! Scoring uses the legacy `/completions` endpoint with `echo: true, logprobs: 1,
//! max_tokens: 1`, as lm-evaluation-harness's `local-completions` model does: the server
//! returns the prompt's own tokens with their log-probabilities and character offsets, and
//! the continuation's tokens are the ones that end past the context. vLLM and llama.cpp's
//! server support this; api.openai.com no longer does for current models, so
//! [`Capabilities::scoring`] is false when the base URL is OpenAI's own.

use std::collections::BTreeMap;
use std::time::Instant;

use async_trait::async_trait;
use futures::StreamExt;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::http::{Transport, error_chain, parse_json};
use crate::{
    CallMeta, Capabilities, Choice, ContinuationScore, Error, GenerateConfig, Generation,
    GenerationStream, Message, ModelApi, ScoreRequest, Scores, StopReason, StreamEvent,
    TokenLogprob, Usage,
};

/// OpenAI's own endpoint, used when neither configuration nor `OPENAI_BASE_URL` names one.
pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

const PROVIDER: &str = "openai";

/// A model behind an OpenAI-compatible API.
#[derive(Debug)]
pub struct OpenAiModel {
    name: String,
    model: String,
    base_url: String,
    headers: HeaderMap,
    transport: Transport,
}

impl OpenAiModel {
    /// Builds the provider. `transport.secret`, when set, is sent as a bearer token.
    pub(crate) fn new(model: &str, base_url: &str, transport: Transport) -> Result<Self, Error> {
        let mut headers = HeaderMap::new();
        if let Some(key) = &transport.secret {
            let mut value =
                HeaderValue::from_str(&format!("Bearer {}", key.expose())).map_err(|_| {
                    Error::InvalidRequest(
                        "OPENAI_API_KEY contains characters not allowed in a header",
                    )
                })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        Ok(Self {
            name: format!("openai/{model}"),
            model: model.to_owned(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            headers,
            transport,
        })
    }

    /// The limiter's current concurrency limit (for tests and progress displays).
    pub fn concurrency_limit(&self) -> usize {
        self.transport.limiter.limit()
    }

    fn chat_body<'a>(
        &'a self,
        messages: &'a [Message],
        config: &'a GenerateConfig,
        stream: bool,
    ) -> ChatRequest<'a> {
        ChatRequest {
            model: &self.model,
            messages: messages
                .iter()
                .map(|m| WireMessage {
                    role: m.role.as_str(),
                    content: &m.content,
                })
                .collect(),
            max_tokens: config.max_tokens,
            temperature: config.temperature,
            top_p: config.top_p,
            stop: (!config.stop.is_empty()).then_some(&config.stop),
            seed: config.seed,
            n: config.n,
            logprobs: config.logprobs.then_some(true),
            stream: stream.then_some(true),
            stream_options: stream.then_some(StreamOptions {
                include_usage: true,
            }),
        }
    }
}

#[async_trait]
impl ModelApi for OpenAiModel {
    fn name(&self) -> &str {
        &self.name
    }

    fn endpoint(&self) -> Option<&str> {
        Some(&self.base_url)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            logprobs: true,
            scoring: !self.base_url.starts_with(DEFAULT_OPENAI_BASE_URL),
            tools: false,
            streaming: true,
            seed: true,
        }
    }

    async fn generate(
        &self,
        messages: &[Message],
        config: &GenerateConfig,
    ) -> Result<Generation, Error> {
        let started = Instant::now();
        let mut meta = CallMeta::default();
        let url = format!("{}/chat/completions", self.base_url);
        let body = self.chat_body(messages, config, false);
        let bytes = self
            .transport
            .post_json(&url, &self.headers, &body, &mut meta)
            .await?;
        let response: ChatResponse = parse_json(&self.transport, &bytes)?;
        if response.choices.is_empty() {
            return Err(Error::IncompleteResponse {
                provider: PROVIDER,
                what: "choices",
            });
        }
        let mut choices: Vec<(u32, Choice)> = response
            .choices
            .into_iter()
            .map(|c| {
                let stop_reason =
                    stop_reason(c.finish_reason.as_deref(), c.stop_reason.as_ref(), config);
                let logprobs = c.logprobs.and_then(|l| l.content).map(|tokens| {
                    tokens
                        .into_iter()
                        .map(|t| TokenLogprob {
                            token: t.token,
                            logprob: t.logprob,
                        })
                        .collect()
                });
                (
                    c.index,
                    Choice {
                        text: c.message.content.unwrap_or_default(),
                        stop_reason,
                        logprobs,
                    },
                )
            })
            .collect();
        choices.sort_by_key(|(i, _)| *i);
        Ok(Generation {
            model: self.name.clone(),
            choices: choices.into_iter().map(|(_, c)| c).collect(),
            usage: response.usage.map(Usage::from).unwrap_or_default(),
            latency: started.elapsed(),
            meta: CallMeta {
                seed: config.seed,
                ..meta
            },
        })
    }

    async fn generate_stream(
        &self,
        messages: &[Message],
        config: &GenerateConfig,
    ) -> Result<GenerationStream, Error> {
        let started = Instant::now();
        let mut meta = CallMeta::default();
        let url = format!("{}/chat/completions", self.base_url);
        let body = self.chat_body(messages, config, true);
        let response = self
            .transport
            .post_streaming(&url, &self.headers, &body, &mut meta)
            .await?;
        let (tx, rx) = futures::channel::mpsc::unbounded();
        let mut state = SseState {
            name: self.name.clone(),
            config: config.clone(),
            texts: vec![String::new(); config.n.max(1) as usize],
            reasons: vec![None; config.n.max(1) as usize],
            usage: Usage::default(),
            started,
            meta: CallMeta {
                seed: config.seed,
                ..meta
            },
        };
        let secret = self.transport.secret.clone();
        tokio::spawn(async move {
            let mut bytes = response.bytes_stream();
            let mut buffer = String::new();
            let mut done = false;
            while let Some(chunk) = bytes.next().await {
                let chunk = match chunk {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::debug!(error = %redacted(&secret, &error_chain(&e)), "stream broke");
                        let _ = tx.unbounded_send(Err(Error::Http {
                            provider: PROVIDER,
                            attempts: state.meta.attempts,
                            source: e,
                        }));
                        return;
                    }
                };
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(newline) = buffer.find('\n') {
                    let line: String = buffer.drain(..=newline).collect();
                    match state.line(line.trim_end_matches(['\r', '\n']), &secret) {
                        Ok(LineOutcome::Events(events)) => {
                            for e in events {
                                if tx.unbounded_send(Ok(e)).is_err() {
                                    return; // the consumer went away
                                }
                            }
                        }
                        Ok(LineOutcome::Done) => done = true,
                        Err(e) => {
                            let _ = tx.unbounded_send(Err(e));
                            return;
                        }
                    }
                }
            }
            let finished = done || state.reasons.iter().all(Option::is_some);
            let last = if finished {
                Ok(StreamEvent::Done(state.finish()))
            } else {
                Err(Error::IncompleteResponse {
                    provider: PROVIDER,
                    what: "the end of the event stream (it was cut off)",
                })
            };
            let _ = tx.unbounded_send(last);
        });
        Ok(Box::pin(rx))
    }

    async fn score(&self, request: &ScoreRequest) -> Result<Scores, Error> {
        if !self.capabilities().scoring {
            return Err(Error::Unsupported {
                model: self.name.clone(),
                feature: "log-likelihood scoring (echo + logprobs)",
            });
        }
        if request.context.is_empty() {
            return Err(Error::InvalidRequest("scoring needs a non-empty context"));
        }
        if request.continuations.is_empty() {
            return Ok(Scores {
                model: self.name.clone(),
                scores: Vec::new(),
                latency: Default::default(),
                meta: CallMeta::default(),
            });
        }
        let started = Instant::now();
        let mut meta = CallMeta::default();
        let prompts: Vec<String> = request
            .continuations
            .iter()
            .map(|c| format!("{}{c}", request.context))
            .collect();
        let body = CompletionRequest {
            model: &self.model,
            prompt: &prompts,
            max_tokens: 1,
            temperature: 0.0,
            logprobs: 1,
            echo: true,
        };
        let url = format!("{}/completions", self.base_url);
        let bytes = self
            .transport
            .post_json(&url, &self.headers, &body, &mut meta)
            .await?;
        let response: CompletionResponse = parse_json(&self.transport, &bytes)?;
        if response.choices.len() != prompts.len() {
            return Err(Error::IncompleteResponse {
                provider: PROVIDER,
                what: "one choice per prompt",
            });
        }
        let context_chars = request.context.chars().count();
        let mut scores = vec![None; prompts.len()];
        for choice in response.choices {
            let i = choice.index as usize;
            let prompt = prompts.get(i).ok_or(Error::IncompleteResponse {
                provider: PROVIDER,
                what: "valid choice indices",
            })?;
            let logprobs = choice.logprobs.ok_or(Error::IncompleteResponse {
                provider: PROVIDER,
                what: "echoed prompt logprobs (does the server support `echo` with `logprobs`?)",
            })?;
            scores[i] = Some(continuation_score(
                &logprobs,
                context_chars,
                prompt.chars().count(),
            )?);
        }
        let scores =
            scores
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .ok_or(Error::IncompleteResponse {
                    provider: PROVIDER,
                    what: "a choice for every prompt",
                })?;
        Ok(Scores {
            model: self.name.clone(),
            scores,
            latency: started.elapsed(),
            meta,
        })
    }
}

/// Sums the log-probabilities of the echoed tokens that belong to the continuation: those
/// that end past the context and start before the end of the prompt (the one generated
/// token starts at the prompt's end and is excluded).
fn continuation_score(
    logprobs: &CompletionLogprobs,
    context_chars: usize,
    prompt_chars: usize,
) -> Result<ContinuationScore, Error> {
    let missing = Error::IncompleteResponse {
        provider: PROVIDER,
        what: "aligned tokens, token_logprobs and text_offset",
    };
    let n = logprobs.tokens.len();
    if logprobs.token_logprobs.len() != n || logprobs.text_offset.len() != n {
        return Err(missing);
    }
    let mut score = ContinuationScore {
        logprob: 0.0,
        is_greedy: true,
        n_tokens: 0,
    };
    for i in 0..n {
        let start = logprobs.text_offset[i];
        let end = start + logprobs.tokens[i].chars().count();
        if end <= context_chars || start >= prompt_chars {
            continue;
        }
        let lp = logprobs.token_logprobs[i].ok_or(Error::IncompleteResponse {
            provider: PROVIDER,
            what: "a logprob for every continuation token",
        })?;
        score.logprob += lp;
        score.n_tokens += 1;
        let best = logprobs
            .top_logprobs
            .as_ref()
            .and_then(|t| t.get(i))
            .and_then(Option::as_ref)
            .and_then(|top| top.values().copied().reduce(f64::max));
        if best.is_some_and(|b| b > lp + 1e-6) {
            score.is_greedy = false;
        }
    }
    if score.n_tokens == 0 {
        return Err(Error::IncompleteResponse {
            provider: PROVIDER,
            what: "continuation tokens in the echoed prompt",
        });
    }
    Ok(score)
}

fn stop_reason(
    finish: Option<&str>,
    matched: Option<&serde_json::Value>,
    config: &GenerateConfig,
) -> StopReason {
    match finish {
        Some("length") => StopReason::MaxTokens,
        Some("content_filter") => StopReason::ContentFilter,
        // vLLM reports the matched stop string in `stop_reason`; plain "stop" is end of turn.
        Some("stop") => match matched.and_then(|m| m.as_str()) {
            Some(s) if config.stop.iter().any(|x| x == s) => StopReason::StopSequence,
            _ => StopReason::EndOfTurn,
        },
        _ => StopReason::Other,
    }
}

fn redacted(secret: &Option<crate::SecretString>, text: &str) -> String {
    secret
        .as_ref()
        .map_or_else(|| text.to_owned(), |s| s.redact(text))
}

/// Accumulates a streamed answer.
struct SseState {
    name: String,
    config: GenerateConfig,
    texts: Vec<String>,
    reasons: Vec<Option<StopReason>>,
    usage: Usage,
    started: Instant,
    meta: CallMeta,
}

enum LineOutcome {
    Events(Vec<StreamEvent>),
    Done,
}

impl SseState {
    fn line(
        &mut self,
        line: &str,
        secret: &Option<crate::SecretString>,
    ) -> Result<LineOutcome, Error> {
        let Some(data) = line.strip_prefix("data:") else {
            return Ok(LineOutcome::Events(Vec::new())); // blank lines, comments, `event:` fields
        };
        let data = data.trim();
        if data == "[DONE]" {
            return Ok(LineOutcome::Done);
        }
        let chunk: StreamChunk =
            serde_json::from_str(data).map_err(|source| Error::MalformedResponse {
                provider: PROVIDER,
                excerpt: redacted(secret, &data.chars().take(300).collect::<String>()),
                source,
            })?;
        if let Some(u) = chunk.usage {
            self.usage = u.into();
        }
        let mut events = Vec::new();
        for c in chunk.choices {
            let i = c.index as usize;
            if i >= self.texts.len() {
                self.texts.resize(i + 1, String::new());
                self.reasons.resize(i + 1, None);
            }
            if let Some(text) = c.delta.content.filter(|t| !t.is_empty()) {
                self.texts[i].push_str(&text);
                events.push(StreamEvent::Delta {
                    choice: c.index,
                    text,
                });
            }
            if let Some(f) = c.finish_reason.as_deref() {
                self.reasons[i] = Some(stop_reason(Some(f), c.stop_reason.as_ref(), &self.config));
            }
        }
        Ok(LineOutcome::Events(events))
    }

    fn finish(self) -> Generation {
        let choices = self
            .texts
            .into_iter()
            .zip(self.reasons)
            .map(|(text, reason)| Choice {
                text,
                stop_reason: reason.unwrap_or(StopReason::Other),
                logprobs: None,
            })
            .collect();
        Generation {
            model: self.name,
            choices,
            usage: self.usage,
            latency: self.started.elapsed(),
            meta: self.meta,
        }
    }
}

#[derive(Serialize)]
struct ChatRequest<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    max_tokens: u32,
    temperature: f32,
    top_p: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop: Option<&'a Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    n: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    logprobs: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'a str,
    content: &'a str,
}

#[derive(Deserialize)]
struct ChatResponse {
    choices: Vec<ChatChoice>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct ChatChoice {
    #[serde(default)]
    index: u32,
    message: ChatMessage,
    finish_reason: Option<String>,
    /// vLLM extension: the stop string (or token id) that ended the choice.
    #[serde(default)]
    stop_reason: Option<serde_json::Value>,
    logprobs: Option<ChatLogprobs>,
}

#[derive(Deserialize)]
struct ChatMessage {
    content: Option<String>,
}

#[derive(Deserialize)]
struct ChatLogprobs {
    content: Option<Vec<ChatTokenLogprob>>,
}

#[derive(Deserialize)]
struct ChatTokenLogprob {
    token: String,
    logprob: f64,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
}

impl From<WireUsage> for Usage {
    fn from(u: WireUsage) -> Self {
        Usage {
            input_tokens: u.prompt_tokens,
            output_tokens: u.completion_tokens,
        }
    }
}

#[derive(Deserialize)]
struct StreamChunk {
    #[serde(default)]
    choices: Vec<StreamChoice>,
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct StreamChoice {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    delta: StreamDelta,
    finish_reason: Option<String>,
    #[serde(default)]
    stop_reason: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct StreamDelta {
    content: Option<String>,
}

#[derive(Serialize)]
struct CompletionRequest<'a> {
    model: &'a str,
    prompt: &'a [String],
    max_tokens: u32,
    temperature: f32,
    logprobs: u32,
    echo: bool,
}

#[derive(Deserialize)]
struct CompletionResponse {
    choices: Vec<CompletionChoice>,
}

#[derive(Deserialize)]
struct CompletionChoice {
    #[serde(default)]
    index: u32,
    logprobs: Option<CompletionLogprobs>,
}

#[derive(Deserialize)]
struct CompletionLogprobs {
    tokens: Vec<String>,
    token_logprobs: Vec<Option<f64>>,
    #[serde(default)]
    top_logprobs: Option<Vec<Option<BTreeMap<String, f64>>>>,
    text_offset: Vec<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logprobs(
        tokens: &[&str],
        lps: &[Option<f64>],
        tops: &[Option<(&str, f64)>],
    ) -> CompletionLogprobs {
        let mut offset = 0;
        let mut text_offset = Vec::new();
        for t in tokens {
            text_offset.push(offset);
            offset += t.chars().count();
        }
        CompletionLogprobs {
            tokens: tokens.iter().map(|t| t.to_string()).collect(),
            token_logprobs: lps.to_vec(),
            top_logprobs: Some(
                tops.iter()
                    .map(|t| t.map(|(k, v)| BTreeMap::from([(k.to_string(), v)])))
                    .collect(),
            ),
            text_offset,
        }
    }

    #[test]
    fn scores_only_the_continuation_tokens() {
        // context "The capital is" (14 chars), continuation " Paris", then one generated token.
        let l = logprobs(
            &["The", " capital", " is", " Par", "is", "."],
            &[
                None,
                Some(-5.0),
                Some(-1.0),
                Some(-0.5),
                Some(-0.1),
                Some(-2.0),
            ],
            &[
                None,
                Some((" capital", -5.0)),
                Some((" is", -1.0)),
                Some((" Par", -0.5)),
                Some(("is", -0.1)),
                Some((".", -2.0)),
            ],
        );
        let s = continuation_score(&l, 14, 20).unwrap();
        assert_eq!(s.n_tokens, 2);
        assert!((s.logprob - -0.6).abs() < 1e-9);
        assert!(s.is_greedy);
    }

    #[test]
    fn not_greedy_when_a_better_token_exists() {
        let l = logprobs(
            &["A", " b"],
            &[None, Some(-3.0)],
            &[None, Some((" c", -0.2))],
        );
        let s = continuation_score(&l, 1, 3).unwrap();
        assert!(!s.is_greedy);
        assert_eq!(s.n_tokens, 1);
    }

    #[test]
    fn misaligned_logprobs_are_an_error() {
        let mut l = logprobs(&["A", " b"], &[None, Some(-3.0)], &[None, None]);
        l.text_offset.pop();
        assert!(matches!(
            continuation_score(&l, 1, 3),
            Err(Error::IncompleteResponse { .. })
        ));
    }

    #[test]
    fn maps_finish_reasons() {
        let c = GenerateConfig {
            stop: vec!["END".into()],
            ..GenerateConfig::default()
        };
        assert_eq!(stop_reason(Some("length"), None, &c), StopReason::MaxTokens);
        assert_eq!(stop_reason(Some("stop"), None, &c), StopReason::EndOfTurn);
        assert_eq!(
            stop_reason(Some("stop"), Some(&serde_json::json!("END")), &c),
            StopReason::StopSequence
        );
        assert_eq!(
            stop_reason(Some("content_filter"), None, &c),
            StopReason::ContentFilter
        );
        assert_eq!(stop_reason(None, None, &c), StopReason::Other);
    }
}
