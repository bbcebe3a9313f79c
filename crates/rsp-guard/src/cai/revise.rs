//! SL-CAI: critique → revision, `rounds` times, a principle drawn at random each round.
//!
//! The chat grows as in the paper: the prompt, the model's answer, then for each round a
//! `CritiqueRequest: …` turn and the model's critique, and a `RevisionRequest: …` turn
//! and the model's revision. The whole chain is kept as `messages` (so intermediate
//! critiques and revisions can be inspected or trained on), and the last revision is
//! also given as `revision`, the paper's SFT target for the prompt.

use std::path::Path;
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rsp_model::{GenerateConfig, Message, ModelApi};
use serde::{Deserialize, Serialize};

use super::{CaiProgress, CaiSummary, item_seed, run_resumable};
use crate::Error;
use crate::constitution::Constitution;
use crate::prompts::{PromptItem, PromptSet};

/// Settings of `rsp cai revise`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReviseConfig {
    /// Critique/revision rounds per prompt (the paper used 4).
    pub rounds: u32,
    /// Run seed: principle draws and sampling seeds derive from it and the prompt id.
    pub seed: u64,
    /// How the model answers each turn (the seed is set per call).
    pub generate: GenerateConfig,
    /// Optional system prompt.
    pub system: Option<String>,
    /// Prompts in flight at once.
    pub concurrency: usize,
}

impl Default for ReviseConfig {
    fn default() -> Self {
        Self {
            rounds: 4,
            seed: 0,
            generate: GenerateConfig::greedy(256),
            system: None,
            concurrency: 4,
        }
    }
}

/// One line of SFT output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviseRecord {
    /// The prompt's id.
    pub id: String,
    /// The whole chain: prompt, answer, and each critique request, critique, revision
    /// request and revision.
    pub messages: Vec<Message>,
    /// Principle id of each round, in order.
    pub principles: Vec<String>,
    /// The final revision (the SFT target for the prompt).
    pub revision: String,
    /// The model that wrote it.
    pub model: String,
    /// `name@version` of the constitution.
    pub constitution: String,
}

/// Runs the critique → revision loop over `prompts`, appending to `out` (resumable).
pub async fn revise(
    model: Arc<dyn ModelApi>,
    constitution: &Constitution,
    prompts: &PromptSet,
    out: &Path,
    config: &ReviseConfig,
    progress: &(dyn Fn(&CaiProgress) + Sync),
) -> Result<CaiSummary, Error> {
    if constitution.principles.is_empty() {
        return Err(Error::MissingSection {
            section: "[[principle]]",
            task: "cai revise",
        });
    }
    if config.rounds == 0 {
        return Err(Error::InvalidSetting("rounds must be at least 1"));
    }
    let tag = format!("{}@{}", constitution.meta.name, constitution.meta.version);
    run_resumable(
        &prompts.items,
        |i| i.id.as_str(),
        out,
        config.concurrency,
        progress,
        |item| revise_one(model.clone(), constitution, item, config, tag.clone()),
    )
    .await
}

async fn revise_one(
    model: Arc<dyn ModelApi>,
    constitution: &Constitution,
    item: &PromptItem,
    config: &ReviseConfig,
    tag: String,
) -> Result<ReviseRecord, Error> {
    let seed = item_seed(config.seed, &item.id);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut calls = 0u64;
    let mut ask = async |messages: &[Message]| -> Result<String, Error> {
        let c = GenerateConfig {
            seed: Some(seed.wrapping_add(calls)),
            n: 1,
            ..config.generate.clone()
        };
        calls += 1;
        let g = model
            .generate(messages, &c)
            .await
            .map_err(Error::model("generator"))?;
        Ok(g.text().trim().to_owned())
    };
    let mut messages = Vec::new();
    if let Some(s) = &config.system {
        messages.push(Message::system(s.clone()));
    }
    messages.push(Message::user(item.prompt.clone()));
    let answer = ask(&messages).await?;
    messages.push(Message::assistant(answer.clone()));
    let mut revision = answer;
    let mut principles = Vec::new();
    for _ in 0..config.rounds {
        let p = &constitution.principles[rng.gen_range(0..constitution.principles.len())];
        principles.push(p.id.clone());
        messages.push(Message::user(format!("CritiqueRequest: {}", p.critique)));
        let critique = ask(&messages).await?;
        messages.push(Message::assistant(critique));
        messages.push(Message::user(format!("RevisionRequest: {}", p.revision)));
        revision = ask(&messages).await?;
        messages.push(Message::assistant(revision.clone()));
    }
    Ok(ReviseRecord {
        id: item.id.clone(),
        messages,
        principles,
        revision,
        model: model.name().to_owned(),
        constitution: tag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::example;
    use rsp_model::{MockModel, Role};

    fn prompts(n: usize) -> PromptSet {
        PromptSet {
            name: "p".into(),
            path: "p.jsonl".into(),
            column: "prompt".into(),
            sha256: String::new(),
            items: (0..n)
                .map(|i| PromptItem {
                    id: format!("q{i}"),
                    prompt: format!("question {i}"),
                    label: None,
                    category: None,
                    line: i + 1,
                })
                .collect(),
        }
    }

    fn read(p: &Path) -> Vec<ReviseRecord> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn keeps_every_step_and_is_reproducible() {
        let d = tempfile::tempdir().unwrap();
        let c = example();
        let cfg = ReviseConfig {
            rounds: 3,
            seed: 9,
            ..ReviseConfig::default()
        };
        let model: Arc<dyn ModelApi> =
            Arc::new(MockModel::sequence(["answer", "critique", "revised"]));
        let out = d.path().join("a.jsonl");
        let s = revise(model, &c, &prompts(3), &out, &cfg, &|_| {})
            .await
            .unwrap();
        assert_eq!((s.written, s.progress.errors), (3, 0));
        let recs = read(&out);
        let r = recs.iter().find(|r| r.id == "q0").unwrap();
        // prompt + answer + 3 × (request, critique, request, revision)
        assert_eq!(r.messages.len(), 2 + 3 * 4);
        assert_eq!(r.messages[2].role, Role::User);
        assert!(r.messages[2].content.starts_with("CritiqueRequest: "));
        assert!(r.messages[4].content.starts_with("RevisionRequest: "));
        assert_eq!(r.principles.len(), 3);
        assert_eq!(r.constitution, "rsp-example@1");

        // Same seed, fresh file, concurrency 1: the same principle draws.
        let out2 = d.path().join("b.jsonl");
        let model: Arc<dyn ModelApi> = Arc::new(MockModel::echo());
        let cfg1 = ReviseConfig {
            concurrency: 1,
            ..cfg.clone()
        };
        revise(model.clone(), &c, &prompts(3), &out2, &cfg1, &|_| {})
            .await
            .unwrap();
        let again = read(&out2);
        for r in &recs {
            let twin = again.iter().find(|x| x.id == r.id).unwrap();
            assert_eq!(twin.principles, r.principles);
        }
        let other = ReviseConfig { seed: 10, ..cfg1 };
        let out3 = d.path().join("c.jsonl");
        revise(model, &c, &prompts(3), &out3, &other, &|_| {})
            .await
            .unwrap();
        let draws: Vec<Vec<String>> = read(&out3).into_iter().map(|r| r.principles).collect();
        let before: Vec<Vec<String>> = again.into_iter().map(|r| r.principles).collect();
        assert_ne!(draws, before, "another seed draws other principles");
    }

    #[tokio::test]
    async fn resumes_after_a_kill_without_duplicates() {
        let d = tempfile::tempdir().unwrap();
        let c = example();
        let out = d.path().join("r.jsonl");
        let cfg = ReviseConfig {
            rounds: 1,
            ..ReviseConfig::default()
        };
        let model: Arc<dyn ModelApi> = Arc::new(MockModel::echo());
        revise(model.clone(), &c, &prompts(2), &out, &cfg, &|_| {})
            .await
            .unwrap();
        // A kill -9 mid-write leaves a partial third line.
        let mut text = std::fs::read_to_string(&out).unwrap();
        text.push_str("{\"id\":\"q2\",\"mess");
        std::fs::write(&out, text).unwrap();
        let seen = std::sync::Mutex::new(Vec::new());
        let s = revise(model, &c, &prompts(4), &out, &cfg, &|p| {
            seen.lock().unwrap().push(*p);
        })
        .await
        .unwrap();
        assert_eq!((s.progress.skipped, s.written), (2, 2));
        assert_eq!(s.repaired_bytes, 16);
        let ids: Vec<String> = read(&out).into_iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), 4);
        assert_eq!(seen.lock().unwrap().last().unwrap().done, 2);
    }

    #[tokio::test]
    async fn failures_are_counted_not_written() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("e.jsonl");
        let model: Arc<dyn ModelApi> = Arc::new(MockModel::from_script("error").unwrap());
        let s = revise(
            model,
            &example(),
            &prompts(2),
            &out,
            &ReviseConfig::default(),
            &|_| {},
        )
        .await
        .unwrap();
        assert_eq!((s.written, s.progress.errors, s.errors.len()), (0, 2, 2));
        assert!(s.errors[0].contains("generator"));
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "");
    }
}
