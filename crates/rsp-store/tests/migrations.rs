//! Schema migrations on a store that already holds data: the `runs` table rebuild of
//! 0003 (a new run source) must keep every run and every sample.

use rsp_store::{RunFilter, RunStore as _, SampleFilter, SqliteStore};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

#[tokio::test(flavor = "multi_thread")]
async fn rebuilding_runs_keeps_runs_and_samples() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("rsp.db");
    // A store as version 0.1 left it: only the first two migrations.
    let old = dir.path().join("old-migrations");
    std::fs::create_dir(&old).expect("mkdir");
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for f in ["0001_initial.sql", "0002_assessments.sql"] {
        std::fs::copy(src.join(f), old.join(f)).expect("copy");
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(&db)
                .create_if_missing(true)
                .foreign_keys(true),
        )
        .await
        .expect("pool");
    sqlx::migrate::Migrator::new(old.as_path())
        .await
        .expect("migrator")
        .run(&pool)
        .await
        .expect("old schema");
    sqlx::query(
        "INSERT INTO runs (id, model, suite, task, task_hash, config, provenance, status, \
         created_at, total_samples, source) VALUES ('r1', 'mock/echo', 's', 's/t', 'h', '{}', \
         '{}', 'completed', '2026-11-01T00:00:00Z', 2, 'inspect')",
    )
    .execute(&pool)
    .await
    .expect("run");
    for (i, id) in ["a", "b"].iter().enumerate() {
        sqlx::query(
            "INSERT INTO samples (run_id, sample_id, epoch, position, retries, timing_ms, \
             completed_at, metadata, scores, usage, target, input, output) VALUES \
             ('r1', ?, 0, ?, 0, 1.0, '2026-11-01T00:00:00Z', '{}', '{}', '{}', '[]', '\"x\"', '{}')",
        )
        .bind(id)
        .bind(i as i64)
        .execute(&pool)
        .await
        .expect("sample");
    }
    pool.close().await;

    let store = SqliteStore::open(&db).await.expect("migrated store");
    let runs = store.list_runs(&RunFilter::default()).await.expect("runs");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].source.as_str(), "inspect");
    let n = store
        .count_samples("r1", &SampleFilter::default())
        .await
        .expect("count");
    assert_eq!(n, 2, "the rebuild must not cascade-delete samples");
    // The new source is accepted, and foreign keys are enforced again afterwards.
    let conn = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(SqliteConnectOptions::new().filename(&db).foreign_keys(true))
        .await
        .expect("pool");
    let orphans: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
        .fetch_all(&conn)
        .await
        .expect("fk check");
    assert!(orphans.is_empty());
    let bad = sqlx::query(
        "INSERT INTO samples (run_id, sample_id, epoch, position, retries, timing_ms, \
         completed_at, metadata, scores, usage, target, input, output) VALUES \
         ('nope', 'z', 0, 0, 0, 1.0, 't', '{}', '{}', '{}', '[]', '\"x\"', '{}')",
    )
    .execute(&conn)
    .await;
    assert!(bad.is_err(), "foreign keys must hold after the migration");
}
