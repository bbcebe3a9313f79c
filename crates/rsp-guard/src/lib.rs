//! Constitutional safeguards for rsp: a written constitution, a classifier that judges
//! conversations against it, measurement of that classifier as a safeguard, and
//! Constitutional AI data generation from the same file.
//!
//! # Design
//!
//! One idea runs through the crate: a model can read written principles and judge
//! behaviour against them "like a multiple-choice exam" (Bai et al. 2022; Sharma et al.
//! 2025). So one TOML file, the [`Constitution`], feeds every part:
//!
//! | part | module | entry point |
//! |---|---|---|
//! | format, diagnostics, plain language | [`constitution`] | [`constitution::check`], [`constitution::load`], [`constitution::explain`] |
//! | judge-mode classifier | [`classifier`] | [`Classifier::classify_input`], [`Classifier::classify_output`] |
//! | streaming output checks | [`stream`] | [`StreamGuard`], [`first_unsafe_point`] |
//! | threshold trade-off | [`calibration`] | [`calibrate`] |
//! | prompt files | [`prompts`] | [`load_prompts`] |
//! | guard evaluation | [`eval`] | [`eval::evaluate`] |
//! | CAI data | [`cai`] | [`cai::revise`], [`cai::pairs`], [`cai::label`] |
//!
//! Choices that matter:
//!
//! - **Diagnostics like the policy's.** The constitution is walked on toml's spanned tree
//!   so every unknown key, wrong type and semantic problem is reported in one pass with
//!   file, line, column and field, rendered by `rsp-policy`'s miette renderer.
//! - **Probabilities, not just labels.** The classifier's `p_block` is the judge's
//!   probability mass off the "allowed" option (log-likelihoods where the provider can
//!   score, seeded votes otherwise), so the threshold is a dial and its trade-off can be
//!   reported ([`calibration`]).
//! - **Measured, with intervals.** Guard evaluation reports attack success and
//!   over-refusal with Wilson intervals (`rsp-stats`), and judges refusals with
//!   `rsp-eval`'s `refusal` scorer so evals and guard evidence agree on what a refusal
//!   is. A classifier error counts as a block: the deployed guard fails closed.
//! - **Harmful data stays outside.** Prompt files are read in place; results keep a hash
//!   of each prompt, not its text. The shipped constitution describes restricted classes
//!   abstractly and gives examples only of permitted content.
//! - **Reproducible, resumable generation.** CAI jobs seed every draw from (run seed,
//!   prompt id) and append one fsynced JSONL line per prompt, so a killed job resumes
//!   exactly where it stopped.
//! - **No global state.** Models, constitutions and progress callbacks are passed in.

#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod cai;
pub mod calibration;
pub mod classifier;
pub mod constitution;
mod error;
pub mod eval;
pub mod prompts;
pub mod stream;
#[cfg(test)]
mod testing;

pub use calibration::{Calibration, OperatingPoint, calibrate, operating_point};
pub use classifier::{ClassProbability, Classifier, ClassifierConfig, Method, Subject, Verdict};
pub use constitution::{
    CONSTITUTION_FILE, CheckReport, Constitution, ContentClass, VerdictFormat, example_constitution,
};
pub use error::Error;
pub use prompts::{Label, PROMPT_COLUMNS, PromptItem, PromptSet, load_prompts};
pub use stream::{CheckEvery, StreamGuard, StreamOutcome, first_unsafe_point};
