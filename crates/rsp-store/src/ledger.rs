//! Storage for the audit ledger: leaves, the artifacts they commit to, and checkpoints.
//!
//! The Merkle maths (leaf hashing, proofs, signing) lives in `rsp-ledger`; this module only
//! keeps bytes durable and in order. Two invariants are enforced by the schema itself, so
//! they hold whichever process writes the file: leaf indices are `0..n` without gaps, and a
//! stored leaf or artifact never changes.

use std::ops::Range;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Error;

/// Content-addressed bytes a leaf commits to (a report, a run export, evidence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// Lowercase hex SHA-256 of `bytes`; checked on append.
    pub sha256: String,
    /// The content.
    pub bytes: Vec<u8>,
    /// IANA media type, e.g. `application/json`.
    pub media_type: String,
}

impl Artifact {
    /// An artifact for `bytes`, with its digest computed.
    pub fn new(bytes: Vec<u8>, media_type: impl Into<String>) -> Self {
        Self {
            sha256: sha256_hex(&bytes),
            bytes,
            media_type: media_type.into(),
        }
    }
}

/// Lowercase hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// A stored ledger leaf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeafRecord {
    /// Index in the log, from 0.
    pub idx: u64,
    /// The canonical JSON bytes that were hashed.
    pub leaf: Vec<u8>,
    /// The RFC 9162 leaf hash.
    pub leaf_hash: [u8; 32],
    /// What the leaf records (e.g. `run`, `decision`).
    pub kind: String,
    /// SHA-256 of the artifact appended with it, if any.
    pub artifact_sha256: Option<String>,
    /// When it was appended.
    pub created_at: DateTime<Utc>,
}

/// A stored signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointRecord {
    /// The tree size it commits to.
    pub size: u64,
    /// The signed note text.
    pub text: String,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
}

/// Storage for the audit ledger.
#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// Appends a leaf (and its artifact, if any) in one transaction and returns its index,
    /// which is the number of leaves before it. An artifact already stored is kept as is
    /// (same digest, same bytes). [`Error::ArtifactHashMismatch`] if the artifact's bytes
    /// do not hash to its `sha256`.
    async fn append_leaf(
        &self,
        leaf: &[u8],
        leaf_hash: &[u8; 32],
        kind: &str,
        artifact: Option<&Artifact>,
    ) -> Result<u64, Error>;
    /// The leaves with indices in `range`, in order (fewer if the log is shorter).
    async fn leaves(&self, range: Range<u64>) -> Result<Vec<LeafRecord>, Error>;
    /// Just the leaf hashes in `range`: what tree hashing and proofs need.
    async fn leaf_hashes(&self, range: Range<u64>) -> Result<Vec<[u8; 32]>, Error>;
    /// Number of leaves.
    async fn leaf_count(&self) -> Result<u64, Error>;
    /// The artifact with this digest.
    async fn artifact(&self, sha256: &str) -> Result<Option<Artifact>, Error>;
    /// Stores a signed checkpoint. [`Error::CheckpointBeyondLog`] if `size` exceeds the
    /// number of leaves.
    async fn put_checkpoint(&self, size: u64, text: &str) -> Result<CheckpointRecord, Error>;
    /// Every checkpoint, oldest first.
    async fn checkpoints(&self) -> Result<Vec<CheckpointRecord>, Error>;
    /// The most recently stored checkpoint.
    async fn latest_checkpoint(&self) -> Result<Option<CheckpointRecord>, Error>;
}
