//! `rsp import inspect|lm-eval` and `rsp export inspect`: other harnesses' logs as rsp runs,
//! and rsp runs as Inspect logs.
//!
//! Parsing and writing live in `rsp-interop`; this module maps its harness-neutral
//! [`ImportedLog`] to the store's run and sample records the same way native runs are
//! mapped ([`store_sink::new_run`], [`store_sink::to_record`]), so `rsp runs show` and
//! `rsp compare` work on imported runs unchanged.
//!
//! # How an imported run is recorded
//!
//! * `source` is `inspect` or `lm-eval`, `source_sha256` the original file's sha256.
//! * `suite`/`task` come from `--as SUITE/TASK`, else `inspect/<task>` or `lm-eval/<task>`;
//!   `model_name` from `--model-name`.
//! * `config.spec` is an rsp [`RunSpec`] (for `runs show`/`compare`): its key hashes the
//!   file sha256 and the harness task, its provenance `task_sha256` is the file sha256.
//! * `config.import` holds what assess needs to use the run as evidence without task
//!   hashes: `{harness, format, file, task, as, elicitation, model, status, epochs,
//!   epochs_reducer, scorers, reported, checks, warnings, rebuilt_from_journal}`, where
//!   `elicitation` is an `rsp_policy::Elicitation` and `checks` rsp's recomputation.
//! * Samples: epochs from 0 as for native runs; a value Inspect left unscored (NaN) or
//!   that is not a scalar is left out of `scores` (the raw value is in the score's
//!   metadata when it is not a plain C/I/P/N or number).
//!
//! Import is idempotent: a file whose sha256 (and harness task) is already stored is not
//! imported again; the existing run is reported.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use rsp_eval::metrics::{MetricDef, StatsOptions, summarise_run};
use rsp_eval::{Provenance, Reducer, RunSpec, SampleResult, Score, Value as RspValue};
use rsp_interop::{
    Harness, ImportedLog, ImportedSample, MetricCheck, SampleId, ScoreValue, WriteOptions,
};
use rsp_model::{Message, Role, Usage};
use rsp_policy::Elicitation;
use rsp_store::{RunFilter, RunRecord, RunSource, RunStatus, RunStore as _, SqliteStore};
use serde_json::{Value, json};

use crate::cli::{ExportCommand, ImportCommand, ImportOpts};
use crate::exit::Code;
use crate::settings::Settings;
use crate::store_sink::{self, open_store, store_location};

use super::store_runtime as runtime;

/// Parses `cot,fewshot=3,best_of=4,tools` (or `plain`) into an elicitation.
pub(crate) fn parse_elicitation(text: &str) -> Result<Elicitation> {
    let mut e = Elicitation::default();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        let number = || -> Result<u32> {
            value
                .parse()
                .with_context(|| format!("elicitation `{part}`: expected a number after `=`"))
        };
        match key {
            "plain" => {}
            "cot" | "chain_of_thought" => e.chain_of_thought = true,
            "tools" => e.tools = true,
            "fewshot" | "few_shot" => e.few_shot = number()?,
            "best_of" | "best_of_n" => {
                e.best_of_n = number()?;
                if e.best_of_n == 0 {
                    bail!("elicitation `{part}`: best_of must be at least 1");
                }
            }
            other => bail!(
                "unknown elicitation `{other}` (expected cot, fewshot=N, best_of=N, tools or plain)"
            ),
        }
    }
    Ok(e)
}

/// Inspect reducer names (`at_least_2`) to rsp's (`at_least(2)`) and back.
fn rsp_reducer(inspect: &str) -> Reducer {
    let parsed = if let Some(k) = inspect.strip_prefix("at_least_") {
        format!("at_least({k})").parse()
    } else if let Some(k) = inspect.strip_prefix("pass_at_") {
        format!("pass_at({k})").parse()
    } else {
        inspect.parse()
    };
    parsed.unwrap_or(Reducer::Mean)
}

fn inspect_reducer(r: Reducer) -> String {
    match r {
        Reducer::AtLeast(k) => format!("at_least_{k}"),
        Reducer::PassAt(k) => format!("pass_at_{k}"),
        other => other.to_string(),
    }
}

/// An imported score value as rsp's, or `None` when rsp cannot use it (unscored NaN,
/// lists, dicts, null).
fn rsp_value(v: &ScoreValue) -> Option<RspValue> {
    match v {
        ScoreValue::Str(s) if s == "C" => Some(RspValue::Correct),
        ScoreValue::Str(s) if s == "I" => Some(RspValue::Incorrect),
        ScoreValue::Str(s) if s == "P" => Some(RspValue::Partial),
        ScoreValue::Str(s) if s == "N" => Some(RspValue::NoAnswer),
        ScoreValue::Number(x) if x.is_nan() => None,
        ScoreValue::List(_) | ScoreValue::Dict(_) | ScoreValue::Null => None,
        ScoreValue::Bool(b) => Some(RspValue::from_bool(*b)),
        other => rsp_interop::recompute::value_to_float(other).map(RspValue::Number),
    }
}

fn sample_result(s: &ImportedSample) -> SampleResult {
    let mut scores = BTreeMap::new();
    for (name, sc) in &s.scores {
        let Some(value) = rsp_value(&sc.value) else {
            continue;
        };
        let mut score = Score::new(value, sc.answer.clone());
        score.explanation.clone_from(&sc.explanation);
        if !matches!(sc.value, ScoreValue::Number(_))
            && !matches!(&sc.value, ScoreValue::Str(x) if ["C", "I", "P", "N"].contains(&x.as_str()))
        {
            score.metadata.insert(
                "imported_value".into(),
                serde_json::to_value(&sc.value).unwrap_or(Value::Null),
            );
        }
        scores.insert(name.clone(), score);
    }
    let messages = s
        .messages
        .iter()
        .map(|m| Message {
            role: match m.role.as_str() {
                "system" => Role::System,
                "assistant" => Role::Assistant,
                _ => Role::User,
            },
            content: m.content.clone(),
        })
        .collect();
    let usage = Usage {
        input_tokens: s.input_tokens,
        output_tokens: s.output_tokens,
    };
    SampleResult {
        sample_id: s.id.to_string(),
        epoch: s.epoch.max(1),
        seed: 0,
        input: s.input.clone(),
        target: s.target.clone(),
        choices: s.choices.clone(),
        metadata: s.metadata.clone(),
        messages,
        output: s.completion.clone(),
        scores,
        usage,
        judge_usage: Usage::default(),
        total_usage: usage,
        calls: 0,
        call_retries: Vec::new(),
        error: s.error.clone(),
        error_retries: Vec::new(),
        limit: None,
        store: serde_json::Map::new(),
        started_at: s.started_at.clone().unwrap_or_default(),
        completed_at: s.completed_at.clone().unwrap_or_default(),
        total_time_ms: s.total_time.filter(|t| t.is_finite()).unwrap_or(0.0) * 1000.0,
    }
}

fn source_of(h: Harness) -> RunSource {
    match h {
        Harness::Inspect => RunSource::Inspect,
        Harness::LmEval => RunSource::LmEval,
    }
}

fn suite_of(h: Harness) -> &'static str {
    match h {
        Harness::Inspect => "inspect",
        Harness::LmEval => "lm-eval",
    }
}

/// What `--json` prints, and what is kept in `config.import`.
fn import_json(
    log: &ImportedLog,
    file: &Path,
    opts: &ImportOpts,
    elicitation: &Elicitation,
    checks: &[MetricCheck],
) -> Value {
    json!({
        "harness": log.harness,
        "format": log.format,
        "layout": log.layout,
        "file": file.display().to_string(),
        "source_sha256": log.source_sha256,
        "task": log.task,
        "as": opts.as_task,
        "elicitation": elicitation,
        "model": log.model,
        "status": log.status,
        "samples": log.samples.len(),
        "epochs": log.epochs,
        "epochs_reducer": log.epochs_reducer,
        "scorers": log.scorers,
        "reported": log.reported,
        "checks": checks,
        "warnings": log.warnings,
        "rebuilt_from_journal": log.rebuilt_from_journal,
        "provenance": log.provenance,
    })
}

async fn existing(store: &SqliteStore, log: &ImportedLog) -> Result<Option<RunRecord>> {
    Ok(store
        .list_runs(&RunFilter::default())
        .await?
        .into_iter()
        .find(|r| {
            r.source == source_of(log.harness)
                && r.source_sha256.as_deref() == Some(log.source_sha256.as_str())
                && r.config["import"]["task"].as_str() == Some(log.task.as_str())
        }))
}

/// Stores one imported log as a run; returns its id.
async fn store_log(
    store: &SqliteStore,
    log: &ImportedLog,
    opts: &ImportOpts,
    import: Value,
) -> Result<String> {
    let task_id = opts
        .as_task
        .clone()
        .unwrap_or_else(|| format!("{}/{}", suite_of(log.harness), log.task));
    let reducer = rsp_reducer(log.epochs_reducer.first().map_or("mean", String::as_str));
    let samples: Vec<SampleResult> = log.samples.iter().map(sample_result).collect();
    let spec = RunSpec {
        key: rsp_interop::sha256_hex(
            format!("import:{}:{}", log.source_sha256, log.task).as_bytes(),
        ),
        task: task_id,
        task_version: log
            .task_version
            .as_deref()
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0, |v| v as u32),
        model: log.model.clone(),
        epochs: log.epochs,
        reducer,
        seed: 0,
        limit: None,
        planned: log
            .total_samples
            .map_or(samples.len(), |n| usize::try_from(n).unwrap_or(usize::MAX)),
        provenance: Provenance {
            rsp_version: env!("CARGO_PKG_VERSION").into(),
            task_sha256: log.source_sha256.clone(),
            dataset_sha256: String::new(),
            dev_sha256: None,
            templates_sha256: BTreeMap::new(),
            model: log.model.clone(),
            judge: None,
            generate_config: log.provenance.generate_config.clone(),
            seed: 0,
            host: String::new(),
            sandbox: None,
            created_at: log.created.clone().unwrap_or_default(),
        },
    };
    let mut new = store_sink::new_run(&spec, None)?;
    new.source = source_of(log.harness);
    new.source_sha256 = Some(log.source_sha256.clone());
    new.model_name.clone_from(&opts.model_name);
    if let Some(c) = new.config.as_object_mut() {
        c.insert("import".into(), import);
    }
    let run = store.create_run(&new).await?;
    let positions: BTreeMap<&str, u32> = {
        let mut seen = BTreeMap::new();
        for s in &samples {
            let next = u32::try_from(seen.len()).unwrap_or(u32::MAX);
            seen.entry(s.sample_id.as_str()).or_insert(next);
        }
        seen
    };
    let primary = log.scorers.first().map(String::as_str);
    let records = samples
        .iter()
        .map(|s| store_sink::to_record(&run.id, positions[s.sample_id.as_str()], primary, s))
        .collect::<Result<Vec<_>>>()?;
    store.record_samples(&records).await?;
    // rsp's own summary (intervals and all) over the scorers rsp can read.
    let usable: BTreeSet<&String> = samples.iter().flat_map(|s| s.scores.keys()).collect();
    let defs: Vec<MetricDef> = log
        .scorers
        .iter()
        .filter(|s| usable.contains(s))
        .map(|s| MetricDef {
            name: s.clone(),
            scorer: format!("{}-import", suite_of(log.harness)),
            lower_is_better: false,
        })
        .collect();
    let options = StatsOptions {
        confidence: rsp_stats::Confidence::new(0.95)?,
        cluster_by: None,
        seed: 0,
    };
    match summarise_run(&spec, &samples, &defs, &options) {
        Ok(summary) => {
            store
                .set_run_summary(&run.id, &serde_json::to_value(summary)?)
                .await?;
        }
        Err(e) => eprintln!("warning: run {}: no rsp summary: {e}", run.id),
    }
    let status = match log.status.as_str() {
        "success" => RunStatus::Completed,
        "error" => RunStatus::Failed,
        _ => RunStatus::Interrupted,
    };
    store.set_run_status(&run.id, status).await?;
    Ok(run.id)
}

fn read_logs(cmd: &ImportCommand) -> Result<Vec<(std::path::PathBuf, ImportedLog)>> {
    let mut out = Vec::new();
    match cmd {
        ImportCommand::Inspect { paths, .. } => {
            for p in paths {
                for file in rsp_interop::inspect_log_files(p)? {
                    match rsp_interop::read_inspect_file(&file) {
                        Ok(log) => out.push((file, log)),
                        // A directory may hold other JSON (Inspect's own listing files):
                        // skip what is not a log, loudly. A file named explicitly must read.
                        Err(e) if p.is_dir() => {
                            eprintln!("warning: skipped {}: {e}", file.display());
                        }
                        Err(e) => {
                            return Err(e)
                                .with_context(|| format!("cannot import {}", file.display()));
                        }
                    }
                }
            }
        }
        ImportCommand::LmEval { path, .. } => {
            for log in rsp_interop::read_lm_eval_path(path)
                .with_context(|| format!("cannot import {}", path.display()))?
            {
                out.push((path.clone(), log));
            }
        }
    }
    Ok(out)
}

/// `rsp import inspect|lm-eval`.
pub fn import(cmd: &ImportCommand, settings: &Settings) -> Result<Code> {
    let opts = match cmd {
        ImportCommand::Inspect { opts, .. } | ImportCommand::LmEval { opts, .. } => opts,
    };
    if let Some(t) = &opts.as_task
        && t.split('/').filter(|p| !p.is_empty()).count() != 2
    {
        bail!("--as expects SUITE/TASK, got `{t}`");
    }
    let elicitation = match &opts.elicitation {
        Some(e) => parse_elicitation(e)?,
        None => Elicitation::default(),
    };
    let logs = read_logs(cmd)?;
    runtime()?.block_on(async {
        let (path, _) = store_location(settings)?;
        let store = open_store(&path).await?;
        let mut out = std::io::stdout().lock();
        let mut report = Vec::new();
        let mut disagreements = 0;
        for (file, log) in &logs {
            let checks = rsp_interop::verify(log);
            disagreements += checks.iter().filter(|c| c.agrees == Some(false)).count();
            let import = import_json(log, file, opts, &elicitation, &checks);
            let (run, already) = match existing(&store, log).await? {
                Some(r) => (r.id, true),
                None => (store_log(&store, log, opts, import.clone()).await?, false),
            };
            if opts.json {
                let mut v = import;
                if let Some(o) = v.as_object_mut() {
                    o.insert("run".into(), json!(run));
                    o.insert("already_imported".into(), json!(already));
                }
                report.push(v);
                continue;
            }
            print_one(&mut out, file, log, &run, already, &checks)?;
        }
        if opts.json {
            writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
        }
        Ok(if disagreements > 0 {
            Code::Fail
        } else {
            Code::Ok
        })
    })
}

fn print_one(
    out: &mut impl std::io::Write,
    file: &Path,
    log: &ImportedLog,
    run: &str,
    already: bool,
    checks: &[MetricCheck],
) -> Result<()> {
    let verb = if already {
        "already imported as"
    } else {
        "imported as"
    };
    writeln!(out, "{} [{}]: {verb} run {run}", file.display(), log.task)?;
    writeln!(
        out,
        "  model {}, status {}, {} sample-epochs, {} epochs{}",
        log.model,
        log.status,
        log.samples.len(),
        log.epochs,
        if log.rebuilt_from_journal {
            ", rebuilt from the journal"
        } else {
            ""
        }
    )?;
    for c in checks {
        let verdict = match c.agrees {
            Some(true) => "agrees".to_owned(),
            Some(false) => format!(
                "DISAGREES: rsp computes {}",
                c.recomputed.map_or("-".into(), |r| format!("{r:.12}"))
            ),
            None => format!("not checked ({})", c.note.as_deref().unwrap_or("")),
        };
        writeln!(
            out,
            "  {} [{}] {} = {:.6}: {verdict}",
            c.score, c.reducer, c.metric, c.reported
        )?;
    }
    for w in &log.warnings {
        writeln!(out, "  note: {w}")?;
    }
    Ok(())
}

fn score_value(v: RspValue) -> ScoreValue {
    match v {
        RspValue::Correct => ScoreValue::Str("C".into()),
        RspValue::Incorrect => ScoreValue::Str("I".into()),
        RspValue::Partial => ScoreValue::Str("P".into()),
        RspValue::NoAnswer => ScoreValue::Str("N".into()),
        RspValue::Number(x) => ScoreValue::Number(x),
    }
}

/// An rsp run in the neutral form the Inspect writer takes.
fn to_imported(run: &store_sink::StoredRun, samples: &[SampleResult]) -> ImportedLog {
    let spec = &run.spec;
    let mut scorers: Vec<String> = run
        .summary
        .as_ref()
        .map(|s| s.metrics.iter().map(|m| m.name.clone()).collect())
        .unwrap_or_default();
    for s in samples {
        for k in s.scores.keys() {
            if !scorers.contains(k) {
                scorers.push(k.clone());
            }
        }
    }
    let imported = samples
        .iter()
        .map(|s| ImportedSample {
            id: SampleId::Str(s.sample_id.clone()),
            epoch: s.epoch,
            input: s.input.clone(),
            target: s.target.clone(),
            choices: s.choices.clone(),
            completion: s.output.clone(),
            messages: s
                .messages
                .iter()
                .map(|m| rsp_interop::Message {
                    role: m.role.as_str().to_owned(),
                    content: m.content.clone(),
                })
                .collect(),
            scores: s
                .scores
                .iter()
                .map(|(k, sc)| {
                    let score = rsp_interop::SampleScore {
                        value: score_value(sc.value),
                        answer: sc.answer.clone(),
                        explanation: sc.explanation.clone(),
                    };
                    (k.clone(), score)
                })
                .collect(),
            metadata: s.metadata.clone(),
            error: s.error.clone(),
            input_tokens: s.usage.input_tokens,
            output_tokens: s.usage.output_tokens,
            total_time: Some(s.total_time_ms / 1000.0),
            started_at: Some(s.started_at.clone()).filter(|t| !t.is_empty()),
            completed_at: Some(s.completed_at.clone()).filter(|t| !t.is_empty()),
        })
        .collect();
    ImportedLog {
        harness: Harness::Inspect,
        format: rsp_interop::LogFormat::InspectEval,
        layout: None,
        source_sha256: spec.key.clone(),
        task: spec.task.clone(),
        task_version: Some(spec.task_version.to_string()),
        model: spec.model.clone(),
        status: match run.record.status {
            RunStatus::Completed => "success",
            RunStatus::Failed => "error",
            RunStatus::Interrupted => "cancelled",
            RunStatus::Running => "started",
        }
        .into(),
        created: Some(spec.provenance.created_at.clone()).filter(|c| !c.is_empty()),
        completed_at: run.record.finished_at.map(|t| t.to_rfc3339()),
        epochs: spec.epochs,
        epochs_reducer: vec![inspect_reducer(spec.reducer)],
        dataset: Some(spec.task.clone()),
        total_samples: Some(spec.planned as u64),
        scorers,
        samples: imported,
        reported: Vec::new(),
        provenance: rsp_interop::Provenance {
            generate_config: spec.provenance.generate_config.clone(),
            run_id: Some(run.record.id.clone()),
            ..rsp_interop::Provenance::default()
        },
        rebuilt_from_journal: false,
        error: None,
        warnings: Vec::new(),
    }
}

/// `rsp export inspect RUN -o FILE.eval`.
pub fn export(cmd: ExportCommand, settings: &Settings) -> Result<Code> {
    let ExportCommand::Inspect { run, out } = cmd;
    runtime()?.block_on(async {
        let (path, _) = store_location(settings)?;
        if !path.is_file() {
            bail!("no runs yet (rsp eval SUITE --model SPEC)");
        }
        let store = open_store(&path).await?;
        let stored = store_sink::load_run(store.as_ref(), &run).await?;
        let samples = store_sink::samples(store.as_ref(), &stored.record.id).await?;
        let log = to_imported(&stored, &samples);
        let options = WriteOptions {
            package: ("rsp".into(), env!("CARGO_PKG_VERSION").into()),
            solvers: vec!["rsp".into()],
        };
        let bytes = rsp_interop::write_eval(&log, &options)?;
        fs_err::write(&out, bytes)?;
        println!(
            "wrote {} ({} sample-epochs of run {})",
            out.display(),
            samples.len(),
            stored.record.id
        );
        Ok(Code::Ok)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn elicitation_lists_parse() {
        let e = parse_elicitation("cot, fewshot=3,best_of=4,tools").unwrap();
        assert!(e.chain_of_thought && e.tools);
        assert_eq!((e.few_shot, e.best_of_n), (3, 4));
        assert_eq!(parse_elicitation("plain").unwrap(), Elicitation::default());
        assert!(parse_elicitation("fewshot=x").is_err());
        assert!(parse_elicitation("best_of=0").is_err());
        assert!(parse_elicitation("telepathy").is_err());
    }

    #[test]
    fn reducer_names_convert_both_ways() {
        assert_eq!(rsp_reducer("at_least_2"), Reducer::AtLeast(2));
        assert_eq!(rsp_reducer("pass_at_3"), Reducer::PassAt(3));
        assert_eq!(rsp_reducer("max"), Reducer::Max);
        assert_eq!(inspect_reducer(Reducer::PassAt(3)), "pass_at_3");
        assert_eq!(inspect_reducer(Reducer::Median), "median");
    }

    #[test]
    fn unscored_and_container_values_are_not_rsp_scores() {
        assert_eq!(rsp_value(&ScoreValue::Number(f64::NAN)), None);
        assert_eq!(rsp_value(&ScoreValue::Null), None);
        assert_eq!(
            rsp_value(&ScoreValue::Str("P".into())),
            Some(RspValue::Partial)
        );
        assert_eq!(
            rsp_value(&ScoreValue::Str("yes".into())),
            Some(RspValue::Number(1.0))
        );
    }
}
