//! `end_state`: scores what the agent left in its working directory, not what it said.
//!
//! Each sample carries a [`Check`] (the dataset's `check` field). File checks read the
//! file through the workspace's confined path resolution (a symbolic link planted by the
//! agent is not followed; it fails the check). Command checks run inside the same
//! sandbox as the agent's tools, because they execute the agent's code (a fixed test
//! suite imports the agent's module). Semantics match
//! `suites/autonomy-proxy/solutions.py` exactly.

use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Score, Scorer, Value};
use crate::error::Error;
use crate::state::{SolveContext, TaskState};

/// Files larger than this are read only this far (a check never needs more).
const MAX_CHECK_BYTES: usize = 4 * 1024 * 1024;

/// One end-state check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// The file exists and its text, trailing whitespace removed, equals `expected`
    /// (trailing whitespace removed).
    FileEquals {
        /// Path relative to the working directory.
        path: String,
        /// Expected text.
        expected: String,
    },
    /// The file exists and contains `expected`.
    FileContains {
        /// Path relative to the working directory.
        path: String,
        /// Expected substring.
        expected: String,
    },
    /// The final answer, trimmed, equals `expected`, trimmed.
    AnswerEquals {
        /// Expected answer.
        expected: String,
    },
    /// `sh -c <command>` in the working directory (sandboxed) exits with 0.
    CommandSucceeds {
        /// The command.
        command: String,
    },
}

impl Check {
    /// The `kind` name.
    pub fn kind(&self) -> &'static str {
        match self {
            Check::FileEquals { .. } => "file_equals",
            Check::FileContains { .. } => "file_contains",
            Check::AnswerEquals { .. } => "answer_equals",
            Check::CommandSucceeds { .. } => "command_succeeds",
        }
    }

    /// A problem with the check itself (a path that leaves the working directory).
    pub fn problem(&self) -> Option<String> {
        match self {
            Check::FileEquals { path, .. } | Check::FileContains { path, .. }
                if !crate::dataset::safe_relative(path) =>
            {
                Some(format!(
                    "check path {path:?} must be relative and stay inside the working directory"
                ))
            }
            Check::CommandSucceeds { command } if command.trim().is_empty() => {
                Some("command_succeeds needs a command".into())
            }
            _ => None,
        }
    }
}

/// Judges the sample's [`Check`] against the final working directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndState {
    /// Metric name (default `accuracy`).
    #[serde(default)]
    pub name: Option<String>,
    /// Wall-clock seconds a command check may take (default 60).
    #[serde(default = "default_check_timeout")]
    pub check_timeout_secs: f64,
}

fn default_check_timeout() -> f64 {
    60.0
}

impl Default for EndState {
    fn default() -> Self {
        Self {
            name: None,
            check_timeout_secs: default_check_timeout(),
        }
    }
}

#[async_trait]
impl Scorer for EndState {
    async fn score(&self, state: &mut TaskState, _ctx: &SolveContext) -> Result<Score, Error> {
        let check = state.sample.check.clone().ok_or_else(|| Error::Solver {
            solver: "end_state",
            reason: format!("sample `{}` has no check", state.sample.id),
        })?;
        let ws = state.workspace.clone().ok_or_else(|| Error::Solver {
            solver: "end_state",
            reason: "the sample has no working directory".into(),
        })?;
        let (ok, why) = match &check {
            Check::AnswerEquals { expected } => match state.output.as_deref() {
                Some(a) if a.trim() == expected.trim() => {
                    (true, "the final answer matches".to_owned())
                }
                Some(a) => (false, format!("the final answer {:?} differs", a.trim())),
                None => (false, "no final answer was submitted".to_owned()),
            },
            Check::FileEquals { path, expected } | Check::FileContains { path, expected } => {
                match ws.read_file(path, MAX_CHECK_BYTES) {
                    Ok((text, _)) => {
                        let ok = if matches!(check, Check::FileEquals { .. }) {
                            text.trim_end() == expected.trim_end()
                        } else {
                            text.contains(expected.as_str())
                        };
                        let why = if ok {
                            "the file matches"
                        } else {
                            "the file differs"
                        };
                        (ok, format!("{path}: {why}"))
                    }
                    Err(e) => (false, format!("{path}: {e}")),
                }
            }
            Check::CommandSucceeds { command } => {
                let limits = rsp_sandbox::Limits {
                    timeout_secs: self.check_timeout_secs,
                    ..*ws.limits()
                };
                let program = rsp_sandbox::Program::Shell(command.clone());
                let out = run_blocking(Arc::clone(&ws), program, limits).await?;
                let why = if out.timed_out {
                    "the check command timed out".to_owned()
                } else {
                    format!("the check command exited with {:?}", out.exit_code)
                };
                (out.success(), why)
            }
        };
        let mut score = Score::new(Value::from_bool(ok), state.output.clone()).explain(why);
        score.metadata.insert("check".into(), json!(check.kind()));
        Ok(score)
    }
}

/// Runs a command in the workspace on the blocking pool (commands block for up to their
/// timeout, which must not stall the async executor).
pub(crate) async fn run_blocking(
    ws: Arc<rsp_sandbox::Workspace>,
    program: rsp_sandbox::Program,
    limits: rsp_sandbox::Limits,
) -> Result<rsp_sandbox::Output, Error> {
    tokio::task::spawn_blocking(move || ws.run_with(&program, &limits))
        .await
        .map_err(|e| Error::Solver {
            solver: "tools",
            reason: format!("tool thread failed: {e}"),
        })?
        .map_err(Error::Sandbox)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_parse_like_the_suite_and_reject_escaping_paths() {
        let c: Check =
            serde_json::from_str(r#"{"kind": "file_equals", "path": "a.txt", "expected": "x"}"#)
                .unwrap();
        assert_eq!(c.kind(), "file_equals");
        assert!(c.problem().is_none());
        let bad: Check =
            serde_json::from_str(r#"{"kind": "file_contains", "path": "../a", "expected": "x"}"#)
                .unwrap();
        assert!(bad.problem().is_some());
        assert!(serde_json::from_str::<Check>(r#"{"kind": "file_equals", "path": "a"}"#).is_err());
        assert!(serde_json::from_str::<Check>(r#"{"kind": "nope"}"#).is_err());
    }
}
