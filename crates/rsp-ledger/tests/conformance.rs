//! Conformance with the transparency-dev/merkle vectors and RFC 6962 reference
//! roots in `shared/data/merkle` (read in place, never copied).

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use std::path::{Path, PathBuf};

use rsp_ledger::{MerkleTree, ProofJsonError, leaf_hash, verify_proof_json};

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/merkle")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            json_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
}

/// Runs every vector of one kind; returns (accepted, rejected) counts.
fn run_vectors(kind: &str) -> (usize, usize) {
    let mut files = Vec::new();
    json_files(&data_dir().join("testdata").join(kind), &mut files);
    let (mut ok, mut rejected) = (0, 0);
    let mut failures = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let want_err = value["wantErr"].as_bool().unwrap();
        let got = verify_proof_json(&text);
        match (&got, want_err) {
            (Ok(_), false) => ok += 1,
            (Err(ProofJsonError::Rejected(_) | ProofJsonError::Json(_)), true) => rejected += 1,
            _ => failures.push(format!("{}: wantErr={want_err}, got {got:?}", f.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} vectors disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
    (ok, rejected)
}

#[test]
fn all_inclusion_vectors() {
    assert_eq!(run_vectors("inclusion"), (6, 92));
}

#[test]
fn all_consistency_vectors() {
    assert_eq!(run_vectors("consistency"), (6, 92));
}

#[test]
fn reference_roots_for_sizes_0_to_8() {
    let text = std::fs::read_to_string(data_dir().join("reference_tree.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let leaves: Vec<Vec<u8>> = v["leaf_inputs_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hex::decode(h.as_str().unwrap()).unwrap())
        .collect();
    let roots: Vec<&str> = v["root_by_tree_size_hex"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert_eq!(roots.len(), 9);
    let mut tree = MerkleTree::new();
    assert_eq!(tree.root().to_hex(), roots[0]);
    for (i, leaf) in leaves.iter().enumerate() {
        tree.push_leaf(leaf);
        assert_eq!(tree.root().to_hex(), roots[i + 1], "size {}", i + 1);
    }
    // Past sizes from the final tree, too.
    for (size, root) in roots.iter().enumerate() {
        assert_eq!(tree.root_at(size as u64).unwrap().to_hex(), *root);
    }
    assert_eq!(tree.leaf_hash(0), Some(leaf_hash(b"")));
}

#[test]
fn our_proofs_for_the_reference_tree_match_the_happy_path_vectors() {
    // The happy-path files were generated from the reference leaves, so our
    // generator must reproduce their proofs exactly.
    let text = std::fs::read_to_string(data_dir().join("reference_tree.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut tree = MerkleTree::new();
    for h in v["leaf_inputs_hex"].as_array().unwrap() {
        tree.push_leaf(&hex::decode(h.as_str().unwrap()).unwrap());
    }
    for kind in ["inclusion", "consistency"] {
        for n in 0..5 {
            let path = data_dir().join(format!("testdata/{kind}/{n}/happy-path.json"));
            let j: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            let proof = if kind == "inclusion" {
                tree.inclusion_proof(
                    j["leafIdx"].as_u64().unwrap(),
                    j["treeSize"].as_u64().unwrap(),
                )
                .unwrap()
            } else {
                tree.consistency_proof(j["size1"].as_u64().unwrap(), j["size2"].as_u64().unwrap())
                    .unwrap()
            };
            let ours: Vec<String> = proof.iter().map(|h| h.to_base64()).collect();
            let theirs: Vec<String> = j["proof"]
                .as_array()
                .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default();
            assert_eq!(ours, theirs, "{kind}/{n}");
        }
    }
}
