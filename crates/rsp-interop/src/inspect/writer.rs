//! Writing an Inspect `.eval` log (schema version 2).
//!
//! The archive holds what Inspect 0.3.x itself writes for a finished run, in the same
//! order: `_journal/start.json`, one `samples/{id}_epoch_{n}.json` per sample-epoch
//! (monolith layout, readable by every Inspect version with `.eval` support),
//! `_journal/summaries/1.json`, `summaries.json`, `reductions.json` and `header.json`.
//! Entries are deflate-compressed: Inspect reads deflate and zstd, and deflate is also
//! what versions before 0.3.206 understand.
//!
//! Metrics in `results` are computed by rsp with Inspect's definitions ([`crate::recompute`]):
//! `accuracy` and `stderr` for scorers whose values are all `C`/`I`/`P`/`N`, `mean` and
//! `stderr` otherwise, after reducing epochs with the log's first reducer. Unscored values
//! (NaN) are written as bare `NaN`, as Inspect writes them.

use std::collections::BTreeMap;
use std::io::{Cursor, Write};

use serde_json::{Map, Value, json};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::InteropError;
use crate::lenient::{float_value, to_python_json};
use crate::model::{ImportedLog, ImportedSample, SampleId, ScoreValue};
use crate::recompute::{Reducer, metric, reduced_values};

/// What the writer needs besides the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOptions {
    /// Name and version recorded under `eval.packages` (e.g. `("rsp", "0.1.0")`).
    pub package: (String, String),
    /// Solver steps for `plan.steps` (names only; rsp's chain, e.g. `["generate"]`).
    pub solvers: Vec<String>,
}

fn score_json(v: &ScoreValue) -> Value {
    match v {
        ScoreValue::Bool(b) => Value::Bool(*b),
        ScoreValue::Number(x) => float_value(*x),
        ScoreValue::Str(s) => Value::String(s.clone()),
        ScoreValue::List(l) => Value::Array(l.iter().map(score_json).collect()),
        ScoreValue::Dict(d) => {
            Value::Object(d.iter().map(|(k, v)| (k.clone(), score_json(v))).collect())
        }
        ScoreValue::Null => Value::Null,
    }
}

fn id_json(id: &SampleId) -> Value {
    match id {
        SampleId::Int(i) => json!(i),
        SampleId::Str(s) => json!(s),
    }
}

fn target_json(t: &[String]) -> Value {
    match t {
        [one] => json!(one),
        many => json!(many),
    }
}

fn usage_json(s: &ImportedSample) -> Value {
    json!({
        "input_tokens": s.input_tokens,
        "output_tokens": s.output_tokens,
        "total_tokens": s.input_tokens + s.output_tokens,
    })
}

fn scores_json(s: &ImportedSample) -> Value {
    let mut m = Map::new();
    for (name, sc) in &s.scores {
        let mut o = Map::new();
        o.insert("value".into(), score_json(&sc.value));
        if let Some(a) = &sc.answer {
            o.insert("answer".into(), json!(a));
        }
        if let Some(e) = &sc.explanation {
            o.insert("explanation".into(), json!(e));
        }
        o.insert("history".into(), json!([]));
        m.insert(name.clone(), Value::Object(o));
    }
    Value::Object(m)
}

fn error_json(e: &str) -> Value {
    json!({ "message": e, "traceback": "", "traceback_ansi": "" })
}

fn sample_json(log: &ImportedLog, s: &ImportedSample) -> Value {
    let completion = s.completion.clone().unwrap_or_default();
    let mut messages: Vec<Value> = s
        .messages
        .iter()
        .map(|m| json!({ "role": m.role, "content": m.content }))
        .collect();
    if messages.is_empty() {
        messages.push(json!({ "role": "user", "content": s.input, "source": "input" }));
        if s.completion.is_some() {
            messages
                .push(json!({ "role": "assistant", "content": completion, "source": "generate" }));
        }
    }
    let mut o = json!({
        "id": id_json(&s.id),
        "epoch": s.epoch,
        "input": s.input,
        "target": target_json(&s.target),
        "messages": messages,
        "output": {
            "model": log.model,
            "choices": [{
                "message": { "role": "assistant", "content": completion, "source": "generate" },
                "stop_reason": "stop",
            }],
            "completion": completion,
            "usage": usage_json(s),
        },
        "scores": scores_json(s),
        "metadata": s.metadata,
        "store": {},
        "events": [],
        "model_usage": { log.model.clone(): usage_json(s) },
        "attachments": {},
    });
    if let Some(obj) = o.as_object_mut() {
        if !s.choices.is_empty() {
            obj.insert("choices".into(), json!(s.choices));
        }
        if let Some(t) = s.total_time {
            obj.insert("total_time".into(), float_value(t));
        }
        for (k, v) in [
            ("started_at", &s.started_at),
            ("completed_at", &s.completed_at),
        ] {
            if let Some(v) = v {
                obj.insert(k.into(), json!(v));
            }
        }
        if let Some(e) = &s.error {
            obj.insert("error".into(), error_json(e));
        }
    }
    o
}

fn summary_json(log: &ImportedLog, s: &ImportedSample) -> Value {
    let mut o = json!({
        "id": id_json(&s.id),
        "epoch": s.epoch,
        "input": s.input,
        "target": target_json(&s.target),
        "metadata": s.metadata,
        "scores": scores_json(s),
        "model_usage": { log.model.clone(): usage_json(s) },
        "retries": 0,
        "completed": true,
        "message_count": s.messages.len().max(2),
    });
    if let Some(obj) = o.as_object_mut() {
        for (k, v) in [
            ("started_at", &s.started_at),
            ("completed_at", &s.completed_at),
        ] {
            if let Some(v) = v {
                obj.insert(k.into(), json!(v));
            }
        }
        if let Some(t) = s.total_time {
            obj.insert("total_time".into(), float_value(t));
        }
        if let Some(e) = &s.error {
            obj.insert("error".into(), json!(e));
        }
    }
    o
}

/// `results.scores` and `reductions`, computed from the samples.
fn results_and_reductions(log: &ImportedLog) -> (Value, Value) {
    let reducer_name = log.epochs_reducer.first().map_or("mean", String::as_str);
    let reducer = Reducer::parse(reducer_name).unwrap_or(Reducer::Mean);
    let reducer_name = if Reducer::parse(reducer_name).is_some() {
        reducer_name
    } else {
        "mean"
    };
    let ids: std::collections::BTreeSet<&SampleId> = log.samples.iter().map(|s| &s.id).collect();
    let mut scores = Vec::new();
    let mut reductions = Vec::new();
    for scorer in &log.scorers {
        let values = reduced_values(&log.samples, scorer, scorer, reducer);
        let categorical = log
            .samples
            .iter()
            .filter_map(|s| s.scores.get(scorer))
            .all(|sc| matches!(&sc.value, ScoreValue::Str(v) if ["C", "I", "P", "N"].contains(&v.as_str())));
        let floats: Vec<f64> = values.iter().map(|(_, v)| *v).collect();
        let headline = if categorical { "accuracy" } else { "mean" };
        let mut metrics = Map::new();
        for name in [headline, "stderr"] {
            let v = metric(name, &floats).unwrap_or(f64::NAN);
            metrics.insert(
                name.into(),
                json!({ "name": name, "value": float_value(v), "params": {} }),
            );
        }
        scores.push(json!({
            "name": scorer,
            "scorer": scorer,
            "reducer": reducer_name,
            "scored_samples": floats.len(),
            "unscored_samples": ids.len() - floats.len(),
            "params": {},
            "metrics": metrics,
        }));
        let reduced: BTreeMap<&SampleId, f64> = values.iter().map(|(id, v)| (id, *v)).collect();
        let samples: Vec<Value> = ids
            .iter()
            .map(|id| {
                let v = reduced.get(*id).copied().unwrap_or(f64::NAN);
                json!({ "value": float_value(v), "history": [], "sample_id": id_json(id) })
            })
            .collect();
        reductions.push(json!({ "scorer": scorer, "reducer": reducer_name, "samples": samples }));
    }
    let completed = log.samples.iter().filter(|s| s.error.is_none()).count();
    let results = json!({
        "total_samples": log.samples.len(),
        "completed_samples": completed,
        "scores": scores,
    });
    (results, Value::Array(reductions))
}

/// An Inspect-style short id derived from the log's content hash (22 characters).
fn short_id(log: &ImportedLog, salt: &str) -> String {
    let h = crate::sha256_hex(format!("{salt}:{}", log.source_sha256).as_bytes());
    h.chars().take(22).collect()
}

/// Serialises `log` as an Inspect schema-2 `.eval` archive.
pub fn write_eval(log: &ImportedLog, options: &WriteOptions) -> Result<Vec<u8>, InteropError> {
    let created = log.created.clone().unwrap_or_default();
    let completed_at = log.completed_at.clone().unwrap_or_else(|| created.clone());
    let reducer = log
        .epochs_reducer
        .first()
        .cloned()
        .unwrap_or_else(|| "mean".into());
    let mut sample_ids: Vec<Value> = Vec::new();
    for s in &log.samples {
        let id = id_json(&s.id);
        if !sample_ids.contains(&id) {
            sample_ids.push(id);
        }
    }
    let mut eval = json!({
        "eval_id": log.provenance.eval_id.clone().unwrap_or_else(|| short_id(log, "eval")),
        "run_id": log.provenance.run_id.clone().unwrap_or_else(|| short_id(log, "run")),
        "created": created,
        "task": log.task,
        "task_id": log.provenance.task_id.clone().unwrap_or_else(|| short_id(log, "task")),
        "task_version": log.task_version.as_deref().and_then(|v| v.parse::<i64>().ok()).unwrap_or(0),
        "task_args": if log.provenance.task_args.is_object() { log.provenance.task_args.clone() } else { json!({}) },
        "dataset": {
            "name": log.dataset.clone().unwrap_or_else(|| log.task.clone()),
            "samples": sample_ids.len(),
            "sample_ids": sample_ids,
            "shuffled": false,
        },
        "model": log.model,
        "model_generate_config": if log.provenance.generate_config.is_object() { log.provenance.generate_config.clone() } else { json!({}) },
        "model_args": if log.provenance.model_args.is_object() { log.provenance.model_args.clone() } else { json!({}) },
        "config": {
            "epochs": log.epochs,
            "epochs_reducer": [reducer],
            "fail_on_error": true,
            "log_samples": true,
        },
        "packages": { options.package.0.clone(): options.package.1.clone() },
    });
    if let Some(e) = eval.as_object_mut()
        && log.provenance.revision.get("commit").is_some()
        && log.provenance.revision.get("origin").is_some()
    {
        e.insert("revision".into(), log.provenance.revision.clone());
    }
    let steps: Vec<Value> = options
        .solvers
        .iter()
        .map(|s| json!({ "solver": s, "params": {} }))
        .collect();
    let plan = json!({ "name": "plan", "steps": steps, "config": {} });
    let (results, reductions) = results_and_reductions(log);
    let status = match log.status.as_str() {
        s @ ("started" | "success" | "cancelled" | "error") => s.to_owned(),
        _ => "success".to_owned(),
    };
    let (inp, out): (u64, u64) = log.samples.iter().fold((0, 0), |(i, o), s| {
        (i + s.input_tokens, o + s.output_tokens)
    });
    let mut header = json!({
        "version": 2,
        "status": status,
        "eval": eval,
        "plan": plan,
        "results": results,
        "stats": {
            "started_at": created,
            "completed_at": completed_at,
            "model_usage": { log.model.clone(): { "input_tokens": inp, "output_tokens": out, "total_tokens": inp + out } },
        },
        "invalidated": false,
    });
    if let (Some(h), Some(e)) = (header.as_object_mut(), &log.error) {
        h.insert("error".into(), error_json(e));
    }
    let start = json!({ "version": 2, "eval": header["eval"], "plan": header["plan"] });
    let summaries: Vec<Value> = log.samples.iter().map(|s| summary_json(log, s)).collect();
    let summaries = Value::Array(summaries);

    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let mut put = |name: &str, v: &Value| -> Result<(), InteropError> {
        zip.start_file(name, opts)?;
        zip.write_all(&to_python_json(v)?)
            .map_err(|source| InteropError::Entry {
                entry: name.to_owned(),
                source,
            })
    };
    put("_journal/start.json", &start)?;
    for s in &log.samples {
        put(
            &format!("samples/{}_epoch_{}.json", s.id, s.epoch),
            &sample_json(log, s),
        )?;
    }
    put("_journal/summaries/1.json", &summaries)?;
    put("summaries.json", &summaries)?;
    put("reductions.json", &reductions)?;
    put("header.json", &header)?;
    Ok(zip.finish()?.into_inner())
}
