//! End-to-end: build a log, export an auditor bundle, and check that every
//! single-byte change is detected and blamed on the right leaf; plus key
//! handling (wrong key, no private material in bundles).

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::collections::HashMap;
use std::io::Read as _;

use chrono::{TimeZone as _, Utc};
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use rsp_ledger::{
    BundleError, BundleInput, Checkpoint, CheckpointError, Hash, KeyAlg, LeafDocument, LeafKind,
    LogEntry, MerkleTree, NoteError, SignerKey, VerifierKey, VerifyError, cosign, export_bundle,
    sha256, verify_bundle, verify_log,
};

const ORIGIN: &str = "rsp.example/ledger";
const KINDS: [LeafKind; 9] = [
    LeafKind::PolicyVersion,
    LeafKind::Run,
    LeafKind::ImportedLog,
    LeafKind::Determination,
    LeafKind::Attestation,
    LeafKind::Decision,
    LeafKind::Signature,
    LeafKind::KeyRegistration,
    LeafKind::Other,
];

struct Log {
    entries: Vec<LogEntry>,
    artifacts: HashMap<Hash, Vec<u8>>,
    checkpoints: Vec<String>,
    log_key: SignerKey,
    witness: SignerKey,
    signer: SignerKey,
}

/// A 60-entry log with varied kinds, dependencies, meta and artifact sizes,
/// checkpointed at sizes 20, 45 and 60 (the last one cosigned by a witness).
fn build_log(n: usize) -> Log {
    let log_key = SignerKey::from_seed(ORIGIN, KeyAlg::Ed25519, [11; 32]).unwrap();
    let witness =
        SignerKey::from_seed("witness.example/w1", KeyAlg::CosignatureV1, [12; 32]).unwrap();
    let signer =
        SignerKey::from_seed("rsp.example/role/safety-lead", KeyAlg::Ed25519, [13; 32]).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut entries = Vec::new();
    let mut artifacts = HashMap::new();
    let mut tree = MerkleTree::new();
    let mut checkpoints = Vec::new();
    let mut prior: Vec<Hash> = Vec::new();
    let t0 = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
    for i in 0..n {
        let len = rng.gen_range(1..400);
        let artifact: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
        let kind = KINDS[i % KINDS.len()];
        let mut doc = LeafDocument::new(
            kind,
            t0 + chrono::Duration::seconds(i as i64 * 37),
            &artifact,
        );
        if i > 0 && i % 3 == 0 {
            doc.depends_on.push(prior[rng.gen_range(0..prior.len())]);
        }
        doc.meta.insert("seq".into(), serde_json::json!(i));
        doc.meta.insert(
            "note".into(),
            serde_json::json!(format!("entry number {i} for model m-{}", i % 4)),
        );
        let leaf = doc.to_canonical_bytes().unwrap();
        tree.push_leaf(&leaf);
        prior.push(doc.artifact_sha256);
        artifacts.insert(doc.artifact_sha256, artifact);
        entries.push(LogEntry::new(leaf));
        if [20, 45, n].contains(&(i + 1)) {
            let note = Checkpoint::new(ORIGIN, tree.len(), tree.root())
                .sign(&log_key)
                .unwrap();
            checkpoints.push(if i + 1 == n {
                cosign(&note, &witness, 1_780_000_000).unwrap()
            } else {
                note
            });
        }
    }
    Log {
        entries,
        artifacts,
        checkpoints,
        log_key,
        witness,
        signer,
    }
}

fn export(log: &Log) -> Vec<u8> {
    let extra = [
        ("witness-w1".to_owned(), log.witness.verifier()),
        ("safety-lead".to_owned(), log.signer.verifier()),
    ];
    let input = BundleInput {
        entries: &log.entries,
        artifacts: &log.artifacts,
        checkpoints: &log.checkpoints,
        log_key: &log.log_key.verifier(),
        extra_keys: &extra,
    };
    export_bundle(Vec::new(), &input).unwrap()
}

/// Byte ranges of file data inside the tar, with the leaf each one belongs to.
fn regions(bundle: &[u8], log: &Log) -> Vec<(String, u64, usize, usize)> {
    let owner: HashMap<Hash, u64> = log
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            (
                LeafDocument::from_canonical_bytes(&e.leaf)
                    .unwrap()
                    .artifact_sha256,
                i as u64,
            )
        })
        .collect();
    let mut out = Vec::new();
    let mut archive = tar::Archive::new(bundle);
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let (start, len) = (entry.raw_file_position() as usize, entry.size() as usize);
        if let Some(name) = path.strip_prefix("rsp-ledger-bundle/leaves/") {
            let index: u64 = name.trim_end_matches(".json").parse().unwrap();
            out.push((path, index, start, len));
        } else if let Some(name) = path.strip_prefix("rsp-ledger-bundle/artifacts/") {
            out.push((
                path.clone(),
                owner[&Hash::from_hex(name).unwrap()],
                start,
                len,
            ));
        }
    }
    out
}

#[test]
fn untouched_bundle_verifies_with_full_report() {
    let log = build_log(60);
    let bundle = export(&log);
    assert_eq!(bundle, export(&log), "export must be deterministic");
    let report = verify_bundle(&bundle[..], Some(&log.log_key.verifier())).unwrap();
    assert_eq!(report.log.tree_size, 60);
    assert_eq!(report.log.signed_size, 60);
    assert_eq!(report.log.origin.as_deref(), Some(ORIGIN));
    assert_eq!(
        report
            .log
            .checkpoints
            .iter()
            .map(|c| c.size)
            .collect::<Vec<_>>(),
        vec![20, 45, 60]
    );
    assert_eq!(report.log.artifacts_checked, 60);
    assert_eq!(report.log.kinds[&LeafKind::Run], 7);
    assert_eq!(report.cosignatures.len(), 1);
    assert_eq!(
        (
            report.cosignatures[0].size,
            report.cosignatures[0].timestamp
        ),
        (60, 1_780_000_000)
    );
    assert_eq!(report.extra_keys.len(), 2);
    assert_eq!(report.unreferenced_artifacts, 0);
    // The direct API agrees.
    let direct = verify_log(
        &log.entries,
        &log.artifacts,
        &log.checkpoints,
        &log.log_key.verifier(),
    )
    .unwrap();
    assert_eq!(direct.root, report.log.root);
}

#[test]
fn every_sampled_single_byte_flip_is_detected_at_the_right_leaf() {
    let log = build_log(60);
    let bundle = export(&log);
    let regions = regions(&bundle, &log);
    assert_eq!(regions.len(), 120);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut tried = 0;
    let (mut in_leaves, mut in_artifacts) = (0, 0);
    // Every region at least once, then random ones, 240 flips in all.
    for k in 0..240 {
        let (path, leaf, start, len) = &regions[if k < regions.len() {
            k
        } else {
            rng.gen_range(0..regions.len())
        }];
        let offset = rng.gen_range(0..*len);
        let mut tampered = bundle.clone();
        tampered[start + offset] ^= rng.gen_range(1..=255u8);
        let err = verify_bundle(&tampered[..], Some(&log.log_key.verifier()))
            .expect_err(&format!("flip at {path}+{offset} went undetected"));
        assert_eq!(
            err.leaf_index(),
            Some(*leaf),
            "flip at {path}+{offset}: {err} ({err:?})"
        );
        if path.contains("/leaves/") {
            assert!(
                matches!(
                    err,
                    BundleError::Verify(VerifyError::LeafHashMismatch { .. })
                ),
                "{err:?}"
            );
            in_leaves += 1;
        } else {
            let BundleError::Verify(VerifyError::ArtifactMismatch {
                artifact, found, ..
            }) = &err
            else {
                panic!("{err:?}")
            };
            assert_ne!(artifact, found);
            in_artifacts += 1;
        }
        tried += 1;
    }
    assert_eq!(tried, 240);
    assert!(
        in_leaves >= 60 && in_artifacts >= 60,
        "{in_leaves} {in_artifacts}"
    );
}

#[test]
fn tampered_leaf_hash_record_is_blamed_on_its_leaf() {
    let log = build_log(30);
    let mut entries = log.entries.clone();
    let mut h = entries[17].recorded_hash.unwrap();
    h.0[3] ^= 0x10;
    entries[17].recorded_hash = Some(h);
    let err = verify_log(
        &entries,
        &log.artifacts,
        &log.checkpoints,
        &log.log_key.verifier(),
    )
    .unwrap_err();
    assert!(
        matches!(err, VerifyError::LeafHashMismatch { index: 17, .. }),
        "{err}"
    );
}

#[test]
fn without_recorded_hashes_a_parseable_edit_is_bracketed_by_checkpoints() {
    let log = build_log(60);
    let mut entries: Vec<LogEntry> = log
        .entries
        .iter()
        .map(|e| LogEntry {
            leaf: e.leaf.clone(),
            recorded_hash: None,
        })
        .collect();
    // Still canonical JSON, still the right artifact: only the root can tell.
    let text = String::from_utf8(entries[30].leaf.clone())
        .unwrap()
        .replace("entry number 30", "entry number 31");
    entries[30].leaf = text.into_bytes();
    let err = verify_log(
        &entries,
        &log.artifacts,
        &log.checkpoints,
        &log.log_key.verifier(),
    )
    .unwrap_err();
    let VerifyError::CheckpointRootMismatch {
        size,
        first_suspect,
        ..
    } = err
    else {
        panic!("{err}")
    };
    assert_eq!((first_suspect, size), (20, 45));
}

#[test]
fn removed_inserted_and_dangling_entries_are_detected() {
    let log = build_log(60);
    let vk = log.log_key.verifier();
    let err = verify_log(&log.entries[..59], &log.artifacts, &log.checkpoints, &vk).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::CheckpointBeyondLog {
                size: 60,
                log_size: 59
            }
        ),
        "{err}"
    );

    let mut swapped = log.entries.clone();
    swapped.swap(50, 51);
    let err = verify_log(&swapped, &log.artifacts, &log.checkpoints, &vk).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::CheckpointRootMismatch {
                size: 60,
                first_suspect: 45,
                ..
            }
        ),
        "{err}"
    );

    let mut dangling = log.entries.clone();
    let mut doc = LeafDocument::from_canonical_bytes(&dangling[5].leaf).unwrap();
    doc.depends_on = vec![sha256(b"never logged")];
    dangling[5] = LogEntry::new(doc.to_canonical_bytes().unwrap());
    let err = verify_log(&dangling, &log.artifacts, &log.checkpoints, &vk).unwrap_err();
    assert!(
        matches!(err, VerifyError::DanglingDependency { index: 5, .. }),
        "{err}"
    );

    let mut artifacts = log.artifacts.clone();
    let doc = LeafDocument::from_canonical_bytes(&log.entries[8].leaf).unwrap();
    artifacts.remove(&doc.artifact_sha256);
    let err = verify_log(&log.entries, &artifacts, &log.checkpoints, &vk).unwrap_err();
    assert!(
        matches!(err, VerifyError::MissingArtifact { index: 8, .. }),
        "{err}"
    );
}

#[test]
fn artifacts_from_a_fallible_store_closure() {
    let log = build_log(10);
    let store = |h: &Hash| -> Result<Option<Vec<u8>>, rsp_ledger::LookupError> {
        if log.artifacts.get(h).is_some_and(|a| a.len() == usize::MAX) {
            return Err("unreachable".into());
        }
        Ok(log.artifacts.get(h).cloned())
    };
    verify_log(
        &log.entries,
        &store,
        &log.checkpoints,
        &log.log_key.verifier(),
    )
    .unwrap();
    let failing = |_: &Hash| -> Result<Option<Vec<u8>>, rsp_ledger::LookupError> {
        Err("disk on fire".into())
    };
    let err = verify_log(
        &log.entries,
        &failing,
        &log.checkpoints,
        &log.log_key.verifier(),
    )
    .unwrap_err();
    assert!(
        matches!(err, VerifyError::ArtifactLookup { index: 0, .. }),
        "{err}"
    );
}

#[test]
fn wrong_log_key_gives_a_clear_error() {
    let log = build_log(25);
    let impostor = SignerKey::from_seed(ORIGIN, KeyAlg::Ed25519, [99; 32])
        .unwrap()
        .verifier();
    let err = verify_log(&log.entries, &log.artifacts, &log.checkpoints, &impostor).unwrap_err();
    let VerifyError::Checkpoint {
        position: 0,
        source: CheckpointError::Note(NoteError::NotSignedBy { expected, present }),
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(
        expected.starts_with(ORIGIN) && present.contains(&format!("{:08x}", log.log_key.key_id()))
    );

    let bundle = export(&log);
    let err = verify_bundle(&bundle[..], Some(&impostor)).unwrap_err();
    assert!(matches!(err, BundleError::LogKeyMismatch { .. }), "{err}");
    assert!(err.to_string().contains(&impostor.to_vkey()));

    // A checkpoint re-signed by another key, smuggled into the bundle along
    // with that key, fails against the pinned key.
    let mut forged = build_log(25);
    forged.log_key = SignerKey::from_seed(ORIGIN, KeyAlg::Ed25519, [98; 32]).unwrap();
    let tree =
        MerkleTree::from_leaf_hashes(forged.entries.iter().map(|e| e.recorded_hash.unwrap()));
    forged.checkpoints = vec![
        Checkpoint::new(ORIGIN, 25, tree.root())
            .sign(&forged.log_key)
            .unwrap(),
    ];
    let err = verify_bundle(&export(&forged)[..], Some(&log.log_key.verifier())).unwrap_err();
    assert!(matches!(err, BundleError::LogKeyMismatch { .. }), "{err}");
}

#[test]
fn bundles_contain_no_private_key_material() {
    let log = build_log(20);
    let bundle = export(&log);
    let contains = |needle: &[u8]| bundle.windows(needle.len()).any(|w| w == needle);
    for key in [&log.log_key, &log.witness, &log.signer] {
        let skey = key.to_skey();
        let secret_b64 = skey.rsplit('+').next().unwrap();
        assert!(!contains(secret_b64.as_bytes()));
        assert!(!contains(&[11u8; 32]) && !contains(&[12u8; 32]) && !contains(&[13u8; 32]));
    }
    assert!(!contains(b"PRIVATE"));
    // Every key file is a verifier key that parses.
    let mut archive = tar::Archive::new(&bundle[..]);
    let mut keys = 0;
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_string_lossy().ends_with(".vkey") {
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            VerifierKey::from_vkey(&text).unwrap();
            keys += 1;
        }
    }
    assert_eq!(keys, 3);
}

#[test]
fn structural_bundle_damage_is_reported() {
    let log = build_log(20);
    let bundle = export(&log);
    // Checkpoint body edited: signature no longer verifies.
    let cp_region = {
        let mut archive = tar::Archive::new(&bundle[..]);
        archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap())
            .find(|e| e.path().unwrap().to_string_lossy().contains("checkpoints/"))
            .map(|e| e.raw_file_position() as usize)
            .unwrap()
    };
    let mut tampered = bundle;
    tampered[cp_region + 2] ^= 0x01;
    let err = verify_bundle(&tampered[..], None).unwrap_err();
    assert!(
        matches!(err, BundleError::Verify(VerifyError::Checkpoint { .. })),
        "{err:?}"
    );

    // Leaves not covered by a checkpoint are not accepted from a bundle.
    let mut partial = build_log(20);
    partial.checkpoints.clear();
    let tree = MerkleTree::from_leaf_hashes(
        partial.entries[..10]
            .iter()
            .map(|e| e.recorded_hash.unwrap()),
    );
    partial.checkpoints.push(
        Checkpoint::new(ORIGIN, 10, tree.root())
            .sign(&partial.log_key)
            .unwrap(),
    );
    let err = verify_bundle(&export(&partial)[..], None).unwrap_err();
    assert!(
        matches!(
            err,
            BundleError::Uncheckpointed {
                signed_size: 10,
                leaves: 20
            }
        ),
        "{err}"
    );

    assert!(matches!(
        verify_bundle(&b"not a tar"[..], None),
        Err(BundleError::Io(_) | BundleError::Version { .. })
    ));
}
