//! `self_critique`: the answer is critiqued, then the model revises it.
//!
//! The critique comes from the model under test (or the judge, with `judge = true`) in a
//! separate conversation; the revision request is appended to the main transcript, so the
//! stored messages show the first answer, the critique and the revised answer in order.

use async_trait::async_trait;
use rsp_model::Message;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Solver;
use crate::error::Error;
use crate::state::{SolveContext, TaskState};

/// Default critique request; placeholders `{question}` and `{answer}`.
pub const DEFAULT_CRITIQUE: &str = "Review the answer below to the question below. Point out any mistake or omission. If the answer is fully correct, reply only with \"No changes needed.\"\n\nQuestion:\n{question}\n\nAnswer:\n{answer}";

/// Default revision request; placeholders `{question}`, `{answer}` and `{critique}`.
pub const DEFAULT_REVISE: &str = "A reviewer commented on your answer:\n{critique}\n\nTaking the review into account, answer the question again. If your answer was already correct, repeat it. End with a line of the form \"ANSWER: <answer>\".";

/// The placeholders the templates may use.
pub const CRITIQUE_PLACEHOLDERS: [&str; 3] = ["question", "answer", "critique"];

/// Critique-then-revise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfCritique {
    /// Ask the judge model for the critique instead of the model under test.
    #[serde(default)]
    pub judge: bool,
    /// Critique template (default [`DEFAULT_CRITIQUE`]).
    #[serde(default)]
    pub critique: Option<String>,
    /// Revision template (default [`DEFAULT_REVISE`]).
    #[serde(default)]
    pub revise: Option<String>,
}

/// Key under which the critique is stored in [`TaskState::store`].
pub const STORE_KEY: &str = "self_critique";

impl SelfCritique {
    /// The critique template in effect.
    pub fn critique_template(&self) -> &str {
        self.critique.as_deref().unwrap_or(DEFAULT_CRITIQUE)
    }

    /// The revision template in effect.
    pub fn revise_template(&self) -> &str {
        self.revise.as_deref().unwrap_or(DEFAULT_REVISE)
    }
}

fn fill(template: &str, question: &str, answer: &str, critique: &str) -> String {
    template
        .replace("{question}", question)
        .replace("{answer}", answer)
        .replace("{critique}", critique)
}

#[async_trait]
impl Solver for SelfCritique {
    async fn solve(&self, state: &mut TaskState, ctx: &SolveContext) -> Result<(), Error> {
        let Some(first) = state.output.clone() else {
            return Err(Error::Solver {
                solver: "self_critique",
                reason: "there is no answer to critique yet".into(),
            });
        };
        let question = state
            .messages
            .iter()
            .rev()
            .find(|m| m.role == rsp_model::Role::User)
            .map(|m| m.content.clone())
            .unwrap_or_else(|| state.sample.input.clone());
        let request = [Message::user(fill(
            self.critique_template(),
            &question,
            &first,
            "",
        ))];
        let critique = if self.judge {
            state
                .call_judge(ctx, &request, ctx.generate.max_tokens)
                .await?
        } else {
            state.call_model(ctx, &request, &ctx.generate).await?
        };
        let critique = critique.text().to_owned();
        state.messages.push(Message::user(fill(
            self.revise_template(),
            &question,
            &first,
            &critique,
        )));
        state.generate(ctx, &ctx.generate).await?;
        state.store.insert(
            STORE_KEY.into(),
            json!({"first_answer": first, "critique": critique, "by_judge": self.judge}),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::testing::text;
    use crate::solver::Generate;
    use crate::state::testing::{ctx, state};
    use rsp_model::{MockModel, Role};

    #[tokio::test]
    async fn critiques_then_revises_in_the_transcript() {
        let c = ctx(
            MockModel::sequence(["ANSWER: 5", "It is 4, not 5.", "ANSWER: 4"]),
            None,
            vec![],
        );
        let mut s = state(text("x", "What is 2+2?", "4"));
        Generate {}.solve(&mut s, &c).await.unwrap();
        SelfCritique::default().solve(&mut s, &c).await.unwrap();
        assert_eq!(s.completion(), "ANSWER: 4");
        let roles: Vec<_> = s.messages.iter().map(|m| m.role).collect();
        assert_eq!(
            roles,
            [Role::User, Role::Assistant, Role::User, Role::Assistant]
        );
        assert!(s.messages[2].content.contains("It is 4, not 5."));
        assert_eq!(s.store[STORE_KEY]["first_answer"], "ANSWER: 5");
        assert_eq!(s.calls, 3);
    }

    #[tokio::test]
    async fn judge_critique_and_missing_answer() {
        let c = ctx(
            MockModel::sequence(["a", "b"]),
            Some(MockModel::text("fine")),
            vec![],
        );
        let mut s = state(text("x", "?", ""));
        let sc = SelfCritique {
            judge: true,
            ..SelfCritique::default()
        };
        assert!(
            sc.solve(&mut s, &c).await.is_err(),
            "nothing to critique yet"
        );
        Generate {}.solve(&mut s, &c).await.unwrap();
        sc.solve(&mut s, &c).await.unwrap();
        assert_eq!(s.store[STORE_KEY]["critique"], "fine");
        assert_eq!(
            s.calls, 2,
            "critique by the judge does not count as a model call"
        );
        assert_eq!(s.completion(), "b");
    }
}
