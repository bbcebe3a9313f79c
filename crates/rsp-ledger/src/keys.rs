//! Ed25519 keys in the C2SP signed-note text encodings.
//!
//! * verifier key (`vkey`): `<name>+<8 hex digits key ID>+<base64(alg ‖ 32-byte public key)>`
//! * signer key (`skey`, private): `PRIVATE+KEY+<name>+<8 hex key ID>+<base64(alg ‖ 32-byte seed)>`
//!
//! The key ID is `SHA-256(name ‖ 0x0A ‖ alg ‖ public key)[:4]`, read big-endian.
//! `alg` is 0x01 for plain note signatures (the log key) and 0x04 for
//! timestamped `cosignature/v1` witness keys; the ID commits to it, so one key
//! pair cannot be confused between the two uses.

use std::fmt;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use rand::{CryptoRng, RngCore};
use sha2::{Digest as _, Sha256};

use crate::hash::{b64_decode, b64_encode};

/// Prefix of the private key encoding, as in Go's `golang.org/x/mod/sumdb/note`.
const SKEY_PREFIX: &str = "PRIVATE+KEY+";

/// Signature algorithm of a key (the signed-note "signature type" byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlg {
    /// 0x01: Ed25519 signature over the note text (checkpoint signing).
    Ed25519,
    /// 0x04: timestamped Ed25519 cosignature (`cosignature/v1`, witnesses).
    CosignatureV1,
}

impl KeyAlg {
    /// The type byte.
    pub fn byte(self) -> u8 {
        match self {
            Self::Ed25519 => 0x01,
            Self::CosignatureV1 => 0x04,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            0x01 => Some(Self::Ed25519),
            0x04 => Some(Self::CosignatureV1),
            _ => None,
        }
    }
}

/// Errors reading or creating keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Empty name, or one containing whitespace, `+` or a control character.
    #[error("invalid key name {0:?}: must be non-empty, without spaces, '+' or control characters")]
    BadName(String),
    /// The text is not `name+hash+base64` (or the `PRIVATE+KEY+` form).
    #[error("malformed {what} encoding")]
    Malformed {
        /// "verifier key" or "signer key".
        what: &'static str,
    },
    /// Unknown signature type byte.
    #[error("unsupported key algorithm byte 0x{0:02x}")]
    UnsupportedAlg(u8),
    /// The bytes are not a valid Ed25519 public key.
    #[error("invalid Ed25519 public key")]
    BadPublicKey,
    /// The key ID written in the text does not match the key.
    #[error("key ID {written:08x} does not match the key (computed {computed:08x})")]
    KeyIdMismatch {
        /// ID in the text.
        written: u32,
        /// ID computed from name, algorithm and key.
        computed: u32,
    },
}

/// Validates a key name per signed-note: non-empty, no Unicode spaces, no `+`.
pub(crate) fn check_name(name: &str) -> Result<(), KeyError> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
    {
        Err(KeyError::BadName(name.to_owned()))
    } else {
        Ok(())
    }
}

/// `SHA-256(name ‖ 0x0A ‖ alg ‖ public key)[:4]` as a big-endian u32.
pub fn key_id(name: &str, alg: KeyAlg, public_key: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0A, alg.byte()]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// A private signing key with its name. `Debug` never shows secret material.
#[derive(Clone)]
pub struct SignerKey {
    name: String,
    alg: KeyAlg,
    key: SigningKey,
}

impl fmt::Debug for SignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignerKey")
            .field("name", &self.name)
            .field("alg", &self.alg)
            .field("key_id", &format_args!("{:08x}", self.key_id()))
            .finish_non_exhaustive()
    }
}

impl SignerKey {
    /// Generates a fresh key from a cryptographic RNG (e.g. `rand::rngs::OsRng`).
    pub fn generate<R: RngCore + CryptoRng>(
        name: &str,
        alg: KeyAlg,
        rng: &mut R,
    ) -> Result<Self, KeyError> {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        Self::from_seed(name, alg, seed)
    }

    /// Builds a key from its 32-byte Ed25519 seed (for tests and fixtures).
    pub fn from_seed(name: &str, alg: KeyAlg, seed: [u8; 32]) -> Result<Self, KeyError> {
        check_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            alg,
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// Parses the `PRIVATE+KEY+name+id+base64` storage encoding.
    pub fn from_skey(text: &str) -> Result<Self, KeyError> {
        const WHAT: &str = "signer key";
        let rest = text
            .trim_end()
            .strip_prefix(SKEY_PREFIX)
            .ok_or(KeyError::Malformed { what: WHAT })?;
        let (name, id, data) = split3(rest, WHAT)?;
        let bytes = b64_decode(data).ok_or(KeyError::Malformed { what: WHAT })?;
        let (&alg_byte, seed) = bytes
            .split_first()
            .ok_or(KeyError::Malformed { what: WHAT })?;
        let alg = KeyAlg::from_byte(alg_byte).ok_or(KeyError::UnsupportedAlg(alg_byte))?;
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| KeyError::Malformed { what: WHAT })?;
        let key = Self::from_seed(name, alg, seed)?;
        if key.key_id() != id {
            return Err(KeyError::KeyIdMismatch {
                written: id,
                computed: key.key_id(),
            });
        }
        Ok(key)
    }

    /// The private storage encoding. Store it with owner-only permissions;
    /// it must never be exported (bundles only ever contain [`VerifierKey`]s).
    pub fn to_skey(&self) -> String {
        let mut data = vec![self.alg.byte()];
        data.extend_from_slice(&self.key.to_bytes());
        format!(
            "{SKEY_PREFIX}{}+{:08x}+{}",
            self.name,
            self.key_id(),
            b64_encode(&data)
        )
    }

    /// The matching public key.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey::new(&self.name, self.alg, self.key.verifying_key())
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Key algorithm.
    pub fn alg(&self) -> KeyAlg {
        self.alg
    }

    /// Key ID.
    pub fn key_id(&self) -> u32 {
        key_id(&self.name, self.alg, self.key.verifying_key().as_bytes())
    }

    pub(crate) fn sign_raw(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

/// A public verifier key with its name (the `vkey` form).
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    alg: KeyAlg,
    key: VerifyingKey,
    key_id: u32,
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({})", self.to_vkey())
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_vkey())
    }
}

impl VerifierKey {
    fn new(name: &str, alg: KeyAlg, key: VerifyingKey) -> Self {
        let key_id = key_id(name, alg, key.as_bytes());
        Self {
            name: name.to_owned(),
            alg,
            key,
            key_id,
        }
    }

    /// Parses `<name>+<hex key ID>+<base64(alg ‖ public key)>`.
    pub fn from_vkey(text: &str) -> Result<Self, KeyError> {
        const WHAT: &str = "verifier key";
        let (name, id, data) = split3(text.trim_end(), WHAT)?;
        check_name(name)?;
        let bytes = b64_decode(data).ok_or(KeyError::Malformed { what: WHAT })?;
        let (&alg_byte, public) = bytes
            .split_first()
            .ok_or(KeyError::Malformed { what: WHAT })?;
        let alg = KeyAlg::from_byte(alg_byte).ok_or(KeyError::UnsupportedAlg(alg_byte))?;
        let public: [u8; 32] = public
            .try_into()
            .map_err(|_| KeyError::Malformed { what: WHAT })?;
        let key = VerifyingKey::from_bytes(&public).map_err(|_| KeyError::BadPublicKey)?;
        let vk = Self::new(name, alg, key);
        if vk.key_id != id {
            return Err(KeyError::KeyIdMismatch {
                written: id,
                computed: vk.key_id,
            });
        }
        Ok(vk)
    }

    /// The `vkey` text.
    pub fn to_vkey(&self) -> String {
        let mut data = vec![self.alg.byte()];
        data.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.key_id, b64_encode(&data))
    }

    /// Key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Key algorithm.
    pub fn alg(&self) -> KeyAlg {
        self.alg
    }

    /// Key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The raw 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Strict (RFC 8032 + no small-order/malleable forms) signature check.
    pub(crate) fn verify_raw(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        self.key
            .verify_strict(message, &Signature::from_bytes(&sig))
            .is_ok()
    }
}

/// Splits `name+hexid+data`; the name cannot contain `+`, so the split is unambiguous.
fn split3<'a>(text: &'a str, what: &'static str) -> Result<(&'a str, u32, &'a str), KeyError> {
    let mut parts = text.splitn(3, '+');
    let (Some(name), Some(id), Some(data)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(KeyError::Malformed { what });
    };
    if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(KeyError::Malformed { what });
    }
    let id = u32::from_str_radix(id, 16).map_err(|_| KeyError::Malformed { what })?;
    Ok((name, id, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vkey_and_skey_round_trip() {
        let k = SignerKey::from_seed("rsp.example/log", KeyAlg::Ed25519, [7u8; 32]).unwrap();
        let vkey = k.verifier().to_vkey();
        assert!(
            vkey.starts_with(&format!("rsp.example/log+{:08x}+A", k.key_id())),
            "{vkey}"
        );
        assert_eq!(VerifierKey::from_vkey(&vkey).unwrap(), k.verifier());
        let back = SignerKey::from_skey(&k.to_skey()).unwrap();
        assert_eq!(back.verifier(), k.verifier());
        assert!(!format!("{k:?}").contains(&b64_encode(&[7u8; 32])));
    }

    #[test]
    fn go_note_reference_vkey_parses() {
        // Verifier key from the Go `note` package documentation example
        // (golang.org/x/mod/sumdb/note): key ID must match name + key.
        let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        let k = VerifierKey::from_vkey(vkey).unwrap();
        assert_eq!(k.name(), "PeterNeumann");
        assert_eq!(k.key_id(), 0xc74f20a3);
        assert_eq!(k.to_vkey(), vkey);
    }

    #[test]
    fn go_note_reference_skey_matches_its_vkey() {
        let skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
        let k = SignerKey::from_skey(skey).unwrap();
        assert_eq!(
            k.verifier().to_vkey(),
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        );
        assert_eq!(k.to_skey(), skey);
    }

    #[test]
    fn tampered_or_malformed_keys_are_rejected() {
        let k = SignerKey::from_seed("log", KeyAlg::Ed25519, [1u8; 32]).unwrap();
        let vkey = k.verifier().to_vkey();
        let wrong_name = vkey.replacen("log", "lag", 1);
        assert!(matches!(
            VerifierKey::from_vkey(&wrong_name),
            Err(KeyError::KeyIdMismatch { .. })
        ));
        assert!(VerifierKey::from_vkey("log+zz+AAAA").is_err());
        assert!(matches!(
            SignerKey::from_seed("a b", KeyAlg::Ed25519, [0; 32]),
            Err(KeyError::BadName(_))
        ));
        assert!(matches!(
            SignerKey::from_seed("a+b", KeyAlg::Ed25519, [0; 32]),
            Err(KeyError::BadName(_))
        ));
        // Same key material, other algorithm byte: different ID.
        let w = SignerKey::from_seed("log", KeyAlg::CosignatureV1, [1u8; 32]).unwrap();
        assert_ne!(w.key_id(), k.key_id());
    }
}
