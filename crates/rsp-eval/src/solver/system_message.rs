//! `system_message`: adds a system message to the prompt.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Solver, ensure_prompt_phase};
use crate::error::Error;
use crate::state::{SolveContext, TaskState};

/// Adds `text` as a system message (several are kept in order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemMessage {
    /// The message.
    pub text: String,
}

#[async_trait]
impl Solver for SystemMessage {
    async fn solve(&self, state: &mut TaskState, _ctx: &SolveContext) -> Result<(), Error> {
        ensure_prompt_phase(state, "system_message")?;
        state.prompt.system.push(self.text.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::testing::text;
    use crate::state::testing::{ctx, state};
    use rsp_model::{MockModel, Role};

    #[tokio::test]
    async fn adds_system_messages_in_order() {
        let c = ctx(MockModel::echo(), None, vec![]);
        let mut s = state(text("x", "hi", ""));
        for t in ["one", "two"] {
            SystemMessage { text: t.into() }
                .solve(&mut s, &c)
                .await
                .unwrap();
        }
        let msgs = s.conversation();
        assert_eq!(msgs[0].role, Role::System);
        assert_eq!(
            (msgs[0].content.as_str(), msgs[1].content.as_str()),
            ("one", "two")
        );
        s.generate(&c, &c.generate.clone()).await.unwrap();
        assert!(
            SystemMessage {
                text: "late".into()
            }
            .solve(&mut s, &c)
            .await
            .is_err()
        );
    }
}
