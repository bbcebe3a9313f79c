//! `best_of_n`: draws `n` answers and keeps one, by majority vote or by a judge.
//!
//! Answers are drawn in one request with `n` choices and the sample's seed (providers give
//! choice `i` seed `seed + i`), so a resumed run draws the same candidates. Greedy decoding
//! would draw `n` identical answers, so when the task's temperature is 0 the draws use
//! `temperature` (default 0.7) instead. Votes are cast on what the scorers would read: the
//! choice letter for a multiple-choice prompt, otherwise the normalised final answer.

use std::collections::HashMap;

use async_trait::async_trait;
use rsp_model::{GenerateConfig, Message};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Solver;
use crate::answer::{extract_letter, final_answer, normalise};
use crate::error::Error;
use crate::state::{SolveContext, TaskState};

/// How the kept answer is chosen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// The most common answer (ties: the one drawn first).
    #[default]
    Majority,
    /// The judge model picks the best candidate.
    Judge,
}

/// Best-of-n sampling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BestOfN {
    /// Candidates to draw (at least 2).
    pub n: u32,
    /// How to choose among them.
    #[serde(default)]
    pub select: Selection,
    /// Sampling temperature used when the task's own temperature is 0.
    #[serde(default)]
    pub temperature: Option<f32>,
}

/// Key under which the candidates are stored in [`TaskState::store`].
pub const STORE_KEY: &str = "best_of_n";

impl BestOfN {
    fn vote_key(state: &TaskState, text: &str) -> Option<String> {
        if state.prompt.choices {
            extract_letter(text, &state.sample).map(|i| i.to_string())
        } else {
            let key = normalise(final_answer(text));
            (!key.is_empty()).then_some(key)
        }
    }

    fn majority(state: &TaskState, candidates: &[String]) -> usize {
        let keys: Vec<Option<String>> = candidates
            .iter()
            .map(|c| Self::vote_key(state, c))
            .collect();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for k in keys.iter().flatten() {
            *counts.entry(k.as_str()).or_default() += 1;
        }
        let mut best: Option<(usize, usize)> = None; // (index of first occurrence, count)
        for (i, k) in keys.iter().enumerate() {
            let Some(k) = k else { continue };
            let n = counts.get(k.as_str()).copied().unwrap_or(0);
            if best.is_none_or(|(_, b)| n > b) {
                best = Some((i, n));
            }
        }
        best.map_or(0, |(i, _)| i)
    }

    async fn judge(
        state: &mut TaskState,
        ctx: &SolveContext,
        question: &str,
        candidates: &[String],
    ) -> Result<(Option<usize>, String), Error> {
        let mut prompt = format!(
            "Below is a task followed by {} candidate answers. Decide which candidate answers \
             the task best. Reply with the number of that candidate only.\n\nTask:\n{question}\n",
            candidates.len()
        );
        for (i, c) in candidates.iter().enumerate() {
            prompt.push_str(&format!("\nCandidate {}:\n{c}\n", i + 1));
        }
        let g = state.call_judge(ctx, &[Message::user(prompt)], 16).await?;
        let raw = g.text().to_owned();
        let pick = raw
            .split(|c: char| !c.is_ascii_digit())
            .find(|s| !s.is_empty())
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|&i| (1..=candidates.len()).contains(&i))
            .map(|i| i - 1);
        Ok((pick, raw))
    }
}

#[async_trait]
impl Solver for BestOfN {
    async fn solve(&self, state: &mut TaskState, ctx: &SolveContext) -> Result<(), Error> {
        if self.n < 2 {
            return Err(Error::Solver {
                solver: "best_of_n",
                reason: "n must be at least 2".into(),
            });
        }
        let mut config: GenerateConfig = ctx.generate.clone();
        config.n = self.n;
        if config.temperature <= 0.0 {
            config.temperature = self.temperature.unwrap_or(0.7);
        }
        let conversation = state.conversation();
        let g = state.call_model(ctx, &conversation, &config).await?;
        let candidates: Vec<String> = g.choices.iter().map(|c| c.text.clone()).collect();
        if candidates.is_empty() {
            return Err(Error::Solver {
                solver: "best_of_n",
                reason: "the model returned no choices".into(),
            });
        }
        let (chosen, judge_raw) = match self.select {
            Selection::Majority => (Self::majority(state, &candidates), None),
            Selection::Judge => {
                let question = conversation
                    .last()
                    .map(|m| m.content.clone())
                    .unwrap_or_default();
                let (pick, raw) = Self::judge(state, ctx, &question, &candidates).await?;
                // An unreadable verdict falls back to the vote; the raw verdict is kept.
                (
                    pick.unwrap_or_else(|| Self::majority(state, &candidates)),
                    Some(raw),
                )
            }
        };
        let text = candidates[chosen].clone();
        state.store.insert(
            STORE_KEY.into(),
            json!({"candidates": candidates, "chosen": chosen, "judge_raw": judge_raw}),
        );
        state.messages = conversation;
        state.messages.push(Message::assistant(text.clone()));
        state.output = Some(text);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::testing::{mc, text};
    use crate::solver::MultipleChoice;
    use crate::state::testing::{ctx, state};
    use rsp_model::MockModel;

    fn bon(n: u32, select: Selection) -> BestOfN {
        BestOfN {
            n,
            select,
            temperature: None,
        }
    }

    #[tokio::test]
    async fn majority_votes_on_letters() {
        let c = ctx(
            MockModel::sequence(["B", "(C) watt", "The answer is C", "B"]),
            None,
            vec![],
        );
        let mut s = state(mc("x", "C"));
        MultipleChoice::default().solve(&mut s, &c).await.unwrap();
        bon(3, Selection::Majority).solve(&mut s, &c).await.unwrap();
        assert_eq!(
            s.completion(),
            "(C) watt",
            "C twice beats B once; first C kept"
        );
        assert_eq!(
            s.store[STORE_KEY]["candidates"].as_array().unwrap().len(),
            3
        );
        assert_eq!(s.messages.last().unwrap().content, "(C) watt");
    }

    #[tokio::test]
    async fn majority_on_free_text_and_tie_goes_to_first() {
        let c = ctx(
            MockModel::sequence(["Paris.", "paris", "Lyon"]),
            None,
            vec![],
        );
        let mut s = state(text("x", "Capital of France?", "Paris"));
        bon(3, Selection::Majority).solve(&mut s, &c).await.unwrap();
        assert_eq!(s.completion(), "Paris.");
        let c = ctx(MockModel::sequence(["a", "b"]), None, vec![]);
        let mut s = state(text("x", "?", ""));
        bon(2, Selection::Majority).solve(&mut s, &c).await.unwrap();
        assert_eq!(s.completion(), "a");
    }

    #[tokio::test]
    async fn judge_picks_a_candidate_and_falls_back_on_garbage() {
        let c = ctx(
            MockModel::sequence(["x", "y", "y"]),
            Some(MockModel::text("Candidate 1 is best")),
            vec![],
        );
        let mut s = state(text("q", "?", ""));
        bon(3, Selection::Judge).solve(&mut s, &c).await.unwrap();
        assert_eq!(s.completion(), "x");
        assert_eq!(s.store[STORE_KEY]["judge_raw"], "Candidate 1 is best");
        assert!(s.judge_usage.output_tokens > 0);
        let c = ctx(
            MockModel::sequence(["x", "y", "y"]),
            Some(MockModel::text("none")),
            vec![],
        );
        let mut s = state(text("q", "?", ""));
        bon(3, Selection::Judge).solve(&mut s, &c).await.unwrap();
        assert_eq!(s.completion(), "y", "falls back to the vote");
        assert!(bon(1, Selection::Majority).solve(&mut s, &c).await.is_err());
    }
}
