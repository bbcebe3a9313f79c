//! The seams to logic that lives in the `rsp` binary.
//!
//! Verifying the whole ledger and appending to it need the project's log key and the
//! binary's audit code; a library must not depend on the binary, so the server asks through
//! these small traits and the binary implements them. Tests use fakes.

use std::fmt;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::{Map, Value};

/// The outcome of verifying the whole ledger, as the ledger page and API show it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct VerifySummary {
    /// True when every leaf, artifact and checkpoint checked out.
    pub ok: bool,
    /// Leaves verified.
    pub leaves: u64,
    /// Checkpoints verified.
    pub checkpoints: u64,
    /// Root hash (hex) of the verified tree.
    pub root: Option<String>,
    /// One line per problem found (empty when `ok`).
    pub problems: Vec<String>,
}

/// Verifies the project's ledger on demand ("verify now").
#[async_trait]
pub trait LedgerVerifier: Send + Sync {
    /// Verifies every leaf, artifact and checkpoint. `Err` only when verification could
    /// not run (the store failed); a log that fails verification is `Ok` with `ok: false`.
    async fn verify(&self) -> Result<VerifySummary, String>;
}

/// One record a write endpoint asks to append to the audit ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// The leaf kind (attestation, signature, decision).
    pub kind: rsp_ledger::LeafKind,
    /// The artifact: the JSON of the record written.
    pub artifact: Value,
    /// Leaf metadata (ids, roles) for listing without reading artifacts.
    pub meta: Map<String, Value>,
}

/// Appends the records written through the API to the project's audit ledger, so a write
/// made in the dashboard is as accountable as one made with the CLI.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends `entry` (and signs a checkpoint). An error is reported to the client as a
    /// server failure; the store write has already happened, as with the CLI.
    async fn append(&self, entry: AuditEntry) -> Result<(), String>;
}

/// One forecast chart for a model (the lineage forecast the binary computes).
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastChart {
    /// What it shows (rule and line).
    pub title: String,
    /// A standalone SVG document, drawn from data by `rsp-forecast`.
    pub svg: String,
}

/// Provides the forecast charts shown on a model's page.
#[async_trait]
pub trait Forecasts: Send + Sync {
    /// Charts for `model`'s lineage; empty when there is too little data.
    async fn charts(&self, model: &str) -> Result<Vec<ForecastChart>, String>;
}

/// The hooks a server is built with.
#[derive(Clone)]
pub struct Hooks {
    /// "Verify now".
    pub verifier: std::sync::Arc<dyn LedgerVerifier>,
    /// Where API writes are logged.
    pub audit: std::sync::Arc<dyn AuditLog>,
    /// Forecast charts, when available.
    pub forecasts: Option<std::sync::Arc<dyn Forecasts>>,
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("forecasts", &self.forecasts.is_some())
            .finish_non_exhaustive()
    }
}
