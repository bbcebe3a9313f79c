//! The Inspect readers on real logs written by Inspect 0.3.285 (see fixtures/README.md).
#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::path::PathBuf;

use rsp_interop::{
    ImportedLog, LogFormat, SampleId, SampleLayout, ScoreValue, inspect, read_inspect_file, verify,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn read(name: &str) -> ImportedLog {
    read_inspect_file(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every reported accuracy / mean / stderr is recomputed and agrees to 1e-9.
fn assert_all_agree(log: &ImportedLog, expected_checks: usize) {
    let checks = verify(log);
    assert_eq!(checks.len(), expected_checks, "{checks:#?}");
    for c in &checks {
        assert_eq!(c.agrees, Some(true), "{c:#?}");
        let r = c.recomputed.unwrap_or(f64::NAN);
        assert!((r - c.reported).abs() <= 1e-9, "{c:#?}");
    }
}

fn metric(log: &ImportedLog, score: &str, reducer: Option<&str>, name: &str) -> f64 {
    log.reported
        .iter()
        .find(|s| s.name == score && s.reducer.as_deref() == reducer)
        .and_then(|s| s.metrics.iter().find(|m| m.name == name))
        .map(|m| m.value)
        .unwrap_or_else(|| panic!("no {score}/{name}"))
}

#[test]
fn eval_zstd_monolith_log_reads_and_its_metrics_are_reproduced() {
    let log = read("fixture.eval");
    assert_eq!(log.format, LogFormat::InspectEval);
    assert_eq!(log.layout, Some(SampleLayout::Monolith));
    assert_eq!(
        (log.task.as_str(), log.model.as_str(), log.status.as_str()),
        ("fixture", "openai-api/stub/fixture", "success")
    );
    assert_eq!(log.epochs, 2);
    assert_eq!(log.scorers, ["match", "graded", "numeric"]);
    assert_eq!(log.samples.len(), 10, "5 samples x 2 epochs");
    assert!(!log.rebuilt_from_journal);
    assert_eq!(
        log.provenance
            .packages
            .get("inspect_ai")
            .map(String::as_str),
        Some("0.3.285")
    );
    assert_eq!(log.source_sha256.len(), 64);
    // Inspect's own numbers, as printed by `inspect eval`.
    assert_eq!(metric(&log, "match", Some("mean"), "accuracy"), 0.6);
    assert_eq!(metric(&log, "graded", Some("mean"), "accuracy"), 0.45);
    // Epochs differ for `graded`, so reducing per sample first matters: the mean over
    // all ten sample-epochs would have a different stderr.
    let s1: Vec<_> = log
        .samples
        .iter()
        .filter(|s| s.id == SampleId::Int(1))
        .collect();
    assert_eq!(s1.len(), 2);
    assert_eq!(s1[0].scores["graded"].value, ScoreValue::Str("C".into()));
    assert_eq!(s1[1].scores["graded"].value, ScoreValue::Str("P".into()));
    assert_all_agree(&log, 6);
}

#[test]
fn eval_unscored_nan_values_are_kept_and_left_out_of_metrics() {
    let log = read("fixture.eval");
    let s = log
        .samples
        .iter()
        .find(|s| s.id == SampleId::Int(2) && s.epoch == 1)
        .unwrap();
    assert!(matches!(s.scores["numeric"].value, ScoreValue::Number(x) if x.is_nan()));
    let numeric = log.reported.iter().find(|r| r.name == "numeric").unwrap();
    assert_eq!(
        numeric.scored_samples,
        Some(5),
        "epoch 2 still scores sample 2"
    );
}

#[test]
fn eval_deflate_log_reads_like_a_zstd_one() {
    let bytes = std::fs::read(fixture("fixture-deflate.eval")).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&bytes[..])).unwrap();
    assert_eq!(
        zip.by_name("header.json").unwrap().compression(),
        zip::CompressionMethod::Deflated
    );
    let zstd = std::fs::read(fixture("fixture.eval")).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&zstd[..])).unwrap();
    assert_eq!(
        zip.by_name("header.json").unwrap().compression(),
        zip::CompressionMethod::Zstd
    );
    let log = inspect::read(&bytes).unwrap();
    assert_eq!(log.samples.len(), 4, "samples 2 and 3, two epochs");
    assert_eq!(metric(&log, "match", Some("mean"), "accuracy"), 0.5);
    assert_all_agree(&log, 6);
}

#[test]
fn chunked_layout_is_reassembled_with_attachments_resolved_by_index() {
    let log = read("fixture-chunked.eval");
    assert_eq!(log.layout, Some(SampleLayout::Chunked));
    assert_eq!(log.samples.len(), 2);
    let s = &log.samples[0];
    assert_eq!(s.id, SampleId::Int(3));
    // The user message is `attachment://0` in messages/0.json.
    assert_eq!(s.messages.len(), 2);
    assert!(
        s.messages[0]
            .content
            .starts_with("This prompt is deliberately longer"),
        "{:?}",
        s.messages[0]
    );
    assert!(!s.messages[0].content.contains("attachment://"));
    assert_eq!(s.completion.as_deref(), Some("grape"));
    assert_all_agree(&log, 6);
}

#[test]
fn a_log_without_header_is_rebuilt_from_the_journal() {
    let log = read("fixture-crashed.eval");
    assert!(log.rebuilt_from_journal);
    assert_eq!(log.status, "started");
    assert_eq!((log.task.as_str(), log.epochs), ("fixture", 2));
    assert_eq!(
        log.samples.len(),
        4,
        "the sample-epochs flushed before the kill"
    );
    assert!(log.reported.is_empty());
    assert!(
        verify(&log).is_empty(),
        "nothing reported, nothing to check"
    );
    assert!(!log.warnings.is_empty());
}

#[test]
fn json_log_with_bare_nan_and_two_reducers() {
    let log = read("fixture.json");
    assert_eq!(log.format, LogFormat::InspectJson);
    assert_eq!(log.epochs_reducer, ["mean", "max"]);
    assert_eq!(log.samples.len(), 10);
    assert_eq!(metric(&log, "graded", Some("max"), "accuracy"), 0.7);
    // 3 scorers x 2 reducers x 2 metrics, `max` included.
    assert_all_agree(&log, 12);
}

#[test]
fn json_attachment_references_are_resolved_from_the_sample_table() {
    let text = std::fs::read_to_string(fixture("fixture.json")).unwrap();
    let long = "This prompt is deliberately longer than one hundred characters so that Inspect moves it into the sample's attachments table. Repeat this word: grape";
    let replaced = text.replace(
        &format!("\"input\":\"{long}\""),
        "\"input\":\"attachment://f25a43321ce6e39285f0cef6ec95a941\"",
    );
    assert_ne!(replaced, text, "the fixture holds the long input inline");
    let log = inspect::read_json(replaced.as_bytes()).unwrap();
    let s = log
        .samples
        .iter()
        .find(|s| s.id == SampleId::Int(3))
        .unwrap();
    assert_eq!(s.input, long);
}

#[test]
fn legacy_shape_with_infinity_is_read_and_checked() {
    let log = read("legacy.json");
    assert_eq!(log.reported.len(), 1);
    let r = &log.reported[0];
    assert_eq!((r.name.as_str(), r.reducer.as_deref()), ("match", None));
    assert_eq!(r.metrics.len(), 3);
    let checks = verify(&log);
    let by = |m: &str| checks.iter().find(|c| c.metric == m).unwrap();
    assert_eq!(
        by("accuracy").agrees,
        Some(true),
        "NaN sample left out: 2/3"
    );
    assert_eq!(by("stderr").agrees, Some(true));
    assert_eq!(by("odds").reported, f64::INFINITY);
    assert_eq!(by("odds").agrees, None, "not recomputed, and said so");
    assert!(by("odds").note.is_some());
    assert_eq!(log.samples[2].target, ["maybe", "perhaps"]);
    assert_eq!(
        log.samples[3].metadata["note"],
        "NaN in text is not a number"
    );
}

#[test]
fn a_disagreement_is_reported_not_hidden() {
    let mut log = read("fixture.eval");
    for r in &mut log.reported {
        for m in &mut r.metrics {
            if r.name == "match" && m.name == "accuracy" {
                m.value += 1e-6;
            }
        }
    }
    let bad: Vec<_> = verify(&log)
        .into_iter()
        .filter(|c| c.agrees == Some(false))
        .collect();
    assert_eq!(bad.len(), 1);
    assert_eq!(
        (bad[0].score.as_str(), bad[0].metric.as_str()),
        ("match", "accuracy")
    );
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    assert!(inspect::read(b"PK\x03\x04 not really a zip").is_err());
    assert!(inspect::read(b"{\"eval\": 3}").is_err());
    assert!(inspect::read(b"[]").is_err());
    let bytes = std::fs::read(fixture("fixture.eval")).unwrap();
    assert!(
        inspect::read(&bytes[..bytes.len() / 2]).is_err(),
        "truncated archive"
    );
}
