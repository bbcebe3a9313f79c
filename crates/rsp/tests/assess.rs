//! `rsp assess` end to end on fresh projects: the CI gate's exit codes through
//! the whole life of a decision (blocked → awaiting signatures → signed), the
//! reports, `rsp status`, the audit trail, and one short run on the real
//! embedded model.

#![allow(clippy::unwrap_used)]

mod common;

use common::{rsp, stderr, stdout};
use std::path::Path;

/// Runs and asserts the exit code; returns stdout.
fn expect(dir: &Path, args: &[&str], code: i32) -> String {
    let o = rsp(dir, args);
    assert_eq!(
        o.status.code(),
        Some(code),
        "{args:?}\nstdout:\n{}\nstderr:\n{}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

fn decision_id(out: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix("Decision "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_owned()
}

fn report_dir(out: &str) -> std::path::PathBuf {
    let line = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("report: "))
        .unwrap();
    Path::new(line).parent().unwrap().to_path_buf()
}

/// A deterministic model answering "A" to everything: about chance on the
/// multiple-choice proxy, nothing on the puzzles, so every tracked line is
/// ruled out and only the baseline standard (ASL-2) is required.
const MOCK: &str = "mock/text:ANSWER: A";

#[test]
fn the_gate_goes_from_blocked_to_awaiting_signatures_to_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    expect(dir, &["init"], 0);
    expect(
        dir,
        &["model", "add", "m1", "--spec", MOCK, "--compute", "1e21"],
        0,
    );

    // The plan lists what is needed before anything runs.
    let plan = expect(dir, &["assess", "--model", "m1", "--plan"], 0);
    assert!(plan.contains("no prior comprehensive assessment"), "{plan}");
    assert!(plan.contains("knowledge-proxy/mc"), "{plan}");

    // Thresholds ruled out, but the ASL-2 safeguards have no evidence: blocked.
    let out = expect(dir, &["assess", "--model", "m1"], 3);
    for id in ["KNOW-1", "CYBER-1", "AUTO-1"] {
        assert!(out.contains(id), "{out}");
    }
    assert!(out.contains("KNOW-1    ruled-out"), "{out}");
    assert!(out.contains("model-card               missing"), "{out}");
    assert!(out.contains("deploy BLOCKED"), "{out}");
    let reports = report_dir(&out);
    for f in [
        "capability-report.md",
        "capability-report.html",
        "capability-report.json",
        "safeguards-report.md",
        "safeguards-report.html",
        "safeguards-report.json",
    ] {
        assert!(reports.join(f).is_file(), "{f} missing");
    }
    let html = std::fs::read_to_string(reports.join("capability-report.html")).unwrap();
    for id in ["KNOW-1", "CYBER-1", "AUTO-1"] {
        assert!(
            html.contains(&format!("id=\"threshold-{id}\"")),
            "{id} not in the HTML"
        );
    }

    // Attest both ASL-2 safeguards: the decision is allowed but unsigned.
    std::fs::write(dir.join("card.md"), "# Model card\n").unwrap();
    std::fs::write(dir.join("acl.txt"), "weights: two named admins\n").unwrap();
    expect(
        dir,
        &[
            "safeguard",
            "attest",
            "model-card",
            "--evidence",
            "card.md",
            "--by",
            "rso",
        ],
        0,
    );
    expect(
        dir,
        &[
            "safeguard",
            "attest",
            "weights-access-control",
            "--evidence",
            "acl.txt",
            "--by",
            "security",
        ],
        0,
    );
    let out = expect(dir, &["assess", "--model", "m1"], 4);
    assert!(out.contains("deploy ALLOWED"), "{out}");
    assert!(out.contains("awaiting signatures from: rso, ceo"), "{out}");
    // The runs were reused, not repeated.
    assert!(!out.contains("running "), "{out}");
    let id = decision_id(&out);

    // Both signers sign; the same evidence finds the same decision: allowed.
    for role in ["rso", "ceo"] {
        expect(dir, &["key", "new", "--role", role], 0);
        expect(dir, &["sign", &id, "--role", role], 0);
    }
    let out = expect(dir, &["assess", "--model", "m1"], 0);
    assert_eq!(decision_id(&out), id);
    assert!(out.contains("signed by: rso, ceo"), "{out}");
    let status = expect(dir, &["status"], 0);
    let line = status.lines().find(|l| l.starts_with("m1 ")).unwrap();
    assert!(line.contains("ASL-2 required"), "{line}");
    assert!(line.contains("deploy: allowed (signed)"), "{line}");

    // Training past the compute the policy allows is a separate decision.
    expect(
        dir,
        &[
            "assess", "--model", "m1", "--action", "train", "--to", "4e21",
        ],
        4,
    );

    // Tampering with attested evidence blocks again.
    let evidence = dir.join(".rsp/evidence");
    for e in std::fs::read_dir(&evidence).unwrap() {
        let p = e.unwrap().path();
        let mut perms = std::fs::metadata(&p).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(&p, perms).unwrap();
        std::fs::write(&p, "edited afterwards\n").unwrap();
    }
    let out = expect(dir, &["assess", "--model", "m1"], 3);
    assert!(out.contains("unverified"), "{out}");

    // Every step left a verifiable trail.
    let verify = expect(dir, &["ledger", "verify"], 0);
    assert!(verify.contains("the project log verifies"), "{verify}");
    let log = expect(dir, &["ledger", "log"], 0);
    for kind in [
        "policy_version",
        "run",
        "determination",
        "decision",
        "signature",
    ] {
        assert!(log.contains(kind), "no {kind} leaf:\n{log}");
    }
}

#[test]
fn a_model_must_be_registered_and_train_needs_a_target() {
    let tmp = tempfile::tempdir().unwrap();
    expect(tmp.path(), &["init"], 0);
    let o = rsp(tmp.path(), &["assess", "--model", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("rsp model add"), "{}", stderr(&o));
    let o = rsp(tmp.path(), &["assess", "--action", "train"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--to"), "{}", stderr(&o));
}

/// The real embedded model on a few items per suite (the full assessment is
/// the README's main command). Too few items for KNOW-1's `min_samples`, so
/// the policy counts it as not ruled out and blocks: exit 3.
#[test]
fn embedded_model_smoke_assessment_writes_every_report() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    expect(dir, &["init"], 0);
    let out = expect(
        dir,
        &[
            "assess",
            "--model",
            "embedded",
            "--limit",
            "3",
            "--skip-baselines",
        ],
        3,
    );
    assert!(out.contains("KNOW-1    no-evidence"), "{out}");
    let reports = report_dir(&out);
    let json = std::fs::read_to_string(reports.join("capability-report.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["assessment"]["model"]["name"], "smollm2-135m");
    let html = std::fs::read_to_string(reports.join("capability-report.html")).unwrap();
    for id in ["KNOW-1", "CYBER-1", "AUTO-1"] {
        assert!(html.contains(&format!("id=\"threshold-{id}\"")), "{id}");
    }
    let md = std::fs::read_to_string(reports.join("capability-report.md")).unwrap();
    assert!(
        md.contains("Transcripts") || md.contains("transcripts"),
        "{md}"
    );
}
