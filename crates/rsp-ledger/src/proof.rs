//! Proof verifiers, transcribed from RFC 9162 §2.1.3.2 (inclusion) and
//! §2.1.4.2 (consistency), plus the stricter input checks of the
//! transparency-dev reference verifier (every hash exactly 32 bytes, no
//! consistency proof from size 0).
//!
//! Inputs are raw byte slices on purpose: proofs arrive from outside, and a
//! hash of the wrong length must be reported as a failure, not be impossible to
//! express.

use crate::hash::{HASH_LEN, Hash, node_hash};

/// Why a proof was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// A leaf hash, root or proof element that is not 32 bytes long.
    #[error("{what} is {len} bytes long, expected 32")]
    BadHashLength {
        /// Which input: "leaf hash", "root", "root1", "proof element 3", ...
        what: String,
        /// Its actual length.
        len: usize,
    },
    /// `leaf_index >= tree_size`.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The claimed leaf index.
        index: u64,
        /// The claimed tree size.
        size: u64,
    },
    /// `size1 == 0`: a consistency proof from the empty tree is meaningless.
    #[error("consistency proof from the empty tree is meaningless")]
    FromEmptyTree,
    /// `size1 > size2`.
    #[error("size1 ({size1}) is larger than size2 ({size2})")]
    SizesReversed {
        /// The older size.
        size1: u64,
        /// The newer size.
        size2: u64,
    },
    /// `size1 == size2` but the proof is not empty.
    #[error("sizes are equal but the proof has {len} elements instead of none")]
    NonEmptyProofForEqualSizes {
        /// Number of proof elements given.
        len: usize,
    },
    /// The proof has the wrong number of elements for the claimed sizes.
    #[error("proof has the wrong number of elements ({len}) for the claimed sizes")]
    WrongProofLength {
        /// Number of proof elements given.
        len: usize,
    },
    /// `size1 == size2` but `root1 != root2`.
    #[error("sizes are equal but the roots differ")]
    EqualSizesDifferentRoots,
    /// Everything was well-formed but the recomputed root differs.
    #[error("recomputed {which} {computed} does not match the expected {expected}")]
    RootMismatch {
        /// "root", "root1" or "root2".
        which: &'static str,
        /// The root the caller supplied.
        expected: Hash,
        /// The root the proof leads to.
        computed: Hash,
    },
}

fn check_len(what: impl FnOnce() -> String, bytes: &[u8]) -> Result<Hash, ProofError> {
    Hash::from_slice(bytes).ok_or_else(|| ProofError::BadHashLength {
        what: what(),
        len: bytes.len(),
    })
}

fn check_proof<P: AsRef<[u8]>>(proof: &[P]) -> Result<Vec<Hash>, ProofError> {
    proof
        .iter()
        .enumerate()
        .map(|(i, p)| check_len(|| format!("proof element {i}"), p.as_ref()))
        .collect()
}

/// Verifies that `leaf_hash` is leaf `index` of the tree of size `size` with root `root`.
pub fn verify_inclusion<P: AsRef<[u8]>>(
    leaf_hash: &[u8],
    index: u64,
    size: u64,
    proof: &[P],
    root: &[u8],
) -> Result<(), ProofError> {
    let leaf = check_len(|| "leaf hash".into(), leaf_hash)?;
    let root = check_len(|| "root".into(), root)?;
    let proof = check_proof(proof)?;
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let computed = root_from_inclusion(leaf, index, size, &proof)?;
    if computed != root {
        return Err(ProofError::RootMismatch {
            which: "root",
            expected: root,
            computed,
        });
    }
    Ok(())
}

/// RFC 9162 §2.1.3.2 steps 2–5 (without the final root comparison).
fn root_from_inclusion(
    leaf: Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
) -> Result<Hash, ProofError> {
    let mut fnode = index;
    let mut snode = size - 1;
    let mut r = leaf;
    for p in proof {
        if snode == 0 {
            return Err(ProofError::WrongProofLength { len: proof.len() });
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(&p.0, &r.0);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r.0, &p.0);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongProofLength { len: proof.len() });
    }
    Ok(r)
}

/// Verifies that the tree of size `size2` with root `root2` extends the tree
/// of size `size1` with root `root1`.
pub fn verify_consistency<P: AsRef<[u8]>>(
    size1: u64,
    size2: u64,
    proof: &[P],
    root1: &[u8],
    root2: &[u8],
) -> Result<(), ProofError> {
    if size1 == 0 {
        return Err(ProofError::FromEmptyTree);
    }
    if size1 > size2 {
        return Err(ProofError::SizesReversed { size1, size2 });
    }
    if size1 == size2 {
        // As in the reference verifier, equal sizes only need byte-identical
        // roots and an empty proof (vector `sizes-are-equal-one-and-proof-is-empty`
        // uses 12-byte placeholder roots and must be accepted).
        if !proof.is_empty() {
            return Err(ProofError::NonEmptyProofForEqualSizes { len: proof.len() });
        }
        return if root1 == root2 {
            Ok(())
        } else {
            Err(ProofError::EqualSizesDifferentRoots)
        };
    }
    let root1 = check_len(|| "root1".into(), root1)?;
    let root2 = check_len(|| "root2".into(), root2)?;
    let proof = check_proof(proof)?;
    if proof.is_empty() {
        return Err(ProofError::WrongProofLength { len: 0 });
    }
    // Step 2: when size1 is a power of two the old root is itself a node of
    // the new tree and is not repeated in the proof.
    let mut path = Vec::with_capacity(proof.len() + 1);
    if size1.is_power_of_two() {
        path.push(root1);
    }
    path.extend_from_slice(&proof);
    let mut fnode = size1 - 1;
    let mut snode = size2 - 1;
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let mut fr = path[0];
    let mut sr = path[0];
    for c in &path[1..] {
        if snode == 0 {
            return Err(ProofError::WrongProofLength { len: proof.len() });
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(&c.0, &fr.0);
            sr = node_hash(&c.0, &sr.0);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr.0, &c.0);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongProofLength { len: proof.len() });
    }
    if fr != root1 {
        return Err(ProofError::RootMismatch {
            which: "root1",
            expected: root1,
            computed: fr,
        });
    }
    if sr != root2 {
        return Err(ProofError::RootMismatch {
            which: "root2",
            expected: root2,
            computed: sr,
        });
    }
    Ok(())
}

/// Compile-time guard that proofs are made of 32-byte hashes.
const _: () = assert!(HASH_LEN == 32);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::MerkleTree;

    fn tree(n: u64) -> MerkleTree {
        let mut t = MerkleTree::new();
        for i in 0..n {
            t.push_leaf(&i.to_le_bytes());
        }
        t
    }

    #[test]
    fn every_inclusion_proof_of_small_trees_verifies() {
        let t = tree(17);
        for size in 1..=17 {
            let root = t.root_at(size).unwrap();
            for idx in 0..size {
                let proof = t.inclusion_proof(idx, size).unwrap();
                let leaf = t.leaf_hash(idx).unwrap();
                verify_inclusion(&leaf.0, idx, size, &proof, &root.0).unwrap();
                // The same proof must not work for a neighbouring index.
                if size > 1 {
                    let other = (idx + 1) % size;
                    assert!(verify_inclusion(&leaf.0, other, size, &proof, &root.0).is_err());
                }
            }
        }
    }

    #[test]
    fn every_consistency_proof_of_small_trees_verifies() {
        let t = tree(17);
        for s2 in 1..=17 {
            for s1 in 1..=s2 {
                let proof = t.consistency_proof(s1, s2).unwrap();
                let r1 = t.root_at(s1).unwrap();
                let r2 = t.root_at(s2).unwrap();
                verify_consistency(s1, s2, &proof, &r1.0, &r2.0).unwrap();
                if s1 < s2 {
                    assert!(verify_consistency(s1, s2, &proof, &r2.0, &r1.0).is_err());
                }
            }
        }
    }

    #[test]
    fn malformed_inputs_are_rejected_precisely() {
        let t = tree(4);
        let r = t.root();
        assert!(matches!(
            verify_inclusion(&[0u8; 31], 0, 4, &t.inclusion_proof(0, 4).unwrap(), &r.0),
            Err(ProofError::BadHashLength { .. })
        ));
        assert_eq!(
            verify_consistency::<Hash>(0, 0, &[], &r.0, &r.0),
            Err(ProofError::FromEmptyTree)
        );
        assert_eq!(
            verify_consistency::<Hash>(3, 2, &[], &r.0, &r.0),
            Err(ProofError::SizesReversed { size1: 3, size2: 2 })
        );
        assert_eq!(
            verify_consistency(2, 2, &[r], &r.0, &r.0),
            Err(ProofError::NonEmptyProofForEqualSizes { len: 1 })
        );
        assert_eq!(
            verify_consistency::<Hash>(2, 4, &[], &r.0, &r.0),
            Err(ProofError::WrongProofLength { len: 0 })
        );
    }
}
