//! An in-memory, append-only RFC 9162 Merkle tree.
//!
//! # Layout
//!
//! `levels[0]` holds every leaf hash; `levels[l]` holds the hash of every
//! *complete*, aligned subtree of 2^l leaves (`levels[l][i]` covers leaves
//! `i·2^l .. (i+1)·2^l`). Appending a leaf pushes it on level 0 and, while the
//! level it landed on has an even length, combines the last two entries one
//! level up, so an append costs one leaf push plus amortised one node hash, and
//! the whole structure takes about two hashes of memory per leaf.
//!
//! Every subtree that the RFC's recursive definitions (MTH, PATH, SUBPROOF)
//! ask for is either one of those stored perfect subtrees or splits into one
//! stored perfect subtree plus a smaller right part, so roots for *any* past
//! size and proofs cost O(log n) hashes each: no naive recomputation.

use crate::hash::{Hash, empty_root, leaf_hash, node_hash};

/// Errors for requests that do not make sense for the current tree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// A tree size larger than the number of leaves appended so far.
    #[error("tree size {requested} exceeds the {available} leaves in the tree")]
    SizeTooLarge {
        /// The size asked for.
        requested: u64,
        /// How many leaves the tree holds.
        available: u64,
    },
    /// A leaf index that is not below the tree size of the proof.
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange {
        /// The leaf index asked for.
        index: u64,
        /// The tree size of the proof.
        size: u64,
    },
    /// A consistency proof with `size1 == 0` or `size1 > size2` (RFC 9162 §2.1.4
    /// defines none: a proof from the empty tree proves nothing).
    #[error("no consistency proof exists from size {size1} to size {size2}")]
    InvalidConsistencyRange {
        /// The older size.
        size1: u64,
        /// The newer size.
        size2: u64,
    },
}

/// Append-only Merkle tree over leaf hashes (see the module docs for the layout).
#[derive(Debug, Clone, Default)]
pub struct MerkleTree {
    levels: Vec<Vec<Hash>>,
}

impl MerkleTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a tree from leaf hashes (already `SHA-256(0x00 ‖ data)`).
    pub fn from_leaf_hashes<I: IntoIterator<Item = Hash>>(hashes: I) -> Self {
        let iter = hashes.into_iter();
        let mut tree = Self::new();
        let (lower, _) = iter.size_hint();
        if lower > 0 {
            tree.levels.push(Vec::with_capacity(lower));
        }
        for h in iter {
            tree.push_leaf_hash(h);
        }
        tree
    }

    /// Number of leaves.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Hashes `data` as a leaf and appends it; returns the new leaf's index.
    pub fn push_leaf(&mut self, data: &[u8]) -> u64 {
        self.push_leaf_hash(leaf_hash(data))
    }

    /// Appends an already computed leaf hash; returns the new leaf's index.
    pub fn push_leaf_hash(&mut self, hash: Hash) -> u64 {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        let index = self.len();
        let mut carry = hash;
        let mut level = 0;
        loop {
            self.levels[level].push(carry);
            let n = self.levels[level].len();
            if n % 2 == 1 {
                break;
            }
            carry = node_hash(&self.levels[level][n - 2].0, &self.levels[level][n - 1].0);
            level += 1;
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
        }
        index
    }

    /// The leaf hash at `index`, if present.
    pub fn leaf_hash(&self, index: u64) -> Option<Hash> {
        let i = usize::try_from(index).ok()?;
        self.levels.first()?.get(i).copied()
    }

    /// Root of the whole tree (MTH of all leaves).
    pub fn root(&self) -> Hash {
        self.subtree(0, self.len())
    }

    /// Root of the tree made of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, TreeError> {
        self.check_size(size)?;
        Ok(self.subtree(0, size))
    }

    /// Inclusion proof (RFC 9162 §2.1.3.1 `PATH`) for leaf `index` in the tree of
    /// size `size`, ordered from the leaf's sibling up to the root's child.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, TreeError> {
        self.check_size(size)?;
        if index >= size {
            return Err(TreeError::IndexOutOfRange { index, size });
        }
        let mut out = Vec::new();
        self.path(index, 0, size, &mut out);
        Ok(out)
    }

    /// Consistency proof (RFC 9162 §2.1.4.1 `PROOF`) between sizes `size1` and `size2`.
    ///
    /// `size1 == size2` gives the empty proof; `size1 == 0` is an error because
    /// verifiers (rightly) reject it.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, TreeError> {
        self.check_size(size2)?;
        if size1 == 0 || size1 > size2 {
            return Err(TreeError::InvalidConsistencyRange { size1, size2 });
        }
        let mut out = Vec::new();
        if size1 < size2 {
            self.subproof(size1, 0, size2, true, &mut out);
        }
        Ok(out)
    }

    fn check_size(&self, size: u64) -> Result<(), TreeError> {
        if size > self.len() {
            Err(TreeError::SizeTooLarge {
                requested: size,
                available: self.len(),
            })
        } else {
            Ok(())
        }
    }

    /// MTH of leaves `start..end`. Callers guarantee `end <= len` and that
    /// `start` is aligned as in the RFC recursion, so every perfect part is stored.
    fn subtree(&self, start: u64, end: u64) -> Hash {
        let n = end - start;
        if n == 0 {
            return empty_root();
        }
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let level = n.trailing_zeros() as usize;
            // Complete aligned subtrees inside `0..len` are always stored.
            return self.levels[level][(start >> level) as usize];
        }
        let k = split_point(n);
        node_hash(
            &self.subtree(start, start + k).0,
            &self.subtree(start + k, end).0,
        )
    }

    /// `PATH(m, D[start..end])` appended bottom-up to `out`.
    fn path(&self, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) {
        let n = end - start;
        if n <= 1 {
            return;
        }
        let k = split_point(n);
        if m < k {
            self.path(m, start, start + k, out);
            out.push(self.subtree(start + k, end));
        } else {
            self.path(m - k, start + k, end, out);
            out.push(self.subtree(start, start + k));
        }
    }

    /// `SUBPROOF(m, D[start..end], b)` appended to `out`.
    fn subproof(&self, m: u64, start: u64, end: u64, whole: bool, out: &mut Vec<Hash>) {
        let n = end - start;
        if m == n {
            if !whole {
                out.push(self.subtree(start, end));
            }
            return;
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, start, start + k, whole, out);
            out.push(self.subtree(start + k, end));
        } else {
            self.subproof(m - k, start + k, end, false, out);
            out.push(self.subtree(start, start + k));
        }
    }
}

/// Largest power of two strictly smaller than `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct transcription of RFC 9162 MTH, used as an oracle.
    fn naive_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(&naive_root(&leaves[..k]).0, &naive_root(&leaves[k..]).0)
            }
        }
    }

    #[test]
    fn split_point_is_largest_smaller_power_of_two() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(1 << 40), 1 << 39);
        assert_eq!(split_point((1 << 40) + 1), 1 << 40);
    }

    #[test]
    fn roots_at_every_size_match_the_naive_definition() {
        let leaves: Vec<Hash> = (0u32..70).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let tree = MerkleTree::from_leaf_hashes(leaves.iter().copied());
        for size in 0..=leaves.len() {
            assert_eq!(
                tree.root_at(size as u64),
                Ok(naive_root(&leaves[..size])),
                "size {size}"
            );
        }
        assert_eq!(tree.root(), naive_root(&leaves));
        assert!(tree.root_at(71).is_err());
    }

    #[test]
    fn proof_requests_out_of_range_are_errors() {
        let mut tree = MerkleTree::new();
        for i in 0u8..5 {
            tree.push_leaf(&[i]);
        }
        assert_eq!(
            tree.inclusion_proof(5, 5),
            Err(TreeError::IndexOutOfRange { index: 5, size: 5 })
        );
        assert!(tree.inclusion_proof(0, 6).is_err());
        assert!(tree.consistency_proof(0, 3).is_err());
        assert!(tree.consistency_proof(4, 3).is_err());
        assert_eq!(tree.consistency_proof(3, 3), Ok(vec![]));
        assert_eq!(tree.inclusion_proof(0, 1), Ok(vec![]));
    }
}
