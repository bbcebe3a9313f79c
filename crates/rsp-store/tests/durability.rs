//! Crash safety and concurrent writers.
//!
//! The crash test runs this very test binary as a child process (the ignored `crash_child`
//! test, switched on by an environment variable) that writes in a loop, kills it with
//! SIGKILL mid-write, reopens the file and checks that it is sound and that everything the
//! child reported as committed is there, complete.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use rsp_store::prelude::*;
use rsp_store::{Artifact, NewRun, RunSource, SampleFilter, SampleRecord, SqliteStore};
use serde_json::json;
use sha2::{Digest, Sha256};

const DB_VAR: &str = "RSP_STORE_CRASH_DB";
const RUN_VAR: &str = "RSP_STORE_CRASH_RUN";
const BATCH: u32 = 20;

/// Deterministic bulky text for a sample or artifact, so a torn write cannot go unnoticed.
fn payload(seed: u32, len: usize) -> String {
    let unit = format!("{seed:08}|");
    unit.repeat(len / unit.len() + 1)[..len].to_owned()
}

fn crash_sample(run_id: &str, position: u32) -> SampleRecord {
    SampleRecord {
        run_id: run_id.into(),
        sample_id: format!("s{position}"),
        epoch: 0,
        position,
        input: json!({"q": position}),
        target: json!(position % 4),
        output: json!({"text": payload(position, 8 * 1024)}),
        scores: json!({"match": position.is_multiple_of(2)}),
        value: Some(f64::from(position % 2)),
        error: None,
        retries: 0,
        usage: json!({"tokens": position}),
        timing_ms: f64::from(position),
        metadata: json!({"batch": position / BATCH}),
        completed_at: Utc::now(),
    }
}

fn crash_leaf(batch: u64) -> (Vec<u8>, [u8; 32], Artifact) {
    let leaf = format!("{{\"batch\":{batch}}}").into_bytes();
    let hash: [u8; 32] = Sha256::digest(&leaf).into();
    let seed = u32::try_from(batch).unwrap();
    let artifact = Artifact::new(payload(seed, 16 * 1024).into_bytes(), "text/plain");
    (leaf, hash, artifact)
}

/// The child: repairs a leaf the last crash may have cut off, then writes batches of samples
/// (one transaction each) and a ledger leaf with an artifact per batch, forever, printing
/// `COMMITTED <batch>` after each batch's leaf is durable.
#[test]
#[ignore = "child process of kill_9_mid_write_loses_nothing_committed"]
fn crash_child() {
    let (Ok(db), Ok(run)) = (std::env::var(DB_VAR), std::env::var(RUN_VAR)) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = SqliteStore::open(&db).await.unwrap();
        let stored = store
            .count_samples(&run, &SampleFilter::default())
            .await
            .unwrap();
        let batches = stored / u64::from(BATCH);
        for b in store.leaf_count().await.unwrap()..batches {
            let (leaf, hash, artifact) = crash_leaf(b);
            store
                .append_leaf(&leaf, &hash, "batch", Some(&artifact))
                .await
                .unwrap();
        }
        let mut out = std::io::stdout();
        for b in batches.. {
            let first = u32::try_from(b).unwrap() * BATCH;
            let samples: Vec<_> = (first..first + BATCH)
                .map(|p| crash_sample(&run, p))
                .collect();
            store.record_samples(&samples).await.unwrap();
            let (leaf, hash, artifact) = crash_leaf(b);
            store
                .append_leaf(&leaf, &hash, "batch", Some(&artifact))
                .await
                .unwrap();
            store
                .cache_put(&format!("k{b}"), &json!({"batch": b}))
                .await
                .unwrap();
            writeln!(out, "COMMITTED {b}").unwrap();
            out.flush().unwrap();
        }
    });
}

/// Runs the child until it has committed `at_least` more batches, then SIGKILLs it.
/// Returns the batches it reported committed.
fn run_and_kill(db: &Path, run: &str, at_least: usize, jitter_ms: u64) -> Vec<u64> {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(DB_VAR, db)
        .env(RUN_VAR, run)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut reported = Vec::new();
    while reported.len() < at_least {
        let line = lines
            .next()
            .expect("child exited before committing enough batches")
            .unwrap();
        if let Some(b) = line.strip_prefix("COMMITTED ") {
            reported.push(b.parse::<u64>().unwrap());
        }
    }
    // Land the kill at varying points inside the next writes.
    std::thread::sleep(Duration::from_millis(jitter_ms));
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    // Lines already in the pipe were printed after their commit, so they count too.
    for line in lines {
        if let Some(b) = line.unwrap().strip_prefix("COMMITTED ") {
            reported.push(b.parse::<u64>().unwrap());
        }
    }
    reported
}

#[test]
fn kill_9_mid_write_loses_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(".rsp").join("rsp.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let run = rt.block_on(async {
        let store = SqliteStore::open(&db).await.unwrap();
        let run = store
            .create_run(&NewRun {
                model: "mock/crash".into(),
                model_name: None,
                suite: "s".into(),
                task: "t".into(),
                task_hash: "h".into(),
                config: json!({}),
                provenance: json!({}),
                total_samples: 0,
                source: RunSource::Native,
                source_sha256: None,
            })
            .await
            .unwrap();
        store.close().await;
        run.id
    });

    let mut reported = Vec::new();
    for jitter in [0u64, 3, 7, 1] {
        let round = run_and_kill(&db, &run, 10, jitter);
        // Each round resumes right after what is stored, so reports keep increasing.
        assert!(round.windows(2).all(|w| w[0] < w[1]), "{round:?}");
        assert!(
            round.first() > reported.last(),
            "{round:?} after {reported:?}"
        );
        reported.extend(round);
        rt.block_on(check_store(&db, &run, &reported));
    }
}

/// The file is sound, every reported batch is complete, and nothing is half-written.
async fn check_store(db: &Path, run: &str, reported: &[u64]) {
    let committed = *reported.last().unwrap();
    let store = SqliteStore::open(db).await.unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), Vec::<String>::new());

    let count = store
        .count_samples(run, &SampleFilter::default())
        .await
        .unwrap();
    // Batches are transactions: whole batches or nothing.
    assert_eq!(count % u64::from(BATCH), 0, "a batch was half-written");
    let batches = count / u64::from(BATCH);
    assert!(
        batches > committed,
        "{batches} batches stored, batch {committed} reported"
    );

    let mut positions = HashSet::new();
    let mut after = None;
    loop {
        let page = store
            .list_samples(run, &SampleFilter::default(), after, 500)
            .await
            .unwrap();
        for s in &page.samples {
            let want = crash_sample(run, s.position);
            assert_eq!(s.output, want.output, "sample {} is torn", s.position);
            assert_eq!(s.input, want.input);
            assert_eq!(s.metadata, want.metadata);
            assert_eq!(s.value, want.value);
            positions.insert(s.position);
        }
        match page.next {
            Some(c) => after = Some(c),
            None => break,
        }
    }
    let want: HashSet<u32> = (0..u32::try_from(count).unwrap()).collect();
    assert_eq!(positions, want);

    // Leaves: contiguous, each with its artifact, at most one behind the samples (the crash
    // may fall between a batch's two transactions).
    let n = store.leaf_count().await.unwrap();
    assert!(
        n > committed && n <= batches && n + 1 >= batches,
        "{n} leaves, {batches} batches"
    );
    let leaves = store.leaves(0..n).await.unwrap();
    assert_eq!(leaves.len() as u64, n);
    for (i, leaf) in leaves.iter().enumerate() {
        let (bytes, hash, artifact) = crash_leaf(i as u64);
        assert_eq!(leaf.idx, i as u64);
        assert_eq!(leaf.leaf, bytes);
        assert_eq!(leaf.leaf_hash, hash);
        assert_eq!(
            leaf.artifact_sha256.as_deref(),
            Some(artifact.sha256.as_str())
        );
        assert_eq!(
            store.artifact(&artifact.sha256).await.unwrap(),
            Some(artifact)
        );
    }
    // Cache entries are written after the leaf; a crash in between leaves that batch's
    // entry missing for good (the child does not repair the cache), so check reported ones.
    for &b in reported {
        assert_eq!(
            store.cache_get(&format!("k{b}")).await.unwrap(),
            Some(json!({"batch": b}))
        );
    }
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_get_contiguous_indices() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rsp.db");
    // Two stores on one file: two writer connections, as with two rsp processes.
    let a: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let b: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).await.unwrap());
    let mut tasks = Vec::new();
    for t in 0..16u64 {
        let store = Arc::clone(if t.is_multiple_of(2) { &a } else { &b });
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for i in 0..25u64 {
                let leaf = format!("{{\"task\":{t},\"i\":{i}}}").into_bytes();
                let hash: [u8; 32] = Sha256::digest(&leaf).into();
                let artifact = i
                    .is_multiple_of(5)
                    .then(|| Artifact::new(leaf.clone(), "application/json"));
                let idx = store
                    .append_leaf(&leaf, &hash, "test", artifact.as_ref())
                    .await
                    .unwrap();
                mine.push((idx, leaf));
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let indices: Vec<u64> = all.iter().map(|(i, _)| *i).collect();
    assert_eq!(indices, (0..400).collect::<Vec<_>>());
    assert_eq!(a.leaf_count().await.unwrap(), 400);
    let stored = b.leaves(0..400).await.unwrap();
    for ((idx, leaf), rec) in all.iter().zip(&stored) {
        assert_eq!(rec.idx, *idx);
        assert_eq!(&rec.leaf, leaf, "leaf {idx} holds another task's bytes");
    }
}
