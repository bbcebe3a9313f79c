//! Sample `n` responses per prompt: the raw material for preference labels.

use std::path::Path;
use std::sync::Arc;

use rsp_model::{GenerateConfig, Message, ModelApi};
use serde::{Deserialize, Serialize};

use super::{CaiProgress, CaiSummary, item_seed, run_resumable};
use crate::Error;
use crate::prompts::{PromptItem, PromptSet};

/// Settings of `rsp cai pairs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PairsConfig {
    /// Responses per prompt (at least 2 to be labelled).
    pub n: u32,
    /// Run seed; each prompt's sampling seed derives from it and the prompt id.
    pub seed: u64,
    /// Sampling settings (temperature above 0, or every response is the same).
    pub generate: GenerateConfig,
    /// Optional system prompt.
    pub system: Option<String>,
    /// Prompts in flight at once.
    pub concurrency: usize,
}

impl Default for PairsConfig {
    fn default() -> Self {
        Self {
            n: 2,
            seed: 0,
            generate: GenerateConfig {
                temperature: 1.0,
                ..GenerateConfig::greedy(256)
            },
            system: None,
            concurrency: 4,
        }
    }
}

/// One line of output: a prompt and its sampled responses (the input of
/// [`super::label`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairsRecord {
    /// The prompt's id.
    pub id: String,
    /// The prompt.
    pub prompt: String,
    /// The responses, in choice order.
    pub responses: Vec<String>,
    /// The model that wrote them.
    pub model: String,
    /// The sampling seed (choice `i` used `seed + i`).
    pub seed: u64,
}

/// Samples `config.n` responses to each prompt, appending to `out` (resumable).
pub async fn pairs(
    model: Arc<dyn ModelApi>,
    prompts: &PromptSet,
    out: &Path,
    config: &PairsConfig,
    progress: &(dyn Fn(&CaiProgress) + Sync),
) -> Result<CaiSummary, Error> {
    if config.n == 0 {
        return Err(Error::InvalidSetting("n must be at least 1"));
    }
    run_resumable(
        &prompts.items,
        |i| i.id.as_str(),
        out,
        config.concurrency,
        progress,
        |item| sample_one(model.clone(), item, config),
    )
    .await
}

async fn sample_one(
    model: Arc<dyn ModelApi>,
    item: &PromptItem,
    config: &PairsConfig,
) -> Result<PairsRecord, Error> {
    let seed = item_seed(config.seed, &item.id);
    let mut messages = Vec::new();
    if let Some(s) = &config.system {
        messages.push(Message::system(s.clone()));
    }
    messages.push(Message::user(item.prompt.clone()));
    let c = GenerateConfig {
        n: config.n,
        seed: Some(seed),
        ..config.generate.clone()
    };
    let g = model
        .generate(&messages, &c)
        .await
        .map_err(Error::model("generator"))?;
    Ok(PairsRecord {
        id: item.id.clone(),
        prompt: item.prompt.clone(),
        responses: g.choices.iter().map(|c| c.text.trim().to_owned()).collect(),
        model: model.name().to_owned(),
        seed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cai::load_pairs;
    use rsp_model::MockModel;

    #[tokio::test]
    async fn writes_n_responses_that_label_can_read() {
        let d = tempfile::tempdir().unwrap();
        let set = PromptSet {
            name: "p".into(),
            path: "p".into(),
            column: "prompt".into(),
            sha256: String::new(),
            items: vec![PromptItem {
                id: "x".into(),
                prompt: "Say something".into(),
                label: None,
                category: None,
                line: 1,
            }],
        };
        let out = d.path().join("pairs.jsonl");
        let m: Arc<dyn ModelApi> = Arc::new(MockModel::sequence(["first", "second", "third"]));
        let cfg = PairsConfig {
            n: 3,
            seed: 5,
            ..PairsConfig::default()
        };
        let s = pairs(m, &set, &out, &cfg, &|_| {}).await.unwrap();
        assert_eq!(s.written, 1);
        let line = std::fs::read_to_string(&out).unwrap();
        let r: PairsRecord = serde_json::from_str(line.trim()).unwrap();
        assert_eq!(r.responses, ["first", "second", "third"]);
        assert_eq!(r.seed, item_seed(5, "x"));
        let p = load_pairs(&out).unwrap();
        assert_eq!((p[0].a.as_str(), p[0].b.as_str()), ("first", "second"));
    }
}
