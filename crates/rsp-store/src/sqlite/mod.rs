//! The SQLite backend: one database file per project.
//!
//! Two pools share the file. All writes go through a single-connection *writer* pool, so
//! writes from one process queue in memory rather than fighting over SQLite's write lock;
//! reads use a small read-only *reader* pool and, thanks to WAL, never wait for a writer.
//! Writers in other processes (two `rsp` commands at once) are serialised by SQLite's lock
//! and the busy timeout; every write transaction is begun `IMMEDIATE` (or is a single
//! statement) so it takes the lock up front and waits for it, instead of failing with
//! `SQLITE_BUSY` when upgrading a read.

mod assessments;
mod cache;
mod governance;
mod ledger;
mod models;
mod row;
mod runs;
mod samples;

pub use samples::push_sample_filter;
mod tokens;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use crate::error::{DecodeError, Error};

/// The embedded schema migrations (`migrations/sqlite/NNNN_*.sql`).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a writer waits for another process's write lock before giving up. Long enough
/// for a bulk import in another process to commit a batch.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// Read connections. Two cores on the reference machine; more would only add memory.
const READERS: u32 = 4;

/// A store in one SQLite file (or in memory, for tests).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// The file path or `:memory:`, for error messages.
    location: Arc<str>,
    /// The database file; `None` in memory.
    file: Option<Arc<Path>>,
}

impl SqliteStore {
    /// The store file of the project rooted at `project_dir`: `<project_dir>/.rsp/rsp.db`.
    pub fn default_path(project_dir: &Path) -> PathBuf {
        project_dir.join(".rsp").join(crate::DEFAULT_DB_FILE)
    }

    /// Opens (creating it and its directory if needed) the database at `path` and brings
    /// its schema up to date.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let location: Arc<str> = path.display().to_string().into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        let open_err = |source| Error::Open {
            location: location.to_string(),
            source,
        };
        let base = SqliteConnectOptions::new()
            .filename(path)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let writer_options = base
            .clone()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .optimize_on_close(true, None);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .connect_with(writer_options)
            .await
            .map_err(open_err)?;
        migrate(&writer, &location).await?;
        // Opened after the writer so the file and its WAL index exist: read-only
        // connections cannot create them.
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(base.read_only(true))
            .await
            .map_err(open_err)?;
        Ok(Self {
            writer,
            reader,
            location,
            file: Some(path.into()),
        })
    }

    /// The database file (`None` for an in-memory store). Callers keep per-store
    /// side files next to it, such as the liveness locks of running runs.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// A private in-memory store, for tests. It lives as long as this value (and its
    /// clones); all access goes through one connection, since each SQLite connection to
    /// `:memory:` would otherwise see its own empty database.
    pub async fn open_in_memory() -> Result<Self, Error> {
        let location: Arc<str> = ":memory:".into();
        let open_err = |source| Error::Open {
            location: location.to_string(),
            source,
        };
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(open_err)?
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await
            .map_err(open_err)?;
        migrate(&pool, &location).await?;
        Ok(Self {
            writer: pool.clone(),
            reader: pool,
            location,
            file: None,
        })
    }

    /// Where the database lives (a path, or `:memory:`).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Runs SQLite's full integrity and foreign-key checks; returns the problems found
    /// (empty when the file is sound). For `rsp doctor`-style checks and crash tests.
    pub async fn integrity_check(&self) -> Result<Vec<String>, Error> {
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_all(&self.writer)
            .await
            .map_err(self.query_err("integrity_check"))?;
        let mut problems: Vec<String> = rows.into_iter().filter(|r| r != "ok").collect();
        let fk: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
            .fetch_all(&self.writer)
            .await
            .map_err(self.query_err("integrity_check"))?;
        problems.extend(
            fk.into_iter()
                .map(|(table,)| format!("foreign key violation in table {table}")),
        );
        Ok(problems)
    }

    /// Closes both pools, checkpointing the WAL into the main file. Dropping the store
    /// without calling this is safe too: nothing committed is lost.
    pub async fn close(self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    /// Starts a write transaction that holds the write lock from its first statement.
    async fn begin_write(&self, op: &'static str) -> Result<Transaction<'static, Sqlite>, Error> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(self.query_err(op))
    }

    /// Maps a driver error of operation `op` to [`Error::Query`].
    fn query_err(&self, op: &'static str) -> impl Fn(sqlx::Error) -> Error + '_ {
        move |source| Error::Query {
            op,
            location: self.location.to_string(),
            source,
        }
    }

    /// Maps a value-conversion error on `column` to [`Error::Decode`].
    fn decode_err(&self, column: &'static str) -> impl Fn(DecodeError) -> Error + '_ {
        move |source| Error::Decode {
            column,
            location: self.location.to_string(),
            source,
        }
    }
}

/// Applies pending migrations. Two processes opening a fresh file at once can race on the
/// first migration; the loser fails on the already-created table, and a second pass then
/// finds everything applied.
async fn migrate(pool: &SqlitePool, location: &str) -> Result<(), Error> {
    if MIGRATOR.run(pool).await.is_ok() {
        return Ok(());
    }
    MIGRATOR.run(pool).await.map_err(|source| Error::Migrate {
        location: location.to_owned(),
        source,
    })
}

/// Which constraint a failed statement violated, if that is why it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Violation {
    Unique,
    ForeignKey,
}

fn violation(err: &sqlx::Error) -> Option<Violation> {
    let db = err.as_database_error()?;
    if db.is_unique_violation() {
        Some(Violation::Unique)
    } else if db.is_foreign_key_violation() {
        Some(Violation::ForeignKey)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn open_sets_wal_synchronous_normal_and_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = SqliteStore::default_path(dir.path());
        let store = SqliteStore::open(&path).await.unwrap();
        assert!(path.exists());
        assert_eq!(store.location(), path.display().to_string());
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&store.writer)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        // NORMAL is 1.
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&store.writer)
            .await
            .unwrap();
        assert_eq!(sync, 1);
        for pool in [&store.writer, &store.reader] {
            let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
                .fetch_one(pool)
                .await
                .unwrap();
            assert_eq!(fk, 1);
            let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
                .fetch_one(pool)
                .await
                .unwrap();
            assert_eq!(busy, 30_000);
        }
        // The reader pool cannot write.
        assert!(
            sqlx::query("DELETE FROM response_cache")
                .execute(&store.reader)
                .await
                .is_err()
        );
        assert!(store.integrity_check().await.unwrap().is_empty());
        store.close().await;
        // Reopening an existing, migrated file is a no-op migration.
        let again = SqliteStore::open(&path).await.unwrap();
        assert!(again.integrity_check().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn open_reports_the_path_when_it_cannot_create_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        let err = SqliteStore::open(blocker.join("sub").join("rsp.db"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::CreateDir { .. }), "{err:?}");
        assert!(err.to_string().contains("file"), "{err}");
    }
}
