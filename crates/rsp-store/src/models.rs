//! The models registry: named checkpoints with the facts forecasting and triggers need.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::Error;

/// A registered model checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRecord {
    /// Short unique name (e.g. `smol-135m`); the registry key.
    pub name: String,
    /// Provider spec, `provider/model` (e.g. `embedded/smollm2-135m`).
    pub spec: String,
    /// Endpoint for hosted or self-served providers.
    pub base_url: Option<String>,
    /// Effective training compute in FLOP; the x axis of scaling forecasts.
    pub effective_compute_flop: Option<f64>,
    /// Parameter count.
    pub parameters: Option<f64>,
    /// Training tokens.
    pub training_tokens: Option<f64>,
    /// Release or checkpoint date.
    pub date: Option<NaiveDate>,
    /// Name of the checkpoint this one continues from.
    pub parent: Option<String>,
    /// Free-form notes.
    pub notes: Option<String>,
    /// When the name was first registered; an upsert keeps the original value.
    pub created_at: DateTime<Utc>,
}

/// Storage for the models registry.
#[async_trait]
pub trait ModelStore: Send + Sync {
    /// Registers `model`, or replaces every field of the model with the same name except
    /// `created_at`, which keeps the first registration time.
    async fn upsert_model(&self, model: &ModelRecord) -> Result<(), Error>;
    /// The model registered under `name`.
    async fn get_model(&self, name: &str) -> Result<Option<ModelRecord>, Error>;
    /// Every registered model, by name.
    async fn list_models(&self) -> Result<Vec<ModelRecord>, Error>;
}
