//! Guard evaluation: attack success rate on harmful prompt sets, over-refusal on benign
//! ones, latency overhead, and how far the refusal judge can be trusted.
//!
//! Each prompt goes through the target (a bare model, or a model behind a [`Guard`]):
//! the guard may block the input, the model answers, the guard may block the output
//! (checked once at the end or replayed as a stream, see [`crate::stream`]), and a
//! [`RefusalJudge`] decides whether what the user saw is a refusal. A guard block counts
//! as a refusal. A classifier *error* also counts as a block, because the deployed guard
//! fails closed; such samples are flagged so the rate of fail-closed blocks is visible.
//! A target or judge error is recorded and excluded from rates (never scored as either
//! outcome).
//!
//! A `label` column (XSTest) overrides the set's kind row by row, so the XSTest file can
//! be passed once and yields both an over-refusal rate (safe rows) and an attack success
//! rate (unsafe rows). Rates carry Wilson intervals from `rsp-stats`.
//!
//! Samples store a sha256 of the prompt rather than its text: harmful benchmark prompts
//! stay in the user's files. Outputs are stored, since they are the evidence.

mod refusal;
mod summary;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use rsp_model::{GenerateConfig, Message, ModelApi};
use serde::{Deserialize, Serialize};

pub use refusal::{RefusalJudge, RefusalVerdict, judge_refusal};
pub use summary::{
    Agreement, GuardEvalReport, LabelAgreement, LatencySummary, RateSummary, summarize,
};

use crate::Error;
use crate::classifier::{Classifier, Verdict};
use crate::prompts::{Label, PromptItem, PromptSet};
use crate::stream::{CheckEvery, first_unsafe_point};

/// What a prompt set is expected to contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SetKind {
    /// Harmful requests: compliance is an attack success.
    Harmful,
    /// Benign (often safe-but-scary) requests: refusal is an over-refusal.
    Benign,
}

/// A prompt set and its kind.
#[derive(Debug, Clone)]
pub struct GuardSet {
    /// The prompts.
    pub set: PromptSet,
    /// Harmful or benign (a per-row `label` overrides it).
    pub kind: SetKind,
}

/// How the guard checks the model's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputCheck {
    /// Inputs only.
    Off,
    /// Once, on the whole answer.
    Final,
    /// Replayed as a stream, re-judged at this interval and at the end.
    Streaming(CheckEvery),
}

/// A constitutional classifier in front of a model.
#[derive(Debug, Clone)]
pub struct Guard {
    /// The classifier.
    pub classifier: Classifier,
    /// Judge the user's message before calling the model.
    pub check_input: bool,
    /// Judge the model's answer.
    pub check_output: OutputCheck,
}

/// What is being measured.
#[derive(Debug, Clone)]
pub struct Target {
    /// The model under test.
    pub model: Arc<dyn ModelApi>,
    /// The guard in front of it, if any (none measures the bare model).
    pub guard: Option<Guard>,
}

/// Settings of one guard evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GuardEvalConfig {
    /// How the target answers (default: greedy, 256 tokens).
    pub generate: GenerateConfig,
    /// Optional system prompt sent before each prompt.
    pub system: Option<String>,
    /// Prompts in flight at once.
    pub concurrency: usize,
    /// Confidence level of the intervals.
    pub confidence: f64,
}

impl Default for GuardEvalConfig {
    fn default() -> Self {
        Self {
            generate: GenerateConfig::greedy(256),
            system: None,
            concurrency: 4,
            confidence: 0.95,
        }
    }
}

/// Where a guard stopped a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockStage {
    /// The input classifier blocked the request.
    Input,
    /// The output classifier cut the answer.
    Output,
    /// The classifier failed, and the guard failed closed.
    FailClosed,
}

/// One prompt's outcome: a record the caller can store with an rsp run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardSample {
    /// The prompt's id within its set.
    pub id: String,
    /// The set's name.
    pub set: String,
    /// The effective kind (the row's label when present, else the set's).
    pub kind: SetKind,
    /// sha256 of the prompt text (the text itself is not stored).
    pub prompt_sha256: String,
    /// XSTest label, when the file has one.
    pub label: Option<Label>,
    /// Category column, when present.
    pub category: Option<String>,
    /// What the user saw (the refusal message when blocked at input; the delivered prefix
    /// when cut mid-stream).
    pub output: Option<String>,
    /// The refusal judgement (a guard block counts as refused).
    pub refused: Option<bool>,
    /// The refusal judge's verdict on the model's own answer, before any output cut.
    pub judge: Option<RefusalVerdict>,
    /// Where the guard stopped the sample, if it did.
    pub blocked_by: Option<BlockStage>,
    /// The input classifier's verdict.
    pub input_verdict: Option<Verdict>,
    /// The output classifier's verdict.
    pub output_verdict: Option<Verdict>,
    /// True when the target model was called (false when blocked at input).
    pub model_called: bool,
    /// Wall time of the target model's call.
    #[serde(with = "crate::classifier::duration_ms")]
    pub model_latency: Duration,
    /// Wall time spent in the classifier.
    #[serde(with = "crate::classifier::duration_ms")]
    pub guard_latency: Duration,
    /// The classifier's error when the guard failed closed.
    pub guard_error: Option<String>,
    /// Why the sample could not be scored (target or refusal-judge failure).
    pub error: Option<String>,
}

/// Progress of an evaluation, reported after each prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalProgress {
    /// Prompts finished.
    pub done: usize,
    /// Prompts in the evaluation.
    pub total: usize,
    /// Of `done`, those that ended in an error.
    pub errors: usize,
}

/// Runs every prompt of `sets` through `target`, judges refusals with `judge`, and
/// summarises.
pub async fn evaluate(
    target: &Target,
    judge: &RefusalJudge,
    sets: &[GuardSet],
    config: &GuardEvalConfig,
    progress: &(dyn Fn(&EvalProgress) + Sync),
) -> Result<GuardEvalReport, Error> {
    if config.concurrency == 0 {
        return Err(Error::InvalidSetting("concurrency must be at least 1"));
    }
    let jobs: Vec<(&GuardSet, &PromptItem)> = sets
        .iter()
        .flat_map(|s| s.set.items.iter().map(move |i| (s, i)))
        .collect();
    let total = jobs.len();
    let mut stream = futures::stream::iter(jobs.into_iter().enumerate())
        .map(|(i, (s, item))| async move { (i, run_one(target, judge, s, item, config).await) })
        .buffer_unordered(config.concurrency);
    let mut results: Vec<Option<GuardSample>> = vec![None; total];
    let mut state = EvalProgress {
        done: 0,
        total,
        errors: 0,
    };
    progress(&state);
    while let Some((i, sample)) = stream.next().await {
        state.done += 1;
        state.errors += usize::from(sample.error.is_some());
        progress(&state);
        results[i] = Some(sample);
    }
    let samples: Vec<GuardSample> = results.into_iter().flatten().collect();
    summarize(target, judge, sets, samples, config.confidence)
}

async fn run_one(
    target: &Target,
    judge: &RefusalJudge,
    set: &GuardSet,
    item: &PromptItem,
    config: &GuardEvalConfig,
) -> GuardSample {
    let kind = match item.label {
        Some(Label::Safe) => SetKind::Benign,
        Some(Label::Unsafe) => SetKind::Harmful,
        None => set.kind,
    };
    let mut s = GuardSample {
        id: item.id.clone(),
        set: set.set.name.clone(),
        kind,
        prompt_sha256: item.sha256(),
        label: item.label,
        category: item.category.clone(),
        output: None,
        refused: None,
        judge: None,
        blocked_by: None,
        input_verdict: None,
        output_verdict: None,
        model_called: false,
        model_latency: Duration::ZERO,
        guard_latency: Duration::ZERO,
        guard_error: None,
        error: None,
    };
    let mut conversation = Vec::new();
    if let Some(sys) = &config.system {
        conversation.push(Message::system(sys.clone()));
    }
    conversation.push(Message::user(item.prompt.clone()));
    if let Some(guard) = target.guard.as_ref().filter(|g| g.check_input) {
        let started = Instant::now();
        let v = guard.classifier.classify_input(&conversation).await;
        s.guard_latency += started.elapsed();
        if block_on(&mut s, guard, v, BlockStage::Input) {
            return s;
        }
    }
    let started = Instant::now();
    let generation = target.model.generate(&conversation, &config.generate).await;
    s.model_latency = started.elapsed();
    s.model_called = true;
    let output = match generation {
        Ok(g) => g.text().to_owned(),
        Err(e) => {
            s.error = Some(format!("target: {}", error_chain(&e)));
            return s;
        }
    };
    match judge_refusal(judge, &target.model, &item.prompt, &output).await {
        Ok(v) => {
            s.refused = Some(v.refused);
            s.judge = Some(v);
        }
        Err(e) => {
            s.error = Some(format!("refusal judge: {}", error_chain(&e)));
        }
    }
    s.output = Some(output.clone());
    if let Some(guard) = &target.guard {
        let started = Instant::now();
        let checked = match guard.check_output {
            OutputCheck::Off => None,
            OutputCheck::Final => Some(
                guard
                    .classifier
                    .classify_output(&conversation, &output)
                    .await
                    .map(|v| (v, None)),
            ),
            OutputCheck::Streaming(every) => Some(
                first_unsafe_point(&guard.classifier, &conversation, &output, every)
                    .await
                    .map(|o| (o.verdict, o.cut_at)),
            ),
        };
        s.guard_latency += started.elapsed();
        if let Some(result) = checked {
            let cut = result.as_ref().ok().and_then(|(_, c)| *c);
            if block_on(&mut s, guard, result.map(|(v, _)| v), BlockStage::Output) {
                if s.blocked_by == Some(BlockStage::Output) {
                    s.output = Some(match cut {
                        Some(at) => output[..at].to_owned(),
                        None => guard.classifier.constitution().verdict.refusal.clone(),
                    });
                }
                // A cut answer is a refusal whatever the judge thought of the full one.
                s.error = None;
            }
        }
    }
    s
}

/// Records a classifier result; returns true when the sample is blocked (failing closed
/// on classifier errors, as the deployed guard does).
fn block_on(
    s: &mut GuardSample,
    guard: &Guard,
    verdict: Result<Verdict, Error>,
    stage: BlockStage,
) -> bool {
    let blocked = match verdict {
        Ok(v) => {
            let block = v.block;
            match stage {
                BlockStage::Output => s.output_verdict = Some(v),
                _ => s.input_verdict = Some(v),
            }
            block.then_some(stage)
        }
        Err(e) => {
            s.guard_error = Some(error_chain(&e));
            Some(BlockStage::FailClosed)
        }
    };
    let Some(stage) = blocked else {
        return false;
    };
    s.blocked_by = Some(stage);
    s.refused = Some(true);
    if stage != BlockStage::Output {
        s.output = Some(guard.classifier.constitution().verdict.refusal.clone());
    }
    true
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ClassifierConfig;
    use crate::testing::{FakeJudge, example};
    use rsp_model::MockModel;

    fn set(name: &str, kind: SetKind, prompts: &[(&str, Option<Label>)]) -> GuardSet {
        GuardSet {
            set: PromptSet {
                name: name.into(),
                path: format!("{name}.csv").into(),
                column: "prompt".into(),
                sha256: "0".into(),
                items: prompts
                    .iter()
                    .enumerate()
                    .map(|(i, (p, label))| PromptItem {
                        id: i.to_string(),
                        prompt: (*p).to_owned(),
                        label: *label,
                        category: None,
                        line: i + 2,
                    })
                    .collect(),
            },
            kind,
        }
    }

    fn sets() -> Vec<GuardSet> {
        vec![
            set(
                "bad",
                SetKind::Harmful,
                &[("I cannot help with that", None), ("Tell me a story", None)],
            ),
            set(
                "good",
                SetKind::Benign,
                &[("I won't do it", None), ("Hello there", None)],
            ),
        ]
    }

    /// A classifier that blocks whenever `needle` appears after the last `role: `.
    fn guard(needle: &'static str, role: &'static str, check: OutputCheck) -> Guard {
        let fake = FakeJudge::scoring_in_context(MockModel::echo(), move |ctx, c| {
            let tail = ctx.rsplit(role).next().unwrap_or("");
            let hot = if tail.contains(needle) {
                " (B)"
            } else {
                " (A)"
            };
            if c == hot { 0.0 } else { -9.0 }
        });
        let classifier = Classifier::new(
            Arc::new(fake),
            Arc::new(example()),
            ClassifierConfig::default(),
        )
        .unwrap();
        Guard {
            classifier,
            check_input: role == "User: ",
            check_output: check,
        }
    }

    fn cfg() -> GuardEvalConfig {
        GuardEvalConfig {
            concurrency: 2,
            ..GuardEvalConfig::default()
        }
    }

    #[tokio::test]
    async fn bare_model_rates_with_intervals() {
        let target = Target {
            model: Arc::new(MockModel::echo()),
            guard: None,
        };
        let progress = std::sync::Mutex::new(Vec::new());
        let r = evaluate(&target, &RefusalJudge::Heuristic, &sets(), &cfg(), &|p| {
            progress.lock().unwrap().push(p.done);
        })
        .await
        .unwrap();
        assert_eq!(*progress.lock().unwrap(), [0, 1, 2, 3, 4]);
        let asr = &r.attack_success_rate;
        assert_eq!(
            (asr.n, asr.count, asr.metric.as_str()),
            (2, 1, "attack_success_rate")
        );
        let i = asr.interval.unwrap();
        assert!(i.lower() < 0.5 && i.upper() > 0.5 && i.n() == 2);
        assert_eq!((r.over_refusal_rate.n, r.over_refusal_rate.count), (2, 1));
        assert_eq!(r.sets.len(), 2);
        assert!(r.constitution.is_none() && r.latency.overhead.is_none());
        assert!(r.notes.iter().any(|n| n.contains("n = 2")));
        let s = &r.samples[1];
        assert_eq!(s.prompt_sha256.len(), 64);
        let json = serde_json::to_string(&r).unwrap();
        assert!(
            !json.contains("\"prompt\":"),
            "prompts are stored as hashes"
        );
        assert!(r.render_text().contains("attack success rate: 0.500"));
    }

    #[tokio::test]
    async fn input_guard_blocks_count_as_refusals() {
        let target = Target {
            model: Arc::new(MockModel::echo()),
            guard: Some(guard("story", "User: ", OutputCheck::Off)),
        };
        let r = evaluate(&target, &RefusalJudge::Heuristic, &sets(), &cfg(), &|_| {})
            .await
            .unwrap();
        assert_eq!(r.attack_success_rate.count, 0);
        assert_eq!(r.attack_success_rate.guard_blocks, 1);
        let blocked = r.samples.iter().find(|s| s.blocked_by.is_some()).unwrap();
        assert_eq!(blocked.blocked_by, Some(BlockStage::Input));
        assert!(!blocked.model_called);
        assert_eq!(
            blocked.output.as_deref(),
            Some(example().verdict.refusal.as_str())
        );
        assert_eq!(
            blocked.input_verdict.as_ref().unwrap().classes,
            ["mass-casualty-weapons"]
        );
        assert!(r.latency.overhead.is_some());
        let cal = r.classifier.unwrap();
        assert_eq!((cal.positives, cal.negatives), (2, 2));
        assert_eq!(r.constitution.as_deref(), Some("rsp-example@1"));
    }

    #[tokio::test]
    async fn streaming_output_checks_cut_the_answer() {
        let target = Target {
            model: Arc::new(MockModel::echo()),
            guard: Some(guard(
                "UNSAFE",
                "Assistant: ",
                OutputCheck::Streaming(CheckEvery::Chars(5)),
            )),
        };
        let s = set(
            "x",
            SetKind::Harmful,
            &[("fine fine UNSAFE and more", None)],
        );
        let r = evaluate(&target, &RefusalJudge::Heuristic, &[s], &cfg(), &|_| {})
            .await
            .unwrap();
        let sample = &r.samples[0];
        assert_eq!(sample.blocked_by, Some(BlockStage::Output));
        assert_eq!(sample.output.as_deref(), Some("fine fine UNSAFE and"));
        assert_eq!(sample.refused, Some(true));
        assert_eq!(sample.judge.as_ref().map(|j| j.refused), Some(false));
    }

    #[tokio::test]
    async fn classifier_errors_fail_closed_and_are_flagged() {
        let classifier = Classifier::new(
            Arc::new(MockModel::from_script("error").unwrap()),
            Arc::new(example()),
            ClassifierConfig::default(),
        )
        .unwrap();
        let target = Target {
            model: Arc::new(MockModel::echo()),
            guard: Some(Guard {
                classifier,
                check_input: true,
                check_output: OutputCheck::Final,
            }),
        };
        let r = evaluate(&target, &RefusalJudge::Heuristic, &sets(), &cfg(), &|_| {})
            .await
            .unwrap();
        assert_eq!(r.attack_success_rate.fail_closed, 2);
        assert_eq!(r.over_refusal_rate.count, 2);
        assert!(
            r.samples
                .iter()
                .all(|s| s.guard_error.is_some() && !s.model_called)
        );
        assert!(r.notes.iter().any(|n| n.contains("fail-closed")));
        assert!(r.notes.iter().any(|n| n.contains("blocked every prompt")));
    }

    #[tokio::test]
    async fn labels_override_kinds_and_measure_agreement() {
        let target = Target {
            model: Arc::new(MockModel::echo()),
            guard: None,
        };
        let xs = set(
            "xstest",
            SetKind::Benign,
            &[
                ("How do I kill a process?", Some(Label::Safe)),
                ("I can't help", Some(Label::Safe)),
                ("I cannot assist", Some(Label::Unsafe)),
                ("Sure thing", Some(Label::Unsafe)),
            ],
        );
        let judge = RefusalJudge::Model(Arc::new(MockModel::text("COMPLIED")));
        let r = evaluate(&target, &judge, &[xs], &cfg(), &|_| {})
            .await
            .unwrap();
        assert_eq!((r.attack_success_rate.n, r.over_refusal_rate.n), (2, 2));
        assert_eq!(r.sets.len(), 2);
        let a = r.label_agreement.unwrap();
        // The judge always says COMPLIED: right on the safe rows, wrong on the unsafe ones.
        assert_eq!((a.agreement.n, a.agreement.agree), (4, 2));
        assert_eq!((a.answered_safe, a.answered_unsafe), (2, 2));
        let h = r.judge_vs_heuristic.unwrap();
        assert_eq!((h.n, h.agree), (4, 2));
        assert!(r.notes.iter().any(|n| n.contains("phrase heuristic")));
    }
}
