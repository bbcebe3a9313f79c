//! The response cache's storage: opaque JSON values under caller-computed keys.
//!
//! The store does not know what a key means (the model crate hashes the spec, endpoint,
//! messages and config into it) nor what the value holds; it only keeps them durable.

use async_trait::async_trait;
use serde_json::Value;

use crate::Error;

/// Storage for cached model responses.
#[async_trait]
pub trait CacheStore: Send + Sync {
    /// The value stored under `key`.
    async fn cache_get(&self, key: &str) -> Result<Option<Value>, Error>;
    /// Stores `value` under `key`, replacing any previous entry (and its `created_at`).
    async fn cache_put(&self, key: &str, value: &Value) -> Result<(), Error>;
    /// Removes every entry; returns how many there were.
    async fn cache_clear(&self) -> Result<u64, Error>;
    /// Number of entries.
    async fn cache_len(&self) -> Result<u64, Error>;
}
