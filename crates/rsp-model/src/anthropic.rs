//! Anthropic provider (`anthropic/<model>`) over the Messages API.
//!
//! Generation only: the Messages API returns neither prompt log-probabilities nor token
//! log-probabilities, so [`Capabilities::scoring`] and [`Capabilities::logprobs`] are false
//! and [`ModelApi::score`] returns [`Error::Unsupported`]. System messages are lifted into
//! the top-level `system` field, as the API requires. The API has no `n` and no seed, so
//! `n > 1` makes `n` requests and the seed is ignored (reported by [`Capabilities::seed`]).

use std::time::Instant;

use async_trait::async_trait;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::http::{Transport, parse_json};
use crate::{
    CallMeta, Capabilities, Choice, Error, GenerateConfig, Generation, Message, ModelApi, Role,
    ScoreRequest, Scores, StopReason, Usage,
};

/// Anthropic's endpoint, used when neither configuration nor `ANTHROPIC_BASE_URL` names one.
pub const DEFAULT_ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";

const PROVIDER: &str = "anthropic";
const API_VERSION: &str = "2023-06-01";

/// A model behind the Anthropic Messages API.
#[derive(Debug)]
pub struct AnthropicModel {
    name: String,
    model: String,
    base_url: String,
    headers: HeaderMap,
    transport: Transport,
}

impl AnthropicModel {
    /// Builds the provider; `transport.secret` must hold the API key.
    pub(crate) fn new(model: &str, base_url: &str, transport: Transport) -> Result<Self, Error> {
        let key = transport.secret.as_ref().ok_or(Error::MissingApiKey {
            provider: PROVIDER,
            var: "ANTHROPIC_API_KEY",
        })?;
        let mut headers = HeaderMap::new();
        let mut value = HeaderValue::from_str(key.expose()).map_err(|_| {
            Error::InvalidRequest("ANTHROPIC_API_KEY contains characters not allowed in a header")
        })?;
        value.set_sensitive(true);
        headers.insert(HeaderName::from_static("x-api-key"), value);
        headers.insert(
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static(API_VERSION),
        );
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(Self {
            name: format!("anthropic/{model}"),
            model: model.to_owned(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            headers,
            transport,
        })
    }

    async fn one(
        &self,
        messages: &[Message],
        config: &GenerateConfig,
        meta: &mut CallMeta,
    ) -> Result<(Choice, Usage), Error> {
        let system: Vec<&str> = messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str())
            .collect();
        let body = MessagesRequest {
            model: &self.model,
            max_tokens: config.max_tokens,
            system: (!system.is_empty()).then(|| system.join("\n\n")),
            messages: messages
                .iter()
                .filter(|m| m.role != Role::System)
                .map(|m| WireMessage {
                    role: m.role.as_str(),
                    content: &m.content,
                })
                .collect(),
            temperature: config.temperature,
            top_p: (config.top_p < 1.0).then_some(config.top_p),
            stop_sequences: (!config.stop.is_empty()).then_some(&config.stop),
        };
        let url = format!("{}/v1/messages", self.base_url);
        let bytes = self
            .transport
            .post_json(&url, &self.headers, &body, meta)
            .await?;
        let response: MessagesResponse = parse_json(&self.transport, &bytes)?;
        let stop_reason = match response.stop_reason.as_deref() {
            Some("end_turn") => StopReason::EndOfTurn,
            Some("max_tokens") => StopReason::MaxTokens,
            Some("stop_sequence") => StopReason::StopSequence,
            Some("refusal") => StopReason::ContentFilter,
            Some(_) => StopReason::Other,
            None => {
                return Err(Error::IncompleteResponse {
                    provider: PROVIDER,
                    what: "stop_reason",
                });
            }
        };
        let text: String = response
            .content
            .iter()
            .filter_map(|b| b.text.as_deref())
            .collect();
        let usage = Usage {
            input_tokens: response.usage.input_tokens,
            output_tokens: response.usage.output_tokens,
        };
        Ok((
            Choice {
                text,
                stop_reason,
                logprobs: None,
            },
            usage,
        ))
    }
}

#[async_trait]
impl ModelApi for AnthropicModel {
    fn name(&self) -> &str {
        &self.name
    }

    fn endpoint(&self) -> Option<&str> {
        Some(&self.base_url)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            logprobs: false,
            scoring: false,
            tools: false,
            streaming: false,
            seed: false,
        }
    }

    async fn generate(
        &self,
        messages: &[Message],
        config: &GenerateConfig,
    ) -> Result<Generation, Error> {
        let started = Instant::now();
        let mut meta = CallMeta::default();
        let mut choices = Vec::new();
        let mut usage = Usage::default();
        let mut attempts = 0;
        for _ in 0..config.n.max(1) {
            let (choice, u) = self.one(messages, config, &mut meta).await?;
            attempts += meta.attempts;
            choices.push(choice);
            // The prompt is the same for every choice; count it once, like OpenAI does.
            usage.input_tokens = u.input_tokens;
            usage.output_tokens += u.output_tokens;
        }
        meta.attempts = attempts;
        Ok(Generation {
            model: self.name.clone(),
            choices,
            usage,
            latency: started.elapsed(),
            meta,
        })
    }

    async fn score(&self, _request: &ScoreRequest) -> Result<Scores, Error> {
        Err(Error::Unsupported {
            model: self.name.clone(),
            feature: "log-likelihood scoring",
        })
    }
}

#[derive(Serialize)]
struct MessagesRequest<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<String>,
    messages: Vec<WireMessage<'a>>,
    temperature: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_sequences: Option<&'a Vec<String>>,
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'a str,
    content: &'a str,
}

#[derive(Deserialize)]
struct MessagesResponse {
    content: Vec<ContentBlock>,
    stop_reason: Option<String>,
    usage: WireUsage,
}

#[derive(Deserialize)]
struct ContentBlock {
    text: Option<String>,
}

#[derive(Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
}
