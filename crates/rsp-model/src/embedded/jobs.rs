//! Per-request state on the engine thread: generate jobs (one sampler and text assembler
//! per choice) and score jobs (running log-probability sums per continuation), plus the
//! sampling and scoring arithmetic on logit rows.

use std::time::Instant;

use futures::channel::mpsc::UnboundedSender;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::oneshot;

use super::text::{Pushed, TextAssembler};
use crate::{
    ContinuationScore, Error, GenerateConfig, Generation, StopReason, StreamEvent, TokenLogprob,
};

/// Where a generation's result goes.
pub(crate) enum Sink {
    Once(oneshot::Sender<Result<Generation, Error>>),
    Stream(UnboundedSender<Result<StreamEvent, Error>>),
}

impl Sink {
    pub(super) fn is_closed(&self) -> bool {
        match self {
            Sink::Once(tx) => tx.is_closed(),
            Sink::Stream(tx) => tx.is_closed(),
        }
    }

    pub(super) fn delta(&self, choice: u32, text: String) {
        if let (Sink::Stream(tx), false) = (self, text.is_empty()) {
            let _ = tx.unbounded_send(Ok(StreamEvent::Delta { choice, text }));
        }
    }

    pub(super) fn finish(self, result: Result<Generation, Error>) {
        match self {
            Sink::Once(tx) => {
                let _ = tx.send(result);
            }
            Sink::Stream(tx) => {
                let _ = tx.unbounded_send(result.map(StreamEvent::Done));
            }
        }
    }
}

pub(super) struct ChoiceRun {
    pub(super) seq: i32,
    pub(super) sampler: LlamaSampler,
    pub(super) pos: i32,
    pub(super) next: Option<LlamaToken>,
    pub(super) generated: u32,
    pub(super) text: TextAssembler,
    pub(super) logprobs: Vec<TokenLogprob>,
    pub(super) stop: Option<StopReason>,
}

pub(super) struct GenJob {
    pub(super) prompt: Vec<LlamaToken>,
    pub(super) fed: usize,
    pub(super) config: GenerateConfig,
    pub(super) seed: u64,
    pub(super) choices: Vec<ChoiceRun>,
    pub(super) sink: Sink,
    pub(super) submitted: Instant,
    pub(super) cells: usize,
}

pub(super) struct ContRun {
    pub(super) seq: i32,
    pub(super) tokens: Vec<LlamaToken>,
    pub(super) fed: usize,
    pub(super) scored: usize,
    pub(super) logprob: f64,
    pub(super) greedy: bool,
}

pub(super) struct ScoreJob {
    pub(super) context: Vec<LlamaToken>,
    pub(super) fed: usize,
    pub(super) conts: Vec<ContRun>,
    pub(super) reply: oneshot::Sender<Result<Vec<ContinuationScore>, Error>>,
    pub(super) cells: usize,
}

pub(super) enum Job {
    Gen(GenJob),
    Score(ScoreJob),
}

impl Job {
    pub(super) fn seqs_needed(&self) -> usize {
        match self {
            Job::Gen(g) => g.config.n.max(1) as usize,
            Job::Score(s) => s.conts.len(),
        }
    }

    pub(super) fn cells(&self) -> usize {
        match self {
            Job::Gen(g) => g.cells,
            Job::Score(s) => s.cells,
        }
    }

    pub(super) fn seqs(&self) -> Vec<i32> {
        match self {
            Job::Gen(g) => g.choices.iter().map(|c| c.seq).collect(),
            Job::Score(s) => s.conts.iter().map(|c| c.seq).collect(),
        }
    }

    pub(super) fn is_cancelled(&self) -> bool {
        match self {
            Job::Gen(g) => g.sink.is_closed(),
            Job::Score(s) => s.reply.is_closed(),
        }
    }

    pub(super) fn is_done(&self) -> bool {
        match self {
            Job::Gen(g) => !g.choices.is_empty() && g.choices.iter().all(|c| c.stop.is_some()),
            Job::Score(s) => {
                s.fed == s.context.len() && s.conts.iter().all(|c| c.scored == c.tokens.len())
            }
        }
    }

    pub(super) fn fail(self, error: Error) {
        match self {
            Job::Gen(g) => g.sink.finish(Err(error)),
            Job::Score(s) => {
                let _ = s.reply.send(Err(error));
            }
        }
    }
}

/// The sampler chain for a choice: greedy at temperature 0, else temperature, nucleus and a
/// seeded draw (temperature first, as in OpenAI's and Hugging Face's semantics).
pub(super) fn sampler(config: &GenerateConfig, seed: u64) -> LlamaSampler {
    if config.temperature <= 0.0 {
        return LlamaSampler::greedy();
    }
    let mut chain = vec![LlamaSampler::temp(config.temperature)];
    if config.top_p < 1.0 {
        chain.push(LlamaSampler::top_p(config.top_p, 1));
    }
    // llama.cpp seeds are 32-bit; fold the high half in so nearby u64 seeds stay distinct.
    let seed32 = (seed ^ (seed >> 32)) as u32;
    chain.push(LlamaSampler::dist(seed32));
    LlamaSampler::chain_simple(chain)
}

/// Samples choice `c` from logit row `index` and advances it.
pub(super) fn accept(
    model: &LlamaModel,
    ctx: &LlamaContext<'_>,
    g: &mut GenJob,
    c: usize,
    index: i32,
    n_ctx: u32,
) {
    let Some(choice) = g.choices.get_mut(c) else {
        return;
    };
    if choice.stop.is_some() {
        return;
    }
    let token = choice.sampler.sample(ctx, index);
    choice.generated += 1;
    let vocab = model.vocab();
    if vocab.is_eog(token) {
        choice.stop = Some(StopReason::EndOfTurn);
        return;
    }
    let piece = vocab.token_to_piece(token, false, None);
    if g.config.logprobs {
        let row = ctx.get_logits_ith(index);
        let (lp, _) = log_softmax_at(row, token);
        choice.logprobs.push(TokenLogprob {
            token: String::from_utf8_lossy(&piece).into_owned(),
            logprob: lp,
        });
    }
    match choice.text.push(&piece) {
        Pushed::Text(t) => g.sink.delta(u32::try_from(c).unwrap_or(u32::MAX), t),
        Pushed::Stopped(t) => {
            g.sink.delta(u32::try_from(c).unwrap_or(u32::MAX), t);
            choice.stop = Some(StopReason::StopSequence);
            return;
        }
    }
    if choice.generated >= g.config.max_tokens
        || choice.pos + 1 >= i32::try_from(n_ctx).unwrap_or(i32::MAX)
    {
        choice.stop = Some(StopReason::MaxTokens);
    } else {
        choice.next = Some(token);
    }
}

/// Adds the log-probability of the continuation's token `t` given logit row `row`.
pub(super) fn score_token(row: &[f32], cont: &mut ContRun, t: usize) {
    let Some(&token) = cont.tokens.get(t) else {
        return;
    };
    let (lp, greedy) = log_softmax_at(row, token);
    cont.logprob += lp;
    cont.greedy &= greedy;
    cont.scored += 1;
}

/// `log softmax(row)[token]` and whether `token` is the argmax.
pub(crate) fn log_softmax_at(row: &[f32], token: LlamaToken) -> (f64, bool) {
    let mut max = f32::NEG_INFINITY;
    let mut argmax = 0usize;
    for (i, &v) in row.iter().enumerate() {
        if v > max {
            max = v;
            argmax = i;
        }
    }
    let sum: f64 = row.iter().map(|&v| f64::from(v - max).exp()).sum();
    let idx = usize::try_from(token.0).unwrap_or(usize::MAX);
    let logit = row.get(idx).copied().unwrap_or(f32::NEG_INFINITY);
    (f64::from(logit - max) - sum.ln(), idx == argmax)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_softmax_matches_a_hand_computation() {
        let row = [1.0f32, 2.0, 3.0];
        let (lp, greedy) = log_softmax_at(&row, LlamaToken(2));
        let expected = 3.0 - (1f64.exp() + 2f64.exp() + 3f64.exp()).ln();
        assert!((lp - expected).abs() < 1e-6);
        assert!(greedy);
        let (lp0, greedy0) = log_softmax_at(&row, LlamaToken(0));
        assert!(lp0 < lp && !greedy0);
    }
}
