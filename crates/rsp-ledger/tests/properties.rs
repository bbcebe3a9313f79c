//! Property tests: generated proofs verify, and any single-bit change to a
//! proof (an element, a root, the leaf hash, or the leaf index) is rejected.

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use proptest::prelude::*;
use rsp_ledger::{MerkleTree, verify_consistency, verify_inclusion};

fn tree(n: u64) -> MerkleTree {
    MerkleTree::from_leaf_hashes((0..n).map(|i| rsp_ledger::leaf_hash(&i.to_be_bytes())))
}

fn flip(bytes: &mut [u8], bit: usize) {
    bytes[bit / 8 % bytes.len()] ^= 1 << (bit % 8);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn inclusion_proofs_verify_and_bit_flips_are_rejected(
        n in 1u64..600, idx_seed in any::<u64>(), target in any::<usize>(), bit in any::<usize>()
    ) {
        let t = tree(n);
        let size = 1 + idx_seed % n;
        let index = (idx_seed / 7) % size;
        let leaf = t.leaf_hash(index).unwrap();
        let root = t.root_at(size).unwrap();
        let proof = t.inclusion_proof(index, size).unwrap();
        prop_assert!(verify_inclusion(&leaf.0, index, size, &proof, &root.0).is_ok());

        // Flip one bit somewhere: proof elements, leaf hash or root.
        let mut p: Vec<[u8; 32]> = proof.iter().map(|h| h.0).collect();
        let (mut l, mut r) = (leaf.0, root.0);
        let slot = target % (p.len() + 2);
        if slot < p.len() { flip(&mut p[slot], bit) } else if slot == p.len() { flip(&mut l, bit) } else { flip(&mut r, bit) }
        prop_assert!(verify_inclusion(&l, index, size, &p, &r).is_err());

        // Flip one bit of the index instead. (Sizes are deliberately not
        // flipped: an RFC 9162 proof does not bind the tree size by itself,
        // e.g. leaf 0's proof is the same shape for sizes 5 and 7; the size is
        // bound to the root by the signed checkpoint.)
        let b = 1u64 << (bit % 64);
        prop_assert!(verify_inclusion(&leaf.0, index ^ b, size, &proof, &root.0).is_err());
    }

    #[test]
    fn consistency_proofs_verify_and_bit_flips_are_rejected(
        n in 2u64..600, a in any::<u64>(), b in any::<u64>(), target in any::<usize>(), bit in any::<usize>()
    ) {
        let t = tree(n);
        let size2 = 2 + a % (n - 1);
        let size1 = 1 + b % (size2 - 1); // size1 < size2, so the proof is non-empty
        let r1 = t.root_at(size1).unwrap();
        let r2 = t.root_at(size2).unwrap();
        let proof = t.consistency_proof(size1, size2).unwrap();
        prop_assert!(verify_consistency(size1, size2, &proof, &r1.0, &r2.0).is_ok());

        let mut p: Vec<[u8; 32]> = proof.iter().map(|h| h.0).collect();
        let (mut x, mut y) = (r1.0, r2.0);
        let slot = target % (p.len() + 2);
        if slot < p.len() { flip(&mut p[slot], bit) } else if slot == p.len() { flip(&mut x, bit) } else { flip(&mut y, bit) }
        prop_assert!(verify_consistency(size1, size2, &p, &x, &y).is_err());

        // Swapping the roots is rejected too.
        prop_assert!(verify_consistency(size1, size2, &proof, &r2.0, &r1.0).is_err());
    }

    #[test]
    fn incremental_roots_equal_batch_roots(n in 0u64..300, cut in any::<u64>()) {
        let full = tree(n);
        let size = if n == 0 { 0 } else { cut % (n + 1) };
        prop_assert_eq!(full.root_at(size).unwrap(), tree(size).root());
    }
}

/// Arbitrary JSON for leaf `meta` values: safe integers, finite floats,
/// strings with control and non-BMP characters, nested arrays and objects.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-(1i64 << 53) + 1..(1i64 << 53)).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z\u{0}-\u{1f}\"\\\\\u{7f}\u{e000}\u{ffff}\u{10000}-\u{10010}é€]{0,8}"
            .prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(serde_json::Value::Array),
            prop::collection::btree_map("[a-zA-Z\u{e000}\u{10000}é_]{0,4}", inner, 0..5)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn leaves_with_random_meta_round_trip_and_match_an_independent_jcs(
        meta in prop::collection::btree_map("[a-z\u{10000}\u{e000}]{1,5}", json_value(), 0..6),
        kind in 0usize..9,
    ) {
        use rsp_ledger::{LeafDocument, LeafKind};
        let kinds = [LeafKind::PolicyVersion, LeafKind::Run, LeafKind::ImportedLog, LeafKind::Determination,
            LeafKind::Attestation, LeafKind::Decision, LeafKind::Signature, LeafKind::KeyRegistration, LeafKind::Other];
        let t = chrono::DateTime::from_timestamp(1_780_000_000, 123_000_000).unwrap();
        let mut doc = LeafDocument::new(kinds[kind], t, b"artifact");
        doc.depends_on.push(rsp_ledger::sha256(b"dep"));
        doc.meta = meta.into_iter().collect();
        let bytes = doc.to_canonical_bytes().unwrap();
        let reference = serde_json_canonicalizer::to_vec(&serde_json::to_value(&doc).unwrap()).unwrap();
        prop_assert_eq!(&bytes, &reference);
        // Parsing accepts our bytes and is idempotent. (Not value equality:
        // JCS writes -0.0 as 0, which reads back as the integer 0.)
        let parsed = LeafDocument::from_canonical_bytes(&bytes).unwrap();
        prop_assert_eq!(parsed.to_canonical_bytes().unwrap(), bytes);
        prop_assert_eq!(parsed.artifact_sha256, doc.artifact_sha256);
    }
}
