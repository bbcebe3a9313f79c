//! `use_tools`: gives the agent tools and tells it the protocol (Inspect's `use_tools`).
//!
//! A prompt step: it records which tools are enabled and adds the protocol's system
//! message ([`crate::tools::instructions`]). The tools run only inside the sample's
//! sandboxed working directory, which the engine creates for every task with this step.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Solver, ensure_prompt_phase};
use crate::error::Error;
use crate::state::{SolveContext, TaskState};
use crate::tools::{Tool, instructions};

/// Enables tools for the `react` loop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UseTools {
    /// Tool groups (default: bash, python, files).
    #[serde(default = "all_tools")]
    pub tools: Vec<Tool>,
}

fn all_tools() -> Vec<Tool> {
    vec![Tool::Bash, Tool::Python, Tool::Files]
}

impl Default for UseTools {
    fn default() -> Self {
        Self { tools: all_tools() }
    }
}

#[async_trait]
impl Solver for UseTools {
    async fn solve(&self, state: &mut TaskState, _ctx: &SolveContext) -> Result<(), Error> {
        ensure_prompt_phase(state, "use_tools")?;
        let mut tools = self.tools.clone();
        tools.sort();
        tools.dedup();
        state.prompt.system.push(instructions(&tools));
        state.tools = tools;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::testing::text;
    use crate::state::testing::{ctx, state};
    use rsp_model::MockModel;

    #[tokio::test]
    async fn enables_tools_and_adds_the_protocol() {
        let c = ctx(MockModel::echo(), None, vec![]);
        let mut s = state(text("x", "do it", ""));
        UseTools {
            tools: vec![Tool::Files, Tool::Bash, Tool::Bash],
        }
        .solve(&mut s, &c)
        .await
        .unwrap();
        assert_eq!(s.tools, [Tool::Bash, Tool::Files]);
        let sys = &s.prompt.system[0];
        assert!(
            sys.contains("SUBMIT:") && sys.ends_with("bash, read_file, write_file, list_files.")
        );
    }
}
