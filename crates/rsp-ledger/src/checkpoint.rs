//! C2SP `tlog-checkpoint` signed tree heads and `tlog-cosignature` (v1,
//! Ed25519) witness cosignatures.
//!
//! Checkpoint body: `<origin>\n<size>\n<base64 root>\n` followed by optional
//! non-empty extension lines. The log signs the body as a signed note with an
//! [`KeyAlg::Ed25519`] key. A witness cosigns the message
//! `cosignature/v1\ntime <unix seconds>\n<body>` with a
//! [`KeyAlg::CosignatureV1`] key; its signature line carries
//! `key ID ‖ timestamp (u64 big-endian) ‖ signature`.

use crate::hash::Hash;
use crate::keys::{KeyAlg, SignerKey, VerifierKey};
use crate::note::{NoteError, NoteSignature, SignedNote};

/// Errors creating, parsing or verifying checkpoints and cosignatures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The signed-note layer failed (format or signature).
    #[error("checkpoint note rejected")]
    Note(#[source] NoteError),
    /// The body is not `origin\nsize\nroot\n[extensions]`.
    #[error("malformed checkpoint body: {0}")]
    Body(&'static str),
    /// A cosignature whose line is not `key ID ‖ u64 timestamp ‖ 64-byte signature`.
    #[error("malformed cosignature by {key}")]
    MalformedCosignature {
        /// `name+keyid` of the cosigner.
        key: String,
    },
}

/// A checkpoint body (the signed tree head).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Log identity; by convention equal to the log key's name.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// Root hash of the tree of that size.
    pub root: Hash,
    /// Opaque extension lines (not produced by rsp, preserved when read).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint with no extension lines.
    pub fn new(origin: &str, size: u64, root: Hash) -> Self {
        Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// The note text that gets signed.
    pub fn body(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for e in &self.extensions {
            out.push_str(e);
            out.push('\n');
        }
        out
    }

    /// Parses a checkpoint body. Strict: size without leading zeros, root of
    /// exactly 32 bytes, no empty lines.
    pub fn parse_body(text: &str) -> Result<Self, CheckpointError> {
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::Body("does not end in a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|l| !l.is_empty())
            .ok_or(CheckpointError::Body("empty origin"))?;
        let size_text = lines
            .next()
            .ok_or(CheckpointError::Body("missing size line"))?;
        let canonical_number =
            size_text == "0" || (!size_text.starts_with('0') && !size_text.is_empty());
        if !canonical_number || !size_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CheckpointError::Body(
                "size is not a decimal without leading zeros",
            ));
        }
        let size = size_text
            .parse()
            .map_err(|_| CheckpointError::Body("size out of range"))?;
        let root_text = lines
            .next()
            .ok_or(CheckpointError::Body("missing root line"))?;
        let root = Hash::from_base64(root_text)
            .ok_or(CheckpointError::Body("root is not base64 of 32 bytes"))?;
        let extensions: Vec<String> = lines.map(str::to_owned).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(CheckpointError::Body("empty extension line"));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// Signs the checkpoint with the log key; returns the signed note text.
    pub fn sign(&self, log_key: &SignerKey) -> Result<String, CheckpointError> {
        Ok(SignedNote::sign(&self.body(), log_key)
            .map_err(CheckpointError::Note)?
            .to_text())
    }

    /// Verifies a signed checkpoint's signature by `log_key`, then parses it.
    ///
    /// The body is only trusted after the signature verifies (signed-note rule).
    pub fn open(note: &str, log_key: &VerifierKey) -> Result<Self, CheckpointError> {
        let parsed = SignedNote::parse(note).map_err(CheckpointError::Note)?;
        parsed.verify(log_key).map_err(CheckpointError::Note)?;
        Self::parse_body(&parsed.text)
    }
}

/// The message a `cosignature/v1` signs.
fn cosigned_message(body: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{body}")
}

/// Adds a witness cosignature (timestamp in POSIX seconds) to a signed checkpoint.
///
/// The checkpoint body must parse; the log's own signature is not checked
/// here (a witness checks it, and consistency, before calling this).
pub fn cosign(note: &str, witness: &SignerKey, timestamp: u64) -> Result<String, CheckpointError> {
    if witness.alg() != KeyAlg::CosignatureV1 {
        return Err(CheckpointError::Note(NoteError::WrongAlg {
            name: witness.name().to_owned(),
            alg: witness.alg(),
        }));
    }
    if timestamp > i64::MAX as u64 {
        return Err(CheckpointError::Body(
            "cosignature timestamp exceeds 2^63 - 1",
        ));
    }
    let mut parsed = SignedNote::parse(note).map_err(CheckpointError::Note)?;
    Checkpoint::parse_body(&parsed.text)?;
    let sig = witness.sign_raw(cosigned_message(&parsed.text, timestamp).as_bytes());
    let mut data = timestamp.to_be_bytes().to_vec();
    data.extend_from_slice(&sig);
    parsed.push_signature(NoteSignature {
        name: witness.name().to_owned(),
        key_id: witness.key_id(),
        signature: data,
    });
    Ok(parsed.to_text())
}

/// Verifies `witness`'s cosignature on a signed checkpoint; returns its timestamp.
pub fn verify_cosignature(note: &str, witness: &VerifierKey) -> Result<u64, CheckpointError> {
    if witness.alg() != KeyAlg::CosignatureV1 {
        return Err(CheckpointError::Note(NoteError::WrongAlg {
            name: witness.name().to_owned(),
            alg: witness.alg(),
        }));
    }
    let parsed = SignedNote::parse(note).map_err(CheckpointError::Note)?;
    Checkpoint::parse_body(&parsed.text)?;
    let label = format!("{}+{:08x}", witness.name(), witness.key_id());
    let mut newest = None;
    for sig in parsed.signatures_by(witness) {
        if sig.signature.len() != 8 + 64 {
            return Err(CheckpointError::MalformedCosignature { key: label });
        }
        let (ts, raw) = sig.signature.split_at(8);
        let mut ts_bytes = [0u8; 8];
        ts_bytes.copy_from_slice(ts);
        let timestamp = u64::from_be_bytes(ts_bytes);
        if timestamp > i64::MAX as u64
            || !witness.verify_raw(cosigned_message(&parsed.text, timestamp).as_bytes(), raw)
        {
            return Err(CheckpointError::Note(NoteError::BadSignature {
                key: label,
            }));
        }
        newest = newest.max(Some(timestamp));
    }
    newest.ok_or_else(|| CheckpointError::Note(parsed.not_signed_by(witness)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::sha256;

    fn log_key() -> SignerKey {
        SignerKey::from_seed("rsp.example/log", KeyAlg::Ed25519, [9; 32]).unwrap()
    }

    #[test]
    fn sign_open_round_trip_and_format() {
        let cp = Checkpoint::new("rsp.example/log", 42, sha256(b"root"));
        let note = cp.sign(&log_key()).unwrap();
        let mut lines = note.lines();
        assert_eq!(lines.next(), Some("rsp.example/log"));
        assert_eq!(lines.next(), Some("42"));
        assert_eq!(lines.next(), Some(sha256(b"root").to_base64().as_str()));
        assert_eq!(lines.next(), Some(""));
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("\u{2014} rsp.example/log ")
        );
        assert_eq!(Checkpoint::open(&note, &log_key().verifier()).unwrap(), cp);
    }

    #[test]
    fn altered_or_foreign_checkpoints_are_rejected() {
        let note = Checkpoint::new("o", 5, sha256(b"r"))
            .sign(&log_key())
            .unwrap();
        let altered = note.replacen("\n5\n", "\n6\n", 1);
        assert!(matches!(
            Checkpoint::open(&altered, &log_key().verifier()),
            Err(CheckpointError::Note(NoteError::BadSignature { .. }))
        ));
        let stranger = SignerKey::from_seed("rsp.example/log", KeyAlg::Ed25519, [8; 32]).unwrap();
        assert!(matches!(
            Checkpoint::open(&note, &stranger.verifier()),
            Err(CheckpointError::Note(NoteError::NotSignedBy { .. }))
        ));
    }

    #[test]
    fn strict_body_parsing() {
        let root = sha256(b"r").to_base64();
        assert!(Checkpoint::parse_body(&format!("o\n0\n{root}\n")).is_ok());
        assert!(Checkpoint::parse_body(&format!("o\n05\n{root}\n")).is_err());
        assert!(Checkpoint::parse_body(&format!("o\n-5\n{root}\n")).is_err());
        assert!(Checkpoint::parse_body(&format!("\n5\n{root}\n")).is_err());
        assert!(Checkpoint::parse_body(&format!("o\n5\n{root}")).is_err());
        assert!(Checkpoint::parse_body("o\n5\nAAAA\n").is_err());
        let ext = Checkpoint::parse_body(&format!("o\n5\n{root}\next a\n")).unwrap();
        assert_eq!(ext.extensions, vec!["ext a".to_owned()]);
    }

    #[test]
    fn cosignatures_verify_and_bind_timestamp() {
        let witness =
            SignerKey::from_seed("witness.example/w1", KeyAlg::CosignatureV1, [5; 32]).unwrap();
        let note = Checkpoint::new("o", 5, sha256(b"r"))
            .sign(&log_key())
            .unwrap();
        let cosigned = cosign(&note, &witness, 1_679_315_147).unwrap();
        assert_eq!(
            verify_cosignature(&cosigned, &witness.verifier()),
            Ok(1_679_315_147)
        );
        // The log signature is still valid: a cosignature is just one more line.
        Checkpoint::open(&cosigned, &log_key().verifier()).unwrap();
        // Uncosigned note: clear "not signed by" error.
        assert!(verify_cosignature(&note, &witness.verifier()).is_err());
        // Changing the timestamp bytes breaks the cosignature.
        let parsed = SignedNote::parse(&cosigned).unwrap();
        let mut sig = parsed.signatures[1].clone();
        sig.signature[7] ^= 1;
        let mut forged = SignedNote {
            text: parsed.text.clone(),
            signatures: vec![parsed.signatures[0].clone()],
        };
        forged.push_signature(sig);
        assert!(verify_cosignature(&forged.to_text(), &witness.verifier()).is_err());
        // A log key cannot cosign, and a witness key cannot sign checkpoints.
        assert!(cosign(&note, &log_key(), 1).is_err());
        assert!(
            Checkpoint::new("o", 1, sha256(b"r"))
                .sign(&witness)
                .is_err()
        );
    }
}
