//! `few_shot`: shows `k` worked examples from the task's dev split.
//!
//! Examples come only from the dev split named in the task's `[dataset]` table, never from
//! the scored items, and are the first `k` in file order, so every sample sees the same
//! examples and a run is reproducible from its task file alone.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Solver, ensure_prompt_phase};
use crate::error::Error;
use crate::state::{SolveContext, TaskState};

/// Shows the first `k` dev examples as user/assistant turns, formatted like the question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FewShot {
    /// Number of examples.
    pub k: usize,
}

#[async_trait]
impl Solver for FewShot {
    async fn solve(&self, state: &mut TaskState, ctx: &SolveContext) -> Result<(), Error> {
        ensure_prompt_phase(state, "few_shot")?;
        if ctx.dev.len() < self.k {
            return Err(Error::Solver {
                solver: "few_shot",
                reason: format!(
                    "k = {} but the dev split has {} items",
                    self.k,
                    ctx.dev.len()
                ),
            });
        }
        state.prompt.shots = ctx
            .dev
            .iter()
            .filter(|d| d.id != state.sample.id)
            .take(self.k)
            .cloned()
            .collect();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::testing::mc;
    use crate::state::testing::{ctx, state};
    use rsp_model::{MockModel, Role};

    #[tokio::test]
    async fn shows_dev_examples_before_the_question() {
        let c = ctx(
            MockModel::echo(),
            None,
            vec![mc("d1", "A"), mc("d2", "C"), mc("d3", "D")],
        );
        let mut s = state(mc("x", "B"));
        FewShot { k: 2 }.solve(&mut s, &c).await.unwrap();
        let msgs = s.conversation();
        let roles: Vec<_> = msgs.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [
                Role::User,
                Role::Assistant,
                Role::User,
                Role::Assistant,
                Role::User
            ]
        );
        assert_eq!(msgs[1].content, "A");
        assert_eq!(msgs[3].content, "C");
        assert!(FewShot { k: 4 }.solve(&mut s, &c).await.is_err());
    }
}
