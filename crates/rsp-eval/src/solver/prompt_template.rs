//! `prompt_template`: sets the template of the user turn.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Solver, ensure_prompt_phase};
use crate::error::Error;
use crate::state::{SolveContext, TaskState};

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 3] = ["input", "choices", "letters"];

/// Renders the user turn from `template`: `{input}` is the sample's input, `{choices}` the
/// lettered choices, `{letters}` the letters (`A, B, C, D`). Unknown placeholders are
/// rejected when the task is loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptTemplate {
    /// The template.
    pub template: String,
}

impl PromptTemplate {
    /// Placeholders in `template` that are not in [`PLACEHOLDERS`].
    pub fn unknown_placeholders(template: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else { break };
            let name = &after[..close];
            if !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                && !PLACEHOLDERS.contains(&name)
            {
                out.push(name.to_owned());
            }
            rest = &after[close + 1..];
        }
        out
    }
}

#[async_trait]
impl Solver for PromptTemplate {
    async fn solve(&self, state: &mut TaskState, _ctx: &SolveContext) -> Result<(), Error> {
        ensure_prompt_phase(state, "prompt_template")?;
        state.prompt.template = Some(self.template.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::testing::mc;
    use crate::state::testing::{ctx, state};
    use rsp_model::MockModel;

    #[tokio::test]
    async fn template_fills_placeholders() {
        let c = ctx(MockModel::echo(), None, vec![]);
        let mut s = state(mc("x", "A"));
        PromptTemplate {
            template: "Question: {input}\n{choices}\nPick one of {letters}.".into(),
        }
        .solve(&mut s, &c)
        .await
        .unwrap();
        let user = &s.conversation()[0].content;
        assert!(user.starts_with("Question: What is the SI unit of force?\nA) newton"));
        assert!(user.ends_with("Pick one of A, B, C, D."), "{user}");
    }

    #[test]
    fn finds_unknown_placeholders_only() {
        assert_eq!(
            PromptTemplate::unknown_placeholders("{input} {target} {x y} {} {choices}"),
            ["target"]
        );
    }
}
