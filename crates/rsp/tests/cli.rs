//! End-to-end CLI tests: the real binary, real files, real exit codes.

mod common;

use common::{rsp, stderr, stdout};
use std::path::Path;
use std::process::Command;

/// Replace the temporary directory in output so snapshots are stable.
fn redact(s: &str, dir: &Path) -> String {
    s.replace(&dir.display().to_string(), "[TMP]")
        .lines()
        .map(|l| match l.split_once("audit log key: ") {
            // The log key is random per project.
            Some((head, _)) => format!("{head}audit log key: [VKEY]\n"),
            None => format!("{l}\n"),
        })
        .collect()
}

#[test]
fn init_then_check_then_explain() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = rsp(tmp.path(), &["init"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    insta::assert_snapshot!(redact(&stdout(&o), tmp.path()));
    assert!(tmp.path().join("rsp.toml").is_file());
    assert!(tmp.path().join(".rsp").is_dir());
    assert!(tmp.path().join("suites").is_dir());

    // Commands find the project from a subdirectory.
    let sub = tmp.path().join("suites");
    let o = rsp(&sub, &["policy", "check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).ends_with("rsp.toml: valid\n"));

    let o = rsp(&sub, &["policy", "explain"]);
    assert_eq!(o.status.code(), Some(0));
    for id in ["KNOW-1", "CYBER-1", "AUTO-1"] {
        assert!(stdout(&o).contains(id));
    }
    let o = rsp(
        tmp.path(),
        &["policy", "explain", "--format", "html", "-o", "p.html"],
    );
    assert_eq!(o.status.code(), Some(0));
    let html = std::fs::read_to_string(tmp.path().join("p.html")).expect("html");
    assert!(html.starts_with("<!doctype html>"));

    // A second init refuses to overwrite.
    let o = rsp(tmp.path(), &["init"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("already exists"));
}

#[test]
fn no_project_is_a_clear_usage_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = rsp(tmp.path(), &["policy", "check"]);
    assert_eq!(o.status.code(), Some(2));
    insta::assert_snapshot!(redact(&stderr(&o), tmp.path()));
}

#[test]
fn invalid_policy_exits_1_with_located_diagnostics() {
    let tmp = tempfile::tempdir().expect("tmp");
    rsp(tmp.path(), &["init"]);
    let path = tmp.path().join("rsp.toml");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replace("domain = \"cyber\"", "domain = \"cyberr\"")
            .replace("alert = 0.60", "alert = 0.9"),
    )
    .expect("write");
    let o = rsp(tmp.path(), &["policy", "check"]);
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!(redact(&stdout(&o), tmp.path()));

    let o = rsp(tmp.path(), &["policy", "check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["errors"], 2);
    let alert = v["diagnostics"]
        .as_array()
        .expect("array")
        .iter()
        .find(|d| d["code"] == "policy::alert-not-below-line")
        .expect("alert diagnostic");
    assert_eq!(alert["severity"], "error");
    assert!(alert["line"].as_u64().expect("line") > 100);

    // explain refuses an invalid policy.
    let o = rsp(tmp.path(), &["policy", "explain"]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn missing_file_is_an_io_error() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = rsp(tmp.path(), &["policy", "check", "nope.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope.toml"));
}

#[test]
fn diff_exit_codes() {
    let tmp = tempfile::tempdir().expect("tmp");
    rsp(tmp.path(), &["init"]);
    let text = std::fs::read_to_string(tmp.path().join("rsp.toml")).expect("read");
    std::fs::write(tmp.path().join("same.toml"), &text).expect("write");
    std::fs::write(
        tmp.path().join("weaker.toml"),
        text.replace("max_interval_days = 180", "max_interval_days = 365"),
    )
    .expect("write");
    std::fs::write(
        tmp.path().join("stricter.toml"),
        text.replace("max_interval_days = 180", "max_interval_days = 90"),
    )
    .expect("write");
    assert_eq!(
        rsp(tmp.path(), &["policy", "diff", "rsp.toml", "same.toml"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        rsp(tmp.path(), &["policy", "diff", "rsp.toml", "stricter.toml"])
            .status
            .code(),
        Some(0)
    );
    let o = rsp(tmp.path(), &["policy", "diff", "rsp.toml", "weaker.toml"]);
    assert_eq!(o.status.code(), Some(1));
    insta::assert_snapshot!(stdout(&o));
    let o = rsp(
        tmp.path(),
        &[
            "policy",
            "diff",
            "rsp.toml",
            "weaker.toml",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["changes"][0]["field"], "max_interval_days");
    std::fs::write(tmp.path().join("broken.toml"), "not toml [").expect("write");
    assert_eq!(
        rsp(tmp.path(), &["policy", "diff", "rsp.toml", "broken.toml"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn every_template_initialises_and_checks() {
    for t in [
        "example",
        "anthropic-rsp-v2.2",
        "openai-pf-v2",
        "gdm-fsf-v3",
    ] {
        let tmp = tempfile::tempdir().expect("tmp");
        let o = rsp(tmp.path(), &["init", "--template", t]);
        assert_eq!(o.status.code(), Some(0), "{t}: {}", stderr(&o));
        let o = rsp(tmp.path(), &["policy", "check"]);
        assert_eq!(o.status.code(), Some(0), "{t}: {}", stdout(&o));
        if t != "example" {
            assert!(
                stdout(&o).contains("placeholder"),
                "{t} should warn about placeholder suites"
            );
        }
    }
}

#[test]
fn schema_and_completions() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = rsp(tmp.path(), &["policy", "schema"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("schema is JSON");
    assert!(v["properties"]["threshold"].is_object());
    let o = rsp(tmp.path(), &["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("rsp"));
}

#[test]
fn help_is_available_everywhere() {
    let tmp = tempfile::tempdir().expect("tmp");
    for args in [
        &["--help"][..],
        &["policy", "--help"],
        &["policy", "diff", "--help"],
        &["init", "--help"],
    ] {
        let o = rsp(tmp.path(), args);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        assert!(stdout(&o).contains("Usage"));
    }
}

#[test]
fn chat_with_the_embedded_model() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = rsp(
        tmp.path(),
        &["chat", "--threads", "1", "What is the capital of France?"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("Paris"), "{}", stdout(&o));
}

#[test]
fn chat_without_the_model_says_how_to_get_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = Command::new(env!("CARGO_BIN_EXE_rsp"))
        .args(["chat", "hello"])
        .current_dir(tmp.path())
        .env("RSP_MODEL_PATH", tmp.path().join("missing.gguf"))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("scripts/fetch-model.sh"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn chat_answers_are_cached_in_the_project_store() {
    let tmp = tempfile::tempdir().expect("tmp");
    rsp(tmp.path(), &["init"]);
    let q = "What is the capital of France?";
    let first = rsp(tmp.path(), &["chat", "-v", "--threads", "1", q]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(!stderr(&first).contains("response cache"));
    let second = rsp(tmp.path(), &["chat", "-v", "--threads", "1", q]);
    assert!(
        stderr(&second).contains("answered from the project's response cache"),
        "{}",
        stderr(&second)
    );
    assert_eq!(stdout(&first), stdout(&second));
    let bypass = rsp(
        tmp.path(),
        &["chat", "-v", "--no-cache", "--threads", "1", q],
    );
    assert!(!stderr(&bypass).contains("response cache"));
    assert!(tmp.path().join(".rsp/rsp.db").is_file());
}

#[test]
fn eval_runs_commits_and_resumes() {
    let tmp = tempfile::tempdir().expect("tmp");
    rsp(tmp.path(), &["init"]);
    let args = [
        "eval",
        "knowledge-proxy/mc",
        "--model",
        "mock/text:A",
        "--limit",
        "12",
    ];
    let first = rsp(tmp.path(), &args);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let out = stdout(&first);
    assert!(
        out.contains("12 samples (12 run now, 0 resumed), 0 errors"),
        "{out}"
    );
    assert!(out.contains(", 95%, n=12)"), "{out}");
    let second = rsp(tmp.path(), &args);
    assert!(
        stdout(&second).contains("(0 run now, 12 resumed)"),
        "{}",
        stdout(&second)
    );
    // One run in the project store, completed, found again by an id prefix.
    assert!(tmp.path().join(".rsp/rsp.db").is_file());
    let o = rsp(tmp.path(), &["runs", "list", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let runs: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(runs.as_array().map(Vec::len), Some(1), "{runs}");
    assert_eq!(runs[0]["status"], "completed");
    assert_eq!(runs[0]["samples"], 12);
    assert_eq!(runs[0]["spec"]["limit"], 12);
    let id = runs[0]["run"].as_str().expect("id").to_owned();
    // The finished run is in the audit log (once: the resumed re-run changed nothing).
    let log = stdout(&rsp(tmp.path(), &["ledger", "log"]));
    assert_eq!(log.matches(&id).count(), 1, "{log}");
    let verify = rsp(tmp.path(), &["ledger", "verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    let show = rsp(tmp.path(), &["runs", "show", &id[..12]]);
    assert_eq!(show.status.code(), Some(0), "{}", stderr(&show));
    assert!(
        stdout(&show).starts_with(&format!("run {id} (completed)")),
        "{}",
        stdout(&show)
    );
    let resumed = rsp(tmp.path(), &["eval", "--resume", &id[..12]]);
    assert!(
        stdout(&resumed).contains("(0 run now, 12 resumed)"),
        "{}",
        stderr(&resumed)
    );
    // A second model on the same samples, compared pairwise.
    let mut other = args;
    other[3] = "mock/text:B";
    let o = rsp(tmp.path(), &other);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = rsp(tmp.path(), &["runs", "list", "--json"]);
    let runs: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let newest = runs[0]["run"].as_str().expect("id").to_owned();
    let o = rsp(tmp.path(), &["compare", &id, &newest]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("accuracy: A "), "{}", stdout(&o));
    assert!(stdout(&o).contains("n=12"), "{}", stdout(&o));
    let o = rsp(
        tmp.path(),
        &["eval", "no-such-suite", "--model", "mock/echo"],
    );
    assert_ne!(o.status.code(), Some(0));
    let o = rsp(tmp.path(), &["eval", "--resume", "ZZZZ"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no run id starts with"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn eval_outside_a_project_stores_runs_in_the_current_directory() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = rsp(tmp.path(), &["runs", "list"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("no runs yet"));
    assert!(!tmp.path().join(".rsp").exists(), "listing creates nothing");
    let o = rsp(
        tmp.path(),
        &[
            "eval",
            "cyber-proxy",
            "--model",
            "mock/echo",
            "--limit",
            "3",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not in an rsp project"),
        "{}",
        stderr(&o)
    );
    assert!(tmp.path().join(".rsp/rsp.db").is_file());
    let o = rsp(tmp.path(), &["runs", "list"]);
    assert!(stdout(&o).contains("cyber-proxy/ctf"), "{}", stdout(&o));
    assert!(stdout(&o).contains("completed"), "{}", stdout(&o));
}
