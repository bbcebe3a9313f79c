//! The run engine: runs a task against a model, committing every sample as it finishes.
//!
//! - **Order and seeds.** Work is the list of (sample, epoch) keys in dataset order, epoch
//!   by epoch within a sample; each key's seed is [`sample_seed`]`(run seed, id, epoch)`.
//!   Neither depends on concurrency, timing or what already ran, so a resumed run
//!   reproduces exactly what an uninterrupted one would have done.
//! - **Concurrency.** At most `max_concurrency` sample-epochs are in flight (default:
//!   [`default_concurrency`] for the provider). Providers do their own batching and rate
//!   limiting underneath, so the harness only has to keep enough work queued.
//! - **Commit, then count.** A finished sample-epoch is written to the [`RunSink`] (full
//!   transcript, scores, usage, timing, errors, retries) before it counts as done. Dropping
//!   the run's future (Ctrl-C, a crash) loses only what was in flight. Samples that finish
//!   while a commit is running are committed together (one `fsync` for the JSONL sink),
//!   so durable storage does not cap throughput.
//! - **Resume.** Keys the sink reports as completed are skipped; nothing runs twice and
//!   nothing is lost. Errored sample-epochs are not completed, so they run again.
//! - **Errors.** A failed attempt is retried up to `retry_errors` times with the same seed
//!   (so retries cannot skew which answers are kept); the last failure is recorded with
//!   every earlier error and counted in the summary, never scored as wrong. Token usage of
//!   failed attempts is kept in `total_usage`.
//! - **Sandbox.** A task with tools gets one [`Sandbox`] per run (opening it reaps what a
//!   killed rsp left behind) and a fresh [`rsp_sandbox::Workspace`] per attempt, with the
//!   sample's files laid out; it is removed once the sample is scored. Without isolation
//!   the run refuses unless [`RunConfig::allow_unsafe_local_tools`] is set; either way
//!   the isolation is recorded in the provenance (and, for tool tasks, in the run's key).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{FutureExt, StreamExt};
use rsp_model::{ModelApi, Usage};
use rsp_sandbox::{Isolation, Sandbox};
use rsp_stats::Interval;

use crate::error::{Error, chain};
use crate::metrics::{StatsOptions, summarise_run};
use crate::progress::{Progress, Snapshot};
use crate::provenance::{Provenance, host_name, sample_seed};
use crate::record::{RunId, RunSpec, SampleKey, SampleResult};
use crate::sample::Sample;
use crate::sink::RunSink;
use crate::solver::run_chain;
use crate::state::{LimitHit, SolveContext, TaskState};
use crate::task::Task;

/// The models a run uses.
#[derive(Debug, Clone)]
pub struct Models {
    /// The model under test.
    pub model: Arc<dyn ModelApi>,
    /// The judge (model-graded scoring, judged refusal checks, best-of-n by judge).
    pub judge: Option<Arc<dyn ModelApi>>,
}

/// Run settings that are not part of the task file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunConfig {
    /// Run seed (default 0); per-sample seeds derive from it.
    pub seed: u64,
    /// Run only the first `limit` samples (dataset order).
    pub limit: Option<usize>,
    /// Override the task's epoch count.
    pub epochs: Option<u32>,
    /// Most sample-epochs in flight (default: [`default_concurrency`]).
    pub max_concurrency: Option<usize>,
    /// Extra attempts for a sample-epoch that fails with an error.
    pub retry_errors: u32,
    /// Run tool tasks without isolation when none is available (`--unsafe-local-tools`):
    /// no network namespace, no separate user; rlimits and timeouts still apply.
    pub allow_unsafe_local_tools: bool,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            limit: None,
            epochs: None,
            max_concurrency: None,
            retry_errors: 1,
            allow_unsafe_local_tools: false,
        }
    }
}

/// What a finished (or resumed-and-finished) run returns.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The run's id in the sink.
    pub run: RunId,
    /// Its spec.
    pub spec: RunSpec,
    /// Metrics and counts over every stored sample of the run.
    pub summary: crate::metrics::RunSummary,
    /// Sample-epochs run by this invocation.
    pub ran: usize,
    /// Sample-epochs skipped because the sink already had them.
    pub skipped: usize,
}

/// Sample-epochs to keep in flight for a provider: enough to saturate the embedded
/// engine's batch (it runs up to 16 sequences per forward pass) and to let hosted
/// providers' adaptive limiters grow (they start at 8 connections and may reach 64).
pub fn default_concurrency(model: &dyn ModelApi) -> usize {
    let name = model.name();
    if name.starts_with("embedded") {
        8
    } else if name.starts_with("mock/") {
        16
    } else {
        64
    }
}

/// Builds the run's spec (identity key and provenance) without running anything, so a
/// caller can locate or display the run first.
pub fn plan_run(task: &Task, models: &Models, config: &RunConfig) -> RunSpec {
    let epochs = config.epochs.unwrap_or(task.epochs).max(1);
    let n = config
        .limit
        .map_or(task.samples.len(), |l| l.min(task.samples.len()));
    let provenance = Provenance {
        rsp_version: env!("CARGO_PKG_VERSION").to_owned(),
        task_sha256: task.hashes.task.clone(),
        dataset_sha256: task.hashes.dataset.clone(),
        dev_sha256: task.hashes.dev.clone(),
        templates_sha256: task.hashes.templates.clone(),
        model: models.model.name().to_owned(),
        judge: models.judge.as_ref().map(|j| j.name().to_owned()),
        generate_config: serde_json::to_value(&task.generate).unwrap_or_default(),
        seed: config.seed,
        host: host_name(),
        created_at: chrono::Utc::now().to_rfc3339(),
        sandbox: task
            .needs_sandbox()
            .then(|| match sandbox_isolation(config) {
                Ok(iso) => iso.describe().to_owned(),
                Err(_) => "unavailable".to_owned(),
            }),
    };
    let key = RunSpec::identity_key(
        &task.id,
        task.version,
        epochs,
        task.reducer,
        config.limit,
        &provenance,
    );
    RunSpec {
        key,
        task: task.id.clone(),
        task_version: task.version,
        model: provenance.model.clone(),
        epochs,
        reducer: task.reducer,
        seed: config.seed,
        limit: config.limit,
        planned: n * epochs as usize,
        provenance,
    }
}

/// The isolation tool tasks get here: the best the probe finds, else
/// [`Isolation::None`] when unsandboxed tools are allowed, else the probe's reason.
pub fn sandbox_isolation(config: &RunConfig) -> Result<Isolation, String> {
    let p = rsp_sandbox::probe();
    match (p.isolation, config.allow_unsafe_local_tools) {
        (Some(i), _) => Ok(i),
        (None, true) => Ok(Isolation::None),
        (None, false) => Err(p.reason()),
    }
}

/// Checks that the models can run the task (judge present, scoring supported).
pub fn check_models(task: &Task, models: &Models) -> Result<(), Error> {
    if task.needs_judge() && models.judge.is_none() {
        return Err(Error::JudgeRequired(task.id.clone()));
    }
    if task.needs_loglikelihood() && !models.model.capabilities().scoring {
        return Err(Error::Unsupported {
            model: models.model.name().to_owned(),
            task: task.id.clone(),
            feature: "log-likelihood scoring",
        });
    }
    Ok(())
}

/// Running statistics for progress: Wilson while every value is 0/1, t otherwise.
#[derive(Debug, Default)]
struct Running {
    values: Vec<f64>,
    binary: bool,
}

impl Running {
    fn push(&mut self, v: f64) {
        if self.values.is_empty() {
            self.binary = true;
        }
        self.binary &= v == 0.0 || v == 1.0;
        self.values.push(v);
    }

    fn interval(&self, confidence: rsp_stats::Confidence) -> Option<Interval> {
        if self.values.is_empty() {
            return None;
        }
        if self.binary {
            let k = self.values.iter().filter(|&&v| v == 1.0).count() as u64;
            rsp_stats::wilson(k, self.values.len() as u64, confidence).ok()
        } else {
            rsp_stats::t_interval(&self.values, confidence).ok()
        }
    }
}

/// Runs (or resumes) `task` against `models`, storing every sample-epoch in `sink`.
pub async fn run_task(
    task: &Task,
    models: &Models,
    config: &RunConfig,
    sink: &dyn RunSink,
    progress: &dyn Progress,
) -> Result<RunOutcome, Error> {
    check_models(task, models)?;
    let spec = plan_run(task, models, config);
    if task.reducer.min_epochs() > u64::from(spec.epochs) {
        return Err(Error::TooFewEpochs {
            reducer: task.reducer.to_string(),
            needed: task.reducer.min_epochs(),
            epochs: spec.epochs,
        });
    }
    let sandbox = match &task.sandbox {
        Some(limits) => {
            let iso = sandbox_isolation(config)
                .map_err(|reason| Error::Sandbox(rsp_sandbox::Error::Unavailable { reason }))?;
            let sb = Sandbox::new(Sandbox::default_root(), iso, *limits).map_err(Error::Sandbox)?;
            Some(Arc::new(sb))
        }
        None => None,
    };
    let run = sink
        .create_or_resume_run(&spec)
        .await
        .map_err(Error::Sink)?;
    let samples: Vec<Arc<Sample>> = task
        .samples
        .iter()
        .take(config.limit.unwrap_or(usize::MAX))
        .cloned()
        .collect();
    let keys: Vec<(Arc<Sample>, u32)> = samples
        .iter()
        .flat_map(|s| (1..=spec.epochs).map(move |e| (Arc::clone(s), e)))
        .collect();
    let stored = sink.samples(&run).await.map_err(Error::Sink)?;
    let done: BTreeSet<SampleKey> = stored
        .iter()
        .filter(|s| s.is_ok())
        .map(SampleResult::key)
        .collect();
    let metric = task.scorers.first().map(|s| s.name().to_owned());
    let mut running = Running::default();
    let mut errors = 0;
    for s in stored.iter().filter(|s| s.is_ok()) {
        if let Some(score) = metric.as_ref().and_then(|m| s.scores.get(m)) {
            running.push(score.value.as_f64());
        }
    }
    let todo: Vec<(Arc<Sample>, u32)> = keys
        .into_iter()
        .filter(|(s, e)| {
            !done.contains(&SampleKey {
                sample_id: s.id.clone(),
                epoch: *e,
            })
        })
        .collect();
    let total = spec.planned;
    let resumed = total - todo.len();
    let started = Instant::now();
    let snapshot = |done: usize, errors: usize, running: &Running| {
        let elapsed = started.elapsed();
        Snapshot {
            task: task.id.clone(),
            done,
            total,
            resumed,
            errors,
            metric: metric.clone(),
            running: running.interval(task.confidence),
            elapsed,
            eta: eta(done - resumed, total - done, elapsed),
        }
    };
    progress.update(&snapshot(resumed, 0, &running));

    let concurrency = config
        .max_concurrency
        .unwrap_or_else(|| default_concurrency(models.model.as_ref()))
        .max(1);
    let mut stream = futures::stream::iter(todo.into_iter().map(|(sample, epoch)| {
        let seed = sample_seed(config.seed, &sample.id, epoch);
        run_sample(
            task,
            models,
            sandbox.clone(),
            sample,
            epoch,
            seed,
            config.retry_errors,
        )
    }))
    .buffer_unordered(concurrency);
    let mut finished = resumed;
    let mut ran = 0;
    while let Some(first) = stream.next().await {
        // Group commit: everything that finished while the last commit ran goes in one
        // write. Nothing waits for a batch to fill, so a slow model commits one by one.
        let mut batch = vec![first];
        while let Some(Some(more)) = stream.next().now_or_never() {
            batch.push(more);
        }
        sink.record_samples(&run, &batch)
            .await
            .map_err(Error::Sink)?;
        for result in &batch {
            finished += 1;
            ran += 1;
            if result.is_ok() {
                if let Some(score) = metric.as_ref().and_then(|m| result.scores.get(m)) {
                    running.push(score.value.as_f64());
                }
            } else {
                errors += 1;
            }
            progress.update(&snapshot(finished, errors, &running));
        }
    }
    drop(stream);

    let all = sink.samples(&run).await.map_err(Error::Sink)?;
    let options = StatsOptions {
        confidence: task.confidence,
        cluster_by: task.cluster_by.clone(),
        seed: config.seed,
    };
    let summary = summarise_run(&spec, &all, &task.metric_defs(), &options)?;
    sink.finish_run(&run, &summary).await.map_err(Error::Sink)?;
    Ok(RunOutcome {
        run,
        spec,
        summary,
        ran,
        skipped: resumed,
    })
}

/// A fresh working directory with the sample's files, recorded in the sample's store.
fn prepare_workspace(sandbox: &Sandbox, state: &mut TaskState) -> Result<(), Error> {
    let ws = sandbox.workspace().map_err(Error::Sandbox)?;
    ws.write_files(&state.sample.files)
        .map_err(Error::Sandbox)?;
    state.store.insert(
        "sandbox".into(),
        serde_json::Value::String(sandbox.isolation().describe().to_owned()),
    );
    state.workspace = Some(Arc::new(ws));
    Ok(())
}

/// One attempt: the solver chain (under the time limit), then every scorer.
async fn attempt(task: &Task, ctx: &SolveContext, state: &mut TaskState) -> Result<(), Error> {
    match task.limits.time_limit() {
        Some(limit) => {
            if tokio::time::timeout(limit, run_chain(&task.solvers, state, ctx))
                .await
                .is_err()
            {
                state.limit = Some(LimitHit::Time);
            }
        }
        None => run_chain(&task.solvers, state, ctx).await?,
    }
    Ok(())
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339()
}

/// Runs one sample-epoch with retries and returns its record (errors included).
async fn run_sample(
    task: &Task,
    models: &Models,
    sandbox: Option<Arc<Sandbox>>,
    sample: Arc<Sample>,
    epoch: u32,
    seed: u64,
    retry_errors: u32,
) -> SampleResult {
    let started_at = now();
    let clock = Instant::now();
    let ctx = SolveContext {
        task: task.id.clone(),
        model: Arc::clone(&models.model),
        judge: models.judge.clone(),
        generate: rsp_model::GenerateConfig {
            seed: Some(seed),
            ..task.generate.clone()
        },
        dev: Arc::clone(&task.dev),
        token_limit: task.limits.token_limit,
    };
    let mut earlier_errors = Vec::new();
    let mut total_usage = Usage::default();
    let mut attempt_no = 0;
    loop {
        let mut state = TaskState::new(Arc::clone(&sample), epoch, seed);
        let mut outcome = match &sandbox {
            Some(sb) => prepare_workspace(sb, &mut state),
            None => Ok(()),
        };
        if outcome.is_ok() {
            outcome = attempt(task, &ctx, &mut state).await;
        }
        let mut scores = std::collections::BTreeMap::new();
        if outcome.is_ok() {
            for scorer in &task.scorers {
                match scorer.scorer().score(&mut state, &ctx).await {
                    Ok(score) => {
                        scores.insert(scorer.name().to_owned(), score);
                    }
                    Err(e) => {
                        outcome = Err(e);
                        break;
                    }
                }
            }
        }
        total_usage.input_tokens += state.usage.input_tokens;
        total_usage.output_tokens += state.usage.output_tokens;
        // Scored: the working directory can go now (the last reference may still be held
        // by a tool call the time limit cut short; it is removed when that call returns).
        state.workspace = None;
        let error = outcome.err().map(|e| chain(&e));
        if error.is_some() && attempt_no < retry_errors {
            earlier_errors.extend(error);
            attempt_no += 1;
            continue;
        }
        let messages = if state.messages.is_empty() {
            state.conversation()
        } else {
            state.messages
        };
        return SampleResult {
            sample_id: sample.id.clone(),
            epoch,
            seed,
            input: sample.input.clone(),
            target: sample.target.clone(),
            choices: sample.choices.clone(),
            metadata: sample.metadata.clone(),
            messages,
            output: state.output,
            scores: if error.is_some() {
                Default::default()
            } else {
                scores
            },
            usage: state.usage,
            judge_usage: state.judge_usage,
            total_usage,
            calls: state.calls,
            call_retries: state.call_retries,
            error,
            error_retries: earlier_errors,
            limit: state.limit,
            store: state.store,
            started_at,
            completed_at: now(),
            total_time_ms: clock.elapsed().as_secs_f64() * 1000.0,
        };
    }
}

/// Time for `remaining` sample-epochs at the pace of `done` in `elapsed`.
fn eta(done: usize, remaining: usize, elapsed: Duration) -> Option<Duration> {
    (done > 0).then(|| elapsed.mul_f64(remaining as f64 / done as f64))
}
