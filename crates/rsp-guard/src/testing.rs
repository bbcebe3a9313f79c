//! Test doubles shared by unit tests: a judge with scripted log-likelihoods or no scoring.

use std::time::Duration;

use async_trait::async_trait;
use rsp_model::{
    CallMeta, Capabilities, ContinuationScore, Error, GenerateConfig, Generation, Message,
    MockModel, ModelApi, ScoreRequest, Scores,
};

use crate::constitution::{Constitution, parse};

/// The shipped example constitution, parsed.
pub fn example() -> Constitution {
    parse("example", crate::example_constitution()).unwrap()
}

type ScoreFn = Box<dyn Fn(&str) -> f64 + Send + Sync>;
type ContextScoreFn = Box<dyn Fn(&str, &str) -> f64 + Send + Sync>;

/// Generates like the wrapped mock; scores with a function of the continuation (and
/// optionally the context), or cannot score at all.
pub struct FakeJudge {
    inner: MockModel,
    score: Option<ContextScoreFn>,
}

impl std::fmt::Debug for FakeJudge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeJudge").finish_non_exhaustive()
    }
}

impl FakeJudge {
    /// Scores continuation `c` as `f(c)`; generates by echoing.
    pub fn scoring(f: impl Fn(&str) -> f64 + Send + Sync + 'static) -> Self {
        let f: ScoreFn = Box::new(f);
        Self {
            inner: MockModel::echo(),
            score: Some(Box::new(move |_, c| f(c))),
        }
    }

    /// Scores continuation `c` after context `ctx` as `f(ctx, c)`; generates like `inner`.
    pub fn scoring_in_context(
        inner: MockModel,
        f: impl Fn(&str, &str) -> f64 + Send + Sync + 'static,
    ) -> Self {
        Self {
            inner,
            score: Some(Box::new(f)),
        }
    }

    /// Cannot score; generates like `inner`.
    pub fn voting(inner: MockModel) -> Self {
        Self { inner, score: None }
    }
}

#[async_trait]
impl ModelApi for FakeJudge {
    fn name(&self) -> &str {
        "fake/judge"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            scoring: self.score.is_some(),
            ..self.inner.capabilities()
        }
    }

    async fn generate(
        &self,
        messages: &[Message],
        config: &GenerateConfig,
    ) -> Result<Generation, Error> {
        self.inner.generate(messages, config).await
    }

    async fn score(&self, request: &ScoreRequest) -> Result<Scores, Error> {
        let Some(f) = &self.score else {
            return Err(Error::Unsupported {
                model: "fake/judge".into(),
                feature: "scoring",
            });
        };
        Ok(Scores {
            model: "fake/judge".into(),
            scores: request
                .continuations
                .iter()
                .map(|c| ContinuationScore {
                    logprob: f(&request.context, c),
                    is_greedy: false,
                    n_tokens: 1,
                })
                .collect(),
            latency: Duration::ZERO,
            meta: CallMeta::default(),
        })
    }
}
