//! Ledger throughput at 1,000,000 leaves.
//!
//! * `tree/append_1m_leaf_hashes_and_root`: node hashing only (leaf hashes precomputed).
//! * `tree/hash_and_append_1m_leaves`: leaf hashing (rayon) + appends + root.
//! * `verify_log/1m`: full `verify_log` — leaf hashes, canonical-JSON check of
//!   every leaf, every artifact re-hashed, dependencies, one checkpoint.
//! * `leaf/from_canonical_bytes_1m_one_thread`: strict canonical parse of
//!   every leaf on one thread (the dominant per-leaf cost of verification).
//! * `sha256/raw_leaf_bytes` and `sha256/raw_leaf_and_artifact_bytes`: plain
//!   SHA-256 over the same bytes, single thread, as the floor to compare with.
//!
//! Run: `cargo bench -p rsp-ledger --bench ledger`.

#![allow(
    clippy::unwrap_used,
    reason = "fixture setup; a failure aborts the benchmark"
)]

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rayon::prelude::*;
use rsp_ledger::{
    Checkpoint, Hash, KeyAlg, LeafDocument, LeafKind, LogEntry, MerkleTree, SignerKey, leaf_hash,
    sha256, verify_log,
};

const N: usize = 1_000_000;

struct Fixture {
    entries: Vec<LogEntry>,
    artifacts: HashMap<Hash, Vec<u8>>,
    checkpoint: String,
    key: SignerKey,
}

fn fixture() -> Fixture {
    let key = SignerKey::from_seed("bench.example/log", KeyAlg::Ed25519, [1; 32]).unwrap();
    let t0 = chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap();
    let (entries, artifacts): (Vec<LogEntry>, Vec<(Hash, Vec<u8>)>) = (0..N)
        .into_par_iter()
        .map(|i| {
            // ~200-byte artifact (a small run summary) and a ~250-byte leaf.
            let artifact = format!(
                "{{\"run\":{i},\"model\":\"m-{}\",\"score\":0.{:04},\"samples\":[{}]}}",
                i % 7,
                i % 9973,
                "1,0,1,1,0,".repeat(16)
            );
            let mut doc = LeafDocument::new(
                LeafKind::Run,
                t0 + chrono::Duration::seconds(i as i64),
                artifact.as_bytes(),
            );
            doc.meta
                .insert("model".into(), format!("m-{}", i % 7).into());
            doc.meta.insert("seq".into(), serde_json::json!(i));
            let leaf = doc.to_canonical_bytes().unwrap();
            (
                LogEntry::new(leaf),
                (doc.artifact_sha256, artifact.into_bytes()),
            )
        })
        .unzip();
    let tree = MerkleTree::from_leaf_hashes(entries.iter().map(|e| e.recorded_hash.unwrap()));
    let checkpoint = Checkpoint::new("bench.example/log", tree.len(), tree.root())
        .sign(&key)
        .unwrap();
    Fixture {
        entries,
        artifacts: artifacts.into_iter().collect(),
        checkpoint,
        key,
    }
}

fn benches(c: &mut Criterion) {
    let f = fixture();
    let leaf_bytes: u64 = f.entries.iter().map(|e| e.leaf.len() as u64).sum();
    let artifact_bytes: u64 = f.artifacts.values().map(|a| a.len() as u64).sum();
    eprintln!("fixture: {N} leaves, {leaf_bytes} leaf bytes, {artifact_bytes} artifact bytes");
    let hashes: Vec<Hash> = f.entries.iter().map(|e| e.recorded_hash.unwrap()).collect();

    let mut g = c.benchmark_group("ledger_1m");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    g.bench_function("tree/append_1m_leaf_hashes_and_root", |b| {
        b.iter(|| MerkleTree::from_leaf_hashes(hashes.iter().copied()).root());
    });
    g.bench_function("tree/hash_and_append_1m_leaves", |b| {
        b.iter(|| {
            let leaves: Vec<Hash> = f.entries.par_iter().map(|e| leaf_hash(&e.leaf)).collect();
            MerkleTree::from_leaf_hashes(leaves).root()
        });
    });
    let vk = f.key.verifier();
    g.bench_function("verify_log/1m", |b| {
        b.iter(|| {
            let r = verify_log(
                &f.entries,
                &f.artifacts,
                std::slice::from_ref(&f.checkpoint),
                &vk,
            )
            .unwrap();
            black_box(r.root)
        });
    });
    g.bench_function("leaf/from_canonical_bytes_1m_one_thread", |b| {
        b.iter(|| {
            f.entries
                .iter()
                .filter(|e| LeafDocument::from_canonical_bytes(&e.leaf).is_ok())
                .count()
        });
    });
    g.bench_function("sha256/raw_leaf_bytes", |b| {
        b.iter(|| {
            f.entries
                .iter()
                .fold(0u8, |acc, e| acc ^ sha256(&e.leaf).0[0])
        });
    });
    g.bench_function("sha256/raw_leaf_and_artifact_bytes", |b| {
        b.iter(|| {
            let a = f
                .entries
                .iter()
                .fold(0u8, |acc, e| acc ^ sha256(&e.leaf).0[0]);
            f.artifacts.values().fold(a, |acc, v| acc ^ sha256(v).0[0])
        });
    });
    g.finish();
}

criterion_group!(ledger, benches);
criterion_main!(ledger);
