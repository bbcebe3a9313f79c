//! Proofs as JSON, with the field names of transparency-dev/merkle's test
//! vectors, so that `rsp ledger prove` output can be checked by other tools and
//! their vectors can be checked by us.
//!
//! Hashes are standard padded base64. Parsing does not check hash lengths;
//! verification does, so a malformed proof is reported as a rejected proof
//! with the reason, like any other bad proof.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::hash::{Hash, b64_decode, b64_encode};
use crate::proof::{ProofError, verify_consistency, verify_inclusion};

/// Errors from [`verify_proof_json`] and the JSON proof parsers.
#[derive(Debug, thiserror::Error)]
pub enum ProofJsonError {
    /// Not JSON, or a field has the wrong type or is not valid base64.
    #[error("malformed proof JSON")]
    Json(#[source] serde_json::Error),
    /// JSON with neither `leafIdx` nor `size1`: not a proof of either kind.
    #[error("proof JSON has neither `leafIdx` (inclusion) nor `size1` (consistency)")]
    UnknownKind,
    /// A well-formed proof that does not verify.
    #[error("proof does not verify")]
    Rejected(#[source] ProofError),
}

/// What a successfully verified proof established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProofKind {
    /// The leaf hash is leaf `leaf_index` of the tree of size `tree_size`.
    Inclusion {
        /// 0-based leaf index.
        leaf_index: u64,
        /// Tree size the proof is relative to.
        tree_size: u64,
    },
    /// The tree of size `size2` extends the tree of size `size1`.
    Consistency {
        /// Older size.
        size1: u64,
        /// Newer size.
        size2: u64,
    },
}

/// An inclusion proof in transparency-dev JSON form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionProofJson {
    /// 0-based index of the leaf.
    pub leaf_idx: u64,
    /// Size of the tree the proof is relative to.
    pub tree_size: u64,
    /// Root of that tree (base64).
    #[serde(with = "b64_bytes")]
    pub root: Vec<u8>,
    /// Leaf hash, i.e. SHA-256(0x00 ‖ leaf bytes) (base64).
    #[serde(with = "b64_bytes")]
    pub leaf_hash: Vec<u8>,
    /// Audit path, bottom-up (base64 each); `null` is read as empty.
    #[serde(with = "b64_list")]
    pub proof: Vec<Vec<u8>>,
}

/// A consistency proof in transparency-dev JSON form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsistencyProofJson {
    /// Older tree size.
    pub size1: u64,
    /// Newer tree size.
    pub size2: u64,
    /// Root of the older tree (base64).
    #[serde(with = "b64_bytes")]
    pub root1: Vec<u8>,
    /// Root of the newer tree (base64).
    #[serde(with = "b64_bytes")]
    pub root2: Vec<u8>,
    /// Consistency path (base64 each); `null` is read as empty.
    #[serde(with = "b64_list")]
    pub proof: Vec<Vec<u8>>,
}

impl InclusionProofJson {
    /// Packs a proof produced by [`crate::MerkleTree::inclusion_proof`].
    pub fn new(
        leaf_index: u64,
        tree_size: u64,
        root: Hash,
        leaf_hash: Hash,
        proof: &[Hash],
    ) -> Self {
        Self {
            leaf_idx: leaf_index,
            tree_size,
            root: root.0.to_vec(),
            leaf_hash: leaf_hash.0.to_vec(),
            proof: proof.iter().map(|h| h.0.to_vec()).collect(),
        }
    }

    /// Verifies the proof against the root it carries.
    ///
    /// The caller must still check that this root is one it trusts (e.g. from
    /// a verified checkpoint); the proof alone only links leaf and root.
    pub fn verify(&self) -> Result<(), ProofError> {
        verify_inclusion(
            &self.leaf_hash,
            self.leaf_idx,
            self.tree_size,
            &self.proof,
            &self.root,
        )
    }

    /// Pretty JSON, as printed by `rsp ledger prove`.
    pub fn to_json(&self) -> String {
        to_pretty(self)
    }
}

impl ConsistencyProofJson {
    /// Packs a proof produced by [`crate::MerkleTree::consistency_proof`].
    pub fn new(size1: u64, size2: u64, root1: Hash, root2: Hash, proof: &[Hash]) -> Self {
        Self {
            size1,
            size2,
            root1: root1.0.to_vec(),
            root2: root2.0.to_vec(),
            proof: proof.iter().map(|h| h.0.to_vec()).collect(),
        }
    }

    /// Verifies the proof against the two roots it carries.
    pub fn verify(&self) -> Result<(), ProofError> {
        verify_consistency(
            self.size1,
            self.size2,
            &self.proof,
            &self.root1,
            &self.root2,
        )
    }

    /// Pretty JSON, as printed by `rsp ledger prove`.
    pub fn to_json(&self) -> String {
        to_pretty(self)
    }
}

fn to_pretty<T: Serialize>(value: &T) -> String {
    // Serialising these plain structs cannot fail (no maps with non-string
    // keys, no non-finite floats), so an error here would be a bug in serde_json.
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// Parses a proof of either kind (detected from `leafIdx` vs `size1`) and
/// verifies it against the roots it carries. Unknown extra fields (such as
/// the test vectors' `desc` and `wantErr`) are ignored.
pub fn verify_proof_json(text: &str) -> Result<ProofKind, ProofJsonError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(ProofJsonError::Json)?;
    if value.get("leafIdx").is_some() {
        let p: InclusionProofJson = serde_json::from_value(value).map_err(ProofJsonError::Json)?;
        p.verify().map_err(ProofJsonError::Rejected)?;
        Ok(ProofKind::Inclusion {
            leaf_index: p.leaf_idx,
            tree_size: p.tree_size,
        })
    } else if value.get("size1").is_some() {
        let p: ConsistencyProofJson =
            serde_json::from_value(value).map_err(ProofJsonError::Json)?;
        p.verify().map_err(ProofJsonError::Rejected)?;
        Ok(ProofKind::Consistency {
            size1: p.size1,
            size2: p.size2,
        })
    } else {
        Err(ProofJsonError::UnknownKind)
    }
}

mod b64_bytes {
    use super::*;

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&b64_encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        b64_decode(&text).ok_or_else(|| serde::de::Error::custom("invalid base64"))
    }
}

mod b64_list {
    use super::*;

    pub fn serialize<S: Serializer>(list: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(list.iter().map(|b| b64_encode(b)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        let list = Option::<Vec<String>>::deserialize(d)?.unwrap_or_default();
        list.iter()
            .map(|t| {
                b64_decode(t).ok_or_else(|| serde::de::Error::custom("invalid base64 in proof"))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::MerkleTree;

    #[test]
    fn generated_proofs_round_trip_through_json() {
        let mut t = MerkleTree::new();
        for i in 0u8..11 {
            t.push_leaf(&[i]);
        }
        let inc = InclusionProofJson::new(
            3,
            11,
            t.root(),
            t.leaf_hash(3).unwrap(),
            &t.inclusion_proof(3, 11).unwrap(),
        );
        let json = inc.to_json();
        assert!(json.contains("\"leafIdx\": 3"));
        assert_eq!(
            verify_proof_json(&json).unwrap(),
            ProofKind::Inclusion {
                leaf_index: 3,
                tree_size: 11
            }
        );

        let con = ConsistencyProofJson::new(
            4,
            11,
            t.root_at(4).unwrap(),
            t.root(),
            &t.consistency_proof(4, 11).unwrap(),
        );
        assert_eq!(
            verify_proof_json(&con.to_json()).unwrap(),
            ProofKind::Consistency {
                size1: 4,
                size2: 11
            }
        );
    }

    #[test]
    fn unknown_and_malformed_json_are_errors() {
        assert!(matches!(
            verify_proof_json("{\"a\":1}"),
            Err(ProofJsonError::UnknownKind)
        ));
        assert!(matches!(
            verify_proof_json("nope"),
            Err(ProofJsonError::Json(_))
        ));
        assert!(matches!(
            verify_proof_json(r#"{"leafIdx":0,"treeSize":1,"root":"!!","leafHash":"","proof":[]}"#),
            Err(ProofJsonError::Json(_))
        ));
    }
}
