//! Stored assessments: what `rsp assess` concluded, kept so triggers can ask
//! "when was the last comprehensive assessment, and at what compute?" and
//! `rsp status` can answer without re-running anything.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Error;

/// One assessment of one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentRecord {
    /// Time-sortable id (see [`crate::new_id`]).
    pub id: String,
    /// Registry name (or provider spec) of the model assessed.
    pub model: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// The model's effective training compute at the time, if known.
    pub compute_flop: Option<f64>,
    /// True when every threshold's evidence was gathered (not a partial re-check).
    pub comprehensive: bool,
    /// SHA-256 of the policy text in force.
    pub policy_sha256: String,
    /// The decision drafted from it, if any.
    pub decision_id: Option<String>,
    /// The full assessment document (the JSON report).
    pub report: Value,
}

/// Storage for assessments.
#[async_trait]
pub trait AssessmentStore: Send + Sync {
    /// Stores a new assessment. [`Error::AlreadyExists`] if the id is taken.
    async fn insert_assessment(&self, assessment: &AssessmentRecord) -> Result<(), Error>;
    /// The assessment with this id.
    async fn get_assessment(&self, id: &str) -> Result<Option<AssessmentRecord>, Error>;
    /// Assessments of `model` (or of every model), newest first.
    async fn list_assessments(&self, model: Option<&str>) -> Result<Vec<AssessmentRecord>, Error>;
}
