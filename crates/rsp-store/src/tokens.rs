//! API tokens for the server, stored only as hashes so a copied database grants nothing.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Error;

/// A stored API token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Hash of the token (the caller chooses and applies the hash; never the token itself).
    pub token_hash: String,
    /// The role the token acts as.
    pub role: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
}

/// Storage for API tokens.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Stores a token hash. [`Error::AlreadyExists`] if the hash is already stored.
    async fn insert_token(&self, token: &TokenRecord) -> Result<(), Error>;
    /// The token with this hash.
    async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRecord>, Error>;
}
