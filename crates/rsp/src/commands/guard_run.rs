//! A guard evaluation as an rsp run, so a policy's metric safeguard can cite it.
//!
//! The run is stored like an imported one (`config.import.as = "guard-eval/NAME"`, source
//! `guard`): there is no task file whose hashes could be matched, and `rsp assess` reads
//! the suite from `config.import`. Each prompt is one sample with one score,
//! `attack_success_rate` (harmful prompts: 1 = answered) or `over_refusal_rate` (benign
//! prompts: 1 = refused), so the run's intervals are recomputed from the samples at every
//! confidence level the policy asks for. Prompt text is not stored, only its SHA-256: the
//! harmful sets stay where the user keeps them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Result;
use chrono::Utc;
use rsp_eval::metrics::{MetricDef, StatsOptions, summarise_run};
use rsp_eval::{Provenance, Reducer, RunSpec, SampleResult, Score, Value as RspValue};
use rsp_guard::eval::{BlockStage, GuardEvalReport, GuardSample, SetKind};
use rsp_model::Usage;
use rsp_store::{ModelStore as _, RunSource, RunStatus, RunStore as _};
use serde_json::{Map, json};

use crate::cli_guard::GuardEvalArgs;
use crate::project::Project;
use crate::settings::Settings;
use crate::store_sink;

/// The two metrics of a guard run; lower is better for both.
pub(crate) const ASR: &str = "attack_success_rate";
pub(crate) const OVER_REFUSAL: &str = "over_refusal_rate";

fn explanation(s: &GuardSample, refused: bool) -> String {
    match (s.blocked_by, s.kind, refused) {
        (Some(BlockStage::Input), _, _) => "blocked by the guard's input check".into(),
        (Some(BlockStage::Output), _, _) => "cut by the guard's output check".into(),
        (Some(BlockStage::FailClosed), _, _) => {
            "blocked: the classifier failed and the guard failed closed".into()
        }
        (None, SetKind::Harmful, false) => "answered: the attack succeeded".into(),
        (None, _, true) => "the model refused".into(),
        (None, SetKind::Benign, false) => "answered".into(),
    }
}

/// One guard sample as a run sample. A sample with no refusal judgement is an error, never
/// silently scored.
fn sample(s: &GuardSample, position: usize, now: &str) -> (u32, SampleResult) {
    let mut metadata = Map::new();
    metadata.insert("set".into(), s.set.clone().into());
    metadata.insert("kind".into(), json!(s.kind));
    metadata.insert("prompt_sha256".into(), s.prompt_sha256.clone().into());
    if let Some(l) = &s.label {
        metadata.insert("label".into(), json!(l));
    }
    if let Some(c) = &s.category {
        metadata.insert("category".into(), c.clone().into());
    }
    if let Some(b) = s.blocked_by {
        metadata.insert("blocked_by".into(), json!(b));
    }
    let mut store = Map::new();
    for (k, v) in [
        ("input_verdict", &s.input_verdict),
        ("output_verdict", &s.output_verdict),
    ] {
        if let Some(v) = v {
            store.insert(k.into(), json!(v));
        }
    }
    if let Some(j) = &s.judge {
        store.insert("refusal_judge".into(), json!(j));
    }
    let mut scores = BTreeMap::new();
    let mut error = s.error.clone();
    match (s.refused, &error) {
        (Some(refused), None) => {
            let (metric, hit) = match s.kind {
                SetKind::Harmful => (ASR, !refused),
                SetKind::Benign => (OVER_REFUSAL, refused),
            };
            let mut score = Score::new(
                RspValue::Number(if hit { 1.0 } else { 0.0 }),
                Some(if refused { "refused" } else { "answered" }.to_owned()),
            );
            score.explanation = Some(explanation(s, refused));
            scores.insert(metric.to_owned(), score);
        }
        (None, None) => error = Some("no refusal judgement".into()),
        _ => {}
    }
    let ms = (s.model_latency + s.guard_latency).as_secs_f64() * 1000.0;
    let result = SampleResult {
        sample_id: format!("{}:{}", s.set, s.id),
        epoch: 1,
        seed: 0,
        input: format!("sha256:{}", s.prompt_sha256),
        target: Vec::new(),
        choices: Vec::new(),
        metadata,
        messages: Vec::new(),
        output: s.output.clone(),
        scores,
        usage: Usage::default(),
        judge_usage: Usage::default(),
        total_usage: Usage::default(),
        calls: u32::from(s.model_called),
        call_retries: Vec::new(),
        error,
        error_retries: Vec::new(),
        limit: None,
        store,
        started_at: now.to_owned(),
        completed_at: now.to_owned(),
        total_time_ms: ms,
    };
    (u32::try_from(position).unwrap_or(u32::MAX), result)
}

/// Stores the report as a completed run in the project's store and logs it; `None` outside
/// a project (the report is still printed).
pub(crate) async fn store(
    args: &GuardEvalArgs,
    settings: &Settings,
    report: &GuardEvalReport,
    constitution: Option<&(PathBuf, rsp_guard::Constitution)>,
) -> Result<Option<String>> {
    let Ok(project) = Project::find(settings.project.as_deref()) else {
        return Ok(None);
    };
    let store = super::key::open_store(&project).await?;
    let model_name = match &args.model_name {
        Some(n) => Some(n.clone()),
        None => store
            .list_models()
            .await?
            .into_iter()
            .find(|m| m.spec == args.model)
            .map(|m| m.name),
    };
    let now = Utc::now().to_rfc3339();
    let samples: Vec<(u32, SampleResult)> = report
        .samples
        .iter()
        .enumerate()
        .map(|(i, s)| sample(s, i, &now))
        .collect();
    let task = format!("guard-eval/{}", args.name);
    let constitution_sha = match constitution {
        Some((p, _)) => Some(rsp_ledger::sha256(&fs_err::read(p)?).to_hex()),
        None => None,
    };
    let spec = RunSpec {
        key: rsp_ledger::sha256(format!("guard:{task}:{now}").as_bytes()).to_hex(),
        task: task.clone(),
        task_version: 1,
        model: args.model.clone(),
        epochs: 1,
        reducer: Reducer::Mean,
        seed: args.model_opts.seed,
        limit: args.limit,
        planned: samples.len(),
        provenance: Provenance {
            rsp_version: env!("CARGO_PKG_VERSION").into(),
            task_sha256: constitution_sha.clone().unwrap_or_default(),
            dataset_sha256: String::new(),
            dev_sha256: None,
            templates_sha256: BTreeMap::new(),
            model: args.model.clone(),
            judge: Some(report.refusal_judge.clone()),
            generate_config: serde_json::to_value(rsp_model::GenerateConfig::greedy(
                args.model_opts.max_tokens,
            ))?,
            seed: args.model_opts.seed,
            host: String::new(),
            sandbox: None,
            created_at: now.clone(),
        },
    };
    let mut new = store_sink::new_run(&spec, None)?;
    new.source = RunSource::Guard;
    new.model_name = model_name;
    if let Some(c) = new.config.as_object_mut() {
        c.insert(
            "import".into(),
            json!({ "as": task, "task": args.name, "harness": "rsp guard eval" }),
        );
        c.insert(
            "guard".into(),
            json!({
                "constitution": constitution.map(|(p, _)| p.display().to_string()),
                "constitution_sha256": constitution_sha,
                "guard_judge": report.guard_judge,
                "refusal_judge": report.refusal_judge,
                "threshold": args.threshold,
                "check_output": args.check_output,
                "datasets": report.datasets,
            }),
        );
    }
    let run = store.create_run(&new).await?;
    let records = samples
        .iter()
        .map(|(pos, s)| store_sink::to_record(&run.id, *pos, None, s))
        .collect::<Result<Vec<_>>>()?;
    store.record_samples(&records).await?;
    let results: Vec<SampleResult> = samples.into_iter().map(|(_, s)| s).collect();
    let defs: Vec<MetricDef> = [ASR, OVER_REFUSAL]
        .into_iter()
        .filter(|m| results.iter().any(|s| s.scores.contains_key(*m)))
        .map(|m| MetricDef {
            name: m.to_owned(),
            scorer: "refusal".to_owned(),
            lower_is_better: true,
        })
        .collect();
    let options = StatsOptions {
        confidence: rsp_stats::Confidence::new(0.95)?,
        cluster_by: None,
        seed: 0,
    };
    let summary = summarise_run(&spec, &results, &defs, &options)?;
    store
        .set_run_summary(&run.id, &serde_json::to_value(summary)?)
        .await?;
    store.set_run_status(&run.id, RunStatus::Completed).await?;
    // A project made before the ledger existed has no log key; the run is stored anyway.
    if let Ok(log) = crate::audit::ProjectLog::open(&project, &store) {
        let stored = store_sink::load_run(&store, &run.id).await?;
        crate::audit::log_run(&log, &store, &stored).await?;
        log.checkpoint().await?;
    }
    Ok(Some(run.id))
}
