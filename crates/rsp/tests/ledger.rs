//! The project audit log end to end: the real binary on a real SQLite store.
//! An attacker with write access to `.rsp/rsp.db` drops the append-only
//! triggers and flips one byte; `rsp ledger verify` must catch every such edit
//! and name the leaf.

mod common;

use common::{rsp, stdout};
use std::path::Path;

use rand::{Rng as _, SeedableRng as _};
use rsp_ledger::{LeafDocument, LeafKind};
use rsp_store::{Artifact, LedgerStore as _, SqliteStore};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A project whose log holds the policy and embedded-model leaves from `rsp init` plus `extra`
/// leaves with artifacts, every one covered by a signed checkpoint.
fn populated(extra: usize) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = rsp(tmp.path(), &["init"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let db = SqliteStore::default_path(tmp.path());
    rt().block_on(async {
        let store = SqliteStore::open(&db).await.expect("store");
        for i in 0..extra {
            let body = format!("{{\"artifact\":{i},\"text\":\"run summary number {i}\"}}");
            let mut doc = LeafDocument::new(LeafKind::Run, chrono::Utc::now(), body.as_bytes());
            doc.meta.insert("id".into(), format!("run-{i}").into());
            let leaf = doc.to_canonical_bytes().expect("leaf");
            let hash = rsp_ledger::leaf_hash(&leaf);
            store
                .append_leaf(
                    &leaf,
                    hash.as_bytes(),
                    "run",
                    Some(&Artifact::new(body.into_bytes(), "application/json")),
                )
                .await
                .expect("append");
        }
    });
    let o = rsp(tmp.path(), &["ledger", "checkpoint", "--sign"]);
    assert_eq!(o.status.code(), Some(0));
    tmp
}

/// Runs SQL against the store with the append-only triggers removed, as an
/// attacker with file access would.
fn tamper(db: &Path, sql: &str, blob: Vec<u8>, key: String) {
    rt().block_on(async {
        use sqlx::Connection as _;
        let url = format!("sqlite://{}", db.display());
        let mut c = sqlx::SqliteConnection::connect(&url)
            .await
            .expect("connect");
        for t in ["leaves_no_update", "artifacts_no_update"] {
            sqlx::query(&format!("DROP TRIGGER IF EXISTS {t}"))
                .execute(&mut c)
                .await
                .expect("drop trigger");
        }
        sqlx::query(sql)
            .bind(blob)
            .bind(key)
            .execute(&mut c)
            .await
            .expect("tamper");
        c.close().await.expect("close");
    });
}

#[test]
fn a_fresh_project_log_verifies_and_proves() {
    let tmp = populated(5);
    let o = rsp(tmp.path(), &["ledger", "verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("leaves:      7"), "{}", stdout(&o));

    // An inclusion proof for an artifact, checked by the offline verifier.
    let o = rsp(tmp.path(), &["ledger", "prove", "run-3"]);
    assert_eq!(o.status.code(), Some(0));
    std::fs::write(tmp.path().join("p.json"), o.stdout).expect("write");
    let o = rsp(tmp.path(), &["ledger", "verify-proof", "p.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("leaf 5 is in the tree of size 7"));

    let o = rsp(tmp.path(), &["ledger", "prove", "--consistency", "2"]);
    assert_eq!(o.status.code(), Some(0));
    std::fs::write(tmp.path().join("c.json"), o.stdout).expect("write");
    let o = rsp(tmp.path(), &["ledger", "verify-proof", "c.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // The bundle verifies with no project, pinned to the published key, and
    // never contains a private key.
    let o = rsp(tmp.path(), &["ledger", "export", "-o", "b.tar"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let bundle = std::fs::read(tmp.path().join("b.tar")).expect("bundle");
    assert!(!bundle.windows(12).any(|w| w == b"PRIVATE+KEY+"));
    let elsewhere = tempfile::tempdir().expect("tmp");
    std::fs::copy(tmp.path().join("b.tar"), elsewhere.path().join("b.tar")).expect("copy");
    std::fs::copy(
        tmp.path().join(".rsp/ledger/log.vkey"),
        elsewhere.path().join("log.vkey"),
    )
    .expect("copy");
    let o = rsp(
        elsewhere.path(),
        &[
            "ledger",
            "verify",
            "--bundle",
            "b.tar",
            "--log-key",
            "log.vkey",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    // A witness countersigns after checking the log.
    let o = rsp(
        tmp.path(),
        &["ledger", "witness-key", "auditor.example", "-o", "w"],
    );
    assert_eq!(o.status.code(), Some(0));
    let o = rsp(tmp.path(), &["ledger", "cosign", "--key", "w.skey"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("— auditor.example "));
    let o = rsp(tmp.path(), &["ledger", "verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn a_missing_log_key_is_a_clear_error() {
    let tmp = populated(1);
    std::fs::remove_file(tmp.path().join(".rsp/ledger/log.skey")).expect("rm");
    let o = rsp(tmp.path(), &["ledger", "checkpoint", "--sign"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("log key") && err.contains("log.skey"), "{err}");

    // A log verified against somebody else's key fails on the checkpoints.
    let other = populated(0);
    let o = rsp(
        tmp.path(),
        &[
            "ledger",
            "verify",
            "--log-key",
            other
                .path()
                .join(".rsp/ledger/log.vkey")
                .to_str()
                .expect("utf8"),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("checkpoint"), "{}", stdout(&o));
}

/// Flip one byte at 200+ positions spread over every stored leaf and artifact;
/// each edit, on a fresh copy of the store, must fail verification and name the
/// leaf that describes the edited bytes.
#[test]
fn verify_catches_every_single_byte_edit() {
    let base = populated(8);
    let db = SqliteStore::default_path(base.path());
    let (leaves, artifacts) = rt().block_on(async {
        let store = SqliteStore::open(&db).await.expect("store");
        let n = store.leaf_count().await.expect("count");
        let leaves = store.leaves(0..n).await.expect("leaves");
        let mut artifacts = Vec::new();
        for l in &leaves {
            let sha = l.artifact_sha256.clone().expect("artifact");
            let a = store.artifact(&sha).await.expect("get").expect("present");
            artifacts.push((l.idx, sha, a.bytes));
        }
        store.close().await;
        (leaves, artifacts)
    });
    let mut rng = rand::rngs::StdRng::seed_from_u64(9162);
    let mut edits = 0;
    while edits < 200 {
        let work = tempfile::tempdir().expect("tmp");
        copy_project(base.path(), work.path());
        let wdb = SqliteStore::default_path(work.path());
        let (idx, what) = if rng.gen_bool(0.5) {
            let l = &leaves[rng.gen_range(0..leaves.len())];
            let mut bytes = l.leaf.clone();
            let pos = rng.gen_range(0..bytes.len());
            bytes[pos] ^= 1 << rng.gen_range(0..8);
            tamper(
                &wdb,
                "UPDATE leaves SET leaf = ?1 WHERE idx = ?2",
                bytes,
                l.idx.to_string(),
            );
            (l.idx, "leaf")
        } else {
            let (idx, sha, bytes) = &artifacts[rng.gen_range(0..artifacts.len())];
            let mut bytes = bytes.clone();
            let pos = rng.gen_range(0..bytes.len());
            bytes[pos] ^= 1 << rng.gen_range(0..8);
            tamper(
                &wdb,
                "UPDATE artifacts SET bytes = ?1 WHERE sha256 = ?2",
                bytes,
                sha.clone(),
            );
            (*idx, "artifact")
        };
        let o = rsp(work.path(), &["ledger", "verify"]);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{what} edit of leaf {idx} not caught: {}",
            stdout(&o)
        );
        assert!(
            stdout(&o).contains(&format!("leaf {idx}")),
            "{what} edit of leaf {idx}: the report names another place: {}",
            stdout(&o)
        );
        edits += 1;
    }
}

fn copy_project(from: &Path, to: &Path) {
    // The store may still have a write-ahead log beside it; copy it too.
    let mut files: Vec<String> = ["rsp.toml", ".rsp/ledger/log.skey", ".rsp/ledger/log.vkey"]
        .map(String::from)
        .to_vec();
    for e in std::fs::read_dir(from.join(".rsp")).expect("ls").flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("rsp.db") {
            files.push(format!(".rsp/{name}"));
        }
    }
    for rel in files {
        let dst = to.join(&rel);
        std::fs::create_dir_all(dst.parent().expect("parent")).expect("mkdir");
        std::fs::copy(from.join(&rel), dst).expect("copy");
    }
}

#[test]
fn model_registrations_are_logged_and_verify() {
    let tmp = tempfile::tempdir().expect("tmp");
    let o = rsp(tmp.path(), &["init"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let add = |compute: &str| {
        rsp(
            tmp.path(),
            &[
                "model",
                "add",
                "ckpt-a",
                "--spec",
                "openai/a",
                "--compute",
                compute,
            ],
        )
    };
    let o = add("1e22");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // Re-recording the same facts is not a new artifact; changing them is.
    let o = add("1e22");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = add("2e22");
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = rsp(tmp.path(), &["ledger", "verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // policy, the embedded model, ckpt-a twice (1e22, then 2e22)
    assert!(stdout(&o).contains("leaves:      4"), "{}", stdout(&o));
    let db = SqliteStore::default_path(tmp.path());
    let kinds = rt().block_on(async {
        let store = SqliteStore::open(&db).await.expect("store");
        let leaves = store.leaves(0..4).await.expect("leaves");
        leaves
            .into_iter()
            .map(|l| {
                let doc: serde_json::Value = serde_json::from_slice(&l.leaf).expect("json");
                (
                    doc["kind"].as_str().unwrap_or_default().to_owned(),
                    doc["meta"]["name"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(kinds[1], ("other".to_owned(), "smollm2-135m".to_owned()));
    assert_eq!(kinds[3], ("other".to_owned(), "ckpt-a".to_owned()));
}
