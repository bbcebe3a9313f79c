//! Governance commands end to end on a fresh project: the model registry, role keys,
//! safeguard attestations with tamper detection, and signed decisions.

#![allow(clippy::unwrap_used)]

mod common;

use common::{rsp, stderr, stdout};
use std::path::Path;

use rsp_store::{
    DecisionAction, DecisionRecord, DecisionStatus, GovernanceStore as _, SignatureRecord,
    SqliteStore,
};

/// Runs and expects exit 0, returning stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let o = rsp(dir, args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    stdout(&o)
}

/// Runs and expects a failure with `code`, returning stderr.
fn fails(dir: &Path, args: &[&str], code: i32) -> String {
    let o = rsp(dir, args);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stdout(&o));
    stderr(&o)
}

fn project() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    ok(tmp.path(), &["init"]);
    tmp
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn insert_decision(dir: &Path, id: &str) {
    block_on(async {
        let store = SqliteStore::open(SqliteStore::default_path(dir))
            .await
            .unwrap();
        store
            .insert_decision(&DecisionRecord {
                id: id.into(),
                model: "smollm2-135m".into(),
                action: DecisionAction::Deploy,
                params: serde_json::json!({}),
                status: DecisionStatus::Draft,
                outcome: serde_json::json!({"allowed": true, "reasons": ["every threshold ruled out"]}),
                created_at: chrono::Utc::now(),
            })
            .await
            .unwrap();
        store.close().await;
    });
}

#[test]
fn model_registry_add_list_show() {
    let tmp = project();
    let dir = tmp.path();
    insta::assert_snapshot!("model_list_after_init", ok(dir, &["model", "list"]));

    let out = ok(
        dir,
        &[
            "model",
            "add",
            "big-7b",
            "--spec",
            "openai/big-7b",
            "--params",
            "7B",
            "--tokens",
            "2T",
            "--date",
            "2025-03-01",
            "--parent",
            "smollm2-135m",
            "--notes",
            "test model",
        ],
    );
    assert_eq!(
        out,
        "compute: 8.4e22 FLOP, estimated as 6·N·D from --params and --tokens\nregistered model big-7b (openai/big-7b)\n"
    );
    insta::assert_snapshot!("model_show", ok(dir, &["model", "show", "big-7b"]));
    let v: serde_json::Value =
        serde_json::from_str(&ok(dir, &["model", "show", "smollm2-135m", "--json"])).unwrap();
    assert_eq!(v["spec"], "embedded");
    assert_eq!(v["parameters"], 135e6);
    assert_eq!(v["training_tokens"], 2e12);
    assert_eq!(v["effective_compute_flop"], 1.62e21);
    let list: serde_json::Value =
        serde_json::from_str(&ok(dir, &["model", "list", "--json"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);

    // An explicit compute wins over 6·N·D, and re-adding updates.
    let out = ok(
        dir,
        &[
            "model",
            "add",
            "big-7b",
            "--spec",
            "openai/big-7b",
            "--compute",
            "9e22",
        ],
    );
    assert_eq!(out, "updated model big-7b (openai/big-7b)\n");
    assert!(ok(dir, &["model", "show", "big-7b"]).contains("compute:    9e22 FLOP\n"));

    let e = fails(
        dir,
        &[
            "model", "add", "x", "--spec", "embedded", "--parent", "nope",
        ],
        2,
    );
    assert!(e.contains("parent model `nope` is not registered"), "{e}");
    let e = fails(
        dir,
        &[
            "model",
            "add",
            "x",
            "--spec",
            "embedded",
            "--date",
            "2025-02-30",
        ],
        2,
    );
    assert!(e.contains("YYYY-MM-DD"), "{e}");
    let e = fails(dir, &["model", "add", "x", "--spec", "nosuch/thing"], 2);
    assert!(e.contains("model spec"), "{e}");
    let e = fails(dir, &["model", "show", "nope"], 2);
    assert!(e.contains("registered: big-7b, smollm2-135m"), "{e}");
}

#[test]
fn role_keys_are_private_files_with_registered_public_halves() {
    let tmp = project();
    let dir = tmp.path();
    let out = ok(dir, &["key", "new", "--role", "rso"]);
    assert!(
        out.starts_with("created .rsp/keys/rso.key (mode 0600)\n"),
        "{out}"
    );
    assert!(
        out.contains("signs:      deploy, train, policy-update decisions"),
        "{out}"
    );
    let path = dir.join(".rsp/keys/rso.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let first = std::fs::read_to_string(&path).unwrap();

    let e = fails(dir, &["key", "new", "--role", "rso"], 2);
    assert!(e.contains("already exists; pass --force"), "{e}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        first,
        "not overwritten"
    );
    let e = fails(dir, &["key", "new", "--role", "cfo"], 2);
    assert!(e.contains("the policy has no role `cfo`"), "{e}");
    assert!(!dir.join(".rsp/keys/cfo.key").exists());

    ok(dir, &["key", "new", "--role", "rso", "--force"]);
    assert_ne!(std::fs::read_to_string(&path).unwrap(), first, "replaced");
    let keys: serde_json::Value =
        serde_json::from_str(&ok(dir, &["key", "list", "--json"])).unwrap();
    let keys = keys.as_array().unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(
        (keys[0]["active"].as_bool(), keys[0]["private_key"].as_str()),
        (Some(false), Some("other key"))
    );
    assert_eq!(
        (keys[1]["active"].as_bool(), keys[1]["private_key"].as_str()),
        (Some(true), Some("here"))
    );
    let text = ok(dir, &["key", "list"]);
    assert!(
        text.contains("retired") && text.contains("active"),
        "{text}"
    );
}

#[test]
fn attestations_are_hashed_stored_and_tamper_evident() {
    let tmp = project();
    let dir = tmp.path();
    std::fs::write(
        dir.join("card.md"),
        "# Model card\nCapabilities and limits.\n",
    )
    .unwrap();
    let actual = rsp_ledger::sha256(&std::fs::read(dir.join("card.md")).unwrap()).to_hex();
    let today = chrono::Utc::now().date_naive();
    let max = today + chrono::Days::new(365);

    // The policy names rso for the model card, 365 days.
    let e = fails(
        dir,
        &[
            "safeguard",
            "attest",
            "model-card",
            "--evidence",
            "card.md",
            "--by",
            "ceo",
        ],
        2,
    );
    assert!(
        e.contains("must be attested by role `rso`, not `ceo`"),
        "{e}"
    );
    let too_late = (max + chrono::Days::new(1)).to_string();
    let e = fails(
        dir,
        &[
            "safeguard",
            "attest",
            "model-card",
            "--evidence",
            "card.md",
            "--by",
            "rso",
            "--expires",
            &too_late,
        ],
        2,
    );
    assert!(e.contains("valid for 365 days"), "{e}");
    let e = fails(
        dir,
        &[
            "safeguard",
            "attest",
            "constitutional-guard",
            "--evidence",
            "card.md",
            "--by",
            "rso",
        ],
        2,
    );
    assert!(e.contains("measured metric"), "{e}");
    let e = fails(
        dir,
        &[
            "safeguard",
            "attest",
            "no-such",
            "--evidence",
            "card.md",
            "--by",
            "rso",
        ],
        2,
    );
    assert!(e.contains("no safeguard `no-such`"), "{e}");

    let out = ok(
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
    );
    assert_eq!(
        out,
        format!(
            "attested model-card (ASL-2) by rso, valid until {max}\nevidence: sha256 {actual}\nstored:   .rsp/evidence/{actual}\n"
        )
    );
    let stored = dir.join(".rsp/evidence").join(&actual);
    assert_eq!(
        std::fs::read(&stored).unwrap(),
        std::fs::read(dir.join("card.md")).unwrap()
    );
    let redact = |s: String| {
        s.replace(&today.to_string(), "[TODAY]")
            .replace(&max.to_string(), "[EXPIRES]")
    };
    insta::assert_snapshot!("safeguard_list", redact(ok(dir, &["safeguard", "list"])));
    let v: serde_json::Value =
        serde_json::from_str(&ok(dir, &["safeguard", "list", "--json"])).unwrap();
    assert_eq!(v[0]["status"], "in place");
    assert_eq!(v[0]["attestation"]["evidence_sha256"], actual.as_str());
    assert_eq!(v[1]["status"], "missing");

    // Editing the stored copy is detected, and the command fails.
    std::fs::write(
        &stored,
        "# Model card\nCapabilities, limits, and a quiet edit.\n",
    )
    .unwrap();
    let o = rsp(dir, &["safeguard", "list"]);
    assert_eq!(o.status.code(), Some(1));
    let line = stdout(&o)
        .lines()
        .find(|l| l.starts_with("model-card"))
        .unwrap()
        .to_owned();
    assert!(line.contains("hash mismatch"), "{line}");
}

#[test]
fn decisions_are_final_only_when_every_signer_signed_with_their_own_key() {
    let tmp = project();
    let dir = tmp.path();
    for role in ["rso", "ceo", "security"] {
        ok(dir, &["key", "new", "--role", role]);
    }
    let id = "dec-20261129-deploy";
    insert_decision(dir, id);

    // A role that signs nothing, and one the policy does not know.
    let e = fails(dir, &["sign", "dec-2026", "--role", "security"], 2);
    assert!(
        e.contains(
            "role `security` does not sign deploy decisions under the policy (signers: rso, ceo)"
        ),
        "{e}"
    );
    let e = fails(dir, &["sign", "dec-2026", "--role", "cfo"], 2);
    assert!(e.contains("no role `cfo`"), "{e}");

    // The CEO's key file put where the RSO's should be cannot sign for the RSO.
    let rso = dir.join(".rsp/keys/rso.key");
    let rso_text = std::fs::read_to_string(&rso).unwrap();
    std::fs::copy(dir.join(".rsp/keys/ceo.key"), &rso).unwrap();
    let e = fails(dir, &["sign", "dec-2026", "--role", "rso"], 2);
    assert!(
        e.contains("is not the key registered for role `rso`"),
        "{e}"
    );
    std::fs::write(&rso, rso_text).unwrap();

    let out = ok(dir, &["sign", "dec-2026", "--role", "rso"]);
    assert_eq!(
        out,
        format!("signed decision {id} as rso\nawaiting signatures: ceo\n")
    );
    let show = ok(dir, &["decisions", "show", id]);
    assert!(show.contains("status:   draft\n"), "{show}");
    assert!(show.contains("awaiting: ceo\n"), "{show}");

    let out = ok(dir, &["sign", id, "--role", "ceo"]);
    assert_eq!(
        out,
        format!("signed decision {id} as ceo\ndecision {id} is final: signed by rso, ceo\n")
    );
    let show = ok(dir, &["decisions", "show", "dec-"]);
    assert!(show.contains("status:   final\n"), "{show}");
    assert_eq!(show.matches(" valid  key ").count(), 2, "{show}");
    assert!(!show.contains("awaiting"), "{show}");
    let list = ok(dir, &["decisions", "list"]);
    assert!(list.contains("2/2 (rso, ceo)"), "{list}");
    let e = fails(dir, &["sign", id, "--role", "rso"], 2);
    assert!(e.contains("already final"), "{e}");

    // Key registrations, both signatures and the final decision are in the audit log.
    let log = ok(dir, &["ledger", "log"]);
    let kinds: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    assert_eq!(
        kinds,
        [
            "policy_version",
            "other", // the embedded model's registration
            "key_registration",
            "key_registration",
            "key_registration",
            "signature",
            "signature",
            "decision"
        ],
        "{log}"
    );
    ok(dir, &["ledger", "verify"]);

    // A forged signature row (the CEO's key, garbage signature) on another draft is caught
    // by every re-verification, and the decision stays a draft.
    insert_decision(dir, "dec-forged");
    let v: serde_json::Value =
        serde_json::from_str(&ok(dir, &["decisions", "show", id, "--json"])).unwrap();
    let ceo_key = v["signatures"][1]["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    block_on(async {
        let store = SqliteStore::open(SqliteStore::default_path(dir))
            .await
            .unwrap();
        store
            .insert_signature(&SignatureRecord {
                decision_id: "dec-forged".into(),
                role: "ceo".into(),
                public_key: ceo_key,
                signature: "00".repeat(64),
                signed_at: chrono::Utc::now(),
            })
            .await
            .unwrap();
        store.close().await;
    });
    let o = rsp(dir, &["decisions", "show", "dec-forged"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("INVALID: signature does not verify"),
        "{}",
        stdout(&o)
    );
    let o = rsp(dir, &["decisions", "list"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("0/2 INVALID SIGNATURE"),
        "{}",
        stdout(&o)
    );
}
