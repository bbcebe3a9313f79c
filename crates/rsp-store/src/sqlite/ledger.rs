//! [`LedgerStore`] for SQLite.

use std::ops::Range;

use async_trait::async_trait;
use chrono::Utc;
use sqlx::sqlite::SqliteRow;

use super::SqliteStore;
use crate::codec::{from_i64, time_to_text};
use crate::ledger::sha256_hex;
use crate::{Artifact, CheckpointRecord, Error, LeafRecord, LedgerStore};

impl SqliteStore {
    fn leaf_from_row(&self, row: &SqliteRow, op: &'static str) -> Result<LeafRecord, Error> {
        let r = self.row(row, op);
        Ok(LeafRecord {
            idx: r.int("idx")?,
            leaf: r.blob("leaf")?,
            leaf_hash: r.hash32("leaf_hash")?,
            kind: r.text("kind")?,
            artifact_sha256: r.opt_text("artifact_sha256")?,
            created_at: r.time("created_at")?,
        })
    }

    fn checkpoint_from_row(
        &self,
        row: &SqliteRow,
        op: &'static str,
    ) -> Result<CheckpointRecord, Error> {
        let r = self.row(row, op);
        Ok(CheckpointRecord {
            size: r.int("size")?,
            text: r.text("text")?,
            created_at: r.time("created_at")?,
        })
    }

    /// `range` as SQLite bounds; bounds past `i64::MAX` are clamped (no log is that long).
    fn idx_bounds(range: &Range<u64>) -> (i64, i64) {
        let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        (clamp(range.start), clamp(range.end))
    }
}

#[async_trait]
impl LedgerStore for SqliteStore {
    async fn append_leaf(
        &self,
        leaf: &[u8],
        leaf_hash: &[u8; 32],
        kind: &str,
        artifact: Option<&Artifact>,
    ) -> Result<u64, Error> {
        const OP: &str = "append_leaf";
        if let Some(a) = artifact {
            let actual = sha256_hex(&a.bytes);
            if actual != a.sha256 {
                return Err(Error::ArtifactHashMismatch {
                    declared: a.sha256.clone(),
                    actual,
                });
            }
        }
        let now = time_to_text(&Utc::now());
        let mut tx = self.begin_write(OP).await?;
        if let Some(a) = artifact {
            sqlx::query(
                "INSERT INTO artifacts (sha256, bytes, media_type, created_at) VALUES (?, ?, ?, ?)
                 ON CONFLICT (sha256) DO NOTHING",
            )
            .bind(&a.sha256)
            .bind(a.bytes.as_slice())
            .bind(&a.media_type)
            .bind(&now)
            .execute(&mut *tx)
            .await
            .map_err(self.query_err(OP))?;
        }
        // The index is computed inside the write lock, so it is always the current count:
        // no gaps, no duplicates, however many writers there are. (max(idx) is an O(log n)
        // lookup on the primary key; count(*) would scan the table.)
        let idx: i64 = sqlx::query_scalar(
            "INSERT INTO leaves (idx, leaf, leaf_hash, kind, artifact_sha256, created_at)
             VALUES ((SELECT coalesce(max(idx) + 1, 0) FROM leaves), ?, ?, ?, ?, ?)
             RETURNING idx",
        )
        .bind(leaf)
        .bind(leaf_hash.as_slice())
        .bind(kind)
        .bind(artifact.map(|a| a.sha256.as_str()))
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(self.query_err(OP))?;
        tx.commit().await.map_err(self.query_err(OP))?;
        from_i64(idx).map_err(self.decode_err("idx"))
    }

    async fn leaves(&self, range: Range<u64>) -> Result<Vec<LeafRecord>, Error> {
        const OP: &str = "leaves";
        let (start, end) = Self::idx_bounds(&range);
        sqlx::query(
            "SELECT idx, leaf, leaf_hash, kind, artifact_sha256, created_at FROM leaves
             WHERE idx >= ? AND idx < ? ORDER BY idx",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&self.reader)
        .await
        .map_err(self.query_err(OP))?
        .iter()
        .map(|row| self.leaf_from_row(row, OP))
        .collect()
    }

    async fn leaf_hashes(&self, range: Range<u64>) -> Result<Vec<[u8; 32]>, Error> {
        const OP: &str = "leaf_hashes";
        let (start, end) = Self::idx_bounds(&range);
        sqlx::query("SELECT leaf_hash FROM leaves WHERE idx >= ? AND idx < ? ORDER BY idx")
            .bind(start)
            .bind(end)
            .fetch_all(&self.reader)
            .await
            .map_err(self.query_err(OP))?
            .iter()
            .map(|row| self.row(row, OP).hash32("leaf_hash"))
            .collect()
    }

    async fn leaf_count(&self) -> Result<u64, Error> {
        // Indices are contiguous from 0, so max + 1 is the count, without a table scan.
        let n: i64 = sqlx::query_scalar("SELECT coalesce(max(idx) + 1, 0) FROM leaves")
            .fetch_one(&self.reader)
            .await
            .map_err(self.query_err("leaf_count"))?;
        from_i64(n).map_err(self.decode_err("idx"))
    }

    async fn artifact(&self, sha256: &str) -> Result<Option<Artifact>, Error> {
        const OP: &str = "artifact";
        let row = sqlx::query("SELECT sha256, bytes, media_type FROM artifacts WHERE sha256 = ?")
            .bind(sha256)
            .fetch_optional(&self.reader)
            .await
            .map_err(self.query_err(OP))?;
        row.map(|row| {
            let r = self.row(&row, OP);
            Ok(Artifact {
                sha256: r.text("sha256")?,
                bytes: r.blob("bytes")?,
                media_type: r.text("media_type")?,
            })
        })
        .transpose()
    }

    async fn put_checkpoint(&self, size: u64, text: &str) -> Result<CheckpointRecord, Error> {
        const OP: &str = "put_checkpoint";
        let record = CheckpointRecord {
            size,
            text: text.to_owned(),
            created_at: Utc::now(),
        };
        let mut tx = self.begin_write(OP).await?;
        let count: i64 = sqlx::query_scalar("SELECT coalesce(max(idx) + 1, 0) FROM leaves")
            .fetch_one(&mut *tx)
            .await
            .map_err(self.query_err(OP))?;
        let count: u64 = from_i64(count).map_err(self.decode_err("idx"))?;
        if size > count {
            return Err(Error::CheckpointBeyondLog { size, count });
        }
        sqlx::query("INSERT INTO checkpoints (size, text, created_at) VALUES (?, ?, ?)")
            .bind(self.int_param("size", size)?)
            .bind(text)
            .bind(time_to_text(&record.created_at))
            .execute(&mut *tx)
            .await
            .map_err(self.query_err(OP))?;
        tx.commit().await.map_err(self.query_err(OP))?;
        Ok(record)
    }

    async fn checkpoints(&self) -> Result<Vec<CheckpointRecord>, Error> {
        const OP: &str = "checkpoints";
        sqlx::query("SELECT size, text, created_at FROM checkpoints ORDER BY id")
            .fetch_all(&self.reader)
            .await
            .map_err(self.query_err(OP))?
            .iter()
            .map(|row| self.checkpoint_from_row(row, OP))
            .collect()
    }

    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>, Error> {
        const OP: &str = "latest_checkpoint";
        sqlx::query("SELECT size, text, created_at FROM checkpoints ORDER BY id DESC LIMIT 1")
            .fetch_optional(&self.reader)
            .await
            .map_err(self.query_err(OP))?
            .map(|row| self.checkpoint_from_row(&row, OP))
            .transpose()
    }
}
