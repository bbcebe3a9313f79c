//! The crate's error type.
//!
//! Problems in task, suite and dataset files are not errors of one kind each: a single load
//! collects every problem it can find into [`FileDiagnostics`] (file, line, field, help) so a
//! user fixes them in one pass. Everything else (a model call failed, the sink refused a
//! write) is a typed variant with its cause as `#[source]`.

use rsp_policy::diag::{Diagnostic, Style, render};

/// All problems found in one file, with the file's text so they can be rendered with carets.
#[derive(Debug, Clone, PartialEq)]
pub struct FileDiagnostics {
    /// The file, as the user knows it (`suites/knowledge-proxy/mc.toml`,
    /// `builtin:knowledge-proxy/test.jsonl`).
    pub file: String,
    /// The file's text (spans index into it).
    pub source: String,
    /// The problems, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl FileDiagnostics {
    /// Renders every diagnostic with `miette` (file name, line, column, caret).
    pub fn render(&self, style: Style) -> String {
        render(&self.diagnostics, &self.file, &self.source, style)
    }

    /// `(line, column)` (1-based) of each diagnostic that has a place, for JSON output.
    pub fn locations(&self) -> Vec<Option<(usize, usize)>> {
        self.diagnostics
            .iter()
            .map(|d| {
                d.span
                    .as_ref()
                    .map(|s| rsp_policy::diag::line_col(&self.source, s.start))
            })
            .collect()
    }
}

/// Renders a list of file diagnostics, one file after another.
pub fn render_all(files: &[FileDiagnostics], style: Style) -> String {
    files.iter().map(|f| f.render(style)).collect()
}

/// Boxed error from a [`crate::RunSink`] implementation (storage backends bring their own
/// error types).
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Task, suite or dataset files have problems; render them with [`render_all`].
    #[error("{} problem(s) in {}", count(.0), files(.0))]
    Invalid(Vec<FileDiagnostics>),
    /// No built-in or user suite has this name.
    #[error("unknown suite `{name}` (known: {known})")]
    UnknownSuite {
        /// The name asked for.
        name: String,
        /// Comma-separated known suite names.
        known: String,
    },
    /// The suite exists but has no task of this name.
    #[error("suite `{suite}` has no task `{task}` (tasks: {known})")]
    UnknownTask {
        /// The suite.
        suite: String,
        /// The task asked for.
        task: String,
        /// Comma-separated task names.
        known: String,
    },
    /// The suite is defined but cannot run yet.
    #[error("suite `{suite}` cannot run: {reason}")]
    SuiteUnavailable {
        /// The suite.
        suite: String,
        /// Why (for example "the task has no `use_tools` solver").
        reason: String,
    },
    /// A user suite uses the name of a built-in suite.
    #[error("user suite `{0}` has the same name as a built-in suite; rename its folder")]
    ShadowsBuiltin(String),
    /// A file could not be read.
    #[error("could not read {path}")]
    Read {
        /// The path.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The task scores with a judge model and none was given.
    #[error(
        "task `{0}` needs a judge model (model_graded scorer, a judged refusal check, best_of_n with select = \"judge\" or a judged self_critique)"
    )]
    JudgeRequired(String),
    /// The model cannot do what the task asks (for example log-likelihood scoring on a
    /// provider without it).
    #[error("model `{model}` cannot run task `{task}`: it lacks {feature}")]
    Unsupported {
        /// Model spec.
        model: String,
        /// Task id.
        task: String,
        /// The missing capability.
        feature: &'static str,
    },
    /// The epoch count (after overrides) is below what the reducer needs.
    #[error("reducer {reducer} needs at least {needed} epochs, the run has {epochs}")]
    TooFewEpochs {
        /// The reducer.
        reducer: String,
        /// Epochs it needs.
        needed: u64,
        /// Epochs the run has.
        epochs: u32,
    },
    /// A model call failed.
    #[error("model call failed")]
    Model(#[source] rsp_model::Error),
    /// A solver could not run on a sample (for example the sample has no choices).
    #[error("solver `{solver}`: {reason}")]
    Solver {
        /// The solver kind.
        solver: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A statistic could not be computed.
    #[error("statistics")]
    Stats(#[source] rsp_stats::Error),
    /// The run sink failed; the run stops, because a sample that cannot be stored must not
    /// be silently dropped.
    #[error("run sink")]
    Sink(#[source] SinkError),
    /// The sink already holds a different run (its identity key differs).
    #[error("the sink holds run {existing}, not the requested run {requested}")]
    RunMismatch {
        /// Key found.
        existing: String,
        /// Key requested.
        requested: String,
    },
    /// The tool sandbox could not be set up or run a command (including: no isolation
    /// available and unsandboxed tools not allowed).
    #[error("sandbox")]
    Sandbox(#[source] rsp_sandbox::Error),
    /// Two sample lists given to `compare` were from different tasks.
    #[error("cannot compare: {0}")]
    Incomparable(String),
}

fn count(files: &[FileDiagnostics]) -> usize {
    files.iter().map(|f| f.diagnostics.len()).sum()
}

fn files(files: &[FileDiagnostics]) -> String {
    files
        .iter()
        .map(|f| f.file.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl From<rsp_model::Error> for Error {
    fn from(e: rsp_model::Error) -> Self {
        Error::Model(e)
    }
}

impl From<rsp_stats::Error> for Error {
    fn from(e: rsp_stats::Error) -> Self {
        Error::Stats(e)
    }
}

/// The error and its causes on one line (`a: b: c`), for storing with a sample.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_counts_problems_and_names_files() {
        let f = FileDiagnostics {
            file: "a.toml".into(),
            source: "x = 1\n".into(),
            diagnostics: vec![
                Diagnostic::error("task::x", "bad").at(Some(0..1)),
                Diagnostic::error("task::y", "worse"),
            ],
        };
        let e = Error::Invalid(vec![f.clone()]);
        assert_eq!(e.to_string(), "2 problem(s) in a.toml");
        assert_eq!(f.locations(), vec![Some((1, 1)), None]);
        let text = render_all(&[f], Style::Plain);
        assert!(text.contains("a.toml") && text.contains("bad"), "{text}");
    }

    #[test]
    fn chain_joins_causes() {
        let e = Error::Read {
            path: "p".into(),
            source: std::io::Error::other("gone"),
        };
        assert_eq!(chain(&e), "could not read p: gone");
    }
}
