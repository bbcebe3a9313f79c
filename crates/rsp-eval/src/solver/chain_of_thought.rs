//! `chain_of_thought`: asks for step-by-step reasoning before a final `ANSWER:` line.
//!
//! It does not add a second, contradictory instruction: it switches the prompt's answer
//! instruction into its reasoning form (see [`crate::state::COT_INSTRUCTION`]), and the
//! scorers read the last `ANSWER:` line when there is one.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Solver, ensure_prompt_phase};
use crate::error::Error;
use crate::state::{SolveContext, TaskState};

/// Turns on chain-of-thought prompting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainOfThought {}

#[async_trait]
impl Solver for ChainOfThought {
    async fn solve(&self, state: &mut TaskState, _ctx: &SolveContext) -> Result<(), Error> {
        ensure_prompt_phase(state, "chain_of_thought")?;
        state.prompt.chain_of_thought = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::testing::text;
    use crate::state::COT_INSTRUCTION;
    use crate::state::testing::{ctx, state};
    use rsp_model::MockModel;

    #[tokio::test]
    async fn appends_the_reasoning_instruction() {
        let c = ctx(MockModel::echo(), None, vec![]);
        let mut s = state(text("x", "What is 2+2?", "4"));
        ChainOfThought {}.solve(&mut s, &c).await.unwrap();
        let user = &s.conversation()[0].content;
        assert_eq!(user, &format!("What is 2+2?\n\n{COT_INSTRUCTION}"));
    }
}
