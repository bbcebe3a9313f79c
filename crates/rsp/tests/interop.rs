//! `rsp import inspect|lm-eval` and `rsp export inspect` end to end on the rsp-interop
//! fixtures (real Inspect 0.3.285 logs and a hand-written lm-eval output).
#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

mod common;

use std::path::{Path, PathBuf};

use common::{rsp, stderr, stdout};
use rsp_store::{RunSource, RunStatus, RunStore as _, SqliteStore};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../rsp-interop/tests/fixtures")
        .join(name)
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let o = rsp(dir.path(), &["init"]);
    assert!(o.status.success(), "{}", stderr(&o));
    dir
}

fn import_json(dir: &Path, args: &[&str]) -> Vec<Value> {
    let o = rsp(dir, args);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

fn run_record(dir: &Path, id: &str) -> rsp_store::RunRecord {
    let db = SqliteStore::default_path(dir);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let store = SqliteStore::open(&db).await.unwrap();
            store.get_run(id).await.unwrap().unwrap()
        })
}

/// `(score, reducer, metric) -> value` of a `--json` report.
fn reported(v: &Value) -> Vec<(String, String, String, f64)> {
    let mut out = Vec::new();
    for s in v["reported"].as_array().unwrap() {
        for m in s["metrics"].as_array().unwrap() {
            out.push((
                s["name"].as_str().unwrap().to_owned(),
                s["reducer"].as_str().unwrap_or("mean").to_owned(),
                m["name"].as_str().unwrap().to_owned(),
                m["value"].as_f64().unwrap(),
            ));
        }
    }
    out.sort_by(|a, b| a.partial_cmp(b).unwrap());
    out
}

#[test]
fn import_is_idempotent_and_export_reimports_with_identical_metrics() {
    let dir = project();
    let p = dir.path();
    let eval = fixture("fixture.eval");
    let first = import_json(p, &["import", "inspect", eval.to_str().unwrap(), "--json"]);
    assert_eq!(first.len(), 1);
    let a = &first[0];
    assert_eq!(a["already_imported"], false);
    assert_eq!(
        (a["task"].as_str(), a["samples"].as_u64()),
        (Some("fixture"), Some(10))
    );
    let checks = a["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 6);
    assert!(checks.iter().all(|c| c["agrees"] == true), "{checks:#?}");
    let run_a = a["run"].as_str().unwrap().to_owned();

    // The same file again: the same run, reported as such.
    let again = import_json(p, &["import", "inspect", eval.to_str().unwrap(), "--json"]);
    assert_eq!(again[0]["run"], run_a.as_str());
    assert_eq!(again[0]["already_imported"], true);

    let record = run_record(p, &run_a);
    assert_eq!(record.source, RunSource::Inspect);
    assert_eq!(record.source_sha256.as_deref(), a["source_sha256"].as_str());
    assert_eq!(record.status, RunStatus::Completed);
    assert_eq!(
        (record.suite.as_str(), record.task.as_str()),
        ("inspect", "fixture")
    );

    // `rsp runs show` reads it like a native run.
    let o = rsp(p, &["runs", "show", &run_a]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("inspect/fixture"), "{}", stdout(&o));

    // Export, then import the export: the metrics Inspect would compute are identical.
    let out = p.join("export.eval");
    let o = rsp(
        p,
        &["export", "inspect", &run_a, "-o", out.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let b = &import_json(p, &["import", "inspect", out.to_str().unwrap(), "--json"])[0];
    assert_eq!(
        b["already_imported"], false,
        "a different file is a different run"
    );
    let original: Vec<_> = reported(a).into_iter().filter(|r| r.1 == "mean").collect();
    let exported = reported(b);
    assert_eq!(original.len(), exported.len());
    for (x, y) in original.iter().zip(&exported) {
        assert_eq!((&x.0, &x.2), (&y.0, &y.2));
        assert!((x.3 - y.3).abs() <= 1e-12, "{x:?} vs {y:?}");
    }
    let run_b = b["run"].as_str().unwrap();
    let o = rsp(p, &["compare", &run_a, run_b]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_changed_file_is_a_new_run_and_a_crashed_log_is_interrupted() {
    let dir = project();
    let p = dir.path();
    let original = std::fs::read_to_string(fixture("legacy.json")).unwrap();
    let copy = p.join("legacy.json");
    std::fs::write(&copy, &original).unwrap();
    let one = import_json(p, &["import", "inspect", copy.to_str().unwrap(), "--json"]);
    std::fs::write(
        &copy,
        original.replace("2024-05-01T10:00:00", "2024-05-02T10:00:00"),
    )
    .unwrap();
    let two = import_json(p, &["import", "inspect", copy.to_str().unwrap(), "--json"]);
    assert_ne!(one[0]["run"], two[0]["run"]);
    assert_eq!(two[0]["already_imported"], false);

    let crashed = import_json(
        p,
        &[
            "import",
            "inspect",
            fixture("fixture-crashed.eval").to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(crashed[0]["rebuilt_from_journal"], true);
    let record = run_record(p, crashed[0]["run"].as_str().unwrap());
    assert_eq!(record.status, RunStatus::Interrupted);
}

#[test]
fn lm_eval_import_records_task_and_elicitation_for_assess() {
    let dir = project();
    let p = dir.path();
    let logs = import_json(
        p,
        &[
            "import",
            "lm-eval",
            fixture("lm-eval").to_str().unwrap(),
            "--as",
            "knowledge-proxy/mc",
            "--elicitation",
            "cot,fewshot=3",
            "--json",
        ],
    );
    assert_eq!(logs.len(), 2);
    let arc = logs.iter().find(|l| l["task"] == "arc_easy").unwrap();
    assert!(
        arc["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["agrees"] == true)
    );
    let record = run_record(p, arc["run"].as_str().unwrap());
    assert_eq!(record.source, RunSource::LmEval);
    assert_eq!(
        (record.suite.as_str(), record.task.as_str()),
        ("knowledge-proxy", "mc")
    );
    let e = &record.config["import"]["elicitation"];
    assert_eq!(
        (e["chain_of_thought"].as_bool(), e["few_shot"].as_u64()),
        (Some(true), Some(3))
    );
}

#[test]
fn a_bad_elicitation_or_task_is_a_usage_error() {
    let dir = project();
    let eval = fixture("fixture.eval");
    let o = rsp(
        dir.path(),
        &[
            "import",
            "inspect",
            eval.to_str().unwrap(),
            "--elicitation",
            "magic",
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("unknown elicitation"), "{}", stderr(&o));
    let o = rsp(
        dir.path(),
        &[
            "import",
            "inspect",
            eval.to_str().unwrap(),
            "--as",
            "nosuite",
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("SUITE/TASK"), "{}", stderr(&o));
}
