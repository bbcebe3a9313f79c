//! The project store as the eval engine's run sink, and the read helpers that `rsp runs`,
//! `rsp compare` and `rsp assess` share.
//!
//! `rsp-eval` knows runs as a [`RunSpec`] plus [`SampleResult`]s; `rsp-store` knows them as
//! a [`RunRecord`] plus [`SampleRecord`]s. Neither crate depends on the other, so the
//! mapping lives here, where both are already dependencies. It is lossless: a run or sample
//! read back is equal to the one written, so a resumed run, `rsp compare` and a later
//! `rsp assess` all see exactly what the engine produced.
//!
//! # Mapping
//!
//! * **Run identity.** [`RunSpec::key`] (a hash of everything that changes results) is
//!   stored as the run's `task_hash`, so the store's [`RunKey`] lookup finds "the same
//!   evaluation" and [`RunSink::create_or_resume_run`] returns the existing run instead of
//!   starting another. The spec's other fields go in `config.spec`, its provenance in the
//!   `provenance` column, the planned count in `total_samples`.
//! * **Launch.** How the run was asked for on the command line (`embedded`, not the
//!   provider's display name `embedded/SmolLM2….gguf`) is kept in `config.launch`, so
//!   `rsp eval --resume` can rebuild the same provider.
//! * **Samples.** Columns get what they are for: the primary metric's value (the task's
//!   first scorer) in `value`, the final error in `error`, provider and error retries in
//!   `retries`, the model under test's usage in `usage`, the dataset metadata in
//!   `metadata`. Everything `SampleRecord` has no column for — the completion, the full
//!   transcript, the seed, choices, judge and total usage, call count, retry errors, limit
//!   hit, solver by-products and both timestamps as written — is one JSON object in
//!   `output` (see [`SampleExtra`]).
//! * **Epochs.** The engine counts epochs from 1, the store from 0: stored = engine − 1.
//! * **Order.** A sample's `position` is its index in the task's dataset order, the order
//!   the engine works in, so keyset pages come back in run order.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rsp_eval::{RunId, RunSink, RunSpec, RunSummary, SampleKey, SampleResult, SinkError, Task};
use rsp_model::{Message, Usage};
use rsp_store::{
    NewRun, RunFilter, RunKey, RunRecord, RunSource, RunStatus, RunStore, SampleFilter,
    SampleRecord, SqliteStore, Store,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::project::Project;
use crate::settings::Settings;

/// Where runs are stored: the project's `.rsp/rsp.db`; outside a project (when no
/// `--project` was given and no `rsp.toml` is found upward), `./.rsp/rsp.db` in the current
/// directory, so work is never lost and a later `rsp init` there adopts the runs. The
/// second value is the project, if there is one.
pub(crate) fn store_location(settings: &Settings) -> Result<(PathBuf, Option<Project>)> {
    let project = match Project::find(settings.project.as_deref()) {
        Ok(p) => Some(p),
        Err(e) if settings.project.is_some() => return Err(e),
        Err(_) => None,
    };
    let root = match &project {
        Some(p) => p.root.clone(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    Ok((SqliteStore::default_path(&root), project))
}

/// Opens (creating if needed) the store at `path`.
/// Runs left `running` by a killed process are marked `interrupted` on the way in.
pub(crate) async fn open_store(path: &Path) -> Result<Arc<SqliteStore>> {
    let store = SqliteStore::open(path)
        .await
        .with_context(|| format!("cannot open the run store {}", path.display()))?;
    crate::run_lock::reap_orphans(&store).await?;
    Ok(Arc::new(store))
}

/// Samples read per page when loading a whole run: big enough that paging costs little,
/// small enough that one page of transcripts stays a few megabytes.
const PAGE: u32 = 1000;

/// How a run was launched: the specs as given on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Launch {
    /// The `--model` spec.
    pub model: String,
    /// The `--judge` spec.
    pub judge: Option<String>,
}

/// A stored run, decoded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredRun {
    /// The store's record (id, status, times, raw JSON).
    pub record: RunRecord,
    /// The engine's spec, exactly as planned.
    pub spec: RunSpec,
    /// The metric summary, once the run finished.
    pub summary: Option<RunSummary>,
    /// How it was launched, when rsp recorded it.
    pub launch: Option<Launch>,
}

/// A [`RunSink`] over the project store. One per task: it knows the task's sample order
/// (for `position`) and its primary metric (for `value`).
#[derive(Debug, Clone)]
pub(crate) struct StoreSink {
    store: Arc<dyn Store>,
    positions: Arc<HashMap<String, u32>>,
    primary: Option<String>,
    launch: Option<Launch>,
}

impl StoreSink {
    /// A sink for runs of `task`.
    pub fn new(store: Arc<dyn Store>, task: &Task) -> Self {
        let positions = task
            .samples
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        Self {
            store,
            positions: Arc::new(positions),
            primary: task.scorers.first().map(|s| s.name().to_owned()),
            launch: None,
        }
    }

    /// Records how the run was launched when it is created.
    pub fn with_launch(mut self, launch: Launch) -> Self {
        self.launch = Some(launch);
        self
    }

    fn record(&self, run: &RunId, s: &SampleResult) -> Result<SampleRecord> {
        let position = *self
            .positions
            .get(&s.sample_id)
            .with_context(|| format!("sample `{}` is not in the task", s.sample_id))?;
        to_record(&run.0, position, self.primary.as_deref(), s)
    }
}

fn sink_err(e: anyhow::Error) -> SinkError {
    e.into()
}

#[async_trait]
impl RunSink for StoreSink {
    async fn create_or_resume_run(&self, spec: &RunSpec) -> Result<RunId, SinkError> {
        let new = new_run(spec, self.launch.as_ref()).map_err(sink_err)?;
        let key = RunKey {
            model: new.model.clone(),
            suite: new.suite.clone(),
            task: new.task.clone(),
            task_hash: new.task_hash.clone(),
        };
        if let Some(run) = self.store.latest_run(&key, None).await? {
            if run.status != RunStatus::Running {
                self.store
                    .set_run_status(&run.id, RunStatus::Running)
                    .await?;
            }
            return Ok(RunId(run.id));
        }
        Ok(RunId(self.store.create_run(&new).await?.id))
    }

    async fn samples(&self, run: &RunId) -> Result<Vec<SampleResult>, SinkError> {
        samples(self.store.as_ref(), &run.0).await.map_err(sink_err)
    }

    async fn completed_keys(&self, run: &RunId) -> Result<BTreeSet<SampleKey>, SinkError> {
        Ok(self
            .store
            .completed_keys(&run.0)
            .await?
            .into_iter()
            .map(|(sample_id, epoch)| SampleKey {
                sample_id,
                epoch: epoch + 1,
            })
            .collect())
    }

    async fn record_sample(&self, run: &RunId, sample: &SampleResult) -> Result<(), SinkError> {
        let record = self.record(run, sample).map_err(sink_err)?;
        self.store.record_sample(&record).await?;
        Ok(())
    }

    /// One transaction for the whole batch: the engine's group commit.
    async fn record_samples(&self, run: &RunId, samples: &[SampleResult]) -> Result<(), SinkError> {
        let records = samples
            .iter()
            .map(|s| self.record(run, s))
            .collect::<Result<Vec<_>>>()
            .map_err(sink_err)?;
        self.store.record_samples(&records).await?;
        Ok(())
    }

    async fn finish_run(&self, run: &RunId, summary: &RunSummary) -> Result<(), SinkError> {
        let value = serde_json::to_value(summary)?;
        self.store.set_run_summary(&run.0, &value).await?;
        self.store
            .set_run_status(&run.0, RunStatus::Completed)
            .await?;
        Ok(())
    }
}

/// The store's form of a new run for `spec`.
pub(crate) fn new_run(spec: &RunSpec, launch: Option<&Launch>) -> Result<NewRun> {
    let mut body = serde_json::to_value(spec).context("cannot encode the run spec")?;
    let provenance = body
        .as_object_mut()
        .and_then(|o| o.remove("provenance"))
        .unwrap_or(Value::Null);
    let (suite, task) = spec.task.split_once('/').unwrap_or(("", &spec.task));
    Ok(NewRun {
        model: spec.model.clone(),
        model_name: None,
        suite: suite.to_owned(),
        task: task.to_owned(),
        task_hash: spec.key.clone(),
        config: json!({ "spec": body, "launch": launch }),
        provenance,
        total_samples: spec.planned as u64,
        source: RunSource::Native,
        source_sha256: None,
    })
}

/// Decodes a stored run: its spec, summary and launch.
pub(crate) fn decode_run(record: RunRecord) -> Result<StoredRun> {
    let mut body = record
        .config
        .get("spec")
        .cloned()
        .with_context(|| format!("run {} has no rsp run spec (imported?)", record.id))?;
    if let Some(o) = body.as_object_mut() {
        o.insert("provenance".into(), record.provenance.clone());
    }
    let spec: RunSpec = serde_json::from_value(body)
        .with_context(|| format!("run {}: cannot decode its spec", record.id))?;
    let summary = record
        .summary
        .clone()
        .map(serde_json::from_value)
        .transpose()
        .with_context(|| format!("run {}: cannot decode its summary", record.id))?;
    let launch = record
        .config
        .get("launch")
        .cloned()
        .and_then(|l| serde_json::from_value(l).ok());
    Ok(StoredRun {
        record,
        spec,
        summary,
        launch,
    })
}

/// The run whose id is `id_or_prefix` or starts with it (unique), decoded.
pub(crate) async fn load_run(store: &dyn RunStore, id_or_prefix: &str) -> Result<StoredRun> {
    if let Some(record) = store.get_run(id_or_prefix).await? {
        return decode_run(record);
    }
    let wanted = id_or_prefix.to_ascii_uppercase();
    let mut hits: Vec<RunRecord> = store
        .list_runs(&RunFilter::default())
        .await?
        .into_iter()
        .filter(|r| r.id.starts_with(&wanted))
        .collect();
    match hits.len() {
        0 => bail!("no run id starts with `{id_or_prefix}` (see `rsp runs list`)"),
        1 => decode_run(hits.remove(0)),
        n => bail!("{n} runs start with `{id_or_prefix}`; give more of the id"),
    }
}

/// Runs matching `filter`, newest first, decoded. Runs rsp did not write (imports) are
/// skipped: they have no [`RunSpec`].
pub(crate) async fn list_runs(store: &dyn RunStore, filter: &RunFilter) -> Result<Vec<StoredRun>> {
    store
        .list_runs(filter)
        .await?
        .into_iter()
        .map(decode_run)
        .collect()
}

/// Every stored sample-epoch of a run, in run order (dataset position, then epoch).
pub(crate) async fn samples(store: &dyn RunStore, run_id: &str) -> Result<Vec<SampleResult>> {
    let filter = SampleFilter::default();
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = store.list_samples(run_id, &filter, after, PAGE).await?;
        for r in page.samples {
            out.push(from_record(r)?);
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(out),
        }
    }
}

/// What a [`SampleResult`] holds that [`SampleRecord`] has no column for: stored as the
/// `output` JSON object.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SampleExtra {
    /// The completion that was scored.
    completion: Option<String>,
    /// Full transcript of the final attempt.
    messages: Vec<Message>,
    /// The derived per-sample seed.
    seed: u64,
    /// Multiple-choice options.
    choices: Vec<String>,
    /// Judge tokens of the final attempt.
    judge_usage: Usage,
    /// Tokens over every attempt.
    total_usage: Usage,
    /// Model calls of the final attempt.
    calls: u32,
    /// Provider-level retry errors.
    call_retries: Vec<String>,
    /// Errors of earlier attempts.
    error_retries: Vec<String>,
    /// A per-sample limit that stopped the chain.
    limit: Value,
    /// Solver by-products.
    store: Map<String, Value>,
    /// Start of the first attempt, as written.
    started_at: String,
    /// End of the final attempt, as written (the column holds it parsed).
    completed_at: String,
}

/// A sample as the store keeps it.
pub(crate) fn to_record(
    run_id: &str,
    position: u32,
    primary: Option<&str>,
    s: &SampleResult,
) -> Result<SampleRecord> {
    // Destructured so that a field added to SampleResult fails to compile here instead of
    // being dropped silently.
    let SampleResult {
        sample_id,
        epoch,
        seed,
        input,
        target,
        choices,
        metadata,
        messages,
        output,
        scores,
        usage,
        judge_usage,
        total_usage,
        calls,
        call_retries,
        error,
        error_retries,
        limit,
        store,
        started_at,
        completed_at,
        total_time_ms,
    } = s;
    let stored_epoch = epoch
        .checked_sub(1)
        .with_context(|| format!("sample `{sample_id}`: epochs count from 1"))?;
    let value = match primary {
        Some(m) => scores.get(m),
        None => scores.values().next(),
    }
    .map(|score| score.value.as_f64());
    let extra = SampleExtra {
        completion: output.clone(),
        messages: messages.clone(),
        seed: *seed,
        choices: choices.clone(),
        judge_usage: *judge_usage,
        total_usage: *total_usage,
        calls: *calls,
        call_retries: call_retries.clone(),
        error_retries: error_retries.clone(),
        limit: serde_json::to_value(limit)?,
        store: store.clone(),
        started_at: started_at.clone(),
        completed_at: completed_at.clone(),
    };
    let finished = parse_time(completed_at)
        .or_else(|| parse_time(started_at))
        .unwrap_or_else(Utc::now);
    Ok(SampleRecord {
        run_id: run_id.to_owned(),
        sample_id: sample_id.clone(),
        epoch: stored_epoch,
        position,
        input: Value::String(input.clone()),
        target: serde_json::to_value(target)?,
        output: serde_json::to_value(extra)?,
        scores: serde_json::to_value(scores)?,
        value,
        error: error.clone(),
        retries: u32::try_from(call_retries.len() + error_retries.len()).unwrap_or(u32::MAX),
        usage: serde_json::to_value(usage)?,
        timing_ms: *total_time_ms,
        metadata: Value::Object(metadata.clone()),
        completed_at: finished,
    })
}

/// A stored sample as the engine wrote it.
pub(crate) fn from_record(r: SampleRecord) -> Result<SampleResult> {
    let what = || format!("run {} sample `{}`", r.run_id, r.sample_id);
    let extra: SampleExtra = serde_json::from_value(r.output.clone()).with_context(what)?;
    let input = match &r.input {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let metadata = match &r.metadata {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    Ok(SampleResult {
        epoch: r.epoch + 1,
        seed: extra.seed,
        input,
        target: serde_json::from_value(r.target.clone()).with_context(what)?,
        choices: extra.choices,
        metadata,
        messages: extra.messages,
        output: extra.completion,
        scores: serde_json::from_value(r.scores.clone()).with_context(what)?,
        usage: serde_json::from_value(r.usage.clone()).with_context(what)?,
        judge_usage: extra.judge_usage,
        total_usage: extra.total_usage,
        calls: extra.calls,
        call_retries: extra.call_retries,
        error: r.error,
        error_retries: extra.error_retries,
        limit: serde_json::from_value(extra.limit).with_context(what)?,
        store: extra.store,
        started_at: extra.started_at,
        completed_at: extra.completed_at,
        total_time_ms: r.timing_ms,
        sample_id: r.sample_id,
    })
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use rsp_eval::{Provenance, Reducer, Score, Value as ScoreValue};
    use rsp_model::Role;

    use super::*;

    fn spec() -> RunSpec {
        RunSpec {
            key: "k".repeat(64),
            task: "suite-a/task-b".into(),
            task_version: 3,
            model: "openai/stub".into(),
            epochs: 2,
            reducer: Reducer::Mean,
            seed: u64::MAX - 7,
            limit: Some(10),
            planned: 20,
            provenance: Provenance {
                rsp_version: "0.1.0".into(),
                task_sha256: "t".into(),
                dataset_sha256: "d".into(),
                dev_sha256: Some("v".into()),
                templates_sha256: BTreeMap::from([("solver[0]".into(), "h".into())]),
                model: "openai/stub".into(),
                judge: Some("mock/echo".into()),
                generate_config: json!({"max_tokens": 16, "temperature": 0.1}),
                seed: u64::MAX - 7,
                host: "host".into(),
                sandbox: Some("unshare(net,pid,ipc,uts)+prlimit".into()),
                created_at: "2025-01-02T03:04:05.123456789+00:00".into(),
            },
        }
    }

    /// Every field set to something that is not its default.
    fn full_sample() -> SampleResult {
        let mut score = Score::new(ScoreValue::Number(0.1 + 0.2), Some("B".into()));
        score.explanation = Some("why".into());
        score.metadata.insert("judge_prompt".into(), json!("p"));
        let mut scores = BTreeMap::new();
        scores.insert("accuracy".into(), Score::new(ScoreValue::Partial, None));
        scores.insert("acc_norm".into(), score);
        let mut metadata = Map::new();
        metadata.insert("topic".into(), json!("physics"));
        metadata.insert("n".into(), json!(1.5e-300));
        let mut store = Map::new();
        store.insert(
            "loglikelihood".into(),
            json!([-1.234_567_890_123_456_7, -0.1]),
        );
        SampleResult {
            sample_id: "q-2".into(),
            epoch: 2,
            seed: 0xDEAD_BEEF_F00D_CAFE,
            input: "What is 2+2?".into(),
            target: vec!["4".into(), "four".into()],
            choices: vec!["3".into(), "4".into()],
            metadata,
            messages: vec![
                Message {
                    role: Role::User,
                    content: "What is 2+2?".into(),
                },
                Message {
                    role: Role::Assistant,
                    content: "ANSWER: 4".into(),
                },
            ],
            output: Some("ANSWER: 4".into()),
            scores,
            usage: Usage {
                input_tokens: 11,
                output_tokens: 3,
            },
            judge_usage: Usage {
                input_tokens: 5,
                output_tokens: 1,
            },
            total_usage: Usage {
                input_tokens: 22,
                output_tokens: 6,
            },
            calls: 2,
            call_retries: vec!["HTTP 429".into()],
            error: Some("judge verdict unreadable".into()),
            error_retries: vec!["timeout".into()],
            limit: Some(rsp_eval::state::LimitHit::Tokens),
            store,
            started_at: "2025-01-02T03:04:05.5+00:00".into(),
            completed_at: "2025-01-02T03:04:06.987654321+00:00".into(),
            total_time_ms: 1_487.654_321,
        }
    }

    #[test]
    fn a_fully_populated_sample_round_trips_exactly() {
        let s = full_sample();
        let r = to_record("run1", 7, Some("acc_norm"), &s).unwrap();
        assert_eq!(
            (r.epoch, r.position),
            (1, 7),
            "epochs are 0-based in the store"
        );
        assert_eq!(r.value, Some(0.1 + 0.2), "the primary metric's value");
        assert_eq!(r.retries, 2);
        assert_eq!(r.metadata["topic"], "physics");
        assert_eq!(r.usage["input_tokens"], 11);
        // Through JSON text, as the database holds it.
        let text = serde_json::to_string(&r).unwrap();
        let back: SampleRecord = serde_json::from_str(&text).unwrap();
        assert_eq!(from_record(back).unwrap(), s);
    }

    #[test]
    fn a_spec_round_trips_through_a_run_record() {
        let spec = spec();
        let launch = Launch {
            model: "openai/stub".into(),
            judge: None,
        };
        let new = new_run(&spec, Some(&launch)).unwrap();
        assert_eq!(
            (new.suite.as_str(), new.task.as_str()),
            ("suite-a", "task-b")
        );
        assert_eq!(new.task_hash, spec.key);
        assert_eq!(new.total_samples, 20);
        let record = RunRecord {
            id: "01".into(),
            model: new.model,
            model_name: None,
            suite: new.suite,
            task: new.task,
            task_hash: new.task_hash,
            config: new.config,
            provenance: new.provenance,
            status: RunStatus::Running,
            created_at: Utc::now(),
            finished_at: None,
            total_samples: new.total_samples,
            summary: None,
            source: RunSource::Native,
            source_sha256: None,
        };
        let stored = decode_run(record).unwrap();
        assert_eq!(stored.spec, spec);
        assert_eq!(stored.launch, Some(launch));
        assert_eq!(stored.summary, None);
    }

    #[tokio::test]
    async fn the_sink_resumes_the_same_run_and_keeps_samples_exact() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().await.unwrap());
        let task = rsp_eval::Catalog::builtin()
            .load("knowledge-proxy/mc")
            .unwrap()
            .remove(0);
        let sink = StoreSink::new(Arc::clone(&store), &task);
        let spec = spec();
        let run = sink.create_or_resume_run(&spec).await.unwrap();
        let mut a = full_sample();
        a.sample_id = task.samples[3].id.clone();
        a.error = None;
        let mut b = a.clone();
        b.sample_id = task.samples[1].id.clone();
        b.epoch = 1;
        b.error = Some("boom".into());
        sink.record_samples(&run, &[a.clone(), b.clone()])
            .await
            .unwrap();
        // A replayed batch neither duplicates nor overwrites a good result.
        let mut replay = a.clone();
        replay.output = Some("other".into());
        sink.record_samples(&run, &[replay]).await.unwrap();

        let again = sink.create_or_resume_run(&spec).await.unwrap();
        assert_eq!(again, run, "same key, same run");
        assert_eq!(
            sink.samples(&run).await.unwrap(),
            vec![b.clone(), a.clone()],
            "run order: dataset position, then epoch"
        );
        let done = sink.completed_keys(&run).await.unwrap();
        assert_eq!(done.into_iter().collect::<Vec<_>>(), vec![a.key()]);

        let stored = load_run(store.as_ref(), &run.0[..20].to_ascii_lowercase())
            .await
            .unwrap();
        assert_eq!(stored.record.status, RunStatus::Running);
        assert_eq!(stored.spec, spec);
        let err = load_run(store.as_ref(), "ZZZ").await.unwrap_err();
        assert!(err.to_string().contains("no run id starts with"), "{err}");
    }
}
