//! rsp's audit ledger: an append-only RFC 9162 Merkle log of canonical JSON
//! leaves with C2SP signed checkpoints, verifiable offline by an auditor.
//!
//! # Design
//!
//! * **Leaves describe artifacts; they do not contain them.** Each leaf is a
//!   small [`LeafDocument`] (kind, time, SHA-256 of the artifact bytes, the
//!   artifacts it depends on, a few summary fields) serialised with RFC 8785
//!   JCS. The artifact itself (policy TOML, run JSON, decision, signature...)
//!   is stored separately and checked against `artifact_sha256`. So the tree
//!   stays cheap to hash, and a changed artifact is detected through its leaf.
//! * **One byte form per leaf.** [`LeafDocument::from_canonical_bytes`] rejects
//!   anything that is not exactly the JCS form, so a re-formatted leaf is a
//!   detected modification, never a silently different hash.
//! * **RFC 9162 tree** ([`MerkleTree`]): all complete aligned subtrees are
//!   stored level by level, so appends are amortised O(1) hashes and roots and
//!   proofs for any past size are O(log n). Proof verifiers ([`verify_inclusion`],
//!   [`verify_consistency`]) follow RFC 9162 §2.1.3.2/§2.1.4.2 plus the stricter
//!   checks of the transparency-dev reference verifier, and pass all its vectors.
//! * **C2SP checkpoints** ([`Checkpoint`]) signed as signed notes with an
//!   Ed25519 log key ([`SignerKey`], [`VerifierKey`] in `vkey` text form), with
//!   optional `cosignature/v1` witness cosignatures ([`cosign`]).
//! * **Whole-log verification** ([`verify_log`]) rebuilds everything from the
//!   bytes and reports the *first* inconsistency by leaf index, artifact and
//!   expected/found hash. **Auditor bundles** ([`export_bundle`],
//!   [`verify_bundle`]) are a tar of leaves, artifacts, checkpoints and public
//!   keys that verifies with nothing else.
//!
//! The crate is storage-agnostic and pure apart from the bundle tar I/O; the
//! byte-level formats are specified in `docs/ledger.md`.

#![deny(missing_docs)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")
)]

mod bundle;
mod checkpoint;
mod hash;
mod jcs;
mod keys;
mod leaf;
mod note;
mod proof;
mod proof_json;
mod tree;
mod verify;

pub use bundle::{
    BUNDLE_DIR, BUNDLE_VERSION, BundleError, BundleInput, BundleReport, CosignatureInfo,
    export_bundle, verify_bundle,
};
pub use checkpoint::{Checkpoint, CheckpointError, cosign, verify_cosignature};
pub use hash::{HASH_LEN, Hash, empty_root, leaf_hash, node_hash, sha256};
pub use jcs::canonical_json;
pub use keys::{KeyAlg, KeyError, SignerKey, VerifierKey, key_id};
pub use leaf::{KindCounts, LeafDocument, LeafError, LeafKind, MAX_SAFE_INTEGER, format_time};
pub use note::{MAX_SIGNATURES, NoteError, NoteSignature, SignedNote};
pub use proof::{ProofError, verify_consistency, verify_inclusion};
pub use proof_json::{
    ConsistencyProofJson, InclusionProofJson, ProofJsonError, ProofKind, verify_proof_json,
};
pub use tree::{MerkleTree, TreeError};
pub use verify::{ArtifactLookup, LogEntry, LookupError, VerifyError, VerifyReport, verify_log};
