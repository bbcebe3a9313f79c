//! RL-CAI / RLAIF preference labels.
//!
//! For each pair, one comparison principle is drawn (seeded by run seed and pair id), the
//! feedback model reads the multiple-choice prompt of [`comparison_prompt`], and the soft
//! label is `p_A = e^{l_A} / (e^{l_A} + e^{l_B})` over the log-likelihoods of `" (A)"`
//! and `" (B)"` ([`soft_label`]). In chain-of-thought mode the model first reasons ("Let's
//! think step-by-step"); its answers are then near 0 or 1, so, as in the paper, `p_A` is
//! clamped to [0.4, 0.6]. Output is DPO-ready: `prompt`, `chosen`, `rejected` and `p`, the
//! probability that `chosen` is preferred.

use std::path::Path;
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rsp_model::{GenerateConfig, Message, ModelApi, ScoreRequest};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{CaiProgress, CaiSummary, item_seed, run_resumable};
use crate::Error;
use crate::classifier::softmax;
use crate::constitution::Constitution;

/// The clamp of chain-of-thought labels.
pub const COT_CLAMP: (f64, f64) = (0.4, 0.6);

/// Settings of `rsp cai label`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LabelConfig {
    /// Run seed: principle draws derive from it and the pair id.
    pub seed: u64,
    /// Reason first, then clamp the label to [0.4, 0.6].
    pub cot: bool,
    /// Token budget of the reasoning.
    pub cot_max_tokens: u32,
    /// Pairs in flight at once.
    pub concurrency: usize,
}

impl Default for LabelConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            cot: false,
            cot_max_tokens: 256,
            concurrency: 4,
        }
    }
}

/// One pair to label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PairItem {
    /// Stable id (from the file, or the 1-based line number).
    pub id: String,
    /// The human turn.
    pub prompt: String,
    /// Response (A).
    pub a: String,
    /// Response (B).
    pub b: String,
}

/// One line of DPO-ready output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelRecord {
    /// The pair's id.
    pub id: String,
    /// The prompt.
    pub prompt: String,
    /// The preferred response.
    pub chosen: String,
    /// The other response.
    pub rejected: String,
    /// Probability that `chosen` is preferred (≥ 0.5).
    pub p: f64,
    /// Soft label of response (A).
    pub p_a: f64,
    /// Soft label of response (B); `p_a + p_b = 1`.
    pub p_b: f64,
    /// The comparison principle's id.
    pub principle: String,
    /// The chain of thought, in `cot` mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    /// The feedback model.
    pub model: String,
}

/// Reads pairs from JSONL: `{"id"?, "prompt", "responses": [a, b, …]}` (the output of
/// [`super::pairs`]; the first two responses are used) or
/// `{"id"?, "prompt", "response_a", "response_b"}`.
pub fn load_pairs(path: &Path) -> Result<Vec<PairItem>, Error> {
    let text = fs_err::read_to_string(path).map_err(Error::Io)?;
    let bad = |line: usize, what: &str| Error::BadInput {
        path: path.to_owned(),
        reason: format!("line {line}: {what}"),
    };
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(raw).map_err(|source| Error::Json {
            path: path.to_owned(),
            line,
            source,
        })?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let prompt = s("prompt").ok_or_else(|| bad(line, "no string `prompt`"))?;
        let (a, b) = if let Some(r) = v.get("responses").and_then(Value::as_array) {
            let texts: Vec<String> = r
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            match texts.as_slice() {
                [a, b, ..] => (a.clone(), b.clone()),
                _ => return Err(bad(line, "`responses` needs at least two strings")),
            }
        } else {
            match (s("response_a"), s("response_b")) {
                (Some(a), Some(b)) => (a, b),
                _ => {
                    return Err(bad(
                        line,
                        "need `responses` or `response_a` and `response_b`",
                    ));
                }
            }
        };
        let id = v
            .get("id")
            .and_then(|x| {
                x.as_str()
                    .map(str::to_owned)
                    .or_else(|| x.as_u64().map(|n| n.to_string()))
            })
            .unwrap_or_else(|| line.to_string());
        if !seen.insert(id.clone()) {
            return Err(bad(line, &format!("duplicate id `{id}`")));
        }
        out.push(PairItem { id, prompt, a, b });
    }
    Ok(out)
}

/// The paper's multiple-choice question, ending in `The answer is:`.
pub fn comparison_prompt(prompt: &str, principle: &str, a: &str, b: &str) -> String {
    format!(
        "Consider the following conversation between a human and an assistant:\n\
         Human: {prompt}\n\
         {principle}\n\
         Options:\n\
         (A) {a}\n\
         (B) {b}\n\
         The answer is:"
    )
}

/// `(p_A, p_B)` from the log-likelihoods of "(A)" and "(B)"; they sum to 1. With `cot`,
/// `p_A` is clamped to [0.4, 0.6] (and `p_B = 1 − p_A`).
pub fn soft_label(lp_a: f64, lp_b: f64, cot: bool) -> (f64, f64) {
    let p = softmax(&[lp_a, lp_b]);
    let mut p_a = p.first().copied().unwrap_or(0.5);
    if cot {
        p_a = p_a.clamp(COT_CLAMP.0, COT_CLAMP.1);
    }
    (p_a, 1.0 - p_a)
}

/// Labels every pair, appending to `out` (resumable). The model must support scoring.
pub async fn label(
    model: Arc<dyn ModelApi>,
    constitution: &Constitution,
    pairs: &[PairItem],
    out: &Path,
    config: &LabelConfig,
    progress: &(dyn Fn(&CaiProgress) + Sync),
) -> Result<CaiSummary, Error> {
    if constitution.comparisons.is_empty() {
        return Err(Error::MissingSection {
            section: "[[comparison]]",
            task: "cai label",
        });
    }
    if !model.capabilities().scoring {
        return Err(Error::ScoringRequired {
            model: model.name().to_owned(),
            task: "cai label",
        });
    }
    run_resumable(
        pairs,
        |p| p.id.as_str(),
        out,
        config.concurrency,
        progress,
        |pair| label_one(model.clone(), constitution, pair, config),
    )
    .await
}

async fn label_one(
    model: Arc<dyn ModelApi>,
    constitution: &Constitution,
    pair: &PairItem,
    config: &LabelConfig,
) -> Result<LabelRecord, Error> {
    let seed = item_seed(config.seed, &pair.id);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let principle = &constitution.comparisons[rng.gen_range(0..constitution.comparisons.len())];
    let question = comparison_prompt(&pair.prompt, &principle.text, &pair.a, &pair.b);
    let (context, reasoning) = if config.cot {
        let stem = question.trim_end_matches("The answer is:");
        let ask =
            format!("{stem}Let's think step-by-step about which option is better, then say which.");
        let g = model
            .generate(
                &[Message::user(ask)],
                &GenerateConfig {
                    seed: Some(seed),
                    ..GenerateConfig::greedy(config.cot_max_tokens)
                },
            )
            .await
            .map_err(Error::model("feedback"))?;
        let r = g.text().trim().to_owned();
        (
            format!("{stem}Let's think step-by-step: {r}\nThe answer is:"),
            Some(r),
        )
    } else {
        (question, None)
    };
    let scores = model
        .score(&ScoreRequest::new(context, [" (A)", " (B)"]))
        .await
        .map_err(Error::model("feedback"))?;
    let lp = |i: usize| {
        scores
            .scores
            .get(i)
            .map_or(f64::NEG_INFINITY, |s| s.logprob)
    };
    let (p_a, p_b) = soft_label(lp(0), lp(1), config.cot);
    let (chosen, rejected, p) = if p_a >= p_b {
        (&pair.a, &pair.b, p_a)
    } else {
        (&pair.b, &pair.a, p_b)
    };
    Ok(LabelRecord {
        id: pair.id.clone(),
        prompt: pair.prompt.clone(),
        chosen: chosen.clone(),
        rejected: rejected.clone(),
        p,
        p_a,
        p_b,
        principle: principle.id.clone(),
        reasoning,
        model: model.name().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeJudge, example};
    use rsp_model::MockModel;

    #[test]
    fn soft_labels_sum_to_one_and_clamp() {
        for (a, b) in [(-0.1, -3.0), (-5.0, -0.2), (-1.0, -1.0), (-800.0, -1.0)] {
            let (pa, pb) = soft_label(a, b, false);
            assert!((pa + pb - 1.0).abs() < 1e-12);
            let (ca, cb) = soft_label(a, b, true);
            assert!((ca + cb - 1.0).abs() < 1e-12);
            assert!((0.4..=0.6).contains(&ca));
        }
        let (pa, _) = soft_label(0.0, -f64::ln(3.0), false);
        assert!((pa - 0.75).abs() < 1e-12);
        assert_eq!(soft_label(-0.01, -9.0, true).0, 0.6);
        assert_eq!(soft_label(-9.0, -0.01, true).0, 0.4);
    }

    fn pairs() -> Vec<PairItem> {
        (0..3)
            .map(|i| PairItem {
                id: format!("p{i}"),
                prompt: format!("prompt {i}"),
                a: "short".into(),
                b: "a much longer answer".into(),
            })
            .collect()
    }

    fn read(p: &Path) -> Vec<LabelRecord> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[tokio::test]
    async fn labels_prefer_the_likelier_option_and_record_the_principle() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("l.jsonl");
        let judge = FakeJudge::scoring(|c| if c == " (B)" { -0.2 } else { -1.8 });
        let c = example();
        let s = label(
            Arc::new(judge),
            &c,
            &pairs(),
            &out,
            &LabelConfig::default(),
            &|_| {},
        )
        .await
        .unwrap();
        assert_eq!(s.written, 3);
        for r in read(&out) {
            assert_eq!(r.chosen, "a much longer answer");
            assert!((r.p_a + r.p_b - 1.0).abs() < 1e-12);
            assert!(r.p > 0.8 && (r.p - r.p_b).abs() < 1e-12);
            assert!(c.comparisons.iter().any(|x| x.id == r.principle));
            assert!(r.reasoning.is_none());
        }
    }

    #[tokio::test]
    async fn cot_reasons_then_clamps_and_is_reproducible() {
        let d = tempfile::tempdir().unwrap();
        let judge: Arc<dyn ModelApi> = Arc::new(FakeJudge::scoring_in_context(
            MockModel::text("A is clearly better."),
            |ctx, c| {
                assert!(ctx.contains("Let's think step-by-step: A is clearly better."));
                if c == " (A)" { -0.001 } else { -9.0 }
            },
        ));
        let cfg = LabelConfig {
            cot: true,
            seed: 3,
            ..LabelConfig::default()
        };
        let c = example();
        let (o1, o2) = (d.path().join("1.jsonl"), d.path().join("2.jsonl"));
        label(judge.clone(), &c, &pairs(), &o1, &cfg, &|_| {})
            .await
            .unwrap();
        label(
            judge,
            &c,
            &pairs(),
            &o2,
            &LabelConfig {
                concurrency: 1,
                ..cfg
            },
            &|_| {},
        )
        .await
        .unwrap();
        let (r1, r2) = (read(&o1), read(&o2));
        for r in &r1 {
            assert_eq!((r.p_a, r.chosen.as_str()), (0.6, "short"));
            assert_eq!(r.reasoning.as_deref(), Some("A is clearly better."));
            let twin = r2.iter().find(|x| x.id == r.id).unwrap();
            assert_eq!(twin.principle, r.principle);
        }
    }

    #[tokio::test]
    async fn needs_scoring_and_comparisons() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("x.jsonl");
        let voter = Arc::new(FakeJudge::voting(MockModel::echo()));
        let e = label(
            voter,
            &example(),
            &pairs(),
            &out,
            &LabelConfig::default(),
            &|_| {},
        )
        .await;
        assert!(matches!(e, Err(Error::ScoringRequired { .. })));
        let mut c = example();
        c.comparisons.clear();
        let e = label(
            Arc::new(MockModel::echo()),
            &c,
            &pairs(),
            &out,
            &LabelConfig::default(),
            &|_| {},
        )
        .await;
        assert!(matches!(e, Err(Error::MissingSection { .. })));
    }

    #[test]
    fn pair_files_in_both_shapes() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("p.jsonl");
        std::fs::write(
            &p,
            "{\"id\":\"x\",\"prompt\":\"q\",\"responses\":[\"a\",\"b\",\"c\"]}\n{\"prompt\":\"q2\",\"response_a\":\"1\",\"response_b\":\"2\"}\n",
        )
        .unwrap();
        let v = load_pairs(&p).unwrap();
        assert_eq!(v[1].id, "2");
        assert_eq!((v[0].a.as_str(), v[0].b.as_str()), ("a", "b"));
        std::fs::write(&p, "{\"prompt\":\"q\",\"responses\":[\"a\"]}\n").unwrap();
        assert!(matches!(load_pairs(&p), Err(Error::BadInput { .. })));
        let q = comparison_prompt("hi", "Pick the kinder one.", "x", "y");
        assert!(q.starts_with("Consider the following conversation"));
        assert!(q.ends_with("(A) x\n(B) y\nThe answer is:"));
    }
}
