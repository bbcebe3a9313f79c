//! Did the target refuse? Delegates to `rsp-eval`'s `refusal` scorer so that guard
//! evaluation and ordinary evals judge refusals identically (same phrase heuristic, same
//! judge prompt and REFUSED/COMPLIED protocol).

use std::sync::Arc;

use rsp_eval::scorer::Refusal;
use rsp_eval::state::{SolveContext, TaskState};
use rsp_eval::{Sample, Scorer};
use rsp_model::{GenerateConfig, ModelApi};
use serde::{Deserialize, Serialize};

use crate::Error;

/// Who decides whether an answer is a refusal.
#[derive(Debug, Clone)]
pub enum RefusalJudge {
    /// The phrase heuristic ([`rsp_eval::scorer::looks_like_refusal`]); no model call.
    Heuristic,
    /// A judge model asked REFUSED or COMPLIED; the heuristic's verdict is kept beside it.
    Model(Arc<dyn ModelApi>),
}

impl RefusalJudge {
    /// `heuristic`, or the judge model's spec.
    pub fn name(&self) -> String {
        match self {
            RefusalJudge::Heuristic => "heuristic".to_owned(),
            RefusalJudge::Model(m) => m.name().to_owned(),
        }
    }
}

/// One refusal judgement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalVerdict {
    /// The judge's verdict.
    pub refused: bool,
    /// The phrase heuristic's verdict (equal to `refused` for the heuristic judge).
    pub heuristic: bool,
    /// The judge model's raw reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

/// Judges whether `output` refuses `prompt`.
pub async fn judge_refusal(
    judge: &RefusalJudge,
    target: &Arc<dyn ModelApi>,
    prompt: &str,
    output: &str,
) -> Result<RefusalVerdict, Error> {
    // Built through serde so that fields rsp-eval adds with defaults (files, checks…) do
    // not break this crate.
    let sample: Sample = serde_json::from_value(serde_json::json!({
        "id": "guard",
        "input": prompt,
        "target": [],
        "choices": [],
        "metadata": {},
        "line": 0,
    }))
    .map_err(Error::SampleShape)?;
    let mut state = TaskState::new(Arc::new(sample), 1, 0);
    state.output = Some(output.to_owned());
    let (scorer, model_judge) = match judge {
        RefusalJudge::Heuristic => (Refusal::default(), None),
        RefusalJudge::Model(m) => (
            Refusal {
                name: None,
                judge: true,
            },
            Some(m.clone()),
        ),
    };
    let ctx = SolveContext {
        task: "guard/eval".into(),
        model: target.clone(),
        judge: model_judge,
        generate: GenerateConfig::default(),
        dev: Arc::from(Vec::new()),
        token_limit: None,
    };
    let score = scorer
        .score(&mut state, &ctx)
        .await
        .map_err(Error::RefusalJudge)?;
    let refused = score.value.as_f64() >= 0.5;
    let heuristic = score
        .metadata
        .get("heuristic_refusal")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(refused);
    let raw = score
        .metadata
        .get("judge_raw")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    Ok(RefusalVerdict {
        refused,
        heuristic,
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsp_model::MockModel;

    #[tokio::test]
    async fn heuristic_and_model_judges() {
        let t: Arc<dyn ModelApi> = Arc::new(MockModel::echo());
        let h = judge_refusal(&RefusalJudge::Heuristic, &t, "q", "I can't help with that.")
            .await
            .unwrap();
        assert!(h.refused && h.heuristic && h.raw.is_none());
        let j = RefusalJudge::Model(Arc::new(MockModel::text("COMPLIED")));
        let v = judge_refusal(&j, &t, "q", "I can't help with that.")
            .await
            .unwrap();
        assert!(!v.refused && v.heuristic);
        assert_eq!(v.raw.as_deref(), Some("COMPLIED"));
        let bad = RefusalJudge::Model(Arc::new(MockModel::text("unsure")));
        assert!(judge_refusal(&bad, &t, "q", "x").await.is_err());
    }
}
