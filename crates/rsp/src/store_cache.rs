//! The response cache on the project store: `rsp-model` defines the
//! `ResponseCache` seam, `rsp-store` knows nothing of models, and this
//! adapter joins them where both are already dependencies.

use std::sync::Arc;

use async_trait::async_trait;
use rsp_model::{CacheKey, Generation, ResponseCache};
use rsp_store::Store;

/// Generations cached in the project's store, keyed by `rsp_model::cache_key`
/// (model spec, base URL, messages, config and seed).
#[derive(Debug, Clone)]
pub struct StoreResponseCache(pub Arc<dyn Store>);

#[async_trait]
impl ResponseCache for StoreResponseCache {
    async fn get(&self, key: &CacheKey) -> Result<Option<Generation>, rsp_model::Error> {
        let v = self
            .0
            .cache_get(key.as_str())
            .await
            .map_err(|e| rsp_model::Error::Cache(Box::new(e)))?;
        // An entry written by an older layout that no longer decodes is a miss,
        // not an error: it will simply be replaced.
        Ok(v.and_then(|v| serde_json::from_value(v).ok()))
    }

    async fn put(&self, key: &CacheKey, generation: &Generation) -> Result<(), rsp_model::Error> {
        let v =
            serde_json::to_value(generation).map_err(|e| rsp_model::Error::Cache(Box::new(e)))?;
        self.0
            .cache_put(key.as_str(), &v)
            .await
            .map_err(|e| rsp_model::Error::Cache(Box::new(e)))
    }
}
