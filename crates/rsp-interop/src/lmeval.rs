//! lm-evaluation-harness output: `results_<date>.json` plus `samples_<task>_<date>.jsonl`.
//!
//! The format (lm-eval 0.4, `lm_eval/loggers/evaluation_tracker.py`, written by
//! `--output_path … --log_samples`):
//!
//! * `results_<date>.json`: `results` maps each task to `{"alias", "<metric>,<filter>":
//!   value, "<metric>_stderr,<filter>": value}`; also `configs` (per-task config, whose
//!   `metric_list` names each metric's `aggregation`), `versions`, `n-shot`, `n-samples`,
//!   `group_subtasks`, `config` (`model`, `model_args`, …), `git_hash`, `date`,
//!   `model_name`, `lm_eval_version`.
//! * `samples_<task>_<date>.jsonl`: one line per document and filter: `doc_id`, `doc`,
//!   `target`, `arguments`, `resps`, `filtered_resps`, `filter`, `metrics` (names), the
//!   hashes, and each metric's per-document value under its bare name (`"acc": 1.0`).
//!
//! Each leaf task becomes one [`ImportedLog`]. A score is named as lm-eval names it,
//! `acc,none`, and its reported metrics are the aggregate (named after the aggregation,
//! `mean` unless the task config says otherwise) and `stderr` (lm-eval's closed-form
//! standard error of a mean: sample std with ddof = 1 over √n, the same definition as
//! Inspect's, so [`crate::verify`] checks both the same way). Groups (tasks with subtasks)
//! are aggregates of other tasks and are not imported.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::inspect::parse::score_value;
use crate::lenient::{self, number};
use crate::model::{
    Harness, ImportedLog, ImportedSample, LogFormat, Provenance, ReportedMetric, ReportedScore,
    SampleId, SampleScore,
};
use crate::{InteropError, sha256_hex};

/// Keys of a samples line that are bookkeeping, not metrics.
const NOT_METRICS: &[&str] = &[
    "doc_id",
    "doc",
    "target",
    "arguments",
    "resps",
    "filtered_resps",
    "filter",
    "metrics",
    "doc_hash",
    "prompt_hash",
    "target_hash",
];

/// Reads one results file and the samples files that belong to it.
///
/// `results_name` is the results file's name (its `<date>` part pairs it with samples
/// files); `samples` maps samples file names to their bytes (others are ignored).
pub fn read(
    results_name: &str,
    results: &[u8],
    samples: &BTreeMap<String, Vec<u8>>,
) -> Result<Vec<ImportedLog>, InteropError> {
    let doc = lenient::parse(results, results_name)?;
    let Some(per_task) = doc.get("results").and_then(Value::as_object) else {
        return Err(InteropError::shape(
            results_name,
            "no `results` object (not lm-eval output?)",
        ));
    };
    let sha = sha256_hex(results);
    let date = results_name
        .strip_prefix("results_")
        .and_then(|s| s.strip_suffix(".json"))
        .unwrap_or("");
    let config = doc.get("config").cloned().unwrap_or(Value::Null);
    let model = doc
        .get("model_name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            let m = config.get("model").and_then(Value::as_str)?;
            let args = config
                .get("model_args")
                .and_then(Value::as_str)
                .unwrap_or("");
            Some(if args.is_empty() {
                m.to_owned()
            } else {
                format!("{m}/{args}")
            })
        })
        .unwrap_or_default();
    let groups = doc.get("group_subtasks").and_then(Value::as_object);
    let mut out = Vec::new();
    for (task, metrics) in per_task {
        let is_group = groups
            .and_then(|g| g.get(task))
            .and_then(Value::as_array)
            .is_some_and(|subtasks| !subtasks.is_empty());
        if is_group {
            continue;
        }
        let Some(metrics) = metrics.as_object() else {
            continue;
        };
        let task_config = doc.get("configs").and_then(|c| c.get(task));
        let mut log = ImportedLog {
            harness: Harness::LmEval,
            format: LogFormat::LmEvalResults,
            layout: None,
            source_sha256: sha.clone(),
            task: task.clone(),
            task_version: doc
                .get("versions")
                .and_then(|v| v.get(task))
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)),
            model: model.clone(),
            status: "success".into(),
            created: doc.get("date").and_then(number).map(|d| d.to_string()),
            completed_at: None,
            epochs: 1,
            epochs_reducer: vec!["mean".into()],
            dataset: task_config
                .and_then(|c| c.get("dataset_path"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            total_samples: doc
                .get("n-samples")
                .and_then(|n| n.get(task))
                .and_then(|n| n.get("effective"))
                .and_then(Value::as_u64),
            scorers: Vec::new(),
            samples: Vec::new(),
            reported: reported(metrics, task_config),
            provenance: Provenance {
                packages: doc
                    .get("lm_eval_version")
                    .and_then(Value::as_str)
                    .map(|v| BTreeMap::from([("lm_eval".to_owned(), v.to_owned())]))
                    .unwrap_or_default(),
                revision: doc.get("git_hash").cloned().unwrap_or(Value::Null),
                model_args: config.get("model_args").cloned().unwrap_or(Value::Null),
                task_args: doc
                    .get("n-shot")
                    .and_then(|n| n.get(task))
                    .map(|n| serde_json::json!({ "num_fewshot": n }))
                    .unwrap_or(Value::Null),
                generate_config: config.get("gen_kwargs").cloned().unwrap_or(Value::Null),
                plan: task_config.cloned().unwrap_or(Value::Null),
                files: BTreeMap::from([(results_name.to_owned(), sha.clone())]),
                ..Provenance::default()
            },
            rebuilt_from_journal: false,
            error: None,
            warnings: Vec::new(),
        };
        log.scorers = log.reported.iter().map(|r| r.name.clone()).collect();
        let wanted = format!("samples_{task}_{date}.jsonl");
        if let Some(bytes) = samples.get(&wanted) {
            log.samples = read_samples(bytes, &wanted)?;
            log.provenance.files.insert(wanted, sha256_hex(bytes));
        } else {
            log.warnings.push(format!(
                "no {wanted}: per-document values unavailable, metrics not recomputed"
            ));
        }
        out.push(log);
    }
    Ok(out)
}

/// Each metric's aggregation from the task config's `metric_list` (default `mean`).
fn aggregations(task_config: Option<&Value>) -> BTreeMap<String, String> {
    task_config
        .and_then(|c| c.get("metric_list"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|m| {
                    let name = m.get("metric")?.as_str()?.to_owned();
                    let agg = m
                        .get("aggregation")
                        .and_then(Value::as_str)
                        .unwrap_or("mean");
                    Some((name, agg.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn reported(metrics: &Map<String, Value>, task_config: Option<&Value>) -> Vec<ReportedScore> {
    let aggs = aggregations(task_config);
    let mut out: Vec<ReportedScore> = Vec::new();
    for (key, value) in metrics {
        let Some((metric, filter)) = key.split_once(',') else {
            continue;
        };
        if metric.ends_with("_stderr") {
            continue;
        }
        let agg = aggs.get(metric).map_or("mean", String::as_str);
        let mut reported = vec![ReportedMetric {
            name: agg.to_owned(),
            value: number(value).unwrap_or(f64::NAN),
        }];
        if let Some(se) = metrics.get(&format!("{metric}_stderr,{filter}")) {
            reported.push(ReportedMetric {
                name: "stderr".into(),
                // lm-eval writes "N/A" when it has no standard error.
                value: number(se).unwrap_or(f64::NAN),
            });
        }
        out.push(ReportedScore {
            name: key.clone(),
            scorer: key.clone(),
            reducer: None,
            scored_samples: None,
            unscored_samples: None,
            metrics: reported,
        });
    }
    out
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// The prompt: `arguments.gen_args_0.arg_0` (0.4.3+) or `arguments[0][0]` (earlier).
fn prompt_of(args: Option<&Value>) -> String {
    match args {
        Some(Value::Object(o)) => o
            .get("gen_args_0")
            .and_then(|g| g.get("arg_0"))
            .and_then(text_of)
            .unwrap_or_default(),
        Some(Value::Array(a)) => a
            .first()
            .and_then(|x| x.get(0))
            .and_then(text_of)
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// Per-document rows (one per document and filter) merged into one sample per document.
fn read_samples(bytes: &[u8], name: &str) -> Result<Vec<ImportedSample>, InteropError> {
    let mut by_doc: BTreeMap<SampleId, ImportedSample> = BTreeMap::new();
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let what = format!("{name}:{}", i + 1);
        let row = lenient::parse(line, &what)?;
        let Some(obj) = row.as_object() else {
            return Err(InteropError::shape(what, "expected a JSON object"));
        };
        let id = obj
            .get("doc_id")
            .and_then(SampleId::from_json)
            .ok_or_else(|| InteropError::shape(what.as_str(), "no doc_id"))?;
        let filter = obj.get("filter").and_then(Value::as_str).unwrap_or("none");
        let sample = by_doc.entry(id.clone()).or_insert_with(|| ImportedSample {
            id,
            epoch: 1,
            input: prompt_of(obj.get("arguments")),
            target: obj.get("target").and_then(text_of).into_iter().collect(),
            choices: Vec::new(),
            completion: obj
                .get("filtered_resps")
                .and_then(|r| r.get(0))
                .and_then(text_of),
            messages: Vec::new(),
            scores: BTreeMap::new(),
            metadata: obj
                .get("doc")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
            error: None,
            input_tokens: 0,
            output_tokens: 0,
            total_time: None,
            started_at: None,
            completed_at: None,
        });
        let named: Vec<String> = match obj.get("metrics").and_then(Value::as_array) {
            Some(list) => list
                .iter()
                .filter_map(|m| m.as_str().map(str::to_owned))
                .collect(),
            None => obj
                .keys()
                .filter(|k| !NOT_METRICS.contains(&k.as_str()))
                .cloned()
                .collect(),
        };
        for metric in named {
            if let Some(v) = obj.get(&metric) {
                sample.scores.insert(
                    format!("{metric},{filter}"),
                    SampleScore {
                        value: score_value(v),
                        answer: None,
                        explanation: None,
                    },
                );
            }
        }
    }
    Ok(by_doc.into_values().collect())
}
