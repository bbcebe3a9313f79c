//! The response cache: skip a model call whose answer is already known.
//!
//! The key is a SHA-256 over a canonical JSON of everything that determines the answer: the
//! model's canonical spec, the endpoint it is served from, the messages and the full
//! [`GenerateConfig`] (which includes the seed). Storage is a trait so the eval engine can
//! keep entries in its SQLite store; [`InMemoryCache`] serves tests and one-shot runs.
//!
//! **When not to cache.** A cache turns a sampled answer into a constant. Whenever repeated
//! sampling *is* the measurement — several epochs of the same sample at temperature > 0,
//! pass@k, best-of-n elicitation, consistency checks — the caller must pass
//! [`CacheMode::Bypass`]. [`CacheMode::Use`] is right for greedy or seeded calls, where the
//! answer is a function of the key anyway and the cache only saves time (e.g. when a run is
//! resumed). The cache does not second-guess the caller's flag.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Error, GenerateConfig, Generation, Message, ModelApi};

/// A cache key: lowercase hex SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey(String);

impl CacheKey {
    /// The hex digest, for use as a database key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for CacheKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a call may be answered from (and stored into) the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMode {
    /// Read a cached answer if there is one, store a fresh one otherwise.
    Use,
    /// Always call the model and store nothing: use this whenever repeated sampling is the
    /// point (epochs at temperature > 0, pass@k, best-of-n).
    Bypass,
}

/// Where cached generations live.
#[async_trait]
pub trait ResponseCache: Send + Sync + std::fmt::Debug {
    /// The stored generation for `key`, if any.
    async fn get(&self, key: &CacheKey) -> Result<Option<Generation>, Error>;
    /// Stores `generation` under `key`, replacing any previous entry.
    async fn put(&self, key: &CacheKey, generation: &Generation) -> Result<(), Error>;
}

#[derive(Serialize)]
struct KeyMaterial<'a> {
    /// Bump when the key layout changes so old entries stop matching.
    version: u32,
    model: &'a str,
    endpoint: Option<&'a str>,
    messages: &'a [Message],
    config: &'a GenerateConfig,
}

/// The cache key of a generate call (model spec, endpoint, messages, config and seed).
pub fn cache_key(
    model: &str,
    endpoint: Option<&str>,
    messages: &[Message],
    config: &GenerateConfig,
) -> CacheKey {
    let material = KeyMaterial {
        version: 1,
        model,
        endpoint,
        messages,
        config,
    };
    // Serialising plain structs of strings and numbers cannot fail; fall back to the Debug
    // form rather than panic if serde ever disagrees.
    let bytes = serde_json::to_vec(&material)
        .unwrap_or_else(|_| format!("{model}|{endpoint:?}|{messages:?}|{config:?}").into_bytes());
    CacheKey(hex::encode(Sha256::digest(&bytes)))
}

/// Generates through `cache`: a hit returns the stored answer with
/// [`crate::CallMeta::cached`] set; a miss calls the model and stores the answer.
/// [`CacheMode::Bypass`] calls the model directly (see the module docs for when).
pub async fn generate_cached(
    model: &dyn ModelApi,
    cache: &dyn ResponseCache,
    messages: &[Message],
    config: &GenerateConfig,
    mode: CacheMode,
) -> Result<Generation, Error> {
    if mode == CacheMode::Bypass {
        return model.generate(messages, config).await;
    }
    let key = cache_key(model.name(), model.endpoint(), messages, config);
    if let Some(mut hit) = cache.get(&key).await? {
        hit.meta.cached = true;
        return Ok(hit);
    }
    let generation = model.generate(messages, config).await?;
    cache.put(&key, &generation).await?;
    Ok(generation)
}

/// A process-local cache, for tests and single runs.
#[derive(Debug, Default)]
pub struct InMemoryCache {
    entries: Mutex<HashMap<CacheKey, Generation>>,
}

impl InMemoryCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of stored entries.
    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait]
impl ResponseCache for InMemoryCache {
    async fn get(&self, key: &CacheKey) -> Result<Option<Generation>, Error> {
        // A poisoned lock only means another thread panicked mid-insert of a whole value;
        // the map itself is still consistent.
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Ok(entries.get(key).cloned())
    }

    async fn put(&self, key: &CacheKey, generation: &Generation) -> Result<(), Error> {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.insert(key.clone(), generation.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::mock::MockModel;

    #[test]
    fn key_changes_with_every_input() {
        let m = [Message::user("hi")];
        let c = GenerateConfig::default();
        let base = cache_key("openai/x", Some("http://a"), &m, &c);
        assert_eq!(base, cache_key("openai/x", Some("http://a"), &m, &c));
        assert_eq!(base.as_str().len(), 64);
        assert_ne!(base, cache_key("openai/y", Some("http://a"), &m, &c));
        assert_ne!(base, cache_key("openai/x", Some("http://b"), &m, &c));
        assert_ne!(base, cache_key("openai/x", None, &m, &c));
        assert_ne!(
            base,
            cache_key("openai/x", Some("http://a"), &[Message::user("ho")], &c)
        );
        let seeded = GenerateConfig {
            seed: Some(1),
            ..c.clone()
        };
        assert_ne!(base, cache_key("openai/x", Some("http://a"), &m, &seeded));
        let hot = GenerateConfig {
            temperature: 0.5,
            ..c
        };
        assert_ne!(base, cache_key("openai/x", Some("http://a"), &m, &hot));
    }

    #[tokio::test]
    async fn use_mode_hits_after_first_call_and_bypass_never_does() {
        let model = Arc::new(MockModel::sequence(["one", "two", "three"]));
        let cache = InMemoryCache::new();
        let m = [Message::user("q")];
        let c = GenerateConfig::default();
        let first = generate_cached(model.as_ref(), &cache, &m, &c, CacheMode::Use)
            .await
            .unwrap();
        let second = generate_cached(model.as_ref(), &cache, &m, &c, CacheMode::Use)
            .await
            .unwrap();
        assert_eq!(first.text(), "one");
        assert!(!first.meta.cached);
        assert_eq!(second.text(), "one");
        assert!(second.meta.cached);
        let bypass = generate_cached(model.as_ref(), &cache, &m, &c, CacheMode::Bypass)
            .await
            .unwrap();
        assert_eq!(bypass.text(), "two");
        assert_eq!(cache.len(), 1);
    }
}
