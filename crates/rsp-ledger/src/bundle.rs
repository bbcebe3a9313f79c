//! Auditor bundles: one tar file holding everything needed to verify the log
//! offline, and nothing secret.
//!
//! ```text
//! rsp-ledger-bundle/VERSION                  "rsp-ledger-bundle v1\n"
//! rsp-ledger-bundle/keys/log.vkey            log verifier key (vkey text + "\n")
//! rsp-ledger-bundle/keys/<label>.vkey        other public keys (signers, witnesses)
//! rsp-ledger-bundle/checkpoints/<size>.txt   signed checkpoints, size zero-padded to 12 digits
//! rsp-ledger-bundle/leaves/<index>.json      exact leaf bytes, index zero-padded to 12 digits
//! rsp-ledger-bundle/leaf-hashes.txt          recorded leaf hash of every leaf, hex, one per line
//! rsp-ledger-bundle/artifacts/<sha256 hex>   artifact bytes
//! ```
//!
//! Only [`VerifierKey`]s can be put in a bundle: the API has no way to pass a
//! [`crate::SignerKey`], so private keys cannot leak into one by mistake.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{Read, Write};

use crate::checkpoint::{Checkpoint, CheckpointError, verify_cosignature};
use crate::hash::{Hash, leaf_hash};
use crate::keys::{KeyAlg, KeyError, VerifierKey};
use crate::leaf::{LeafDocument, LeafError};
use crate::note::{NoteError, SignedNote};
use crate::verify::{ArtifactLookup, LogEntry, LookupError, VerifyError, VerifyReport, verify_log};

/// Top-level directory inside the tar.
pub const BUNDLE_DIR: &str = "rsp-ledger-bundle";
/// Exact contents of `VERSION`.
pub const BUNDLE_VERSION: &str = "rsp-ledger-bundle v1\n";

/// Errors writing or verifying a bundle.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Reading or writing the tar failed.
    #[error("bundle I/O failed")]
    Io(#[source] std::io::Error),
    /// `VERSION` missing or not [`BUNDLE_VERSION`].
    #[error("not an rsp ledger bundle v1 (VERSION is {found:?})")]
    Version {
        /// What VERSION held, if anything.
        found: Option<String>,
    },
    /// A required file is missing.
    #[error("bundle lacks {0}")]
    MissingFile(&'static str),
    /// A file outside the documented layout (or not a regular file).
    #[error("unexpected entry in bundle: {path}")]
    UnexpectedFile {
        /// Its path in the tar.
        path: String,
    },
    /// A key file that does not parse.
    #[error("bad key file {path}")]
    Key {
        /// Its path in the tar.
        path: String,
        /// Why.
        #[source]
        source: KeyError,
    },
    /// A key label unusable as a file name (allowed: ASCII letters, digits, `.`, `_`, `-`; not `log`).
    #[error("invalid key label {0:?}")]
    BadKeyLabel(String),
    /// The bundle's log key is not the one the auditor pinned.
    #[error("bundle log key {found} is not the expected log key {pinned}")]
    LogKeyMismatch {
        /// Key the auditor trusts.
        pinned: String,
        /// Key in the bundle.
        found: String,
    },
    /// Leaf files are not numbered 0..n without gaps.
    #[error("leaf {index} is missing from the bundle")]
    MissingLeaf {
        /// First missing index.
        index: u64,
    },
    /// `leaf-hashes.txt` is malformed or has the wrong number of lines.
    #[error("leaf-hashes.txt is malformed at line {line}")]
    LeafHashes {
        /// 1-based line number (or count + 1 when lines are missing).
        line: usize,
    },
    /// Two different checkpoints for the same size.
    #[error("two different checkpoints for size {size}")]
    DuplicateCheckpoint {
        /// The size.
        size: u64,
    },
    /// Export: a checkpoint that is not a signed note with a checkpoint body.
    #[error("checkpoint #{position} cannot be exported")]
    Checkpoint {
        /// Position in the list given.
        position: usize,
        /// Why.
        #[source]
        source: CheckpointError,
    },
    /// Export: a leaf that does not parse (so its artifact is unknown).
    #[error("leaf {index} cannot be exported")]
    Leaf {
        /// Leaf index.
        index: u64,
        /// Why.
        #[source]
        source: LeafError,
    },
    /// Export: a leaf's artifact is not in the store.
    #[error("leaf {index}: artifact {artifact} is missing from the store")]
    MissingArtifact {
        /// Leaf index.
        index: u64,
        /// The artifact.
        artifact: Hash,
    },
    /// Export: the artifact store failed.
    #[error("looking up artifact {artifact} failed")]
    ArtifactLookup {
        /// The artifact.
        artifact: Hash,
        /// The store's error.
        #[source]
        source: LookupError,
    },
    /// The log inside the bundle does not verify.
    #[error("ledger verification failed")]
    Verify(#[source] VerifyError),
    /// The bundle's newest checkpoint does not cover all its leaves.
    #[error("leaves {signed_size}..{leaves} are not covered by any checkpoint")]
    Uncheckpointed {
        /// Largest checkpointed size.
        signed_size: u64,
        /// Number of leaves.
        leaves: u64,
    },
    /// A cosignature by a witness key in the bundle does not verify.
    #[error("cosignature on checkpoint of size {size} by {witness} is invalid")]
    Cosignature {
        /// Checkpoint size.
        size: u64,
        /// Witness key name.
        witness: String,
        /// Why.
        #[source]
        source: CheckpointError,
    },
}

impl BundleError {
    /// The leaf the error is about, when it is about exactly one leaf.
    pub fn leaf_index(&self) -> Option<u64> {
        match self {
            Self::Verify(e) => e.leaf_index(),
            Self::MissingLeaf { index }
            | Self::Leaf { index, .. }
            | Self::MissingArtifact { index, .. } => Some(*index),
            _ => None,
        }
    }
}

/// What to put in a bundle.
pub struct BundleInput<'a> {
    /// Every log entry, in index order.
    pub entries: &'a [LogEntry],
    /// Artifact store.
    pub artifacts: &'a dyn ArtifactLookup,
    /// Signed checkpoints (note text).
    pub checkpoints: &'a [String],
    /// The log's public key.
    pub log_key: &'a VerifierKey,
    /// Other public keys, with file labels (e.g. role signers, witnesses).
    pub extra_keys: &'a [(String, VerifierKey)],
}

impl fmt::Debug for BundleInput<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BundleInput")
            .field("entries", &self.entries.len())
            .field("checkpoints", &self.checkpoints.len())
            .field("log_key", self.log_key)
            .field("extra_keys", &self.extra_keys)
            .finish_non_exhaustive()
    }
}

/// A cosignature found and verified in a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CosignatureInfo {
    /// Size of the cosigned checkpoint.
    pub size: u64,
    /// Witness key name.
    pub witness: String,
    /// Cosignature timestamp (POSIX seconds).
    pub timestamp: u64,
}

/// What a successful bundle verification established.
#[derive(Debug, Clone)]
pub struct BundleReport {
    /// The log verification report.
    pub log: VerifyReport,
    /// The log key the bundle was verified against (compare it out of band
    /// unless it was pinned).
    pub log_key: VerifierKey,
    /// The other public keys in the bundle, by label.
    pub extra_keys: Vec<(String, VerifierKey)>,
    /// Verified witness cosignatures.
    pub cosignatures: Vec<CosignatureInfo>,
    /// Artifacts in the bundle that no leaf names (harmless, but reported).
    pub unreferenced_artifacts: usize,
}

fn valid_label(label: &str) -> bool {
    label != "log"
        && !label.is_empty()
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !label.starts_with('.')
}

fn put<W: Write>(tar: &mut tar::Builder<W>, path: &str, data: &[u8]) -> Result<(), BundleError> {
    let mut header = tar::Header::new_ustar();
    header.set_size(data.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, format!("{BUNDLE_DIR}/{path}"), data)
        .map_err(BundleError::Io)
}

/// Writes a bundle to `writer` (deterministic: fixed order, mtimes and modes)
/// and returns the writer.
pub fn export_bundle<W: Write>(writer: W, input: &BundleInput<'_>) -> Result<W, BundleError> {
    let mut tar = tar::Builder::new(writer);
    put(&mut tar, "VERSION", BUNDLE_VERSION.as_bytes())?;
    put(
        &mut tar,
        "keys/log.vkey",
        format!("{}\n", input.log_key.to_vkey()).as_bytes(),
    )?;
    for (label, key) in input.extra_keys {
        if !valid_label(label) {
            return Err(BundleError::BadKeyLabel(label.clone()));
        }
        put(
            &mut tar,
            &format!("keys/{label}.vkey"),
            format!("{}\n", key.to_vkey()).as_bytes(),
        )?;
    }
    let mut by_size: BTreeMap<u64, &str> = BTreeMap::new();
    for (position, note) in input.checkpoints.iter().enumerate() {
        let cp_err = |source| BundleError::Checkpoint { position, source };
        let parsed = SignedNote::parse(note).map_err(|e| cp_err(CheckpointError::Note(e)))?;
        let cp = Checkpoint::parse_body(&parsed.text).map_err(cp_err)?;
        if let Some(prev) = by_size.insert(cp.size, note)
            && prev != note
        {
            return Err(BundleError::DuplicateCheckpoint { size: cp.size });
        }
    }
    for (size, note) in &by_size {
        put(
            &mut tar,
            &format!("checkpoints/{size:012}.txt"),
            note.as_bytes(),
        )?;
    }
    let mut hashes = String::with_capacity(input.entries.len() * 65);
    let mut wanted: Vec<(u64, Hash)> = Vec::new();
    for (i, entry) in input.entries.iter().enumerate() {
        let index = i as u64;
        put(&mut tar, &format!("leaves/{index:012}.json"), &entry.leaf)?;
        hashes.push_str(
            &entry
                .recorded_hash
                .unwrap_or_else(|| leaf_hash(&entry.leaf))
                .to_hex(),
        );
        hashes.push('\n');
        let doc = LeafDocument::from_canonical_bytes(&entry.leaf)
            .map_err(|source| BundleError::Leaf { index, source })?;
        wanted.push((index, doc.artifact_sha256));
    }
    put(&mut tar, "leaf-hashes.txt", hashes.as_bytes())?;
    let mut written = std::collections::HashSet::new();
    for (index, artifact) in wanted {
        if !written.insert(artifact) {
            continue;
        }
        let bytes = input
            .artifacts
            .artifact(&artifact)
            .map_err(|source| BundleError::ArtifactLookup { artifact, source })?
            .ok_or(BundleError::MissingArtifact { index, artifact })?;
        put(
            &mut tar,
            &format!("artifacts/{}", artifact.to_hex()),
            &bytes,
        )?;
    }
    tar.into_inner().map_err(BundleError::Io)
}

/// Files of a bundle, sorted into their roles.
#[derive(Default)]
struct Contents {
    version: Option<Vec<u8>>,
    log_key: Option<(String, Vec<u8>)>,
    keys: Vec<(String, String, Vec<u8>)>,
    checkpoints: Vec<Vec<u8>>,
    leaves: BTreeMap<u64, Vec<u8>>,
    leaf_hashes: Option<Vec<u8>>,
    artifacts: HashMap<Hash, Vec<u8>>,
}

fn read_contents<R: Read>(reader: R) -> Result<Contents, BundleError> {
    let mut archive = tar::Archive::new(reader);
    let mut c = Contents::default();
    for entry in archive.entries().map_err(BundleError::Io)? {
        let mut entry = entry.map_err(BundleError::Io)?;
        let path = entry
            .path()
            .map_err(BundleError::Io)?
            .to_string_lossy()
            .into_owned();
        let unexpected = || BundleError::UnexpectedFile { path: path.clone() };
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        let rel = path
            .strip_prefix(BUNDLE_DIR)
            .and_then(|p| p.strip_prefix('/'))
            .ok_or_else(unexpected)?;
        if !kind.is_file() {
            return Err(unexpected());
        }
        // The header size is untrusted: cap the up-front allocation.
        let mut data = Vec::with_capacity(entry.size().min(1 << 20) as usize);
        entry.read_to_end(&mut data).map_err(BundleError::Io)?;
        let (dir, name) = rel.split_once('/').unwrap_or(("", rel));
        match (dir, name) {
            ("", "VERSION") => c.version = Some(data),
            ("", "leaf-hashes.txt") => c.leaf_hashes = Some(data),
            ("keys", "log.vkey") => c.log_key = Some((path.clone(), data)),
            ("keys", n) => {
                let label = n
                    .strip_suffix(".vkey")
                    .filter(|l| valid_label(l))
                    .ok_or_else(unexpected)?;
                c.keys.push((path.clone(), label.to_owned(), data));
            }
            ("checkpoints", n) if n.ends_with(".txt") => c.checkpoints.push(data),
            ("leaves", n) => {
                let digits = n
                    .strip_suffix(".json")
                    .filter(|d| d.len() == 12)
                    .ok_or_else(unexpected)?;
                let index: u64 = digits.parse().map_err(|_| unexpected())?;
                if c.leaves.insert(index, data).is_some() {
                    return Err(unexpected());
                }
            }
            ("artifacts", n) => {
                let h = Hash::from_hex(n).ok_or_else(unexpected)?;
                c.artifacts.insert(h, data);
            }
            _ => return Err(unexpected()),
        }
    }
    Ok(c)
}

fn parse_key(path: &str, data: &[u8]) -> Result<VerifierKey, BundleError> {
    let text = std::str::from_utf8(data).map_err(|_| BundleError::Key {
        path: path.to_owned(),
        source: KeyError::Malformed {
            what: "verifier key",
        },
    })?;
    VerifierKey::from_vkey(text).map_err(|source| BundleError::Key {
        path: path.to_owned(),
        source,
    })
}

/// Verifies a bundle using nothing but its contents (and, if given, the log
/// key the auditor trusts, which the bundle's `keys/log.vkey` must equal).
pub fn verify_bundle<R: Read>(
    reader: R,
    pinned_log_key: Option<&VerifierKey>,
) -> Result<BundleReport, BundleError> {
    let c = read_contents(reader)?;
    if c.version.as_deref() != Some(BUNDLE_VERSION.as_bytes()) {
        return Err(BundleError::Version {
            found: c.version.map(|v| String::from_utf8_lossy(&v).into_owned()),
        });
    }
    let (log_path, log_data) = c.log_key.ok_or(BundleError::MissingFile("keys/log.vkey"))?;
    let log_key = parse_key(&log_path, &log_data)?;
    if let Some(pinned) = pinned_log_key
        && *pinned != log_key
    {
        return Err(BundleError::LogKeyMismatch {
            pinned: pinned.to_vkey(),
            found: log_key.to_vkey(),
        });
    }
    let extra_keys = c
        .keys
        .iter()
        .map(|(path, label, data)| Ok((label.clone(), parse_key(path, data)?)))
        .collect::<Result<Vec<_>, BundleError>>()?;

    let n = c.leaves.len() as u64;
    if let Some(index) = (0..n).find(|i| !c.leaves.contains_key(i)) {
        return Err(BundleError::MissingLeaf { index });
    }
    let hashes_text = c
        .leaf_hashes
        .ok_or(BundleError::MissingFile("leaf-hashes.txt"))?;
    let hashes = parse_leaf_hashes(&hashes_text, c.leaves.len())?;
    let mut referenced = std::collections::HashSet::new();
    let entries: Vec<LogEntry> = c
        .leaves
        .into_values()
        .zip(hashes)
        .map(|(leaf, h)| {
            if let Ok(doc) = LeafDocument::from_canonical_bytes(&leaf) {
                referenced.insert(doc.artifact_sha256);
            }
            LogEntry {
                leaf,
                recorded_hash: Some(h),
            }
        })
        .collect();
    let checkpoints: Vec<String> = c
        .checkpoints
        .iter()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    let log =
        verify_log(&entries, &c.artifacts, &checkpoints, &log_key).map_err(BundleError::Verify)?;
    if log.signed_size < log.tree_size || log.checkpoints.is_empty() {
        return Err(BundleError::Uncheckpointed {
            signed_size: log.signed_size,
            leaves: log.tree_size,
        });
    }
    let cosignatures = check_cosignatures(&checkpoints, &log_key, &extra_keys)?;
    let unreferenced_artifacts = c
        .artifacts
        .keys()
        .filter(|h| !referenced.contains(*h))
        .count();
    Ok(BundleReport {
        log,
        log_key,
        extra_keys,
        cosignatures,
        unreferenced_artifacts,
    })
}

fn parse_leaf_hashes(data: &[u8], count: usize) -> Result<Vec<Hash>, BundleError> {
    let text = std::str::from_utf8(data).map_err(|_| BundleError::LeafHashes { line: 1 })?;
    let body = if count == 0 {
        text
    } else {
        text.strip_suffix('\n')
            .ok_or(BundleError::LeafHashes { line: count })?
    };
    let hashes: Vec<Hash> = if body.is_empty() {
        Vec::new()
    } else {
        body.split('\n')
            .enumerate()
            .map(|(i, l)| Hash::from_hex(l).ok_or(BundleError::LeafHashes { line: i + 1 }))
            .collect::<Result<_, _>>()?
    };
    if hashes.len() != count {
        return Err(BundleError::LeafHashes {
            line: hashes.len().min(count) + 1,
        });
    }
    Ok(hashes)
}

fn check_cosignatures(
    checkpoints: &[String],
    log_key: &VerifierKey,
    extra_keys: &[(String, VerifierKey)],
) -> Result<Vec<CosignatureInfo>, BundleError> {
    let mut out = Vec::new();
    for note in checkpoints {
        // Already verified by verify_log; only the size is needed here.
        let Ok(cp) = Checkpoint::open(note, log_key) else {
            continue;
        };
        for (_, witness) in extra_keys
            .iter()
            .filter(|(_, k)| k.alg() == KeyAlg::CosignatureV1)
        {
            match verify_cosignature(note, witness) {
                Ok(timestamp) => out.push(CosignatureInfo {
                    size: cp.size,
                    witness: witness.name().to_owned(),
                    timestamp,
                }),
                Err(CheckpointError::Note(NoteError::NotSignedBy { .. })) => {}
                Err(source) => {
                    return Err(BundleError::Cosignature {
                        size: cp.size,
                        witness: witness.name().to_owned(),
                        source,
                    });
                }
            }
        }
    }
    out.sort_by_key(|c| (c.size, c.witness.clone()));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::sha256;

    #[test]
    fn key_labels_are_safe_file_names() {
        assert!(valid_label("witness-w1"));
        assert!(valid_label("role.safety_lead"));
        for bad in ["log", "", "../x", ".hidden", "a/b", "a b"] {
            assert!(!valid_label(bad), "{bad}");
        }
    }

    #[test]
    fn leaf_hash_list_must_match_the_leaf_count() {
        let (a, b) = (sha256(b"a"), sha256(b"b"));
        let text = format!("{a}\n{b}\n");
        assert_eq!(parse_leaf_hashes(text.as_bytes(), 2).unwrap(), vec![a, b]);
        assert!(matches!(
            parse_leaf_hashes(text.as_bytes(), 3),
            Err(BundleError::LeafHashes { line: 3 })
        ));
        assert!(matches!(
            parse_leaf_hashes(text.as_bytes(), 1),
            Err(BundleError::LeafHashes { line: 2 })
        ));
        assert!(parse_leaf_hashes(format!("{a}\n{b}").as_bytes(), 2).is_err());
        assert!(parse_leaf_hashes(format!("{a}\nzz\n").as_bytes(), 2).is_err());
        assert_eq!(parse_leaf_hashes(b"", 0).unwrap(), vec![]);
    }

    #[test]
    fn empty_log_bundle_round_trips() {
        let key = crate::keys::SignerKey::from_seed("l", KeyAlg::Ed25519, [2; 32]).unwrap();
        let cp = Checkpoint::new("l", 0, crate::hash::empty_root())
            .sign(&key)
            .unwrap();
        let artifacts: HashMap<Hash, Vec<u8>> = HashMap::new();
        let input = BundleInput {
            entries: &[],
            artifacts: &artifacts,
            checkpoints: &[cp],
            log_key: &key.verifier(),
            extra_keys: &[],
        };
        let bytes = export_bundle(Vec::new(), &input).unwrap();
        let report = verify_bundle(&bytes[..], Some(&key.verifier())).unwrap();
        assert_eq!(report.log.tree_size, 0);
        assert_eq!(report.log.root, crate::hash::empty_root());
    }
}
