//! `switch`: picks the scorer for each sample by a metadata field.
//!
//! Some datasets mix answer types (the cyber proxy has exact-text and integer answers);
//! one metric over the whole task still needs one scorer name. `switch` keeps one metric
//! and delegates per sample: `field = "answer_type"` with `[scorer.cases.exact]` and
//! `[scorer.cases.number]` tables.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Score, Scorer, ScorerSpec};
use crate::error::Error;
use crate::sample::Sample;
use crate::state::{SolveContext, TaskState};

/// Per-sample scorer selection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Switch {
    /// Metric name (default `accuracy`).
    #[serde(default)]
    pub name: Option<String>,
    /// The metadata field to switch on.
    pub field: String,
    /// Scorer per field value.
    pub cases: BTreeMap<String, ScorerSpec>,
    /// Scorer for values with no case (otherwise such samples are rejected on load).
    #[serde(default)]
    pub default: Option<Box<ScorerSpec>>,
}

impl Switch {
    /// The scorer for `sample`.
    pub fn pick(&self, sample: &Sample) -> Option<&ScorerSpec> {
        sample
            .metadata_text(&self.field)
            .and_then(|v| self.cases.get(&v))
            .or(self.default.as_deref())
    }
}

#[async_trait]
impl Scorer for Switch {
    async fn score(&self, state: &mut TaskState, ctx: &SolveContext) -> Result<Score, Error> {
        let sample = state.sample.clone();
        let inner = self.pick(&sample).ok_or_else(|| Error::Solver {
            solver: "switch",
            reason: format!("sample `{}` has no case for `{}`", sample.id, self.field),
        })?;
        let mut score = inner.scorer().score(state, ctx).await?;
        score
            .metadata
            .insert("scorer".into(), serde_json::json!(inner.kind()));
        Ok(score)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::testing::text;
    use crate::scorer::Value;
    use crate::state::testing::{ctx, state};
    use rsp_model::MockModel;
    use serde_json::json;

    #[tokio::test]
    async fn delegates_by_metadata() {
        #[derive(Deserialize)]
        struct S {
            scorer: ScorerSpec,
        }
        let s: S = toml::from_str(
            "[scorer]\nkind = \"switch\"\nfield = \"answer_type\"\n[scorer.cases.exact]\nkind = \"exact\"\n[scorer.cases.number]\nkind = \"numeric\"\n",
        )
        .unwrap();
        let c = ctx(MockModel::echo(), None, vec![]);
        let mut num = text("a", "q", "42");
        num.metadata.insert("answer_type".into(), json!("number"));
        let mut st = state(num.clone());
        st.output = Some("042".into());
        let got = s.scorer.scorer().score(&mut st, &c).await.unwrap();
        assert_eq!(got.value, Value::Correct);
        assert_eq!(got.metadata["scorer"], "numeric");
        let mut ex = num.clone();
        ex.metadata.insert("answer_type".into(), json!("exact"));
        let mut st = state(ex.clone());
        st.output = Some("042".into());
        assert_eq!(
            s.scorer.scorer().score(&mut st, &c).await.unwrap().value,
            Value::Incorrect
        );
        assert!(s.scorer.check_sample(&ex).is_none());
        let mut other = num;
        other.metadata.insert("answer_type".into(), json!("date"));
        assert!(s.scorer.check_sample(&other).unwrap().contains("no case"));
    }
}
