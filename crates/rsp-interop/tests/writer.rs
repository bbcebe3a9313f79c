//! The Inspect writer: write, read back with rsp's reader, and (when Inspect is
//! installed) have `inspect log dump` open the file; otherwise check the schema's
//! required fields (from `inspect log schema`, Inspect 0.3.285).
#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::path::{Path, PathBuf};
use std::process::Command;

use rsp_interop::{WriteOptions, inspect, read_inspect_file, verify, write_eval};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn options() -> WriteOptions {
    WriteOptions {
        package: ("rsp".into(), "0.1.0".into()),
        solvers: vec!["generate".into()],
    }
}

#[test]
fn a_written_log_reads_back_with_the_same_samples_and_metrics() {
    let original = read_inspect_file(&fixture("fixture.eval")).unwrap();
    let bytes = write_eval(&original, &options()).unwrap();
    let back = inspect::read(&bytes).unwrap();
    assert_eq!(back.task, original.task);
    assert_eq!(back.model, original.model);
    assert_eq!(back.epochs, 2);
    assert_eq!(back.status, "success");
    assert_eq!(back.samples.len(), original.samples.len());
    for (a, b) in original.samples.iter().zip(&back.samples) {
        assert_eq!((&a.id, a.epoch), (&b.id, b.epoch));
        assert_eq!(a.input, b.input);
        assert_eq!(a.target, b.target);
        assert_eq!(a.completion, b.completion);
        for (name, sa) in &a.scores {
            let sb = &b.scores[name];
            match (&sa.value, &sb.value) {
                (rsp_interop::ScoreValue::Number(x), rsp_interop::ScoreValue::Number(y))
                    if x.is_nan() =>
                {
                    assert!(y.is_nan(), "NaN written as NaN");
                }
                (x, y) => assert_eq!(x, y),
            }
        }
    }
    // The written metrics are rsp's and equal Inspect's own (reducer `mean`).
    for score in &back.reported {
        let orig = original
            .reported
            .iter()
            .find(|r| r.name == score.name && r.reducer.as_deref() == Some("mean"))
            .unwrap();
        for m in &score.metrics {
            let o = orig.metrics.iter().find(|x| x.name == m.name).unwrap();
            assert!(
                (o.value - m.value).abs() <= 1e-12,
                "{} {}: {} vs {}",
                score.name,
                m.name,
                o.value,
                m.value
            );
        }
    }
    assert!(verify(&back).iter().all(|c| c.agrees == Some(true)));
}

/// The `inspect` executable, when Inspect is installed here.
fn inspect_bin() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("RSP_INSPECT_BIN") {
        return Some(PathBuf::from(p));
    }
    let venv = PathBuf::from("/tmp/inspect-venv/bin/inspect");
    if venv.is_file() {
        return Some(venv);
    }
    let ok = Command::new("python3")
        .args(["-c", "import inspect_ai"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then(|| PathBuf::from("inspect"))
}

/// Required fields of the schema-2 models rsp writes (`inspect log schema`, 0.3.285).
fn schema_check(dir: &Path, bytes: &[u8]) {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut json = |name: &str| -> Value {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut s).unwrap();
        rsp_interop::lenient::parse(s.as_bytes(), name).unwrap()
    };
    let header = json("header.json");
    assert_eq!(header["version"], 2);
    for k in ["created", "task", "dataset", "model", "config"] {
        assert!(header["eval"].get(k).is_some(), "eval.{k}");
    }
    for s in header["results"]["scores"].as_array().unwrap() {
        assert!(s.get("name").is_some() && s.get("scorer").is_some());
        for m in s["metrics"].as_object().unwrap().values() {
            assert!(m.get("name").is_some() && m.get("value").is_some());
        }
    }
    for step in header["plan"]["steps"].as_array().unwrap() {
        assert!(step.get("solver").is_some());
    }
    let sample = json("samples/1_epoch_1.json");
    for k in ["id", "epoch", "input", "target"] {
        assert!(sample.get(k).is_some(), "sample.{k}");
    }
    for c in sample["output"]["choices"].as_array().unwrap() {
        assert!(c["message"].get("content").is_some());
    }
    for r in json("reductions.json").as_array().unwrap() {
        assert!(r.get("scorer").is_some() && r.get("samples").is_some());
    }
    let _ = dir;
}

#[test]
fn inspect_opens_the_written_log() {
    let original = read_inspect_file(&fixture("fixture.eval")).unwrap();
    let bytes = write_eval(&original, &options()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rsp-export.eval");
    std::fs::write(&path, &bytes).unwrap();
    schema_check(dir.path(), &bytes);
    let Some(bin) = inspect_bin() else {
        eprintln!("Inspect not installed: schema check only");
        return;
    };
    let out = Command::new(&bin)
        .args(["log", "dump"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "inspect log dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dumped = rsp_interop::lenient::parse(&out.stdout, "dump").unwrap();
    assert_eq!(dumped["status"], "success");
    assert_eq!(dumped["samples"].as_array().unwrap().len(), 10);
    let acc = &dumped["results"]["scores"][0]["metrics"]["accuracy"]["value"];
    assert_eq!(acc.as_f64(), Some(0.6));
}
