//! `choice`: the picked choice letter equals the target letter.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Score, Scorer, Value};
use crate::answer::extract_letter;
use crate::error::Error;
use crate::sample::Sample;
use crate::solver::multiple_choice::STORE_KEY;
use crate::state::{SolveContext, TaskState};

/// Which pick the scorer reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceSource {
    /// The letter read from the completion (generate mode).
    #[default]
    Completion,
    /// The highest total log-likelihood (lm-eval `acc`).
    Loglikelihood,
    /// The highest log-likelihood per character (lm-eval `acc_norm`).
    LoglikelihoodNorm,
}

/// Multiple-choice accuracy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceScorer {
    /// Metric name (default `accuracy`).
    #[serde(default)]
    pub name: Option<String>,
    /// Which pick to read.
    #[serde(default)]
    pub source: ChoiceSource,
}

#[async_trait]
impl Scorer for ChoiceScorer {
    async fn score(&self, state: &mut TaskState, _ctx: &SolveContext) -> Result<Score, Error> {
        let sample = &state.sample;
        let picked: Option<usize> = match self.source {
            ChoiceSource::Completion => extract_letter(state.completion(), sample),
            ChoiceSource::Loglikelihood | ChoiceSource::LoglikelihoodNorm => {
                let key = if self.source == ChoiceSource::Loglikelihood {
                    "pick"
                } else {
                    "pick_norm"
                };
                let Some(table) = state.store.get(STORE_KEY) else {
                    return Err(Error::Solver {
                        solver: "choice",
                        reason: "source = loglikelihood needs multiple_choice with mode = \"loglikelihood\"".into(),
                    });
                };
                table[key]
                    .as_str()
                    .and_then(|l| l.chars().next())
                    .and_then(|c| sample.letter_index(c))
            }
        };
        let Some(i) = picked else {
            return Ok(Score::new(Value::NoAnswer, None).explain("no choice letter could be read"));
        };
        let letter = Sample::letter(i).map(String::from);
        Ok(Score::new(
            Value::from_bool(sample.target_index() == Some(i)),
            letter,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::testing::mc;
    use crate::state::testing::{ctx, state};
    use rsp_model::MockModel;
    use serde_json::json;

    #[tokio::test]
    async fn reads_completion_or_loglikelihood_picks() {
        let c = ctx(MockModel::echo(), None, vec![]);
        let mut s = state(mc("x", "B"));
        s.output = Some("B) joule".into());
        let sc = ChoiceScorer::default();
        let got = sc.score(&mut s, &c).await.unwrap();
        assert_eq!(
            (got.value, got.answer.as_deref()),
            (Value::Correct, Some("B"))
        );
        s.output = Some("no idea".into());
        assert_eq!(sc.score(&mut s, &c).await.unwrap().value, Value::NoAnswer);
        s.output = Some("A".into());
        assert_eq!(sc.score(&mut s, &c).await.unwrap().value, Value::Incorrect);

        let ll = ChoiceScorer {
            name: None,
            source: ChoiceSource::Loglikelihood,
        };
        assert!(ll.score(&mut s, &c).await.is_err(), "no table yet");
        s.store
            .insert(STORE_KEY.into(), json!({"pick": "B", "pick_norm": "C"}));
        assert_eq!(ll.score(&mut s, &c).await.unwrap().value, Value::Correct);
        let norm = ChoiceScorer {
            name: None,
            source: ChoiceSource::LoglikelihoodNorm,
        };
        assert_eq!(
            norm.score(&mut s, &c).await.unwrap().value,
            Value::Incorrect
        );
    }
}
