//! The deterministic mock provider (`mock/<script>`), for unit tests only.
//!
//! Scripts:
//! - `mock/echo`: answers with the last user message;
//! - `mock/text:<answer>`: always answers `<answer>`;
//! - `mock/sequence:<a>|<b>|…`: answers `a`, then `b`, …, cycling;
//! - `mock/error`: every call fails with [`Error::Mock`].
//!
//! "Tokens" are whitespace-separated words: `max_tokens` truncates to that many words and
//! usage counts words. Stop sequences cut the answer like a real provider. Scoring is
//! deterministic too: a continuation's log-probability is minus its character count, so the
//! shortest continuation wins (`is_greedy` marks it).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use async_trait::async_trait;

use crate::{
    CallMeta, Capabilities, Choice, ContinuationScore, Error, GenerateConfig, Generation,
    GenerationStream, Message, ModelApi, Role, ScoreRequest, Scores, StopReason, StreamEvent,
    TokenLogprob, Usage,
};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Script {
    Echo,
    Text(String),
    Sequence(Vec<String>),
    Error,
}

/// A scripted, deterministic model.
#[derive(Debug)]
pub struct MockModel {
    name: String,
    script: Script,
    calls: AtomicUsize,
}

impl MockModel {
    /// Parses the part of a `mock/<script>` spec after `mock/`.
    pub fn from_script(script: &str) -> Result<Self, Error> {
        let parsed = if script == "echo" {
            Script::Echo
        } else if script == "error" {
            Script::Error
        } else if let Some(text) = script.strip_prefix("text:") {
            Script::Text(text.to_owned())
        } else if let Some(items) = script.strip_prefix("sequence:") {
            Script::Sequence(items.split('|').map(str::to_owned).collect())
        } else {
            return Err(Error::Mock(
                "unknown script (expected echo, text:<answer>, sequence:<a>|<b>, error)",
            ));
        };
        Ok(Self {
            name: format!("mock/{script}"),
            script: parsed,
            calls: AtomicUsize::new(0),
        })
    }

    /// A model that echoes the last user message.
    pub fn echo() -> Self {
        Self {
            name: "mock/echo".into(),
            script: Script::Echo,
            calls: AtomicUsize::new(0),
        }
    }

    /// A model that always answers `text`.
    pub fn text(text: impl Into<String>) -> Self {
        let text = text.into();
        Self {
            name: format!("mock/text:{text}"),
            script: Script::Text(text),
            calls: AtomicUsize::new(0),
        }
    }

    /// A model that answers each of `answers` in turn, cycling.
    pub fn sequence(answers: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let answers: Vec<String> = answers.into_iter().map(Into::into).collect();
        Self {
            name: format!("mock/sequence:{}", answers.join("|")),
            script: Script::Sequence(answers),
            calls: AtomicUsize::new(0),
        }
    }

    /// How many generate calls have been made.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn answer(&self, messages: &[Message]) -> Result<String, Error> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        match &self.script {
            Script::Echo => Ok(messages
                .iter()
                .rev()
                .find(|m| m.role == Role::User)
                .map(|m| m.content.clone())
                .unwrap_or_default()),
            Script::Text(t) => Ok(t.clone()),
            Script::Sequence(items) => Ok(items
                .get(call % items.len().max(1))
                .cloned()
                .unwrap_or_default()),
            Script::Error => Err(Error::Mock("the `error` script always fails")),
        }
    }
}

fn words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// Applies stop sequences and the word budget the way a real provider would.
fn shape(raw: &str, config: &GenerateConfig) -> Choice {
    let mut text = raw.to_owned();
    let mut stop_reason = StopReason::EndOfTurn;
    if let Some(cut) = config
        .stop
        .iter()
        .filter_map(|s| text.find(s.as_str()))
        .min()
    {
        text.truncate(cut);
        stop_reason = StopReason::StopSequence;
    }
    let budget = config.max_tokens as usize;
    if text.split_whitespace().count() > budget {
        text = text
            .split_whitespace()
            .take(budget)
            .collect::<Vec<_>>()
            .join(" ");
        stop_reason = StopReason::MaxTokens;
    }
    let logprobs = config.logprobs.then(|| {
        text.split_whitespace()
            .map(|w| TokenLogprob {
                token: w.to_owned(),
                logprob: -0.5,
            })
            .collect()
    });
    Choice {
        text,
        stop_reason,
        logprobs,
    }
}

#[async_trait]
impl ModelApi for MockModel {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            logprobs: true,
            scoring: true,
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
        let mut choices = Vec::new();
        for _ in 0..config.n.max(1) {
            choices.push(shape(&self.answer(messages)?, config));
        }
        let usage = Usage {
            input_tokens: messages.iter().map(|m| words(&m.content)).sum(),
            output_tokens: choices.iter().map(|c| words(&c.text)).sum(),
        };
        Ok(Generation {
            model: self.name.clone(),
            choices,
            usage,
            latency: started.elapsed(),
            meta: CallMeta {
                attempts: 1,
                seed: config.seed,
                ..CallMeta::default()
            },
        })
    }

    async fn generate_stream(
        &self,
        messages: &[Message],
        config: &GenerateConfig,
    ) -> Result<GenerationStream, Error> {
        let generation = self.generate(messages, config).await?;
        let mut events = Vec::new();
        for (i, choice) in (0u32..).zip(&generation.choices) {
            // One delta per word, keeping the spaces, so consumers see several chunks.
            for piece in choice.text.split_inclusive(' ') {
                events.push(Ok(StreamEvent::Delta {
                    choice: i,
                    text: piece.to_owned(),
                }));
            }
        }
        events.push(Ok(StreamEvent::Done(generation)));
        Ok(Box::pin(futures::stream::iter(events)))
    }

    async fn score(&self, request: &ScoreRequest) -> Result<Scores, Error> {
        if self.script == Script::Error {
            return Err(Error::Mock("the `error` script always fails"));
        }
        let started = Instant::now();
        let lengths: Vec<usize> = request
            .continuations
            .iter()
            .map(|c| c.chars().count())
            .collect();
        let shortest = lengths.iter().copied().min().unwrap_or(0);
        let scores = request
            .continuations
            .iter()
            .zip(&lengths)
            .map(|(c, &len)| ContinuationScore {
                logprob: -(len as f64),
                is_greedy: len == shortest,
                n_tokens: u32::try_from(words(c).max(1)).unwrap_or(u32::MAX),
            })
            .collect();
        Ok(Scores {
            model: self.name.clone(),
            scores,
            latency: started.elapsed(),
            meta: CallMeta {
                attempts: 1,
                ..CallMeta::default()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    #[tokio::test]
    async fn echo_and_sequence_are_deterministic() {
        let m = MockModel::from_script("echo").unwrap();
        let g = m
            .generate(
                &[Message::system("s"), Message::user("hello there")],
                &GenerateConfig::default(),
            )
            .await
            .unwrap();
        assert_eq!(g.text(), "hello there");
        assert_eq!(
            g.usage,
            Usage {
                input_tokens: 3,
                output_tokens: 2
            }
        );

        let s = MockModel::from_script("sequence:a|b").unwrap();
        let c = GenerateConfig::default();
        let mut texts = Vec::new();
        for _ in 0..3 {
            texts.push(s.generate(&[], &c).await.unwrap().text().to_owned());
        }
        assert_eq!(texts, ["a", "b", "a"]);
        assert_eq!(s.calls(), 3);
    }

    #[tokio::test]
    async fn stop_sequences_and_max_tokens_shape_the_answer() {
        let m = MockModel::text("one two three END four");
        let g = m
            .generate(
                &[],
                &GenerateConfig {
                    stop: vec!["END".into()],
                    ..GenerateConfig::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(g.text(), "one two three ");
        assert_eq!(g.choices[0].stop_reason, StopReason::StopSequence);
        let g = m.generate(&[], &GenerateConfig::greedy(2)).await.unwrap();
        assert_eq!(g.text(), "one two");
        assert_eq!(g.choices[0].stop_reason, StopReason::MaxTokens);
    }

    #[tokio::test]
    async fn unknown_and_error_scripts_fail() {
        assert!(matches!(
            MockModel::from_script("nope"),
            Err(Error::Mock(_))
        ));
        let m = MockModel::from_script("error").unwrap();
        assert!(matches!(
            m.generate(&[], &GenerateConfig::default()).await,
            Err(Error::Mock(_))
        ));
        assert!(matches!(
            m.score(&ScoreRequest::new("a", ["b"])).await,
            Err(Error::Mock(_))
        ));
    }

    #[tokio::test]
    async fn scoring_prefers_the_shortest_continuation() {
        let m = MockModel::echo();
        let s = m
            .score(&ScoreRequest::new("Q:", [" long answer", " yes", " maybe"]))
            .await
            .unwrap();
        assert_eq!(s.argmax(), Some(1));
        assert!(s.scores[1].is_greedy && !s.scores[0].is_greedy);
        assert_eq!(s.scores[0].n_tokens, 2);
    }

    #[tokio::test]
    async fn stream_reassembles_to_the_answer() {
        let m = MockModel::text("a b c");
        let mut stream = m
            .generate_stream(&[], &GenerateConfig::default())
            .await
            .unwrap();
        let mut text = String::new();
        let mut done = None;
        while let Some(e) = stream.next().await {
            match e.unwrap() {
                StreamEvent::Delta { text: t, .. } => text.push_str(&t),
                StreamEvent::Done(g) => done = Some(g),
            }
        }
        assert_eq!(text, "a b c");
        assert_eq!(done.unwrap().text(), "a b c");
    }
}
