//! Sample recording, resumption and filtered keyset pagination.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Utc;
use rsp_store::prelude::*;
use rsp_store::{
    Error, NewRun, RecordOutcome, RunSource, SampleCursor, SampleFilter, SampleRecord, SqliteStore,
};
use serde_json::{Value, json};

async fn store_with_run() -> (tempfile::TempDir, Arc<SqliteStore>, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("rsp.db")).await.unwrap();
    let run = store
        .create_run(&NewRun {
            model: "mock/echo".into(),
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
    (dir, Arc::new(store), run.id)
}

/// A deterministic sample: value, error and metadata vary with `position` and `epoch` so
/// every filter selects an irregular subset.
fn sample(run_id: &str, position: u32, epoch: u32) -> SampleRecord {
    let k = position * 7 + epoch * 3;
    let domain = ["bio", "chem", "cyber"][(k % 3) as usize];
    SampleRecord {
        run_id: run_id.into(),
        sample_id: format!("s{position}"),
        epoch,
        position,
        input: json!([{"role": "user", "content": format!("q{position}")}]),
        target: json!("A"),
        output: json!({"completion": format!("answer {k}"), "messages": []}),
        scores: json!({"match": {"value": k.is_multiple_of(3)}}),
        value: (!k.is_multiple_of(11)).then(|| f64::from(k % 5) / 4.0),
        error: k
            .is_multiple_of(13)
            .then(|| format!("timeout after {k} ms")),
        retries: k % 2,
        usage: json!({"input_tokens": k}),
        timing_ms: f64::from(k) * 1.5,
        metadata: json!({
            "domain": domain,
            "level": k % 4,
            "hard": k.is_multiple_of(2),
            "note": if k.is_multiple_of(5) { Value::Null } else { json!("n") },
        }),
        completed_at: Utc::now(),
    }
}

#[tokio::test]
async fn record_sample_is_idempotent_and_replaces_only_errored_attempts() {
    let (_dir, store, run) = store_with_run().await;
    let mut first = sample(&run, 0, 0);
    first.error = Some("rate limited".into());
    first.value = None;
    assert_eq!(
        store.record_sample(&first).await.unwrap(),
        RecordOutcome::Inserted
    );
    // Same errored attempt again: replaces itself, still one row.
    assert_eq!(
        store.record_sample(&first).await.unwrap(),
        RecordOutcome::Replaced
    );
    assert!(store.completed_keys(&run).await.unwrap().is_empty());

    let mut good = first.clone();
    good.error = None;
    good.value = Some(1.0);
    good.retries = 3;
    assert_eq!(
        store.record_sample(&good).await.unwrap(),
        RecordOutcome::Replaced
    );
    assert_eq!(
        store.get_sample(&run, "s0", 0).await.unwrap(),
        Some(good.clone())
    );

    // A good result is never overwritten, by an error or by another good result.
    let mut worse = good.clone();
    worse.value = Some(0.0);
    assert_eq!(
        store.record_sample(&worse).await.unwrap(),
        RecordOutcome::Ignored
    );
    assert_eq!(
        store.record_sample(&first).await.unwrap(),
        RecordOutcome::Ignored
    );
    assert_eq!(store.get_sample(&run, "s0", 0).await.unwrap(), Some(good));
    assert_eq!(
        store
            .count_samples(&run, &SampleFilter::default())
            .await
            .unwrap(),
        1
    );

    // Same position and epoch under a different sample id breaks the fixed order.
    let mut clash = sample(&run, 0, 0);
    clash.sample_id = "other".into();
    let err = store.record_sample(&clash).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::AlreadyExists {
                what: "sample position",
                ..
            }
        ),
        "{err:?}"
    );
    // Samples of unknown runs are refused.
    let err = store
        .record_sample(&sample("no-such-run", 1, 0))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::NotFound { what: "run", .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn record_samples_is_all_or_nothing() {
    let (_dir, store, run) = store_with_run().await;
    let mut batch: Vec<_> = (0..10).map(|p| sample(&run, p, 0)).collect();
    batch[7].run_id = "no-such-run".into();
    assert!(store.record_samples(&batch).await.is_err());
    assert_eq!(
        store
            .count_samples(&run, &SampleFilter::default())
            .await
            .unwrap(),
        0
    );
    batch[7].run_id.clone_from(&run);
    let outcomes = store.record_samples(&batch).await.unwrap();
    assert!(outcomes.iter().all(|o| *o == RecordOutcome::Inserted));
    let outcomes = store.record_samples(&batch[..3]).await.unwrap();
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, RecordOutcome::Ignored | RecordOutcome::Replaced))
    );
    assert_eq!(
        store
            .count_samples(&run, &SampleFilter::default())
            .await
            .unwrap(),
        10
    );
}

#[tokio::test]
async fn completed_keys_are_the_error_free_samples() {
    let (_dir, store, run) = store_with_run().await;
    let all: Vec<_> = (0..50)
        .flat_map(|p| (0..2).map(move |e| (p, e)))
        .map(|(p, e)| sample(&run, p, e))
        .collect();
    store.record_samples(&all).await.unwrap();
    let want: HashSet<(String, u32)> = all
        .iter()
        .filter(|s| s.error.is_none())
        .map(|s| (s.sample_id.clone(), s.epoch))
        .collect();
    assert!(want.len() < all.len(), "fixture must contain errors");
    assert_eq!(store.completed_keys(&run).await.unwrap(), want);
}

/// Every page of every filter, walked with cursors, equals the naive filter of all rows.
#[tokio::test]
async fn filtered_pages_match_a_naive_filter() {
    let (_dir, store, run) = store_with_run().await;
    let mut all: Vec<_> = (0..1500)
        .flat_map(|p| (0..2).map(move |e| (p, e)))
        .map(|(p, e)| sample(&run, p, e))
        .collect();
    // Insert out of order: the stored order must come from (position, epoch), not rowid.
    all.reverse();
    for chunk in all.chunks(500) {
        store.record_samples(chunk).await.unwrap();
    }
    all.sort_by_key(|s| (s.position, s.epoch));

    let filters = vec![
        SampleFilter::default(),
        SampleFilter {
            min_value: Some(0.5),
            ..SampleFilter::default()
        },
        SampleFilter {
            min_value: Some(0.25),
            max_value: Some(0.5),
            has_error: Some(false),
            ..SampleFilter::default()
        },
        SampleFilter {
            has_error: Some(true),
            ..SampleFilter::default()
        },
        SampleFilter {
            metadata_eq: vec![("domain".into(), json!("chem"))],
            ..SampleFilter::default()
        },
        SampleFilter {
            metadata_eq: vec![("level".into(), json!(2)), ("hard".into(), json!(true))],
            ..SampleFilter::default()
        },
        SampleFilter {
            metadata_eq: vec![("note".into(), Value::Null)],
            max_value: Some(0.75),
            ..SampleFilter::default()
        },
        SampleFilter {
            // Type-exact: the string "2" is not the number 2, and absent fields match nothing.
            metadata_eq: vec![("level".into(), json!("2"))],
            ..SampleFilter::default()
        },
        SampleFilter {
            metadata_eq: vec![("absent".into(), Value::Null)],
            ..SampleFilter::default()
        },
    ];
    for filter in &filters {
        let want: Vec<&SampleRecord> = all.iter().filter(|s| naive(filter, s)).collect();
        for limit in [1, 37, 1000, 5000] {
            if limit == 1 && want.len() > 300 {
                continue; // one-row pages of a big result only repeat what 37 shows
            }
            let mut got = Vec::new();
            let mut after: Option<SampleCursor> = None;
            loop {
                let page = store
                    .list_samples(&run, filter, after, limit)
                    .await
                    .unwrap();
                assert!(page.samples.len() <= limit as usize);
                got.extend(page.samples);
                match page.next {
                    Some(c) => after = Some(c),
                    None => break,
                }
            }
            assert_eq!(got.len(), want.len(), "{filter:?} limit {limit}");
            assert!(
                got.iter().zip(&want).all(|(g, w)| g == *w),
                "{filter:?} limit {limit}"
            );
        }
        assert_eq!(
            store.count_samples(&run, filter).await.unwrap(),
            want.len() as u64,
            "{filter:?}"
        );
    }
    // The empty filters above are not vacuous.
    assert_eq!(store.count_samples(&run, &filters[7]).await.unwrap(), 0);
    assert!(store.count_samples(&run, &filters[5]).await.unwrap() > 0);
    // Other runs' samples never leak in.
    assert_eq!(
        store
            .count_samples("another-run", &SampleFilter::default())
            .await
            .unwrap(),
        0
    );
}

fn naive(f: &SampleFilter, s: &SampleRecord) -> bool {
    f.min_value.is_none_or(|m| s.value.is_some_and(|v| v >= m))
        && f.max_value.is_none_or(|m| s.value.is_some_and(|v| v <= m))
        && f.has_error.is_none_or(|e| s.error.is_some() == e)
        && f.metadata_eq
            .iter()
            .all(|(k, v)| s.metadata.get(k) == Some(v))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_writers_store_every_sample_once() {
    let (_dir, store, run) = store_with_run().await;
    let mut tasks = Vec::new();
    for t in 0..16u32 {
        let store = Arc::clone(&store);
        let run = run.clone();
        tasks.push(tokio::spawn(async move {
            let mut outcomes = Vec::new();
            // Tasks overlap: task t writes positions 25t .. 25t+50, so every position
            // except the first and last 25 is written by two tasks.
            for p in (t * 25)..(t * 25 + 50) {
                let mut s = sample(&run, p, 0);
                s.error = None;
                outcomes.push(store.record_sample(&s).await.unwrap());
            }
            outcomes
        }));
    }
    let mut inserted = 0;
    let mut ignored = 0;
    for t in tasks {
        for o in t.await.unwrap() {
            match o {
                RecordOutcome::Inserted => inserted += 1,
                RecordOutcome::Ignored => ignored += 1,
                RecordOutcome::Replaced => panic!("no errored rows to replace"),
            }
        }
    }
    let distinct = 16 * 25 + 25;
    assert_eq!(inserted, distinct);
    assert_eq!(ignored, 16 * 50 - distinct);
    assert_eq!(
        store
            .count_samples(&run, &SampleFilter::default())
            .await
            .unwrap(),
        distinct as u64
    );
    assert_eq!(store.completed_keys(&run).await.unwrap().len(), distinct);
}
