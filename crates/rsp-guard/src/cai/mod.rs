//! Constitutional AI data generation (Bai et al. 2022, arXiv 2212.08073).
//!
//! - [`revise`] (SL-CAI): answer, then critique and revise `rounds` times with a principle
//!   drawn at random each round; SFT JSONL keeping every intermediate step.
//! - [`pairs`]: sample `n` responses per prompt, the raw material for labels.
//! - [`label`] (RL-CAI): a sampled comparison principle, the multiple-choice prompt, and
//!   a soft label `p_A` from the normalised log-probabilities of "(A)" and "(B)"; DPO-ready
//!   JSONL.
//!
//! **Reproducible.** Every random choice for a prompt comes from a ChaCha RNG seeded with
//! `(run seed, prompt id)` ([`item_seed`]), so the output for a prompt does not depend on
//! the order prompts run in, on concurrency, or on whether the run was resumed.
//!
//! **Resumable.** Output is append-only JSONL, one durable line per finished prompt
//! ([`ResumableJsonl`]); a restart skips ids already written and repairs a partial last
//! line. A prompt whose model call fails is counted and not written, so the next run
//! retries it.

mod jsonl;
mod label;
mod pairs;
mod revise;

use std::future::Future;
use std::path::Path;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use jsonl::ResumableJsonl;
pub use label::{
    LabelConfig, LabelRecord, PairItem, comparison_prompt, label, load_pairs, soft_label,
};
pub use pairs::{PairsConfig, PairsRecord, pairs};
pub use revise::{ReviseConfig, ReviseRecord, revise};

use crate::Error;

/// Progress of a CAI job, reported after each prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CaiProgress {
    /// Prompts in the input.
    pub total: usize,
    /// Prompts already in the output when the job started.
    pub skipped: usize,
    /// Prompts finished by this invocation (written or failed).
    pub done: usize,
    /// Of `done`, prompts that failed (not written; retried by the next run).
    pub errors: usize,
}

/// What a CAI job did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaiSummary {
    /// Final progress.
    pub progress: CaiProgress,
    /// Records written by this invocation.
    pub written: usize,
    /// Bytes of a partial line repaired on open.
    pub repaired_bytes: u64,
    /// The first few errors, `id: message`.
    pub errors: Vec<String>,
}

/// The seed of everything random about one prompt: sha256 of the run seed and the id.
pub fn item_seed(seed: u64, id: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(id.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_le_bytes(b)
}

/// How many error messages a summary keeps.
const KEEP_ERRORS: usize = 20;

/// Runs `work` over every item not yet in `out`, `concurrency` at a time, appending each
/// result as it finishes.
pub(crate) async fn run_resumable<'a, I, R, F, Fut>(
    items: &'a [I],
    id_of: impl Fn(&I) -> &str,
    out: &Path,
    concurrency: usize,
    progress: &(dyn Fn(&CaiProgress) + Sync),
    work: F,
) -> Result<CaiSummary, Error>
where
    R: Serialize,
    F: Fn(&'a I) -> Fut,
    Fut: Future<Output = Result<R, Error>>,
{
    if concurrency == 0 {
        return Err(Error::InvalidSetting("concurrency must be at least 1"));
    }
    let mut writer = ResumableJsonl::open(out)?;
    let todo: Vec<&I> = items.iter().filter(|i| !writer.is_done(id_of(i))).collect();
    let mut p = CaiProgress {
        total: items.len(),
        skipped: items.len() - todo.len(),
        ..CaiProgress::default()
    };
    progress(&p);
    let mut summary = CaiSummary {
        progress: p,
        written: 0,
        repaired_bytes: writer.repaired_bytes(),
        errors: Vec::new(),
    };
    let mut stream = futures::stream::iter(todo)
        .map(|item| {
            let fut = work(item);
            async move { (item, fut.await) }
        })
        .buffer_unordered(concurrency);
    while let Some((item, result)) = stream.next().await {
        p.done += 1;
        match result {
            Ok(record) => {
                writer.append(id_of(item), &record)?;
                summary.written += 1;
            }
            Err(e) => {
                p.errors += 1;
                if summary.errors.len() < KEEP_ERRORS {
                    summary
                        .errors
                        .push(format!("{}: {}", id_of(item), chain(&e)));
                }
            }
        }
        progress(&p);
    }
    summary.progress = p;
    Ok(summary)
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut s = e.source();
    while let Some(x) = s {
        out.push_str(": ");
        out.push_str(&x.to_string());
        s = x.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_seeds_depend_on_seed_and_id_only() {
        assert_eq!(item_seed(1, "a"), item_seed(1, "a"));
        assert_ne!(item_seed(1, "a"), item_seed(2, "a"));
        assert_ne!(item_seed(1, "a"), item_seed(1, "b"));
    }
}
