//! Inspect's JSON documents (header, journal start, samples) into the neutral model.
//!
//! Shared by the `.json` and `.eval` readers: both hold the same pydantic models
//! (`EvalLog`, `EvalSample`), only packaged differently. Every field is read defensively
//! — a missing or mistyped optional field is skipped, never a panic — because logs come
//! from many Inspect versions and from crashed runs.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::InteropError;
use crate::lenient::number;
use crate::model::{
    Harness, ImportedLog, ImportedSample, LogFormat, Message, Provenance, ReportedMetric,
    ReportedScore, SampleId, SampleScore, ScoreValue,
};

/// The scheme Inspect uses for strings moved into a sample's attachment table.
pub(crate) const ATTACHMENT: &str = "attachment://";

fn str_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn u64_of(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|x| *x >= 0.0 && x.fract() == 0.0)
            .map(|x| x as u64)
    })
}

/// An empty log for `format`, to be filled in by [`apply_header`] and samples.
pub(crate) fn empty_log(format: LogFormat, sha256: String) -> ImportedLog {
    ImportedLog {
        harness: Harness::Inspect,
        format,
        layout: None,
        source_sha256: sha256,
        task: String::new(),
        task_version: None,
        model: String::new(),
        status: "started".into(),
        created: None,
        completed_at: None,
        epochs: 1,
        epochs_reducer: vec!["mean".into()],
        dataset: None,
        total_samples: None,
        scorers: Vec::new(),
        samples: Vec::new(),
        reported: Vec::new(),
        provenance: Provenance::default(),
        rebuilt_from_journal: false,
        error: None,
        warnings: Vec::new(),
    }
}

/// Fills `log` from an `EvalLog` header (or a journal `start.json`, which holds the
/// `eval` and `plan` parts only).
pub(crate) fn apply_header(
    log: &mut ImportedLog,
    h: &Value,
    what: &str,
) -> Result<(), InteropError> {
    let Some(obj) = h.as_object() else {
        return Err(InteropError::shape(what, "expected a JSON object"));
    };
    let Some(eval) = obj.get("eval").and_then(Value::as_object) else {
        return Err(InteropError::shape(
            what,
            "no `eval` object (not an Inspect log?)",
        ));
    };
    if let Some(s) = obj.get("status").and_then(Value::as_str) {
        s.clone_into(&mut log.status);
    }
    log.task = eval.get("task").and_then(str_of).unwrap_or_default();
    log.task_version = eval.get("task_version").and_then(str_of);
    log.model = eval.get("model").and_then(str_of).unwrap_or_default();
    log.created = eval.get("created").and_then(str_of);
    if let Some(ds) = eval.get("dataset").and_then(Value::as_object) {
        log.dataset = ds.get("name").and_then(str_of);
    }
    if let Some(cfg) = eval.get("config").and_then(Value::as_object) {
        if let Some(e) = cfg.get("epochs").and_then(u64_of) {
            log.epochs = u32::try_from(e.max(1)).unwrap_or(u32::MAX);
        }
        match cfg.get("epochs_reducer") {
            Some(Value::Array(rs)) if !rs.is_empty() => {
                log.epochs_reducer = rs.iter().filter_map(str_of).collect();
            }
            Some(Value::String(r)) => log.epochs_reducer = vec![r.clone()],
            _ => {}
        }
    }
    if let Some(scorers) = eval.get("scorers").and_then(Value::as_array) {
        log.scorers = scorers
            .iter()
            .filter_map(|s| s.get("name").and_then(str_of))
            .collect();
    }
    let p = &mut log.provenance;
    p.run_id = eval.get("run_id").and_then(str_of);
    p.eval_id = eval.get("eval_id").and_then(str_of);
    p.task_id = eval.get("task_id").and_then(str_of);
    p.task_file = eval.get("task_file").and_then(str_of);
    p.task_args = eval.get("task_args").cloned().unwrap_or(Value::Null);
    p.model_args = eval.get("model_args").cloned().unwrap_or(Value::Null);
    p.generate_config = eval
        .get("model_generate_config")
        .cloned()
        .unwrap_or(Value::Null);
    p.revision = eval.get("revision").cloned().unwrap_or(Value::Null);
    if let Some(pk) = eval.get("packages").and_then(Value::as_object) {
        p.packages = pk
            .iter()
            .filter_map(|(k, v)| str_of(v).map(|v| (k.clone(), v)))
            .collect();
    }
    if let Some(plan) = obj.get("plan") {
        p.plan = plan.clone();
    }
    if let Some(results) = obj.get("results").and_then(Value::as_object) {
        log.total_samples = results.get("total_samples").and_then(u64_of);
        log.reported = reported_scores(results);
    }
    if let Some(stats) = obj.get("stats").and_then(Value::as_object) {
        log.completed_at = stats.get("completed_at").and_then(str_of);
    }
    if let Some(err) = obj.get("error").and_then(Value::as_object) {
        log.error = err.get("message").and_then(str_of);
    }
    if log.scorers.is_empty() {
        for r in &log.reported {
            if !log.scorers.contains(&r.scorer) {
                log.scorers.push(r.scorer.clone());
            }
        }
    }
    Ok(())
}

fn metrics_of(v: Option<&Value>) -> Vec<ReportedMetric> {
    let Some(m) = v.and_then(Value::as_object) else {
        return Vec::new();
    };
    m.iter()
        .map(|(key, metric)| ReportedMetric {
            name: metric
                .get("name")
                .and_then(str_of)
                .unwrap_or_else(|| key.clone()),
            value: metric.get("value").and_then(number).unwrap_or(f64::NAN),
        })
        .collect()
}

/// `results.scores` (schema 2), or the legacy `results.scorer` + `results.metrics`.
fn reported_scores(results: &Map<String, Value>) -> Vec<ReportedScore> {
    if let Some(scores) = results.get("scores").and_then(Value::as_array) {
        return scores
            .iter()
            .filter_map(|s| {
                let name = s.get("name").and_then(str_of)?;
                Some(ReportedScore {
                    scorer: s
                        .get("scorer")
                        .and_then(str_of)
                        .unwrap_or_else(|| name.clone()),
                    name,
                    reducer: s.get("reducer").and_then(str_of),
                    scored_samples: s.get("scored_samples").and_then(u64_of),
                    unscored_samples: s.get("unscored_samples").and_then(u64_of),
                    metrics: metrics_of(s.get("metrics")),
                })
            })
            .collect();
    }
    let Some(scorer) = results.get("scorer") else {
        return Vec::new();
    };
    let name = scorer.get("name").and_then(str_of).unwrap_or_default();
    vec![ReportedScore {
        scorer: name.clone(),
        name,
        reducer: None,
        scored_samples: None,
        unscored_samples: None,
        metrics: metrics_of(results.get("metrics")),
    }]
}

/// A score value from JSON (markers become non-finite numbers).
pub(crate) fn score_value(v: &Value) -> ScoreValue {
    match v {
        Value::Null => ScoreValue::Null,
        Value::Bool(b) => ScoreValue::Bool(*b),
        Value::Number(n) => ScoreValue::Number(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => {
            number(v).map_or_else(|| ScoreValue::Str(s.clone()), ScoreValue::Number)
        }
        Value::Array(a) => ScoreValue::List(a.iter().map(score_value).collect()),
        Value::Object(o) => {
            ScoreValue::Dict(o.iter().map(|(k, v)| (k.clone(), score_value(v))).collect())
        }
    }
}

/// The text of a message's `content` (a string, or a list of typed parts).
fn content_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| match p.get("type").and_then(Value::as_str) {
                Some("text") => p.get("text").and_then(str_of),
                Some("reasoning") => p.get("reasoning").and_then(str_of),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn messages_of(v: Option<&Value>) -> Vec<Message> {
    v.and_then(Value::as_array)
        .map(|ms| {
            ms.iter()
                .map(|m| Message {
                    role: m.get("role").and_then(str_of).unwrap_or_default(),
                    content: m.get("content").map(content_text).unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn strings_of(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a.iter().filter_map(str_of).collect(),
        Some(v) => str_of(v).into_iter().collect(),
        None => Vec::new(),
    }
}

/// Replaces every string `attachment://KEY` whose key `lookup` knows by its text.
pub(crate) fn resolve_attachments(v: &mut Value, lookup: &dyn Fn(&str) -> Option<String>) {
    match v {
        Value::String(s) => {
            if let Some(key) = s.strip_prefix(ATTACHMENT)
                && let Some(text) = lookup(key)
            {
                *s = text;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| resolve_attachments(x, lookup)),
        Value::Object(o) => o.values_mut().for_each(|x| resolve_attachments(x, lookup)),
        _ => {}
    }
}

/// An `EvalSample` (attachments already resolved) into the neutral form.
pub(crate) fn sample(v: &Value, what: &str) -> Result<ImportedSample, InteropError> {
    let Some(obj) = v.as_object() else {
        return Err(InteropError::shape(what, "a sample must be a JSON object"));
    };
    let id = obj
        .get("id")
        .and_then(SampleId::from_json)
        .ok_or_else(|| InteropError::shape(what, "sample without an id"))?;
    let epoch = obj
        .get("epoch")
        .and_then(u64_of)
        .and_then(|e| u32::try_from(e).ok())
        .unwrap_or(1);
    let input = match obj.get("input") {
        Some(Value::Array(ms)) => ms
            .iter()
            .map(|m| m.get("content").map(content_text).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n"),
        Some(v) => str_of(v).unwrap_or_default(),
        None => String::new(),
    };
    let scores: BTreeMap<String, SampleScore> = obj
        .get("scores")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(name, s)| {
                    let score = SampleScore {
                        value: s.get("value").map_or(ScoreValue::Null, score_value),
                        answer: s.get("answer").and_then(str_of),
                        explanation: s.get("explanation").and_then(str_of),
                    };
                    (name.clone(), score)
                })
                .collect()
        })
        .unwrap_or_default();
    let output = obj.get("output");
    let completion = output.and_then(|o| o.get("completion")).and_then(str_of);
    let (mut input_tokens, mut output_tokens) = (0, 0);
    if let Some(u) = output
        .and_then(|o| o.get("usage"))
        .filter(|u| u.is_object())
    {
        input_tokens = u.get("input_tokens").and_then(u64_of).unwrap_or(0);
        output_tokens = u.get("output_tokens").and_then(u64_of).unwrap_or(0);
    } else if let Some(mu) = obj.get("model_usage").and_then(Value::as_object) {
        for u in mu.values() {
            input_tokens += u.get("input_tokens").and_then(u64_of).unwrap_or(0);
            output_tokens += u.get("output_tokens").and_then(u64_of).unwrap_or(0);
        }
    }
    let error = obj.get("error").and_then(|e| match e {
        Value::Object(o) => o.get("message").and_then(str_of),
        Value::Null => None,
        other => str_of(other),
    });
    Ok(ImportedSample {
        id,
        epoch,
        input,
        target: strings_of(obj.get("target")),
        choices: strings_of(obj.get("choices")),
        completion,
        messages: messages_of(obj.get("messages")),
        scores,
        metadata: obj
            .get("metadata")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        error,
        input_tokens,
        output_tokens,
        total_time: obj.get("total_time").and_then(number),
        started_at: obj.get("started_at").and_then(str_of),
        completed_at: obj.get("completed_at").and_then(str_of),
    })
}

/// Sorts samples by id, then epoch (ids: integers numerically, before strings).
pub(crate) fn sort_samples(samples: &mut [ImportedSample]) {
    samples.sort_by(|a, b| a.id.cmp(&b.id).then(a.epoch.cmp(&b.epoch)));
}

/// Fills scorer names from the samples when the header named none.
pub(crate) fn scorers_from_samples(log: &mut ImportedLog) {
    if !log.scorers.is_empty() {
        return;
    }
    for s in &log.samples {
        for name in s.scores.keys() {
            if !log.scorers.contains(name) {
                log.scorers.push(name.clone());
            }
        }
    }
}
