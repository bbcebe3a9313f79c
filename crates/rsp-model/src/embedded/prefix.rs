//! Reusing the KV cache of a shared prompt prefix across requests.
//!
//! On a CPU the embedded engine is bound by the prompt's matrix products, so the cheapest
//! token is the one not evaluated again. Evaluation requests repeat long prefixes: every
//! sample of a task carries the same system message, and few-shot tasks the same worked
//! examples, before the part that differs. The engine keeps the most recently evaluated
//! prompt under a reserved sequence id; a new request whose tokens start the same way gets
//! those cells added to its own sequences (llama.cpp's unified cache tags a cell with
//! several sequence ids, so nothing is copied) and only evaluates the rest.
//!
//! The KV of a token depends only on the tokens before it, so a reused prefix holds the
//! same keys and values the request would have computed itself; the last prompt token is
//! always evaluated again because its logits are needed. This module only decides *what*
//! to reuse and keeps the cell accounting; the engine issues the llama.cpp calls.

use llama_cpp_2::token::LlamaToken;

/// Shortest common prefix worth reusing: below this, the bookkeeping is not worth it.
const MIN_REUSE: usize = 8;

/// The retained prompt: its tokens occupy positions `0..tokens.len()` of sequence `seq`.
#[derive(Debug)]
pub(super) struct PrefixCache {
    seq: i32,
    tokens: Vec<LlamaToken>,
}

impl PrefixCache {
    /// An empty cache whose cells live under the reserved sequence id `seq`.
    pub(super) fn new(seq: i32) -> Self {
        Self {
            seq,
            tokens: Vec::new(),
        }
    }

    /// The reserved sequence id.
    pub(super) fn seq(&self) -> i32 {
        self.seq
    }

    /// KV cells the retained prompt holds (counted against the engine's cell budget).
    pub(super) fn cells(&self) -> usize {
        self.tokens.len()
    }

    /// How many leading tokens of `prompt` can be taken from the cache: the common prefix,
    /// never the whole prompt (its last token must be evaluated for logits), and nothing
    /// when the overlap is too short to matter.
    pub(super) fn reusable(&self, prompt: &[LlamaToken]) -> usize {
        let common = self
            .tokens
            .iter()
            .zip(prompt)
            .take_while(|(a, b)| a == b)
            .count()
            .min(prompt.len().saturating_sub(1));
        if common >= MIN_REUSE { common } else { 0 }
    }

    /// Whether retaining `prompt` would change anything (it is not already held).
    pub(super) fn worth_retaining(&self, prompt: &[LlamaToken]) -> bool {
        prompt.len() >= MIN_REUSE && self.tokens != prompt
    }

    /// Records that the cache now holds `prompt`; returns the cells it held before.
    pub(super) fn retain(&mut self, prompt: &[LlamaToken]) -> usize {
        let before = self.tokens.len();
        self.tokens.clear();
        self.tokens.extend_from_slice(prompt);
        before
    }

    /// Records that the cache was emptied; returns the cells it held.
    pub(super) fn forget(&mut self) -> usize {
        let before = self.tokens.len();
        self.tokens.clear();
        before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(ids: &[i32]) -> Vec<LlamaToken> {
        ids.iter().copied().map(LlamaToken).collect()
    }

    #[test]
    fn reuses_the_common_prefix_but_never_the_last_prompt_token() {
        let mut cache = PrefixCache::new(16);
        let held: Vec<i32> = (0..20).collect();
        assert_eq!(cache.retain(&toks(&held)), 0);
        assert_eq!(cache.cells(), 20);

        // Diverges after 12 tokens.
        let mut other: Vec<i32> = (0..12).collect();
        other.extend([99, 100, 101]);
        assert_eq!(cache.reusable(&toks(&other)), 12);

        // Identical prompt: all but the last token.
        assert_eq!(cache.reusable(&toks(&held)), 19);

        // A prompt that is a strict prefix of the held one: all but its last token.
        assert_eq!(cache.reusable(&toks(&held[..10])), 9);
    }

    #[test]
    fn short_overlaps_are_not_reused() {
        let mut cache = PrefixCache::new(3);
        cache.retain(&toks(&(0..20).collect::<Vec<_>>()));
        let mut short: Vec<i32> = (0..MIN_REUSE as i32 - 1).collect();
        short.extend([500, 501, 502]);
        assert_eq!(cache.reusable(&toks(&short)), 0);
        assert_eq!(PrefixCache::new(0).reusable(&toks(&[1, 2, 3])), 0);
    }

    #[test]
    fn accounting_reports_the_cells_released() {
        let mut cache = PrefixCache::new(1);
        let a = toks(&(0..10).collect::<Vec<_>>());
        let b = toks(&(0..30).collect::<Vec<_>>());
        assert!(cache.worth_retaining(&a));
        cache.retain(&a);
        assert!(!cache.worth_retaining(&a), "already held");
        assert!(!cache.worth_retaining(&toks(&[1, 2])), "too short");
        assert_eq!(cache.retain(&b), 10);
        assert_eq!(cache.forget(), 30);
        assert_eq!(cache.cells(), 0);
        assert_eq!(cache.reusable(&b), 0);
    }
}
