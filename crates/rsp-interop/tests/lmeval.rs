//! The lm-eval reader on a hand-written fixture in lm-eval 0.4's format.
#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::path::PathBuf;

use rsp_interop::{Harness, SampleId, ScoreValue, read_lm_eval_path, verify};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lm-eval")
}

#[test]
fn results_and_samples_import_with_identical_metrics() {
    let logs = read_lm_eval_path(&dir()).unwrap();
    assert_eq!(logs.len(), 2, "one log per task");
    let arc = logs.iter().find(|l| l.task == "arc_easy").unwrap();
    assert_eq!(arc.harness, Harness::LmEval);
    assert_eq!(arc.model, "EleutherAI/pythia-160m");
    assert_eq!(arc.samples.len(), 5);
    assert_eq!(arc.samples[0].id, SampleId::Int(0));
    assert_eq!(
        arc.samples[1].scores["acc,none"].value,
        ScoreValue::Number(0.0)
    );
    assert_eq!(arc.scorers, ["acc,none", "acc_norm,none"]);
    assert_eq!(
        arc.provenance.files.len(),
        2,
        "results and samples, with their sha256"
    );
    let checks = verify(arc);
    assert_eq!(checks.len(), 4);
    for c in &checks {
        assert_eq!(c.agrees, Some(true), "{c:#?}");
    }
}

#[test]
fn a_task_without_samples_and_a_non_mean_aggregation_are_not_claimed_as_checked() {
    let logs = read_lm_eval_path(&dir()).unwrap();
    let lambada = logs.iter().find(|l| l.task == "lambada_openai").unwrap();
    assert!(lambada.samples.is_empty());
    assert!(!lambada.warnings.is_empty());
    let checks = verify(lambada);
    assert!(!checks.is_empty());
    assert!(
        checks
            .iter()
            .all(|c| c.agrees.is_none() && c.note.is_some()),
        "{checks:#?}"
    );
    let ppl = lambada
        .reported
        .iter()
        .find(|r| r.name == "perplexity,none")
        .unwrap();
    assert_eq!(ppl.metrics[0].name, "perplexity");
    assert!(ppl.metrics[1].value.is_nan(), "\"N/A\" stderr");
}

#[test]
fn a_results_file_path_works_as_well_as_its_directory() {
    let file = dir().join("results_2025-01-15T10-20-30.123456.json");
    let logs = read_lm_eval_path(&file).unwrap();
    assert_eq!(logs.len(), 2);
    assert_eq!(logs[0].source_sha256, logs[1].source_sha256);
}
