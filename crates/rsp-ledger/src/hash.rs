//! RFC 9162 §2.1.1 hashing: domain-separated leaf and interior-node hashes.
//!
//! The one-byte prefixes (0x00 for leaves, 0x01 for nodes) are what stop a
//! second-preimage attack where an interior node is passed off as a leaf.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest as _, Sha256};

/// Length of every hash in the ledger (SHA-256).
pub const HASH_LEN: usize = 32;

/// A 32-byte SHA-256 value: a leaf hash, a node hash, a root or an artifact digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; HASH_LEN]);

impl Hash {
    /// Wraps a slice, which must be exactly 32 bytes long.
    ///
    /// Returns `None` otherwise: proofs from outside carry hashes of arbitrary
    /// length and a wrong length must be a verification failure, not a panic.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; HASH_LEN]>::try_from(bytes).ok().map(Self)
    }

    /// Parses 64 lowercase hexadecimal digits (the only spelling the ledger
    /// accepts, so that every hash has exactly one textual form).
    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 2 * HASH_LEN || text.bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let mut out = [0u8; HASH_LEN];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(Self(out))
    }

    /// Lowercase hexadecimal form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Standard (RFC 4648 §4, padded) base64, as used in checkpoints and proof JSON.
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0)
    }

    /// Parses standard padded base64 of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Option<Self> {
        BASE64.decode(text).ok().and_then(|v| Self::from_slice(&v))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; HASH_LEN] {
        &self.0
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

impl AsRef<[u8]> for Hash {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Plain SHA-256 of `data` (used for artifact digests; no domain prefix).
pub fn sha256(data: &[u8]) -> Hash {
    Hash(Sha256::digest(data).into())
}

/// Root of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    sha256(b"")
}

/// Leaf hash: SHA-256(0x00 ‖ data).
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    Hash(h.finalize().into())
}

/// Interior node hash: SHA-256(0x01 ‖ left ‖ right).
///
/// Takes slices so that the RFC verifiers can combine proof elements without
/// first copying them into [`Hash`] values.
pub fn node_hash(left: &[u8], right: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    Hash(h.finalize().into())
}

/// Standard base64 encoding of arbitrary bytes (helper shared by the text formats).
pub(crate) fn b64_encode(bytes: &[u8]) -> String {
    BASE64.encode(bytes)
}

/// Standard base64 decoding of arbitrary bytes.
pub(crate) fn b64_decode(text: &str) -> Option<Vec<u8>> {
    BASE64.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6962_hasher_vectors() {
        assert_eq!(
            empty_root().to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            leaf_hash(b"").to_hex(),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_eq!(
            leaf_hash(b"L123456").to_hex(),
            "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
        );
        assert_eq!(
            node_hash(b"N123", b"N456").to_hex(),
            "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
        );
    }

    #[test]
    fn hex_is_strict_lowercase() {
        let h = sha256(b"x");
        assert_eq!(Hash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(Hash::from_hex(&h.to_hex().to_uppercase()), None);
        assert_eq!(Hash::from_hex(&h.to_hex()[1..]), None);
        assert_eq!(Hash::from_base64(&h.to_base64()), Some(h));
        assert_eq!(Hash::from_slice(&[0u8; 31]), None);
    }
}
