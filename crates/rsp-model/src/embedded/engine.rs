//! The engine thread: owns the llama.cpp context and batches every active sequence into
//! each `llama_decode`.
//!
//! llama.cpp contexts are not `Sync` and borrow their model, so one dedicated OS thread
//! loads the model, creates the context and never shares either. Async callers talk to it
//! over a channel. The thread runs a continuous-batching loop:
//!
//! 1. take new commands (block only when idle), tokenise them, queue them FIFO;
//! 2. admit queued jobs while sequence ids and KV cells are free (cells are reserved up
//!    front — prompt plus `max_tokens` per choice — so an admitted job never runs out);
//! 3. build one batch: one token for every decoding sequence first (latency), then prompt
//!    chunks up to the batch size (throughput);
//! 4. decode once, then sample or score from each requested logit row.
//!
//! Prompts shared by several sequences are written once with several sequence ids per
//! token (llama.cpp's unified KV cache stores one cell for all of them): the `n` choices of
//! a generate call share their prompt, and the continuations of a score call share their
//! context, so the context is evaluated once and its KV cache reused for every candidate.
//! Across requests, the last evaluated prompt stays in the cache under a reserved sequence
//! id and later prompts that start the same way skip that prefix (see [`super::prefix`]).

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::Instant;

use llama_cpp_2::DecodeError;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::{BatchAddError, LlamaBatch};
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::token::LlamaToken;
use tokio::sync::oneshot;

use super::EngineError;
use super::jobs::{ChoiceRun, ContRun, GenJob, Job, ScoreJob, Sink, accept, sampler, score_token};
use super::prefix::PrefixCache;
use super::text::TextAssembler;
use crate::{
    CallMeta, Choice, ContinuationScore, Error, GenerateConfig, Generation, Message, StopReason,
    Usage,
};

/// Engine sizing, fixed when the context is created.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EngineConfig {
    pub(crate) n_ctx: u32,
    pub(crate) n_batch: u32,
    pub(crate) max_seqs: u32,
    pub(crate) prefix_cache: bool,
}

/// A request to the engine thread.
pub(crate) enum Command {
    Generate {
        messages: Vec<Message>,
        config: GenerateConfig,
        sink: Sink,
        submitted: Instant,
    },
    Score {
        context: String,
        continuations: Vec<String>,
        reply: oneshot::Sender<Result<Vec<ContinuationScore>, Error>>,
    },
}

/// What a logit row in the batch is for.
#[derive(Debug, Clone, Copy)]
enum Tag {
    /// Last prompt/context token: first sample of every choice, or first continuation token.
    PromptEnd,
    /// Generated-token position of choice `.0`.
    Choice(usize),
    /// Continuation `.0`, token `.1`: its logits predict token `.1 + 1`.
    Cont(usize, usize),
}

struct Slot {
    job: usize,
    tag: Tag,
    index: i32,
}

/// The state the engine thread owns.
pub(crate) struct Engine<'m> {
    pub(crate) model: &'m LlamaModel,
    pub(crate) ctx: LlamaContext<'m>,
    pub(crate) template: LlamaChatTemplate,
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    pub(crate) config: EngineConfig,
    batch: LlamaBatch<'static>,
    free_seqs: Vec<i32>,
    free_cells: usize,
    waiting: VecDeque<Job>,
    active: Vec<Job>,
    prefix: PrefixCache,
}

/// KV cells kept in reserve so fragmentation of the unified cache cannot make a decode fail.
fn cell_budget(config: &EngineConfig) -> usize {
    (config.n_ctx as usize).saturating_sub(config.n_batch as usize / 4)
}

impl<'m> Engine<'m> {
    pub(crate) fn new(
        model: &'m LlamaModel,
        ctx: LlamaContext<'m>,
        template: LlamaChatTemplate,
        name: String,
        path: PathBuf,
        config: EngineConfig,
    ) -> Self {
        let max_seqs = i32::try_from(config.max_seqs).unwrap_or(i32::MAX);
        Self {
            model,
            ctx,
            template,
            name,
            path,
            config,
            batch: LlamaBatch::new(config.n_batch as usize, max_seqs),
            free_seqs: (0..max_seqs).rev().collect(),
            free_cells: cell_budget(&config),
            waiting: VecDeque::new(),
            active: Vec::new(),
            // The context is created with one sequence id more than `max_seqs` for this.
            prefix: PrefixCache::new(max_seqs),
        }
    }

    fn engine_error(&self, source: EngineError) -> Error {
        Error::Engine {
            path: self.path.clone(),
            source,
        }
    }

    /// Runs until every sender is gone and all accepted work is finished.
    pub(crate) fn run(mut self, rx: &Receiver<Command>) {
        let mut open = true;
        loop {
            if self.active.is_empty() && self.waiting.is_empty() {
                if !open {
                    return;
                }
                match rx.recv() {
                    Ok(cmd) => self.intake(cmd),
                    Err(_) => return,
                }
            }
            while open {
                match rx.try_recv() {
                    Ok(cmd) => self.intake(cmd),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => open = false,
                }
            }
            self.drop_cancelled();
            self.admit();
            self.step();
        }
    }

    fn intake(&mut self, cmd: Command) {
        match cmd {
            Command::Generate {
                messages,
                config,
                sink,
                submitted,
            } => match self.prepare_generate(&messages, config, sink, submitted) {
                Ok(job) => self.waiting.push_back(job),
                Err((sink, e)) => sink.finish(Err(e)),
            },
            Command::Score {
                context,
                continuations,
                reply,
            } => match self.prepare_score(&context, &continuations) {
                Ok((ctx_tokens, conts, cells)) => self.waiting.push_back(Job::Score(ScoreJob {
                    context: ctx_tokens,
                    fed: 0,
                    conts,
                    reply,
                    cells,
                })),
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
        }
    }

    fn prepare_generate(
        &self,
        messages: &[Message],
        config: GenerateConfig,
        sink: Sink,
        submitted: Instant,
    ) -> Result<Job, (Sink, Error)> {
        let prompt = match self.chat_prompt(messages) {
            Ok(p) => p,
            Err(e) => return Err((sink, e)),
        };
        let tokens = self.model.vocab().tokenize(prompt.as_bytes(), true, true);
        let n = config.n.max(1) as usize;
        let per_seq = tokens.len() + config.max_tokens as usize;
        let cells = tokens.len() + n * config.max_tokens as usize;
        if per_seq > self.config.n_ctx as usize || cells > cell_budget(&self.config) {
            return Err((
                sink,
                Error::ContextOverflow {
                    needed: cells.max(per_seq),
                    limit: cell_budget(&self.config),
                },
            ));
        }
        if n > self.config.max_seqs as usize {
            return Err((
                sink,
                Error::InvalidRequest("n exceeds the embedded engine's max_sequences"),
            ));
        }
        let seed = config
            .seed
            .unwrap_or_else(|| u64::from(rand::random::<u32>()));
        Ok(Job::Gen(GenJob {
            prompt: tokens,
            fed: 0,
            config,
            seed,
            choices: Vec::new(),
            sink,
            submitted,
            cells,
        }))
    }

    fn prepare_score(
        &self,
        context: &str,
        continuations: &[String],
    ) -> Result<(Vec<LlamaToken>, Vec<ContRun>, usize), Error> {
        let vocab = self.model.vocab();
        let mut ctx_tokens = vocab.tokenize(context.as_bytes(), true, false);
        if ctx_tokens.is_empty() {
            // lm-eval scores a continuation of nothing as a continuation of end-of-text.
            ctx_tokens.push(vocab.eos());
        }
        let mut conts = Vec::with_capacity(continuations.len());
        let mut cells = ctx_tokens.len();
        for cont in continuations {
            let whole = vocab.tokenize(format!("{context}{cont}").as_bytes(), true, false);
            // As lm-eval: the continuation is whatever the whole string has past the
            // context's own tokenisation.
            let tokens: Vec<LlamaToken> = if context.is_empty() {
                vocab.tokenize(cont.as_bytes(), false, false)
            } else {
                whole
                    .get(ctx_tokens.len()..)
                    .map(<[_]>::to_vec)
                    .unwrap_or_default()
            };
            if tokens.is_empty() {
                return Err(Error::InvalidRequest("a continuation tokenises to nothing"));
            }
            cells += tokens.len();
            conts.push(ContRun {
                seq: -1,
                tokens,
                fed: 0,
                scored: 0,
                logprob: 0.0,
                greedy: true,
            });
        }
        let longest = conts.iter().map(|c| c.tokens.len()).max().unwrap_or(0) + ctx_tokens.len();
        if longest > self.config.n_ctx as usize || cells > cell_budget(&self.config) {
            return Err(Error::ContextOverflow {
                needed: cells.max(longest),
                limit: cell_budget(&self.config),
            });
        }
        if conts.len() > self.config.max_seqs as usize {
            return Err(Error::InvalidRequest(
                "more continuations than the embedded engine's max_sequences",
            ));
        }
        Ok((ctx_tokens, conts, cells))
    }

    fn chat_prompt(&self, messages: &[Message]) -> Result<String, Error> {
        let chat = messages
            .iter()
            .map(|m| LlamaChatMessage::new(m.role.as_str().to_owned(), m.content.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| Error::InvalidRequest("a message contains a NUL character"))?;
        self.model
            .apply_chat_template(&self.template, &chat, true)
            .map_err(|e| self.engine_error(EngineError::ApplyTemplate(e)))
    }

    fn drop_cancelled(&mut self) {
        self.waiting.retain(|j| !j.is_cancelled());
        let mut i = 0;
        while i < self.active.len() {
            if self.active[i].is_cancelled() {
                let job = self.active.swap_remove(i);
                self.release(&job);
            } else {
                i += 1;
            }
        }
    }

    fn admit(&mut self) {
        while let Some(front) = self.waiting.front() {
            if front.seqs_needed() > self.free_seqs.len() {
                break;
            }
            if front.cells() > self.free_cells {
                // The retained prefix is only an optimisation: give its cells to the job.
                if self.prefix.cells() > 0 && front.cells() <= self.free_cells + self.prefix.cells()
                {
                    self.forget_prefix();
                } else {
                    break;
                }
            }
            let Some(mut job) = self.waiting.pop_front() else {
                break;
            };
            self.free_cells -= job.cells();
            match &mut job {
                Job::Gen(g) => {
                    for i in 0..g.config.n.max(1) {
                        let seq = self.free_seqs.pop().unwrap_or_default();
                        g.choices.push(ChoiceRun {
                            seq,
                            sampler: sampler(&g.config, g.seed.wrapping_add(u64::from(i))),
                            pos: i32::try_from(g.prompt.len()).unwrap_or(i32::MAX),
                            next: None,
                            generated: 0,
                            text: TextAssembler::new(&g.config.stop),
                            logprobs: Vec::new(),
                            stop: None,
                        });
                    }
                    let seqs: Vec<i32> = g.choices.iter().map(|c| c.seq).collect();
                    g.fed = self.reuse_prefix(&g.prompt, &seqs);
                }
                Job::Score(s) => {
                    for c in &mut s.conts {
                        c.seq = self.free_seqs.pop().unwrap_or_default();
                    }
                    let seqs: Vec<i32> = s.conts.iter().map(|c| c.seq).collect();
                    s.fed = self.reuse_prefix(&s.context, &seqs);
                }
            }
            self.active.push(job);
        }
    }

    /// Tags the retained prefix's cells with `seqs` (fresh sequences of a job whose prompt
    /// is `prompt`); returns how many prompt tokens are thereby already evaluated.
    fn reuse_prefix(&mut self, prompt: &[LlamaToken], seqs: &[i32]) -> usize {
        if !self.config.prefix_cache {
            return 0;
        }
        let reuse = self.prefix.reusable(prompt);
        let Ok(end) = u32::try_from(reuse) else {
            return 0;
        };
        if reuse == 0 {
            return 0;
        }
        for &seq in seqs {
            if self
                .ctx
                .copy_kv_cache_seq(self.prefix.seq(), seq, Some(0), Some(end))
                .is_err()
            {
                for &s in seqs {
                    let _ = self
                        .ctx
                        .clear_kv_cache_seq(u32::try_from(s).ok(), None, None);
                }
                return 0;
            }
        }
        tracing::trace!(
            reused = reuse,
            prompt = prompt.len(),
            "prompt prefix reused"
        );
        reuse
    }

    /// Keeps the just-evaluated `prompt` (positions `0..len` of sequence `src`) for later
    /// requests, replacing the previous one.
    fn retain_prefix(&mut self, prompt: &[LlamaToken], src: i32) {
        if !self.config.prefix_cache || !self.prefix.worth_retaining(prompt) {
            return;
        }
        self.forget_prefix();
        let Ok(end) = u32::try_from(prompt.len()) else {
            return;
        };
        if prompt.len() > self.free_cells {
            return;
        }
        if self
            .ctx
            .copy_kv_cache_seq(src, self.prefix.seq(), Some(0), Some(end))
            .is_ok()
        {
            self.prefix.retain(prompt);
            self.free_cells -= prompt.len();
        }
    }

    /// Drops the retained prefix and returns its cells to the budget.
    fn forget_prefix(&mut self) {
        if self.prefix.cells() > 0 {
            let _ = self
                .ctx
                .clear_kv_cache_seq(u32::try_from(self.prefix.seq()).ok(), None, None);
        }
        self.free_cells += self.prefix.forget();
    }

    /// Frees a job's sequences and KV cells.
    fn release(&mut self, job: &Job) {
        for seq in job.seqs() {
            if seq >= 0 {
                let _ = self
                    .ctx
                    .clear_kv_cache_seq(u32::try_from(seq).ok(), None, None);
                self.free_seqs.push(seq);
            }
        }
        self.free_cells += job.cells();
    }

    /// One batch: fill, decode, dispatch logits, retire finished jobs.
    fn step(&mut self) {
        self.batch.clear();
        let mut slots = Vec::new();
        let budget = self.config.n_batch as usize;
        if let Err(e) = self.fill(&mut slots, budget) {
            tracing::error!(error = %e, "could not fill the batch");
            self.fail_all(|| EngineError::Batch(same_batch_error(&e)));
            return;
        }
        if self.batch.n_tokens() == 0 {
            self.retire();
            return;
        }
        if let Err(e) = self.ctx.decode(&mut self.batch) {
            tracing::error!(error = %e, "llama_decode failed");
            self.fail_all(|| EngineError::Decode(same_decode_error(&e)));
            return;
        }
        for slot in slots {
            self.dispatch(&slot);
        }
        self.retire();
    }

    fn fill(&mut self, slots: &mut Vec<Slot>, budget: usize) -> Result<(), BatchAddError> {
        let mut used = 0;
        // Decoding sequences first: one token each.
        for (j, job) in self.active.iter_mut().enumerate() {
            if let Job::Gen(g) = job {
                for (c, choice) in g.choices.iter_mut().enumerate() {
                    if used == budget {
                        break;
                    }
                    if let Some(token) = choice.next.take() {
                        slots.push(Slot {
                            job: j,
                            tag: Tag::Choice(c),
                            index: batch_index(used),
                        });
                        self.batch.add(token, choice.pos, &[choice.seq], true)?;
                        choice.pos += 1;
                        used += 1;
                    }
                }
            }
        }
        // Then prompt and continuation chunks, oldest job first.
        for (j, job) in self.active.iter_mut().enumerate() {
            if used == budget {
                break;
            }
            match job {
                Job::Gen(g) => {
                    let seqs: Vec<i32> = g.choices.iter().map(|c| c.seq).collect();
                    used += feed_prompt(
                        &mut self.batch,
                        &g.prompt,
                        &mut g.fed,
                        &seqs,
                        budget - used,
                        j,
                        slots,
                    )?;
                }
                Job::Score(s) => {
                    let seqs: Vec<i32> = s.conts.iter().map(|c| c.seq).collect();
                    used += feed_prompt(
                        &mut self.batch,
                        &s.context,
                        &mut s.fed,
                        &seqs,
                        budget - used,
                        j,
                        slots,
                    )?;
                    if s.fed < s.context.len() {
                        continue;
                    }
                    let base = s.context.len();
                    for (c, cont) in s.conts.iter_mut().enumerate() {
                        // The last token's logits would predict past the continuation: skip it.
                        while cont.fed + 1 < cont.tokens.len() && used < budget {
                            let pos = i32::try_from(base + cont.fed).unwrap_or(i32::MAX);
                            slots.push(Slot {
                                job: j,
                                tag: Tag::Cont(c, cont.fed),
                                index: batch_index(used),
                            });
                            self.batch
                                .add(cont.tokens[cont.fed], pos, &[cont.seq], true)?;
                            cont.fed += 1;
                            used += 1;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn dispatch(&mut self, slot: &Slot) {
        let Some(job) = self.active.get_mut(slot.job) else {
            return;
        };
        match (job, slot.tag) {
            (Job::Gen(g), Tag::PromptEnd) => {
                for c in 0..g.choices.len() {
                    accept(self.model, &self.ctx, g, c, slot.index, self.config.n_ctx);
                }
                if let Some(first) = g.choices.first() {
                    let (prompt, seq) = (g.prompt.clone(), first.seq);
                    self.retain_prefix(&prompt, seq);
                }
            }
            (Job::Gen(g), Tag::Choice(c)) => {
                accept(self.model, &self.ctx, g, c, slot.index, self.config.n_ctx);
            }
            (Job::Score(s), Tag::PromptEnd) => {
                let row = self.ctx.get_logits_ith(slot.index);
                for cont in &mut s.conts {
                    score_token(row, cont, 0);
                }
                if let Some(first) = s.conts.first() {
                    let (context, seq) = (s.context.clone(), first.seq);
                    self.retain_prefix(&context, seq);
                }
            }
            (Job::Score(s), Tag::Cont(c, t)) => {
                let row = self.ctx.get_logits_ith(slot.index);
                if let Some(cont) = s.conts.get_mut(c) {
                    score_token(row, cont, t + 1);
                }
            }
            _ => {}
        }
    }

    /// Sends finished jobs their results and frees their resources.
    fn retire(&mut self) {
        let mut i = 0;
        while i < self.active.len() {
            if !self.active[i].is_done() {
                i += 1;
                continue;
            }
            let job = self.active.swap_remove(i);
            self.release(&job);
            match job {
                Job::Gen(g) => self.finish_generation(g),
                Job::Score(s) => {
                    let scores = s
                        .conts
                        .iter()
                        .map(|c| ContinuationScore {
                            logprob: c.logprob,
                            is_greedy: c.greedy,
                            n_tokens: u32::try_from(c.tokens.len()).unwrap_or(u32::MAX),
                        })
                        .collect();
                    let _ = s.reply.send(Ok(scores));
                }
            }
        }
    }

    fn finish_generation(&self, g: GenJob) {
        let mut choices = Vec::with_capacity(g.choices.len());
        let mut output_tokens = 0;
        for (i, mut c) in (0u32..).zip(g.choices) {
            g.sink.delta(i, c.text.finish());
            output_tokens += u64::from(c.generated);
            choices.push(Choice {
                text: c.text.text().to_owned(),
                stop_reason: c.stop.unwrap_or(StopReason::Other),
                logprobs: g.config.logprobs.then_some(c.logprobs),
            });
        }
        let generation = Generation {
            model: self.name.clone(),
            choices,
            usage: Usage {
                input_tokens: g.prompt.len() as u64,
                output_tokens,
            },
            latency: g.submitted.elapsed(),
            meta: CallMeta {
                attempts: 1,
                errors: Vec::new(),
                seed: Some(g.seed),
                cached: false,
            },
        };
        g.sink.finish(Ok(generation));
    }

    fn fail_all(&mut self, error: impl Fn() -> EngineError) {
        // After a failed decode the cache's contents are not trusted any more.
        self.forget_prefix();
        let jobs: Vec<Job> = self.active.drain(..).collect();
        for job in jobs {
            self.release(&job);
            job.fail(self.engine_error(error()));
        }
    }
}

/// Adds up to `budget` prompt tokens shared by `seqs`; the last prompt token asks for logits.
fn feed_prompt(
    batch: &mut LlamaBatch<'static>,
    prompt: &[LlamaToken],
    fed: &mut usize,
    seqs: &[i32],
    budget: usize,
    job: usize,
    slots: &mut Vec<Slot>,
) -> Result<usize, BatchAddError> {
    let start = usize::try_from(batch.n_tokens()).unwrap_or(0);
    let take = (prompt.len() - *fed).min(budget);
    for k in 0..take {
        let i = *fed + k;
        let last = i + 1 == prompt.len();
        if last {
            slots.push(Slot {
                job,
                tag: Tag::PromptEnd,
                index: batch_index(start + k),
            });
        }
        batch.add(prompt[i], i32::try_from(i).unwrap_or(i32::MAX), seqs, last)?;
    }
    *fed += take;
    Ok(take)
}

/// llama.cpp's error enums are not `Clone`; rebuild one for each failed job.
fn same_decode_error(e: &DecodeError) -> DecodeError {
    match e {
        DecodeError::NoKvCacheSlot => DecodeError::NoKvCacheSlot,
        DecodeError::NTokensZero => DecodeError::NTokensZero,
        DecodeError::Unknown(code) => DecodeError::Unknown(*code),
    }
}

fn same_batch_error(e: &BatchAddError) -> BatchAddError {
    match e {
        BatchAddError::InsufficientSpace(n) => BatchAddError::InsufficientSpace(*n),
        BatchAddError::EmptyBuffer => BatchAddError::EmptyBuffer,
    }
}

fn batch_index(i: usize) -> i32 {
    i32::try_from(i).unwrap_or(i32::MAX)
}
