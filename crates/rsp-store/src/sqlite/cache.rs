//! [`CacheStore`] for SQLite.

use async_trait::async_trait;
use chrono::Utc;
use serde_json::Value;

use super::SqliteStore;
use crate::codec::{from_i64, json_from_text, time_to_text};
use crate::{CacheStore, Error};

#[async_trait]
impl CacheStore for SqliteStore {
    async fn cache_get(&self, key: &str) -> Result<Option<Value>, Error> {
        let text: Option<String> =
            sqlx::query_scalar("SELECT value FROM response_cache WHERE key = ?")
                .bind(key)
                .fetch_optional(&self.reader)
                .await
                .map_err(self.query_err("cache_get"))?;
        text.map(|t| json_from_text(&t).map_err(self.decode_err("value")))
            .transpose()
    }

    async fn cache_put(&self, key: &str, value: &Value) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO response_cache (key, value, created_at) VALUES (?, ?, ?)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                created_at = excluded.created_at",
        )
        .bind(key)
        .bind(self.json_text("value", value)?)
        .bind(time_to_text(&Utc::now()))
        .execute(&self.writer)
        .await
        .map_err(self.query_err("cache_put"))?;
        Ok(())
    }

    async fn cache_clear(&self) -> Result<u64, Error> {
        let done = sqlx::query("DELETE FROM response_cache")
            .execute(&self.writer)
            .await
            .map_err(self.query_err("cache_clear"))?;
        Ok(done.rows_affected())
    }

    async fn cache_len(&self) -> Result<u64, Error> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM response_cache")
            .fetch_one(&self.reader)
            .await
            .map_err(self.query_err("cache_len"))?;
        from_i64(n).map_err(self.decode_err("count"))
    }
}
