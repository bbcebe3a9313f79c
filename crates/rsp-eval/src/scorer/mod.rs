//! Scorers: turn a finished [`TaskState`] into a [`Score`].
//!
//! A score's [`Value`] is Inspect's: correct, incorrect, partial, no answer (`C`, `I`, `P`,
//! `N`), or a number. For statistics `C = 1`, `I = 0`, `P = 0.5`, `N = 0`: a model that
//! gives no readable answer did not answer correctly. A *failure to score* (the judge
//! model's call failed, its verdict was unreadable) is different: it is an error, recorded
//! with the sample and counted, never scored as wrong.
//!
//! Each scorer's name is the name of its metric in the run summary (`accuracy` by
//! default, `refusal_rate` for [`Refusal`]); give `name = "acc_norm"` to tell two scorers of
//! the same kind apart.

pub mod choice;
pub mod end_state;
pub mod model_graded;
pub mod numeric;
pub mod refusal;
pub mod switch;
pub mod text;

use async_trait::async_trait;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value as Json};

pub use choice::{ChoiceScorer, ChoiceSource};
pub use end_state::{Check, EndState};
pub use model_graded::{DEFAULT_GRADER_TEMPLATE, GRADER_PLACEHOLDERS, ModelGraded};
pub use numeric::Numeric;
pub use refusal::{REFUSAL_PHRASES, Refusal, looks_like_refusal};
pub use switch::Switch;
pub use text::{Exact, Includes, Location, Match, Pattern};

use crate::error::Error;
use crate::sample::Sample;
use crate::state::{SolveContext, TaskState};

/// A score value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// Correct (`C`).
    Correct,
    /// Incorrect (`I`).
    Incorrect,
    /// Partially correct (`P`).
    Partial,
    /// No answer could be read (`N`).
    NoAnswer,
    /// A number.
    Number(f64),
}

impl Value {
    /// The number statistics use: `C = 1`, `I = 0`, `P = 0.5`, `N = 0`.
    pub fn as_f64(self) -> f64 {
        match self {
            Value::Correct => 1.0,
            Value::Incorrect | Value::NoAnswer => 0.0,
            Value::Partial => 0.5,
            Value::Number(x) => x,
        }
    }

    /// `Correct` or `Incorrect`.
    pub fn from_bool(ok: bool) -> Self {
        if ok { Value::Correct } else { Value::Incorrect }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Correct => s.serialize_str("C"),
            Value::Incorrect => s.serialize_str("I"),
            Value::Partial => s.serialize_str("P"),
            Value::NoAnswer => s.serialize_str("N"),
            Value::Number(x) => s.serialize_f64(*x),
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Text(String),
            Number(f64),
            Bool(bool),
        }
        match Repr::deserialize(d)? {
            Repr::Text(t) => match t.as_str() {
                "C" => Ok(Value::Correct),
                "I" => Ok(Value::Incorrect),
                "P" => Ok(Value::Partial),
                "N" => Ok(Value::NoAnswer),
                other => Err(serde::de::Error::custom(format!(
                    "unknown score value {other:?} (expected C, I, P, N or a number)"
                ))),
            },
            Repr::Number(x) => Ok(Value::Number(x)),
            Repr::Bool(b) => Ok(Value::from_bool(b)),
        }
    }
}

/// One scorer's verdict on one sample-epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The value.
    pub value: Value,
    /// The answer the scorer read out of the completion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Why, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// Extra detail (the judge's prompt and raw verdict, the heuristic's verdict…).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: Map<String, Json>,
}

impl Score {
    /// A score with a value and the answer read.
    pub fn new(value: Value, answer: Option<String>) -> Self {
        Self {
            value,
            answer,
            explanation: None,
            metadata: Map::new(),
        }
    }

    /// Adds an explanation.
    #[must_use]
    pub fn explain(mut self, why: impl Into<String>) -> Self {
        self.explanation = Some(why.into());
        self
    }
}

/// Grades one sample-epoch.
#[async_trait]
pub trait Scorer: Send + Sync + std::fmt::Debug {
    /// Scores the state (judged scorers call the judge model, hence `&mut`).
    async fn score(&self, state: &mut TaskState, ctx: &SolveContext) -> Result<Score, Error>;
}

/// A scorer as written in a task file (`[[scorer]] kind = "..."`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScorerSpec {
    /// The target at the end (or start, or anywhere) of the answer.
    Match(Match),
    /// The target anywhere in the completion.
    Includes(Includes),
    /// A regex extracts the answer.
    Pattern(Pattern),
    /// The trimmed answer equals the target exactly.
    Exact(Exact),
    /// The choice letter equals the target letter.
    Choice(ChoiceScorer),
    /// The number in the answer is within tolerance of the target.
    Numeric(Numeric),
    /// A judge model grades against a rubric.
    ModelGraded(ModelGraded),
    /// Did the model refuse? (1 = refused.)
    Refusal(Refusal),
    /// Picks a scorer by a metadata field.
    Switch(Switch),
    /// Checks the working directory a tool-using agent left behind.
    EndState(EndState),
}

impl ScorerSpec {
    /// The scorer to run.
    pub fn scorer(&self) -> &dyn Scorer {
        match self {
            ScorerSpec::Match(s) => s,
            ScorerSpec::Includes(s) => s,
            ScorerSpec::Pattern(s) => s,
            ScorerSpec::Exact(s) => s,
            ScorerSpec::Choice(s) => s,
            ScorerSpec::Numeric(s) => s,
            ScorerSpec::ModelGraded(s) => s,
            ScorerSpec::Refusal(s) => s,
            ScorerSpec::Switch(s) => s,
            ScorerSpec::EndState(s) => s,
        }
    }

    /// The `kind` name.
    pub fn kind(&self) -> &'static str {
        match self {
            ScorerSpec::Match(_) => "match",
            ScorerSpec::Includes(_) => "includes",
            ScorerSpec::Pattern(_) => "pattern",
            ScorerSpec::Exact(_) => "exact",
            ScorerSpec::Choice(_) => "choice",
            ScorerSpec::Numeric(_) => "numeric",
            ScorerSpec::ModelGraded(_) => "model_graded",
            ScorerSpec::Refusal(_) => "refusal",
            ScorerSpec::Switch(_) => "switch",
            ScorerSpec::EndState(_) => "end_state",
        }
    }

    fn explicit_name(&self) -> Option<&str> {
        match self {
            ScorerSpec::Match(s) => s.name.as_deref(),
            ScorerSpec::Includes(s) => s.name.as_deref(),
            ScorerSpec::Pattern(s) => s.name.as_deref(),
            ScorerSpec::Exact(s) => s.name.as_deref(),
            ScorerSpec::Choice(s) => s.name.as_deref(),
            ScorerSpec::Numeric(s) => s.name.as_deref(),
            ScorerSpec::ModelGraded(s) => s.name.as_deref(),
            ScorerSpec::Refusal(s) => s.name.as_deref(),
            ScorerSpec::Switch(s) => s.name.as_deref(),
            ScorerSpec::EndState(s) => s.name.as_deref(),
        }
    }

    /// The metric name: the explicit `name`, else `refusal_rate` for refusal and
    /// `accuracy` for everything else.
    pub fn name(&self) -> &str {
        self.explicit_name().unwrap_or(match self {
            ScorerSpec::Refusal(_) => "refusal_rate",
            _ => "accuracy",
        })
    }

    /// True when a lower value is better (refusal rate on benign prompts).
    pub fn lower_is_better(&self) -> bool {
        matches!(self, ScorerSpec::Refusal(_))
    }

    /// True when the scorer reads the sample's target.
    pub fn needs_target(&self) -> bool {
        match self {
            ScorerSpec::Refusal(_) => false,
            ScorerSpec::ModelGraded(m) => m.rubric.is_none(),
            ScorerSpec::Pattern(_) | ScorerSpec::EndState(_) => false,
            ScorerSpec::Switch(s) => s.cases.values().any(ScorerSpec::needs_target),
            _ => true,
        }
    }

    /// True when the scorer calls the judge model.
    pub fn needs_judge(&self) -> bool {
        match self {
            ScorerSpec::ModelGraded(_) => true,
            ScorerSpec::Refusal(r) => r.judge,
            ScorerSpec::Switch(s) => {
                s.cases.values().any(ScorerSpec::needs_judge)
                    || s.default.as_deref().is_some_and(ScorerSpec::needs_judge)
            }
            _ => false,
        }
    }

    /// Metadata fields every sample must have for this scorer.
    pub fn metadata_fields(&self) -> Vec<String> {
        match self {
            ScorerSpec::Switch(s) if s.default.is_none() => vec![s.field.clone()],
            _ => Vec::new(),
        }
    }

    /// A problem with this sample for this scorer (a numeric target that is not a number,
    /// a switch value with no case), checked when the task loads.
    pub fn check_sample(&self, sample: &Sample) -> Option<String> {
        match self {
            ScorerSpec::Numeric(_) => sample
                .target
                .iter()
                .find(|t| t.trim().parse::<f64>().is_err())
                .map(|t| {
                    format!("target {t:?} is not a number, but the numeric scorer compares numbers")
                }),
            ScorerSpec::Switch(s) => match s.pick(sample) {
                Some(inner) => inner.check_sample(sample),
                None => Some(format!(
                    "metadata `{}` = {:?} has no case in the switch scorer",
                    s.field,
                    sample.metadata_text(&s.field)
                )),
            },
            ScorerSpec::EndState(_) if sample.check.is_none() => {
                Some("the end_state scorer needs a `check` on every sample".into())
            }
            _ => None,
        }
    }

    /// Prompt texts this scorer sends to a judge (hashed into provenance).
    pub fn templates(&self) -> Vec<&str> {
        match self {
            ScorerSpec::ModelGraded(m) => vec![m.template()],
            ScorerSpec::Switch(s) => s
                .cases
                .values()
                .chain(s.default.as_deref())
                .flat_map(ScorerSpec::templates)
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// True when `answer` matches any target under `eq`.
pub(crate) fn any_target(sample: &Sample, eq: impl Fn(&str) -> bool) -> bool {
    sample.target.iter().any(|t| eq(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_roundtrip_like_inspect() {
        let v: Vec<Value> = serde_json::from_str(r#"["C","I","P","N",0.25,true]"#).unwrap();
        assert_eq!(
            v,
            [
                Value::Correct,
                Value::Incorrect,
                Value::Partial,
                Value::NoAnswer,
                Value::Number(0.25),
                Value::Correct
            ]
        );
        assert_eq!(
            serde_json::to_string(&v[..5]).unwrap(),
            r#"["C","I","P","N",0.25]"#
        );
        assert_eq!(
            v.iter().map(|x| x.as_f64()).sum::<f64>(),
            1.0 + 0.5 + 0.25 + 1.0
        );
        assert!(serde_json::from_str::<Value>(r#""X""#).is_err());
    }

    #[test]
    fn names_and_requirements() {
        #[derive(Deserialize)]
        struct S {
            scorer: Vec<ScorerSpec>,
        }
        let s: S = toml::from_str(
            r#"
            [[scorer]]
            kind = "choice"
            [[scorer]]
            kind = "choice"
            name = "acc_norm"
            source = "loglikelihood_norm"
            [[scorer]]
            kind = "refusal"
            "#,
        )
        .unwrap();
        let names: Vec<_> = s.scorer.iter().map(ScorerSpec::name).collect();
        assert_eq!(names, ["accuracy", "acc_norm", "refusal_rate"]);
        assert!(s.scorer[2].lower_is_better() && !s.scorer[2].needs_target());
        assert!(s.scorer[0].needs_target() && !s.scorer[0].needs_judge());
    }
}
