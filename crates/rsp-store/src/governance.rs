//! Safeguard attestations, decisions, their signatures, and the role key registry.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Error;
use crate::codec::text_enum;

/// Evidence that a safeguard is in place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationRecord {
    /// Unique id (see [`crate::new_id`]).
    pub id: String,
    /// The safeguard attested (as named in the policy).
    pub safeguard: String,
    /// SHA-256 of the evidence file.
    pub evidence_sha256: String,
    /// Where the evidence file was (for humans; the digest is what counts).
    pub evidence_path: String,
    /// The role that attests.
    pub by_role: String,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// Last day the evidence is valid.
    pub expires: NaiveDate,
}

text_enum! {
    /// What a decision allows or blocks.
    DecisionAction, "decision action" {
        /// Deploying the model.
        Deploy => "deploy",
        /// Continuing training (to the compute in the params).
        Train => "train",
    }
}

text_enum! {
    /// Whether a decision is still a draft.
    DecisionStatus, "decision status" {
        /// Computed but not yet signed by every required role.
        Draft => "draft",
        /// Signed off; never changes again.
        Final => "final",
    }
}

/// A deploy or train decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// Unique id.
    pub id: String,
    /// The model (registry name or spec) decided about.
    pub model: String,
    /// Deploy or train.
    pub action: DecisionAction,
    /// Action parameters (e.g. the target FLOP for `train`).
    pub params: Value,
    /// Draft or final.
    pub status: DecisionStatus,
    /// Allowed or blocked, with reasons and the determinations behind it.
    pub outcome: Value,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// One role's signature on a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignatureRecord {
    /// The decision signed.
    pub decision_id: String,
    /// The signing role.
    pub role: String,
    /// Hex Ed25519 public key.
    pub public_key: String,
    /// Hex signature.
    pub signature: String,
    /// When it was signed.
    pub signed_at: DateTime<Utc>,
}

/// A public key registered for a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// The role.
    pub role: String,
    /// Hex Ed25519 public key.
    pub public_key: String,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

/// Storage for attestations, decisions, signatures and keys. Records are write-once:
/// inserting an existing key is [`Error::AlreadyExists`].
#[async_trait]
pub trait GovernanceStore: Send + Sync {
    /// Stores an attestation.
    async fn insert_attestation(&self, attestation: &AttestationRecord) -> Result<(), Error>;
    /// The attestation with this id.
    async fn get_attestation(&self, id: &str) -> Result<Option<AttestationRecord>, Error>;
    /// Attestations, optionally for one safeguard, oldest first.
    async fn list_attestations(
        &self,
        safeguard: Option<&str>,
    ) -> Result<Vec<AttestationRecord>, Error>;

    /// Stores a decision.
    async fn insert_decision(&self, decision: &DecisionRecord) -> Result<(), Error>;
    /// The decision with this id.
    async fn get_decision(&self, id: &str) -> Result<Option<DecisionRecord>, Error>;
    /// Decisions, optionally about one model, oldest first.
    async fn list_decisions(&self, model: Option<&str>) -> Result<Vec<DecisionRecord>, Error>;
    /// Moves a draft decision to `status`. [`Error::DecisionFinal`] if it is already final
    /// (final decisions never change), [`Error::NotFound`] if there is none.
    async fn set_decision_status(&self, id: &str, status: DecisionStatus) -> Result<(), Error>;

    /// Stores a signature. [`Error::NotFound`] if the decision does not exist.
    async fn insert_signature(&self, signature: &SignatureRecord) -> Result<(), Error>;
    /// The signatures on a decision, in signing order.
    async fn signatures(&self, decision_id: &str) -> Result<Vec<SignatureRecord>, Error>;

    /// Registers a role's public key.
    async fn insert_key(&self, key: &KeyRecord) -> Result<(), Error>;
    /// Registered keys, optionally for one role, oldest first.
    async fn list_keys(&self, role: Option<&str>) -> Result<Vec<KeyRecord>, Error>;
}
