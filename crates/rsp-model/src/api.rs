//! The `ModelApi` trait: the one seam between rsp and any model.

use std::pin::Pin;

use async_trait::async_trait;
use futures::Stream;

use crate::{
    Capabilities, Error, GenerateConfig, Generation, Message, ScoreRequest, Scores, StreamEvent,
};

/// A stream of [`StreamEvent`]s: zero or more deltas, then exactly one
/// [`StreamEvent::Done`] — or an error, after which the stream ends.
pub type GenerationStream =
    Pin<Box<dyn Stream<Item = Result<StreamEvent, Error>> + Send + 'static>>;

/// A model rsp can talk to: generate chat answers, score continuations, stream tokens.
///
/// Object-safe and shared as `Arc<dyn ModelApi>`: every method takes `&self`, and providers
/// synchronise internally (the embedded engine owns its llama.cpp context on one thread; HTTP
/// providers share one client and an adaptive concurrency limit). Calls may be made
/// concurrently from many tasks; the embedded engine batches them into one forward pass.
#[async_trait]
pub trait ModelApi: Send + Sync + std::fmt::Debug {
    /// The canonical spec (`embedded/SmolLM2-135M-Instruct.Q4_1.gguf`, `openai/gpt-4o-mini`).
    fn name(&self) -> &str;

    /// The base URL requests go to, for hosted providers (part of the response-cache key,
    /// since the same model name on two servers is two models).
    fn endpoint(&self) -> Option<&str> {
        None
    }

    /// What this provider can do.
    fn capabilities(&self) -> Capabilities;

    /// Generates `config.n` answers to a chat.
    async fn generate(
        &self,
        messages: &[Message],
        config: &GenerateConfig,
    ) -> Result<Generation, Error>;

    /// Like [`ModelApi::generate`], but yields text as it is produced.
    ///
    /// The default implementation generates the whole answer and yields it as one delta per
    /// choice followed by `Done`; providers that can stream override it and say so in
    /// [`Capabilities::streaming`].
    async fn generate_stream(
        &self,
        messages: &[Message],
        config: &GenerateConfig,
    ) -> Result<GenerationStream, Error> {
        let generation = self.generate(messages, config).await?;
        Ok(whole_answer_stream(generation))
    }

    /// Log-likelihood of each continuation given the context (lm-eval's `loglikelihood`).
    ///
    /// Providers without scoring return [`Error::Unsupported`]; check
    /// [`Capabilities::scoring`] first to pick another scorer.
    async fn score(&self, request: &ScoreRequest) -> Result<Scores, Error>;
}

/// A stream that replays a finished generation: one delta per choice, then `Done`.
pub fn whole_answer_stream(generation: Generation) -> GenerationStream {
    let mut events: Vec<Result<StreamEvent, Error>> = generation
        .choices
        .iter()
        .zip(0u32..)
        .filter(|(c, _)| !c.text.is_empty())
        .map(|(c, i)| {
            Ok(StreamEvent::Delta {
                choice: i,
                text: c.text.clone(),
            })
        })
        .collect();
    events.push(Ok(StreamEvent::Done(generation)));
    Box::pin(futures::stream::iter(events))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures::StreamExt;

    use super::*;
    use crate::{CallMeta, Choice, StopReason, Usage};

    #[tokio::test]
    async fn whole_answer_stream_yields_deltas_then_done() {
        let g = Generation {
            model: "mock/x".into(),
            choices: vec![
                Choice {
                    text: "a".into(),
                    stop_reason: StopReason::EndOfTurn,
                    logprobs: None,
                },
                Choice {
                    text: "b".into(),
                    stop_reason: StopReason::MaxTokens,
                    logprobs: None,
                },
            ],
            usage: Usage::default(),
            latency: Duration::ZERO,
            meta: CallMeta::default(),
        };
        let events: Vec<_> = whole_answer_stream(g.clone()).collect().await;
        assert_eq!(events.len(), 3);
        assert!(matches!(&events[1], Ok(StreamEvent::Delta { choice: 1, text }) if text == "b"));
        assert!(matches!(&events[2], Ok(StreamEvent::Done(done)) if *done == g));
    }
}
