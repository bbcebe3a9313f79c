//! Text scorers: `match`, `includes`, `exact` and `pattern`.

use async_trait::async_trait;
use regex::RegexBuilder;
use serde::{Deserialize, Serialize};

use super::{Score, Scorer, Value, any_target};
use crate::answer::{final_answer, normalise};
use crate::error::Error;
use crate::state::{SolveContext, TaskState};

/// Where `match` looks for the target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// The answer starts with the target.
    Begin,
    /// The answer ends with the target (Inspect's default).
    #[default]
    End,
    /// The target appears as a whole word or phrase anywhere.
    Any,
    /// The answer is the target.
    Exact,
}

/// The normalised final answer matches a normalised target at `location` (case and
/// surrounding punctuation ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Match {
    /// Metric name (default `accuracy`).
    #[serde(default)]
    pub name: Option<String>,
    /// Where to look.
    #[serde(default)]
    pub location: Location,
}

#[async_trait]
impl Scorer for Match {
    async fn score(&self, state: &mut TaskState, _ctx: &SolveContext) -> Result<Score, Error> {
        let answer = normalise(final_answer(state.completion()));
        if answer.is_empty() {
            return Ok(Score::new(Value::NoAnswer, None));
        }
        let ok = any_target(&state.sample, |t| {
            let t = normalise(t);
            !t.is_empty()
                && match self.location {
                    Location::Begin => answer.starts_with(&t),
                    Location::End => answer.ends_with(&t),
                    Location::Any => answer.match_indices(&t).any(|(at, _)| {
                        let before = answer[..at].chars().next_back();
                        let after = answer[at + t.len()..].chars().next();
                        !before.is_some_and(char::is_alphanumeric)
                            && !after.is_some_and(char::is_alphanumeric)
                    }),
                    Location::Exact => answer == t,
                }
        });
        Ok(Score::new(Value::from_bool(ok), Some(answer)))
    }
}

/// The target appears anywhere in the completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Includes {
    /// Metric name (default `accuracy`).
    #[serde(default)]
    pub name: Option<String>,
    /// Ignore case (default true).
    #[serde(default = "yes")]
    pub ignore_case: bool,
}

fn yes() -> bool {
    true
}

#[async_trait]
impl Scorer for Includes {
    async fn score(&self, state: &mut TaskState, _ctx: &SolveContext) -> Result<Score, Error> {
        let text = state.completion();
        if text.trim().is_empty() {
            return Ok(Score::new(Value::NoAnswer, None));
        }
        let ok = any_target(&state.sample, |t| {
            if self.ignore_case {
                text.to_lowercase().contains(&t.to_lowercase())
            } else {
                text.contains(t)
            }
        });
        Ok(Score::new(Value::from_bool(ok), Some(text.to_owned())))
    }
}

/// The final answer, trimmed and with one pair of surrounding quotes or backticks removed,
/// equals the trimmed target exactly (case-sensitive).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exact {
    /// Metric name (default `accuracy`).
    #[serde(default)]
    pub name: Option<String>,
}

/// Trims and removes one pair of surrounding quotes or backticks.
pub(crate) fn unquote(text: &str) -> &str {
    let t = text.trim();
    for q in ['`', '"', '\''] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return t[1..t.len() - 1].trim();
        }
    }
    t
}

#[async_trait]
impl Scorer for Exact {
    async fn score(&self, state: &mut TaskState, _ctx: &SolveContext) -> Result<Score, Error> {
        let answer = unquote(final_answer(state.completion()));
        if answer.is_empty() {
            return Ok(Score::new(Value::NoAnswer, None));
        }
        let ok = any_target(&state.sample, |t| answer == t.trim());
        Ok(Score::new(Value::from_bool(ok), Some(answer.to_owned())))
    }
}

/// A regex reads the answer (its first capture group, else the whole match), which is then
/// compared with the target like `match` with `location = "exact"`. No match is `N`. With
/// no target, a match is `C`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pattern {
    /// Metric name (default `accuracy`).
    #[serde(default)]
    pub name: Option<String>,
    /// The regex (Rust `regex` syntax; checked when the task loads).
    pub pattern: String,
    /// Case-insensitive matching (default true).
    #[serde(default = "yes")]
    pub ignore_case: bool,
}

#[async_trait]
impl Scorer for Pattern {
    async fn score(&self, state: &mut TaskState, _ctx: &SolveContext) -> Result<Score, Error> {
        let re = RegexBuilder::new(&self.pattern)
            .case_insensitive(self.ignore_case)
            .build()
            .map_err(|e| Error::Solver {
                solver: "pattern",
                reason: e.to_string(),
            })?;
        let Some(caps) = re.captures(state.completion()) else {
            return Ok(Score::new(Value::NoAnswer, None));
        };
        let found = caps
            .get(1)
            .or_else(|| caps.get(0))
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default();
        if state.sample.target.is_empty() {
            return Ok(Score::new(Value::Correct, Some(found)));
        }
        let ok = any_target(&state.sample, |t| normalise(t) == normalise(&found));
        Ok(Score::new(Value::from_bool(ok), Some(found)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::testing::text;
    use crate::state::testing::{ctx, state};
    use rsp_model::MockModel;

    async fn run(scorer: &dyn Scorer, target: &str, completion: &str) -> Score {
        let c = ctx(MockModel::echo(), None, vec![]);
        let mut s = state(text("x", "q", target));
        s.output = Some(completion.into());
        scorer.score(&mut s, &c).await.unwrap()
    }

    #[tokio::test]
    async fn match_locations() {
        let end = Match::default();
        assert_eq!(
            run(&end, "Paris", "The capital is Paris.").await.value,
            Value::Correct
        );
        assert_eq!(
            run(&end, "Paris", "Paris is the capital").await.value,
            Value::Incorrect
        );
        assert_eq!(run(&end, "Paris", "  ").await.value, Value::NoAnswer);
        let begin = Match {
            location: Location::Begin,
            ..Match::default()
        };
        assert_eq!(
            run(&begin, "Paris", "paris, of course").await.value,
            Value::Correct
        );
        let any = Match {
            location: Location::Any,
            ..Match::default()
        };
        assert_eq!(run(&any, "cat", "the cat sat").await.value, Value::Correct);
        assert_eq!(
            run(&any, "cat", "concatenate").await.value,
            Value::Incorrect
        );
        let exact = Match {
            location: Location::Exact,
            ..Match::default()
        };
        assert_eq!(run(&exact, "Paris", "PARIS!").await.value, Value::Correct);
        assert_eq!(
            run(&exact, "Paris", "Paris, France").await.value,
            Value::Incorrect
        );
    }

    #[tokio::test]
    async fn includes_and_case() {
        let i = Includes {
            name: None,
            ignore_case: true,
        };
        assert_eq!(
            run(&i, "flag{x}", "it is FLAG{X} ok").await.value,
            Value::Correct
        );
        let strict = Includes {
            name: None,
            ignore_case: false,
        };
        assert_eq!(
            run(&strict, "flag{x}", "it is FLAG{X} ok").await.value,
            Value::Incorrect
        );
    }

    #[tokio::test]
    async fn exact_is_case_sensitive_and_unquotes() {
        let e = Exact::default();
        assert_eq!(
            run(&e, "hello world", " `hello world` ").await.value,
            Value::Correct
        );
        assert_eq!(
            run(&e, "hello world", "Hello world").await.value,
            Value::Incorrect
        );
        assert_eq!(run(&e, "0101", "101").await.value, Value::Incorrect);
        assert_eq!(
            run(&e, "42", "Work...\nANSWER: 42").await.value,
            Value::Correct
        );
        assert_eq!(run(&e, "x", "").await.value, Value::NoAnswer);
    }

    #[tokio::test]
    async fn pattern_extracts_a_group() {
        let p = Pattern {
            name: None,
            pattern: r"flag\{(\w+)\}".into(),
            ignore_case: true,
        };
        let s = run(&p, "green", "here: FLAG{Green}").await;
        assert_eq!(
            (s.value, s.answer.as_deref()),
            (Value::Correct, Some("Green"))
        );
        assert_eq!(run(&p, "green", "no flag").await.value, Value::NoAnswer);
        assert_eq!(run(&p, "", "flag{any}").await.value, Value::Correct);
    }
}
