//! Whole-log verification: recompute everything from the stored bytes and
//! compare it with what was signed.
//!
//! # Order of checks, and which failure is reported
//!
//! 1. Every checkpoint's signature by the log key (a wrong key or a forged
//!    checkpoint makes everything else moot, so it is reported first), and
//!    that all checkpoints name the same origin.
//! 2. Every leaf, in index order. For leaf `i`, in this order: its bytes hash
//!    to the leaf hash the store recorded (when one was recorded); the bytes are
//!    a canonical [`LeafDocument`]; the artifact they name exists and its bytes
//!    hash to `artifact_sha256`; every `depends_on` entry is the artifact of an
//!    earlier leaf. The first failing check of the lowest index is returned.
//! 3. Every checkpoint's root against the root recomputed at its size.
//!
//! The recorded leaf hashes are what make localisation exact: the tree is
//! always rebuilt from the leaf *bytes*, so a consistent set of leaves is
//! authenticated by the checkpoints alone, but if a leaf's bytes were altered
//! in a way that still parses (say, one character inside a `meta` string), the
//! root mismatch alone could only say "somewhere between the last good
//! checkpoint and this one". The recorded hash names the leaf.
//!
//! Per-leaf work (hashing, JSON canonical check, artifact hashing) runs in
//! parallel with rayon over chunks; artifact lookups and the order-dependent
//! checks run sequentially, so the lookup need not be thread-safe.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasher;

use rayon::prelude::*;

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::hash::{Hash, leaf_hash, sha256};
use crate::keys::VerifierKey;
use crate::leaf::{KindCounts, LeafDocument, LeafError, LeafKind};
use crate::tree::MerkleTree;

/// Boxed error from an artifact store.
pub type LookupError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Where verification finds artifact bytes by their SHA-256.
///
/// Implemented for `HashMap<Hash, Vec<u8>>`, `BTreeMap<Hash, Vec<u8>>` and
/// closures `Fn(&Hash) -> Result<Option<Vec<u8>>, LookupError>`. The store may
/// return bytes that do not hash to the key (that is exactly the tampering
/// verification looks for).
pub trait ArtifactLookup {
    /// The bytes stored for `sha256`, `None` if there are none.
    fn artifact(&self, sha256: &Hash) -> Result<Option<Cow<'_, [u8]>>, LookupError>;
}

impl<S: BuildHasher> ArtifactLookup for HashMap<Hash, Vec<u8>, S> {
    fn artifact(&self, sha256: &Hash) -> Result<Option<Cow<'_, [u8]>>, LookupError> {
        Ok(self.get(sha256).map(|v| Cow::Borrowed(v.as_slice())))
    }
}

impl ArtifactLookup for BTreeMap<Hash, Vec<u8>> {
    fn artifact(&self, sha256: &Hash) -> Result<Option<Cow<'_, [u8]>>, LookupError> {
        Ok(self.get(sha256).map(|v| Cow::Borrowed(v.as_slice())))
    }
}

impl<F> ArtifactLookup for F
where
    F: Fn(&Hash) -> Result<Option<Vec<u8>>, LookupError>,
{
    fn artifact(&self, sha256: &Hash) -> Result<Option<Cow<'_, [u8]>>, LookupError> {
        Ok(self(sha256)?.map(Cow::Owned))
    }
}

/// One stored log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The exact leaf bytes (canonical JSON of a [`LeafDocument`]).
    pub leaf: Vec<u8>,
    /// The leaf hash the store recorded at append time, if it keeps one.
    pub recorded_hash: Option<Hash>,
}

impl LogEntry {
    /// An entry whose recorded hash is computed from the bytes now (use when
    /// appending; when reading back, pass the hash that was stored instead).
    pub fn new(leaf: Vec<u8>) -> Self {
        let h = leaf_hash(&leaf);
        Self {
            leaf,
            recorded_hash: Some(h),
        }
    }
}

/// The first inconsistency found.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// A checkpoint is malformed or not validly signed by the log key.
    #[error("checkpoint #{position} is not a valid checkpoint signed by the log key")]
    Checkpoint {
        /// Position of the checkpoint in the list given.
        position: usize,
        /// What was wrong with it.
        #[source]
        source: CheckpointError,
    },
    /// Checkpoints name different log origins.
    #[error(
        "checkpoint #{position} has origin {found:?}, but earlier checkpoints have {expected:?}"
    )]
    OriginMismatch {
        /// Position of the checkpoint in the list given.
        position: usize,
        /// Origin of the first checkpoint.
        expected: String,
        /// Origin of this one.
        found: String,
    },
    /// The leaf bytes do not hash to the leaf hash the store recorded.
    #[error(
        "leaf {index} was modified: its bytes hash to {computed}, but the log recorded {recorded}"
    )]
    LeafHashMismatch {
        /// Leaf index.
        index: u64,
        /// Hash recorded at append time.
        recorded: Hash,
        /// Hash of the bytes now.
        computed: Hash,
    },
    /// The leaf bytes are not a canonical leaf document.
    #[error("leaf {index} is not a valid canonical leaf document")]
    InvalidLeaf {
        /// Leaf index.
        index: u64,
        /// Why.
        #[source]
        source: LeafError,
    },
    /// No artifact is stored for the leaf's `artifact_sha256`.
    #[error("leaf {index}: artifact {artifact} is missing")]
    MissingArtifact {
        /// Leaf index.
        index: u64,
        /// The `artifact_sha256` of the leaf.
        artifact: Hash,
    },
    /// The stored artifact bytes do not hash to the leaf's `artifact_sha256`.
    #[error("leaf {index}: artifact {artifact} was modified: its bytes hash to {found}")]
    ArtifactMismatch {
        /// Leaf index.
        index: u64,
        /// The `artifact_sha256` the leaf expects.
        artifact: Hash,
        /// SHA-256 of the stored bytes.
        found: Hash,
    },
    /// The artifact store failed.
    #[error("leaf {index}: looking up artifact {artifact} failed")]
    ArtifactLookup {
        /// Leaf index.
        index: u64,
        /// The artifact looked up.
        artifact: Hash,
        /// The store's error.
        #[source]
        source: LookupError,
    },
    /// A `depends_on` entry that is not the artifact of an earlier leaf.
    #[error("leaf {index} depends on {dependency}, which is not the artifact of any earlier leaf")]
    DanglingDependency {
        /// Leaf index.
        index: u64,
        /// The unresolved dependency.
        dependency: Hash,
    },
    /// A checkpoint for more leaves than the log has: entries were removed.
    #[error(
        "a checkpoint signs size {size} but the log has only {log_size} leaves (entries were removed)"
    )]
    CheckpointBeyondLog {
        /// Signed size.
        size: u64,
        /// Leaves present.
        log_size: u64,
    },
    /// The recomputed root at a checkpoint's size differs from the signed one.
    #[error(
        "root at size {size} is {computed}, but the checkpoint signs {signed}: a leaf in {first_suspect}..{size} was altered, inserted or removed"
    )]
    CheckpointRootMismatch {
        /// Checkpoint size.
        size: u64,
        /// Root in the checkpoint.
        signed: Hash,
        /// Root recomputed from the leaves.
        computed: Hash,
        /// Size of the largest smaller checkpoint that matched (0 if none):
        /// the culprit is a leaf with index in `first_suspect..size`.
        first_suspect: u64,
    },
}

impl VerifyError {
    /// The leaf the error is about, when it is about exactly one leaf.
    pub fn leaf_index(&self) -> Option<u64> {
        match self {
            Self::LeafHashMismatch { index, .. }
            | Self::InvalidLeaf { index, .. }
            | Self::MissingArtifact { index, .. }
            | Self::ArtifactMismatch { index, .. }
            | Self::ArtifactLookup { index, .. }
            | Self::DanglingDependency { index, .. } => Some(*index),
            Self::Checkpoint { .. }
            | Self::OriginMismatch { .. }
            | Self::CheckpointBeyondLog { .. }
            | Self::CheckpointRootMismatch { .. } => None,
        }
    }
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Number of leaves.
    pub tree_size: u64,
    /// Root recomputed over all leaves.
    pub root: Hash,
    /// Log origin named by the checkpoints (`None` without checkpoints).
    pub origin: Option<String>,
    /// Largest checkpointed size; leaves at or beyond it are not yet covered
    /// by a signature.
    pub signed_size: u64,
    /// Every checkpoint verified, sorted by size.
    pub checkpoints: Vec<Checkpoint>,
    /// Leaves per kind.
    pub kinds: KindCounts,
    /// Distinct artifacts whose bytes were hashed and matched.
    pub artifacts_checked: u64,
}

/// The parts of a leaf that the order-dependent checks use.
struct Summary {
    kind: LeafKind,
    artifact_sha256: Hash,
    depends_on: Vec<Hash>,
}

/// Leaves handled per parallel batch: large enough to amortise rayon, small
/// enough that a batch's artifacts stay comfortably in memory.
const CHUNK: usize = 4096;

/// Verifies a whole log; see the module docs for what is checked and in which order.
pub fn verify_log<A, C>(
    entries: &[LogEntry],
    artifacts: &A,
    checkpoints: &[C],
    log_key: &VerifierKey,
) -> Result<VerifyReport, VerifyError>
where
    A: ArtifactLookup + ?Sized,
    C: AsRef<str>,
{
    let mut opened = open_checkpoints(checkpoints, log_key)?;
    let mut tree = MerkleTree::new();
    let mut seen: HashSet<Hash> = HashSet::with_capacity(entries.len());
    let mut kinds = KindCounts::new();
    let mut artifacts_checked = 0u64;

    for (chunk_no, chunk) in entries.chunks(CHUNK).enumerate() {
        let base = (chunk_no * CHUNK) as u64;
        // Keep only what the sequential checks need, so the documents (and
        // their `meta` maps) are dropped on the worker threads.
        let parsed: Vec<(Hash, Result<Summary, LeafError>)> = chunk
            .par_iter()
            .map(|e| {
                let summary = LeafDocument::from_canonical_bytes(&e.leaf).map(|d| Summary {
                    kind: d.kind,
                    artifact_sha256: d.artifact_sha256,
                    depends_on: d.depends_on,
                });
                (leaf_hash(&e.leaf), summary)
            })
            .collect();
        // Fetch artifacts sequentially (the store need not be Sync), only for
        // leaves that passed the earlier checks and the first time we see them.
        let mut fetched: Vec<Option<Cow<'_, [u8]>>> = Vec::with_capacity(chunk.len());
        let mut lookup_failure = None;
        let mut in_chunk: HashSet<Hash> = HashSet::new();
        for (offset, (entry, (computed, doc))) in chunk.iter().zip(&parsed).enumerate() {
            let wanted = match doc {
                Ok(d) if entry.recorded_hash.is_none_or(|r| r == *computed) => {
                    Some(d.artifact_sha256)
                }
                _ => None,
            };
            let bytes = match wanted {
                Some(a) if !seen.contains(&a) && in_chunk.insert(a) => match artifacts.artifact(&a)
                {
                    Ok(b) => b,
                    Err(source) => {
                        lookup_failure = Some(VerifyError::ArtifactLookup {
                            index: base + offset as u64,
                            artifact: a,
                            source,
                        });
                        break;
                    }
                },
                _ => None,
            };
            fetched.push(bytes);
        }
        let digests: Vec<Option<Hash>> = fetched
            .par_iter()
            .map(|b| b.as_deref().map(sha256))
            .collect();

        for (offset, (entry, (computed, doc))) in chunk.iter().zip(parsed).enumerate() {
            let index = base + offset as u64;
            if let Some(recorded) = entry.recorded_hash
                && recorded != computed
            {
                return Err(VerifyError::LeafHashMismatch {
                    index,
                    recorded,
                    computed,
                });
            }
            let doc = doc.map_err(|source| VerifyError::InvalidLeaf { index, source })?;
            let artifact = doc.artifact_sha256;
            if !seen.contains(&artifact) {
                match digests.get(offset).copied().flatten() {
                    Some(found) if found == artifact => artifacts_checked += 1,
                    Some(found) => {
                        return Err(VerifyError::ArtifactMismatch {
                            index,
                            artifact,
                            found,
                        });
                    }
                    None => {
                        // Artifacts first seen earlier in this chunk are in
                        // `seen` by now, so reaching here means this leaf's
                        // lookup failed or found nothing.
                        if let Some(err) = lookup_failure.take_if(|e| e.leaf_index() == Some(index))
                        {
                            return Err(err);
                        }
                        return Err(VerifyError::MissingArtifact { index, artifact });
                    }
                }
            }
            if let Some(dependency) = doc.depends_on.iter().find(|d| !seen.contains(*d)) {
                return Err(VerifyError::DanglingDependency {
                    index,
                    dependency: *dependency,
                });
            }
            seen.insert(artifact);
            *kinds.entry(doc.kind).or_default() += 1;
            tree.push_leaf_hash(computed);
        }
    }

    check_roots(&mut opened, &tree)?;
    let origin = opened.first().map(|c| c.origin.clone());
    Ok(VerifyReport {
        tree_size: tree.len(),
        root: tree.root(),
        origin,
        signed_size: opened.last().map_or(0, |c| c.size),
        checkpoints: opened,
        kinds,
        artifacts_checked,
    })
}

fn open_checkpoints<C: AsRef<str>>(
    checkpoints: &[C],
    log_key: &VerifierKey,
) -> Result<Vec<Checkpoint>, VerifyError> {
    let mut opened: Vec<Checkpoint> = Vec::with_capacity(checkpoints.len());
    for (position, note) in checkpoints.iter().enumerate() {
        let cp = Checkpoint::open(note.as_ref(), log_key)
            .map_err(|source| VerifyError::Checkpoint { position, source })?;
        if let Some(first) = opened.first()
            && first.origin != cp.origin
        {
            return Err(VerifyError::OriginMismatch {
                position,
                expected: first.origin.clone(),
                found: cp.origin,
            });
        }
        opened.push(cp);
    }
    opened.sort_by_key(|c| c.size);
    Ok(opened)
}

fn check_roots(opened: &mut [Checkpoint], tree: &MerkleTree) -> Result<(), VerifyError> {
    let mut last_good = 0;
    for cp in opened.iter() {
        let computed = tree
            .root_at(cp.size)
            .map_err(|_| VerifyError::CheckpointBeyondLog {
                size: cp.size,
                log_size: tree.len(),
            })?;
        if computed != cp.root {
            return Err(VerifyError::CheckpointRootMismatch {
                size: cp.size,
                signed: cp.root,
                computed,
                first_suspect: last_good,
            });
        }
        last_good = cp.size;
    }
    Ok(())
}
