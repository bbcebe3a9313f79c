//! `numeric`: the number in the answer is within tolerance of the numeric target.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Score, Scorer, Value};
use crate::answer::{final_answer, last_number};
use crate::error::Error;
use crate::state::{SolveContext, TaskState};

/// Numeric comparison: correct when `|answer − target| <= max(tolerance, relative·|target|)`.
///
/// By default the last number in the final answer is read (`"The sum is 42."` → 42); with
/// `strict = true` the whole final answer must be one number.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Numeric {
    /// Metric name (default `accuracy`).
    #[serde(default)]
    pub name: Option<String>,
    /// Absolute tolerance (default 0: exact).
    #[serde(default)]
    pub tolerance: f64,
    /// Relative tolerance, as a fraction of the target (default 0).
    #[serde(default)]
    pub relative: f64,
    /// The final answer must be exactly one number.
    #[serde(default)]
    pub strict: bool,
}

#[async_trait]
impl Scorer for Numeric {
    async fn score(&self, state: &mut TaskState, _ctx: &SolveContext) -> Result<Score, Error> {
        let text = state.completion();
        let read = if self.strict {
            final_answer(text)
                .replace(',', "")
                .trim()
                .parse::<f64>()
                .ok()
        } else {
            last_number(text)
        };
        let Some(x) = read else {
            return Ok(Score::new(Value::NoAnswer, None).explain("no number could be read"));
        };
        let mut targets = Vec::new();
        for t in &state.sample.target {
            let v = t.trim().parse::<f64>().map_err(|_| Error::Solver {
                solver: "numeric",
                reason: format!(
                    "target {t:?} of sample `{}` is not a number",
                    state.sample.id
                ),
            })?;
            targets.push(v);
        }
        let ok = targets
            .iter()
            .any(|&t| (x - t).abs() <= self.tolerance.max(self.relative * t.abs()));
        Ok(Score::new(Value::from_bool(ok), Some(format_number(x))))
    }
}

fn format_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        x.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::testing::text;
    use crate::state::testing::{ctx, state};
    use rsp_model::MockModel;

    async fn run(n: &Numeric, target: &str, completion: &str) -> Result<Score, Error> {
        let c = ctx(MockModel::echo(), None, vec![]);
        let mut s = state(text("x", "q", target));
        s.output = Some(completion.into());
        n.score(&mut s, &c).await
    }

    #[tokio::test]
    async fn tolerance_strictness_and_bad_targets() {
        let exact = Numeric::default();
        let r = run(&exact, "42", "The total is 42.").await.unwrap();
        assert_eq!((r.value, r.answer.as_deref()), (Value::Correct, Some("42")));
        assert_eq!(
            run(&exact, "42", "042").await.unwrap().value,
            Value::Correct
        );
        assert_eq!(
            run(&exact, "42", "41").await.unwrap().value,
            Value::Incorrect
        );
        assert_eq!(
            run(&exact, "42", "none").await.unwrap().value,
            Value::NoAnswer
        );
        let tol = Numeric {
            tolerance: 0.5,
            ..Numeric::default()
        };
        assert_eq!(run(&tol, "3.0", "3.4").await.unwrap().value, Value::Correct);
        let rel = Numeric {
            relative: 0.01,
            ..Numeric::default()
        };
        assert_eq!(
            run(&rel, "1000", "1,009").await.unwrap().value,
            Value::Correct
        );
        assert_eq!(
            run(&rel, "1000", "1011").await.unwrap().value,
            Value::Incorrect
        );
        let strict = Numeric {
            strict: true,
            ..Numeric::default()
        };
        assert_eq!(
            run(&strict, "42", "about 42").await.unwrap().value,
            Value::NoAnswer
        );
        assert!(run(&exact, "forty", "40").await.is_err());
    }
}
