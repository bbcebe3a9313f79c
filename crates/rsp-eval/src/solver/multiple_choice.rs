//! `multiple_choice`: lettered choices answered by generation, or ranked by log-likelihood.
//!
//! - `mode = "generate"` (default) is a prompt step: the choices are shown as `A) …` and an
//!   instruction asks for the letter; a later `generate` or `best_of_n` answers, and the
//!   `choice` scorer reads the letter.
//! - `mode = "loglikelihood"` is lm-evaluation-harness's `multiple_choice` output type: the
//!   raw-text context `Question: …\nAnswer:` is scored once with each choice as continuation
//!   (`" " + choice`), and the answer is the choice with the highest summed log-probability
//!   (`acc`) or the highest log-probability per character of the choice (`acc_norm`, as
//!   lm-eval normalises by the continuation's length in characters). Both picks and the full
//!   table are kept in the sample's store; the `choice` scorer reads either.

use async_trait::async_trait;
use rsp_model::ScoreRequest;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Solver, ensure_prompt_phase};
use crate::error::Error;
use crate::sample::Sample;
use crate::state::{SolveContext, TaskState};

/// The default answer instruction in generate mode.
pub const DEFAULT_INSTRUCTION: &str = "Answer with the letter of the correct choice.";

/// How the choice is made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceMode {
    /// The model writes a letter.
    #[default]
    Generate,
    /// Choices are ranked by log-likelihood.
    Loglikelihood,
}

/// Multiple-choice elicitation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultipleChoice {
    /// Generate a letter, or rank by log-likelihood.
    #[serde(default)]
    pub mode: ChoiceMode,
    /// Generate mode: the answer instruction (default [`DEFAULT_INSTRUCTION`]).
    #[serde(default)]
    pub instruction: Option<String>,
    /// Log-likelihood mode: also list the lettered choices in the context.
    #[serde(default)]
    pub show_choices: bool,
}

/// Key under which log-likelihood mode stores its table in [`TaskState::store`].
pub const STORE_KEY: &str = "loglikelihood";

impl MultipleChoice {
    fn context(&self, state: &TaskState) -> String {
        let prompt = &state.prompt;
        let question = |s: &Sample| {
            let mut q = match &prompt.template {
                Some(t) => t
                    .replace("{input}", &s.input)
                    .replace("{choices}", &s.lettered_choices()),
                None => format!("Question: {}", s.input),
            };
            if self.show_choices {
                q.push('\n');
                q.push_str(&s.lettered_choices());
            }
            q.push_str("\nAnswer:");
            q
        };
        let mut out = String::new();
        for system in &prompt.system {
            out.push_str(system);
            out.push_str("\n\n");
        }
        for shot in &prompt.shots {
            let answer = shot
                .target_index()
                .and_then(|i| shot.choices.get(i))
                .cloned()
                .unwrap_or_default();
            out.push_str(&question(shot));
            out.push(' ');
            out.push_str(&answer);
            out.push_str("\n\n");
        }
        out.push_str(&question(&state.sample));
        out
    }
}

#[async_trait]
impl Solver for MultipleChoice {
    async fn solve(&self, state: &mut TaskState, ctx: &SolveContext) -> Result<(), Error> {
        ensure_prompt_phase(state, "multiple_choice")?;
        if state.sample.choices.len() < 2 {
            return Err(Error::Solver {
                solver: "multiple_choice",
                reason: format!("sample `{}` has fewer than two choices", state.sample.id),
            });
        }
        match self.mode {
            ChoiceMode::Generate => {
                state.prompt.choices = true;
                state.prompt.instruction = Some(
                    self.instruction
                        .clone()
                        .unwrap_or_else(|| DEFAULT_INSTRUCTION.to_owned()),
                );
                Ok(())
            }
            ChoiceMode::Loglikelihood => {
                let context = self.context(state);
                let request = ScoreRequest::new(
                    context.clone(),
                    state.sample.choices.iter().map(|c| format!(" {c}")),
                );
                let scores = state.score(ctx, &request).await?;
                if scores.scores.len() != state.sample.choices.len() {
                    return Err(Error::Solver {
                        solver: "multiple_choice",
                        reason: format!(
                            "the model returned {} scores for {} choices",
                            scores.scores.len(),
                            state.sample.choices.len()
                        ),
                    });
                }
                let chars: Vec<usize> = state
                    .sample
                    .choices
                    .iter()
                    .map(|c| c.chars().count().max(1))
                    .collect();
                let pick = argmax(scores.scores.iter().map(|s| s.logprob));
                let pick_norm = argmax(
                    scores
                        .scores
                        .iter()
                        .zip(&chars)
                        .map(|(s, &n)| s.logprob / n as f64),
                );
                let letter = |i: Option<usize>| i.and_then(Sample::letter).map(String::from);
                let table: Vec<_> = scores
                    .scores
                    .iter()
                    .zip(&chars)
                    .map(|(s, n)| {
                        json!({"logprob": s.logprob, "n_tokens": s.n_tokens, "chars": n, "is_greedy": s.is_greedy})
                    })
                    .collect();
                state.store.insert(
                    STORE_KEY.into(),
                    json!({
                        "context": context,
                        "choices": table,
                        "pick": letter(pick),
                        "pick_norm": letter(pick_norm),
                    }),
                );
                state.output = letter(pick);
                Ok(())
            }
        }
    }
}

/// Index of the largest value (ties: first).
fn argmax(values: impl Iterator<Item = f64>) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, v) in values.enumerate() {
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::testing::{mc, text};
    use crate::state::testing::{ctx, state};
    use rsp_model::MockModel;

    #[tokio::test]
    async fn generate_mode_shows_choices_and_asks_for_a_letter() {
        let c = ctx(MockModel::echo(), None, vec![]);
        let mut s = state(mc("x", "A"));
        MultipleChoice::default().solve(&mut s, &c).await.unwrap();
        let user = &s.conversation()[0].content;
        assert!(
            user.contains("\n\nA) newton\nB) joule\nC) watt\nD) pascal\n\n"),
            "{user}"
        );
        assert!(user.ends_with(DEFAULT_INSTRUCTION));
        assert!(s.output.is_none(), "generate mode does not call the model");
    }

    #[tokio::test]
    async fn loglikelihood_mode_picks_acc_and_acc_norm() {
        // The mock scores a continuation at minus its length in characters (with the
        // leading space), so the raw pick is the shortest choice; per character of the
        // choice that is -(len+1)/len, so the longest choice wins acc_norm.
        let c = ctx(MockModel::echo(), None, vec![mc("d1", "B")]);
        let mut s = state(mc("x", "A"));
        super::super::FewShot { k: 1 }
            .solve(&mut s, &c)
            .await
            .unwrap();
        let m = MultipleChoice {
            mode: ChoiceMode::Loglikelihood,
            ..MultipleChoice::default()
        };
        m.solve(&mut s, &c).await.unwrap();
        assert_eq!(s.output.as_deref(), Some("C"), "watt is the shortest");
        let table = &s.store[STORE_KEY];
        assert_eq!(table["pick"], "C");
        assert_eq!(
            table["pick_norm"], "A",
            "newton/pascal longest; first wins ties"
        );
        let context = table["context"].as_str().unwrap();
        assert!(context.starts_with("Question: What is the SI unit of force?\nAnswer: joule\n\n"));
        assert!(context.ends_with("Answer:"));
        assert_eq!(table["choices"].as_array().unwrap().len(), 4);
        let mut t = state(text("y", "no choices", ""));
        assert!(m.solve(&mut t, &c).await.is_err());
    }
}
