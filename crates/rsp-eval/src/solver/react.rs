//! `react`: the agent loop for models without native tool calling (Inspect's `react`).
//!
//! Each turn the model is called on the whole conversation; its reply is parsed under the
//! text protocol of [`crate::tools`]. An action runs in the sample's sandbox and its
//! output comes back as the next user message; `SUBMIT: <answer>` ends the episode and
//! becomes the output the scorers read. A reply with neither gets a reminder of the
//! protocol.
//!
//! Limits: `max_turns` model calls and `max_tool_calls` tool calls per sample (hitting one
//! is recorded as [`LimitHit::Messages`] / [`LimitHit::ToolCalls`], not an error), plus the
//! task's `[limits]` (tokens over all calls, wall time) and a context window that fills up
//! ([`LimitHit::Context`]). Every action and its full output are kept in the transcript
//! and, as structured records, in the sample's `store.tool_calls`, written as they happen
//! so a sample stopped by its time limit keeps them.

use async_trait::async_trait;
use rsp_model::Message;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Solver;
use crate::error::Error;
use crate::state::{LimitHit, SolveContext, TaskState};
use crate::tools::{Reply, execute, truncate_observation};

/// The reminder sent when a reply has neither an action nor an answer.
pub const NUDGE: &str = "No action found. Reply with exactly one fenced tool block (for example ```bash followed by the command and a closing ```), or with a line SUBMIT: <your final answer> if you are done.";

/// The agent loop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct React {
    /// Model calls per sample (default 8).
    #[serde(default = "default_turns")]
    pub max_turns: u32,
    /// Tool calls per sample (default 6).
    #[serde(default = "default_tool_calls")]
    pub max_tool_calls: u32,
    /// Characters of a tool's output shown to the model (default 1500; the record keeps
    /// everything the sandbox captured).
    #[serde(default = "default_observation_chars")]
    pub observation_chars: usize,
}

fn default_turns() -> u32 {
    8
}

fn default_tool_calls() -> u32 {
    6
}

fn default_observation_chars() -> usize {
    1500
}

impl Default for React {
    fn default() -> Self {
        Self {
            max_turns: default_turns(),
            max_tool_calls: default_tool_calls(),
            observation_chars: default_observation_chars(),
        }
    }
}

fn push_record(state: &mut TaskState, record: Value) {
    let calls = state
        .store
        .entry("tool_calls")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(a) = calls {
        a.push(record);
    }
}

#[async_trait]
impl Solver for React {
    async fn solve(&self, state: &mut TaskState, ctx: &SolveContext) -> Result<(), Error> {
        let ws = state.workspace.clone().ok_or_else(|| Error::Solver {
            solver: "react",
            reason: "no working directory (the task needs a use_tools step)".into(),
        })?;
        if state.tools.is_empty() {
            return Err(Error::Solver {
                solver: "react",
                reason: "no tools enabled (add a use_tools step before react)".into(),
            });
        }
        state.messages = state.conversation();
        let mut tool_calls = 0;
        state.store.insert("submitted".into(), json!(false));
        for turn in 1..=self.max_turns {
            if state.limit.is_some() {
                return Ok(());
            }
            let conversation = state.messages.clone();
            let generation = match state.call_model(ctx, &conversation, &ctx.generate).await {
                Ok(g) => g,
                Err(Error::Model(rsp_model::Error::ContextOverflow { .. })) => {
                    state.limit = Some(LimitHit::Context);
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            let text = generation.text().to_owned();
            state.messages.push(Message::assistant(text.clone()));
            match crate::tools::parse_reply(&text, &state.tools) {
                Reply::Submit(answer) => {
                    state.output = Some(answer);
                    state.store.insert("submitted".into(), json!(true));
                    return Ok(());
                }
                Reply::Act(action) => {
                    if tool_calls >= self.max_tool_calls {
                        state.limit = Some(LimitHit::ToolCalls);
                        return Ok(());
                    }
                    tool_calls += 1;
                    let result = execute(&ws, &action).await?;
                    let mut record = result.record;
                    if let Value::Object(m) = &mut record {
                        m.insert("turn".into(), json!(turn));
                    }
                    push_record(state, record);
                    state.messages.push(Message::user(truncate_observation(
                        &result.observation,
                        self.observation_chars,
                    )));
                }
                Reply::Unavailable(name) => {
                    let names: Vec<&str> = state
                        .tools
                        .iter()
                        .flat_map(|t| t.actions().iter().copied())
                        .collect();
                    state.messages.push(Message::user(format!(
                        "Tool `{name}` is not available. Available tools: {}.",
                        names.join(", ")
                    )));
                }
                Reply::Nothing => state.messages.push(Message::user(NUDGE)),
            }
        }
        if state.limit.is_none() {
            state.limit = Some(LimitHit::Messages);
        }
        Ok(())
    }
}
