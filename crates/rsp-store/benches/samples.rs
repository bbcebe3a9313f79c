//! Sample-store benchmark: bulk insert, then filtered keyset page queries.
//!
//! Inserts `RSP_BENCH_SAMPLES` samples (default 1,000,000) into one run in transactions of
//! 10,000, then times 200 page queries (50 rows each) from random cursors for several
//! filters and prints p50 / p99. A plain binary rather than criterion: the interesting
//! number is a latency distribution over a database that takes minutes to build once.
//!
//! Run: `cargo bench -p rsp-store --bench samples` (set `RSP_BENCH_SAMPLES=200000` for a
//! quicker pass; `RSP_BENCH_DIR` to keep the database somewhere other than a temp dir).

use std::time::{Duration, Instant};

use chrono::Utc;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rsp_store::prelude::*;
use rsp_store::{NewRun, RunSource, SampleCursor, SampleFilter, SampleRecord, SqliteStore};
use serde_json::json;

const BATCH: u32 = 10_000;
const QUERIES: usize = 200;
const PAGE: u32 = 50;
const EPOCHS: u32 = 2;

fn sample(run_id: &str, position: u32, epoch: u32, rng: &mut StdRng) -> SampleRecord {
    let domain = ["bio", "chem", "cyber", "autonomy"][rng.gen_range(0..4)];
    let value: f64 = if rng.gen_bool(0.4) { 1.0 } else { 0.0 };
    SampleRecord {
        run_id: run_id.into(),
        sample_id: format!("item-{position:07}"),
        epoch,
        position,
        input: json!([{"role": "user", "content": format!("Question {position}: which option is correct?")}]),
        target: json!("C"),
        output: json!({
            "messages": [{"role": "assistant", "content": format!("Let me think step by step about {position}. The answer is B.")}],
            "completion": "B",
        }),
        scores: json!({"choice": {"value": value, "answer": "B"}}),
        value: Some(value),
        // About 0.5% of samples errored.
        error: rng.gen_bool(0.005).then(|| "provider timeout".to_owned()),
        retries: 0,
        usage: json!({"input_tokens": 57, "output_tokens": 14}),
        timing_ms: rng.gen_range(5.0..900.0),
        metadata: json!({"domain": domain, "difficulty": rng.gen_range(1..=5)}),
        completed_at: Utc::now(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    let n: u32 = std::env::var("RSP_BENCH_SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = std::env::var("RSP_BENCH_DIR").map_or_else(|_| tmp.path().to_owned(), Into::into);
    let path = dir.join("bench.db");
    let _ = std::fs::remove_file(&path);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let store = SqliteStore::open(&path).await.expect("open");
        let run = store
            .create_run(&NewRun {
                model: "mock/bench".into(),
                model_name: None,
                suite: "bench".into(),
                task: "mc".into(),
                task_hash: "h".into(),
                config: json!({"epochs": EPOCHS}),
                provenance: json!({}),
                total_samples: u64::from(n),
                source: RunSource::Native,
                source_sha256: None,
            })
            .await
            .expect("run");
        let mut rng = StdRng::seed_from_u64(7);
        let start = Instant::now();
        let mut keys = (0..n / EPOCHS).flat_map(|p| (0..EPOCHS).map(move |e| (p, e)));
        loop {
            let batch: Vec<_> = keys
                .by_ref()
                .take(BATCH as usize)
                .map(|(p, e)| sample(&run.id, p, e, &mut rng))
                .collect();
            if batch.is_empty() {
                break;
            }
            store.record_samples(&batch).await.expect("insert");
        }
        let insert = start.elapsed();
        let size = std::fs::metadata(&path).map_or(0, |m| m.len())
            + std::fs::metadata(path.with_extension("db-wal")).map_or(0, |m| m.len());
        println!(
            "inserted {n} samples in {:.1} s ({:.0} samples/s, batches of {BATCH}); db {:.0} MB",
            insert.as_secs_f64(),
            f64::from(n) / insert.as_secs_f64(),
            size as f64 / 1e6
        );

        let filters = [
            ("no filter", SampleFilter::default()),
            (
                "value>=0.5 & domain=chem",
                SampleFilter {
                    min_value: Some(0.5),
                    metadata_eq: vec![("domain".into(), json!("chem"))],
                    ..SampleFilter::default()
                },
            ),
            (
                "domain=bio & difficulty=5 & no error",
                SampleFilter {
                    has_error: Some(false),
                    metadata_eq: vec![
                        ("domain".into(), json!("bio")),
                        ("difficulty".into(), json!(5)),
                    ],
                    ..SampleFilter::default()
                },
            ),
            (
                "has error (0.5%)",
                SampleFilter {
                    has_error: Some(true),
                    ..SampleFilter::default()
                },
            ),
        ];
        for (name, filter) in &filters {
            let mut times = Vec::with_capacity(QUERIES);
            let mut rows = 0;
            for _ in 0..QUERIES {
                let after = SampleCursor {
                    position: rng.gen_range(0..n / EPOCHS),
                    epoch: 0,
                };
                let t = Instant::now();
                let page = store
                    .list_samples(&run.id, filter, Some(after), PAGE)
                    .await
                    .expect("page");
                times.push(t.elapsed());
                rows += page.samples.len();
            }
            times.sort();
            let t = Instant::now();
            let count = store.count_samples(&run.id, filter).await.expect("count");
            let count_time = t.elapsed();
            println!(
                "page of {PAGE}, {name:<38} p50 {:>8.2} ms  p99 {:>8.2} ms  (mean rows {:.1}; count = {count} in {:.0} ms)",
                percentile(&times, 0.5).as_secs_f64() * 1e3,
                percentile(&times, 0.99).as_secs_f64() * 1e3,
                rows as f64 / QUERIES as f64,
                count_time.as_secs_f64() * 1e3,
            );
        }
        let t = Instant::now();
        let keys = store.completed_keys(&run.id).await.expect("keys");
        println!(
            "completed_keys: {} keys in {:.0} ms",
            keys.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
        store.close().await;
    });
}
