//! The crate's error type.
//!
//! Constitution problems are collected into [`rsp_eval::FileDiagnostics`] (every problem,
//! with file, line and field) rather than failing on the first; everything else is a typed
//! variant whose cause travels as `#[source]`.

use std::path::PathBuf;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The constitution has problems; render them with
    /// [`rsp_eval::FileDiagnostics::render`].
    #[error("{} problem(s) in {}", .0.diagnostics.len(), .0.file)]
    Invalid(rsp_eval::FileDiagnostics),
    /// A file could not be read or written (`fs_err` puts the path in the message).
    #[error("file I/O failed")]
    Io(#[source] std::io::Error),
    /// A model call failed.
    #[error("the {role} model failed")]
    Model {
        /// Which model: `judge`, `target`, `generator`.
        role: &'static str,
        /// The provider's error.
        #[source]
        source: rsp_model::Error,
    },
    /// No sampled vote of the judge could be read as an option letter.
    #[error("none of the judge's {votes} vote(s) named an option; first reply: {first:?}")]
    UnreadableVerdict {
        /// Votes asked for.
        votes: u32,
        /// The first raw reply, for debugging the prompt.
        first: String,
    },
    /// The task needs log-likelihood scoring and the model cannot score.
    #[error("{model} cannot score log-likelihoods, which {task} needs")]
    ScoringRequired {
        /// The model's spec.
        model: String,
        /// What needed it.
        task: &'static str,
    },
    /// The constitution lacks the section a task needs.
    #[error("the constitution has no {section}, which {task} needs")]
    MissingSection {
        /// `[[principle]]`, `[[comparison]]` or `[[restricted]]`.
        section: &'static str,
        /// What needed it.
        task: &'static str,
    },
    /// A CSV prompt file could not be read.
    #[error("{} is not a readable CSV file", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: csv::Error,
    },
    /// A JSONL line could not be parsed.
    #[error("{}:{line} is not valid JSON", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// A prompt or pair file does not have the expected shape.
    #[error("{}: {reason}", path.display())]
    BadInput {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the row or column.
        reason: String,
    },
    /// The refusal judge failed (the scorer from `rsp-eval`).
    #[error("the refusal judge failed")]
    RefusalJudge(#[source] rsp_eval::Error),
    /// `rsp-eval`'s `Sample` no longer deserialises from the minimal shape this crate
    /// builds for the refusal scorer (a version mismatch between the two crates).
    #[error("could not build an rsp-eval sample for the refusal scorer")]
    SampleShape(#[source] serde_json::Error),
    /// A statistic could not be computed.
    #[error("statistics failed")]
    Stats(#[source] rsp_stats::Error),
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    InvalidSetting(&'static str),
}

impl Error {
    /// Wraps a model error with the model's role.
    pub(crate) fn model(role: &'static str) -> impl FnOnce(rsp_model::Error) -> Self {
        move |source| Error::Model { role, source }
    }
}
