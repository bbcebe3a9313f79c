//! The run engine end to end on built-in suites, with scripted models: interruption and
//! resumption from a JSONL file, retries, limits, error accounting, judges and paired
//! comparison.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rsp_eval::{
    Catalog, CompareOptions, Error, JsonlSink, MemorySink, Models, NoProgress, RunConfig, RunSink,
    Snapshot, Task, compare, run_task, sample_seed,
};
use rsp_model::{
    CallMeta, Capabilities, Choice, GenerateConfig, Generation, Message, MockModel, ModelApi,
    ScoreRequest, Scores, StopReason, Usage,
};

/// Answers with the letter `seed % 4`, so a transcript shows which seed the model saw.
/// Calls past `open` (when set) never return; with `fail_every_first`, the first call for
/// each seed fails.
#[derive(Debug)]
struct Scripted {
    open: Option<usize>,
    calls: AtomicUsize,
    fail_every_first: bool,
    failed: std::sync::Mutex<std::collections::HashSet<u64>>,
    delay: Option<Duration>,
}

impl Scripted {
    fn new() -> Self {
        Self {
            open: None,
            calls: AtomicUsize::new(0),
            fail_every_first: false,
            failed: Default::default(),
            delay: None,
        }
    }
}

fn letter(seed: u64) -> String {
    ["A", "B", "C", "D"][(seed % 4) as usize].to_owned()
}

#[async_trait]
impl ModelApi for Scripted {
    fn name(&self) -> &str {
        "mock/scripted"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            logprobs: false,
            scoring: false,
            tools: false,
            streaming: false,
            seed: true,
        }
    }

    async fn generate(
        &self,
        _m: &[Message],
        config: &GenerateConfig,
    ) -> Result<Generation, rsp_model::Error> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if self.open.is_some_and(|open| n >= open) {
            std::future::pending::<()>().await;
        }
        if let Some(d) = self.delay {
            tokio::time::sleep(d).await;
        }
        let seed = config.seed.unwrap_or(0);
        if self.fail_every_first && self.failed.lock().unwrap().insert(seed) {
            return Err(rsp_model::Error::Mock("scripted transient failure"));
        }
        Ok(Generation {
            model: self.name().into(),
            choices: vec![Choice {
                text: letter(seed),
                stop_reason: StopReason::EndOfTurn,
                logprobs: None,
            }],
            usage: Usage {
                input_tokens: 10,
                output_tokens: 1,
            },
            latency: Duration::ZERO,
            meta: CallMeta {
                attempts: 1,
                seed: Some(seed),
                ..CallMeta::default()
            },
        })
    }

    async fn score(&self, _r: &ScoreRequest) -> Result<Scores, rsp_model::Error> {
        Err(rsp_model::Error::Unsupported {
            model: self.name().into(),
            feature: "scoring",
        })
    }
}

fn task(selector: &str) -> Task {
    Catalog::builtin().load(selector).unwrap().remove(0)
}

fn models(m: impl ModelApi + 'static) -> Models {
    Models {
        model: Arc::new(m),
        judge: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupted_run_resumes_from_jsonl_without_loss_or_duplicates() {
    let task = task("knowledge-proxy/mc");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.jsonl");
    let config = RunConfig {
        seed: 42,
        limit: Some(10),
        epochs: Some(2),
        max_concurrency: Some(3),
        retry_errors: 0,
        allow_unsafe_local_tools: false,
    };

    // First invocation: the model stalls after 7 answers; once those 7 are committed the
    // run's future is dropped, as on Ctrl-C.
    {
        let sink = JsonlSink::open(&path).unwrap();
        let stalling = models(Scripted {
            open: Some(7),
            ..Scripted::new()
        });
        let committed = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&committed);
        let progress = move |s: &Snapshot| seen.store(s.done, Ordering::SeqCst);
        let run = run_task(&task, &stalling, &config, &sink, &progress);
        let wait = async {
            while committed.load(Ordering::SeqCst) < 7 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::select! {
            r = run => panic!("the run cannot finish while the model stalls: {r:?}"),
            () = wait => {}
        }
    }
    let partial = JsonlSink::read(&path).unwrap();
    assert_eq!(partial.samples.len(), 7);
    assert!(partial.summary.is_none());

    // Second invocation resumes with a working model.
    let sink = JsonlSink::open(&path).unwrap();
    let outcome = run_task(&task, &models(Scripted::new()), &config, &sink, &NoProgress)
        .await
        .unwrap();
    assert_eq!((outcome.skipped, outcome.ran), (7, 13));
    assert_eq!(outcome.summary.completed, 20);
    drop(sink);

    // Every (sample, epoch) appears exactly once in the file, with its derived seed, and the
    // model saw that seed.
    let text = std::fs::read_to_string(&path).unwrap();
    let mut per_key: BTreeMap<(String, u64), usize> = BTreeMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        if v["record"] == "sample" {
            let s = &v["sample"];
            let id = s["sample_id"].as_str().unwrap().to_owned();
            let epoch = s["epoch"].as_u64().unwrap();
            let seed = s["seed"].as_u64().unwrap();
            assert_eq!(seed, sample_seed(42, &id, epoch as u32));
            assert_eq!(s["output"], letter(seed));
            *per_key.entry((id, epoch)).or_default() += 1;
        }
    }
    assert_eq!(per_key.len(), 20);
    assert!(per_key.values().all(|&n| n == 1), "{per_key:?}");
    let ids: Vec<&str> = task
        .samples
        .iter()
        .take(10)
        .map(|s| s.id.as_str())
        .collect();
    for id in ids {
        for e in 1..=2 {
            assert!(
                per_key.contains_key(&(id.to_owned(), e)),
                "{id} epoch {e} missing"
            );
        }
    }

    // An uninterrupted run gives the same records and the same summary numbers.
    let memory = MemorySink::new();
    let fresh = run_task(
        &task,
        &models(Scripted::new()),
        &config,
        &memory,
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(fresh.spec.key, outcome.spec.key);
    let a: Vec<_> = memory
        .samples(&fresh.run)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.sample_id, s.epoch, s.seed, s.output))
        .collect();
    let b: Vec<_> = JsonlSink::read(&path)
        .unwrap()
        .samples
        .into_iter()
        .map(|s| (s.sample_id, s.epoch, s.seed, s.output))
        .collect();
    assert_eq!(a, b);
    assert_eq!(
        fresh.summary.metrics[0].estimate,
        outcome.summary.metrics[0].estimate
    );

    // Resuming a finished run runs nothing.
    let sink = JsonlSink::open(&path).unwrap();
    let again = run_task(&task, &models(Scripted::new()), &config, &sink, &NoProgress)
        .await
        .unwrap();
    assert_eq!((again.ran, again.skipped), (0, 20));
}

#[tokio::test]
async fn accuracy_has_wilson_interval_and_errors_are_counted_not_scored() {
    let task = task("knowledge-proxy/mc");
    let sink = MemorySink::new();
    let out = run_task(
        &task,
        &models(MockModel::text("B")),
        &RunConfig::default(),
        &sink,
        &NoProgress,
    )
    .await
    .unwrap();
    let s = &out.summary;
    assert_eq!((s.planned, s.completed, s.errors), (237, 237, 0));
    let m = s.metric("accuracy").unwrap();
    let bs = task.samples.iter().filter(|x| x.target == ["B"]).count();
    assert!((m.estimate - bs as f64 / 237.0).abs() < 1e-12);
    // Clustered by topic, as the task file asks; the unclustered Wilson interval is kept.
    let c = m.clustered.unwrap();
    assert_eq!(c.clusters, 7);
    assert_eq!(c.iid.method(), rsp_stats::Method::Wilson);
    assert_eq!(m.interval.unwrap().n(), 237);
    let text = m.to_string();
    assert!(text.contains("n=237") && text.contains("95%"), "{text}");
    let record = &sink.samples(&out.run).await.unwrap()[0];
    assert_eq!(record.messages.len(), 3, "system, user, assistant");
    assert!(record.messages[1].content.contains("A) "));

    let failing = MemorySink::new();
    let config = RunConfig {
        limit: Some(5),
        retry_errors: 2,
        ..RunConfig::default()
    };
    let out = run_task(
        &task,
        &models(MockModel::from_script("error").unwrap()),
        &config,
        &failing,
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!((out.summary.completed, out.summary.errors), (0, 5));
    assert_eq!(out.summary.retried_attempts, 10);
    assert_eq!(
        out.summary.metrics[0].n, 0,
        "errors are never scored as wrong"
    );
    let rec = &failing.samples(&out.run).await.unwrap()[0];
    assert_eq!(rec.error_retries.len(), 2);
    assert!(rec.error.as_deref().unwrap().contains("mock model"));
    assert!(rec.scores.is_empty());
}

#[tokio::test]
async fn retries_reuse_the_seed_and_keep_usage() {
    let task = task("knowledge-proxy/mc");
    let sink = MemorySink::new();
    let flaky = Scripted {
        fail_every_first: true,
        ..Scripted::new()
    };
    let config = RunConfig {
        limit: Some(4),
        retry_errors: 1,
        ..RunConfig::default()
    };
    let out = run_task(&task, &models(flaky), &config, &sink, &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        (
            out.summary.completed,
            out.summary.errors,
            out.summary.retried_attempts
        ),
        (4, 0, 4)
    );
    for r in sink.samples(&out.run).await.unwrap() {
        assert_eq!(r.error_retries.len(), 1);
        assert_eq!(
            r.output.as_deref(),
            Some(letter(r.seed).as_str()),
            "same seed after the retry"
        );
    }
}

#[tokio::test]
async fn time_limit_scores_no_answer_and_models_are_checked_up_front() {
    let mut t = task("knowledge-proxy/mc");
    t.limits.time_limit_secs = Some(0.05);
    let slow = Scripted {
        delay: Some(Duration::from_secs(30)),
        ..Scripted::new()
    };
    let sink = MemorySink::new();
    let config = RunConfig {
        limit: Some(2),
        ..RunConfig::default()
    };
    let out = run_task(&t, &models(slow), &config, &sink, &NoProgress)
        .await
        .unwrap();
    assert_eq!((out.summary.completed, out.summary.limited), (2, 2));
    assert_eq!(out.summary.metrics[0].no_answer, 2);

    let logprob = task("knowledge-proxy/logprob");
    assert!(matches!(
        run_task(
            &logprob,
            &models(Scripted::new()),
            &config,
            &sink,
            &NoProgress
        )
        .await,
        Err(Error::Unsupported { .. })
    ));
    let mut pass_at = task("knowledge-proxy/mc");
    pass_at.reducer = rsp_eval::Reducer::PassAt(3);
    assert!(matches!(
        run_task(
            &pass_at,
            &models(MockModel::echo()),
            &config,
            &sink,
            &NoProgress
        )
        .await,
        Err(Error::TooFewEpochs {
            needed: 3,
            epochs: 1,
            ..
        })
    ));
    let mut judged = task("refusal-calibration/benign");
    if let rsp_eval::ScorerSpec::Refusal(r) = &mut judged.scorers[0] {
        r.judge = true;
    }
    assert!(matches!(
        run_task(
            &judged,
            &models(MockModel::echo()),
            &config,
            &sink,
            &NoProgress
        )
        .await,
        Err(Error::JudgeRequired(_))
    ));
    let with_judge = Models {
        model: Arc::new(MockModel::text("Sure! Here is how.")),
        judge: Some(Arc::new(MockModel::text("REFUSED"))),
    };
    let out = run_task(&judged, &with_judge, &config, &sink, &NoProgress)
        .await
        .unwrap();
    let m = out.summary.metric("refusal_rate").unwrap();
    assert_eq!(m.estimate, 1.0, "the judge's verdict is used");
    assert!(m.lower_is_better);
    assert!(out.summary.judge_usage.output_tokens > 0);
}

#[tokio::test]
async fn logprob_task_reports_acc_and_acc_norm_and_runs_compare() {
    let t = task("knowledge-proxy/logprob");
    let sink = MemorySink::new();
    let config = RunConfig {
        limit: Some(30),
        ..RunConfig::default()
    };
    let out = run_task(&t, &models(MockModel::echo()), &config, &sink, &NoProgress)
        .await
        .unwrap();
    let names: Vec<_> = out
        .summary
        .metrics
        .iter()
        .map(|m| m.name.as_str())
        .collect();
    assert_eq!(names, ["acc", "acc_norm"]);
    let samples_a = sink.samples(&out.run).await.unwrap();
    assert!(
        samples_a[0].store["loglikelihood"]["context"]
            .as_str()
            .unwrap()
            .ends_with("Answer:")
    );

    let mc = task("knowledge-proxy/mc");
    let sink_b = MemorySink::new();
    let out_b = run_task(
        &mc,
        &models(MockModel::text("A")),
        &config,
        &sink_b,
        &NoProgress,
    )
    .await
    .unwrap();
    let samples_b = sink_b.samples(&out_b.run).await.unwrap();
    // Different metric names: nothing to pair.
    assert!(compare(&samples_a, &samples_b, &CompareOptions::default()).is_err());
    let sink_c = MemorySink::new();
    let out_c = run_task(
        &mc,
        &models(MockModel::text("B")),
        &config,
        &sink_c,
        &NoProgress,
    )
    .await
    .unwrap();
    let samples_c = sink_c.samples(&out_c.run).await.unwrap();
    let cmp = compare(&samples_b, &samples_c, &CompareOptions::default()).unwrap();
    assert_eq!(cmp[0].n_paired, 30);
    let want = out_b.summary.metrics[0].estimate - out_c.summary.metrics[0].estimate;
    assert!((cmp[0].comparison.difference.estimate() - want).abs() < 1e-12);
}

#[tokio::test]
async fn cyber_and_refusal_suites_run_on_the_mock() {
    let sink = MemorySink::new();
    let config = RunConfig {
        limit: Some(8),
        ..RunConfig::default()
    };
    let cp = task("cyber-proxy/ctf");
    let out = run_task(&cp, &models(MockModel::echo()), &config, &sink, &NoProgress)
        .await
        .unwrap();
    assert_eq!(out.summary.completed, 8);
    assert_eq!(
        out.summary.metrics[0].estimate, 0.0,
        "echoing the question answers nothing"
    );
    let rc = task("refusal-calibration/benign");
    let out = run_task(
        &rc,
        &models(MockModel::text("I cannot help with that.")),
        &config,
        &sink,
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(out.summary.metric("refusal_rate").unwrap().estimate, 1.0);
}
