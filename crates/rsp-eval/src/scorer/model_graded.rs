//! `model_graded`: a separate judge model grades the answer against a rubric.
//!
//! The judge is its own model role (the run's `judge`), never silently the model under
//! test. The exact prompt sent and the judge's raw reply are kept in the score's metadata,
//! so grades can be audited and the judge validated against human labels. A reply without
//! a readable `GRADE:` line is an error (counted, not scored as wrong).

use std::sync::LazyLock;

use async_trait::async_trait;
use regex::Regex;
use rsp_model::Message;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Score, Scorer, Value};
use crate::error::Error;
use crate::state::{SolveContext, TaskState};

/// Default grader prompt; placeholders `{question}`, `{answer}`, `{criterion}`.
pub const DEFAULT_GRADER_TEMPLATE: &str = "You are grading an answer to a question.\n\nQuestion:\n{question}\n\nAnswer to grade:\n{answer}\n\nGrading criterion:\n{criterion}\n\nDecide whether the answer meets the criterion. Explain briefly, then end with a line \"GRADE: C\" if it is correct, \"GRADE: P\" if it is partially correct, or \"GRADE: I\" if it is incorrect.";

/// The placeholders the grader template may use.
pub const GRADER_PLACEHOLDERS: [&str; 3] = ["question", "answer", "criterion"];

static GRADE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(?i)GRADE\s*:\s*\**\s*([CPI])\b").ok());

/// Judge-graded scoring.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelGraded {
    /// Metric name (default `accuracy`).
    #[serde(default)]
    pub name: Option<String>,
    /// The criterion; when absent, the sample's target is the criterion ("the answer
    /// agrees with: …").
    #[serde(default)]
    pub rubric: Option<String>,
    /// The grader prompt (default [`DEFAULT_GRADER_TEMPLATE`]).
    #[serde(default)]
    pub template: Option<String>,
    /// Accept `P` (partial) grades; otherwise `P` counts as `I`.
    #[serde(default)]
    pub partial: bool,
    /// Most tokens the judge may write (default 256).
    #[serde(default)]
    pub max_tokens: Option<u32>,
}

impl ModelGraded {
    /// The grader prompt in effect.
    pub fn template(&self) -> &str {
        self.template.as_deref().unwrap_or(DEFAULT_GRADER_TEMPLATE)
    }
}

#[async_trait]
impl Scorer for ModelGraded {
    async fn score(&self, state: &mut TaskState, ctx: &SolveContext) -> Result<Score, Error> {
        let answer = state.completion().to_owned();
        if answer.trim().is_empty() {
            return Ok(Score::new(Value::NoAnswer, None));
        }
        let criterion = match &self.rubric {
            Some(r) => r.clone(),
            None => format!(
                "The answer agrees with the reference answer: {}",
                state.sample.target.join(" / ")
            ),
        };
        let prompt = self
            .template()
            .replace("{question}", &state.sample.input)
            .replace("{answer}", &answer)
            .replace("{criterion}", &criterion);
        let g = state
            .call_judge(
                ctx,
                &[Message::user(prompt.clone())],
                self.max_tokens.unwrap_or(256),
            )
            .await?;
        let raw = g.text().to_owned();
        let grade = GRADE
            .as_ref()
            .and_then(|re| re.captures_iter(&raw).last())
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_ascii_uppercase());
        let value = match grade.as_deref() {
            Some("C") => Value::Correct,
            Some("P") if self.partial => Value::Partial,
            Some("P" | "I") => Value::Incorrect,
            _ => {
                return Err(Error::Solver {
                    solver: "model_graded",
                    reason: format!("the judge's reply has no GRADE line: {raw:?}"),
                });
            }
        };
        let mut score = Score::new(value, Some(answer));
        score.metadata.insert("judge_model".into(), json!(g.model));
        score.metadata.insert("judge_prompt".into(), json!(prompt));
        score.metadata.insert("judge_raw".into(), json!(raw));
        Ok(score)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::testing::text;
    use crate::state::testing::{ctx, state};
    use rsp_model::MockModel;

    async fn run(m: &ModelGraded, verdict: &str) -> Result<Score, Error> {
        let c = ctx(MockModel::echo(), Some(MockModel::text(verdict)), vec![]);
        let mut s = state(text("x", "Capital of France?", "Paris"));
        s.output = Some("Paris".into());
        m.score(&mut s, &c).await
    }

    #[tokio::test]
    async fn grades_keep_prompt_and_raw_reply() {
        let m = ModelGraded::default();
        let s = run(&m, "Looks right.\nGRADE: C").await.unwrap();
        assert_eq!(s.value, Value::Correct);
        let prompt = s.metadata["judge_prompt"].as_str().unwrap();
        assert!(
            prompt.contains("Capital of France?") && prompt.contains("reference answer: Paris")
        );
        assert_eq!(s.metadata["judge_raw"], "Looks right.\nGRADE: C");
        assert_eq!(run(&m, "GRADE: P").await.unwrap().value, Value::Incorrect);
        let partial = ModelGraded {
            partial: true,
            ..ModelGraded::default()
        };
        assert_eq!(
            run(&partial, "grade: p").await.unwrap().value,
            Value::Partial
        );
        assert!(
            run(&m, "I think so").await.is_err(),
            "unreadable verdict is an error"
        );
    }

    #[tokio::test]
    async fn needs_a_judge() {
        let c = ctx(MockModel::echo(), None, vec![]);
        let mut s = state(text("x", "q", "t"));
        s.output = Some("a".into());
        assert!(matches!(
            ModelGraded::default().score(&mut s, &c).await,
            Err(Error::JudgeRequired(_))
        ));
    }
}
