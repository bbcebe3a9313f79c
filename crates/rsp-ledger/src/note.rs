//! C2SP signed notes: a text ending in a newline, a blank line, then one or
//! more lines `— <key name> <base64(key ID ‖ signature)>`.
//!
//! Verification follows the spec's rules: signatures from unknown keys (name
//! *and* ID must both match) are ignored, a signature from the known key must
//! verify, and at least one must be present.

use crate::hash::{b64_decode, b64_encode};
use crate::keys::{KeyAlg, KeyError, SignerKey, VerifierKey, check_name};

/// The signature line prefix: EM DASH (U+2014) and a space.
const DASH: &str = "\u{2014} ";

/// Upper bound on signature lines; the spec requires accepting at least 16.
pub const MAX_SIGNATURES: usize = 100;

/// Errors parsing, signing or verifying a signed note.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The note breaks the format (missing blank line, bad signature line, control characters, ...).
    #[error("malformed signed note: {0}")]
    Malformed(&'static str),
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("signed note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    /// A bad key name in a signature line or a key of the wrong kind.
    #[error("invalid key for signed note")]
    Key(#[source] KeyError),
    /// A key with the wrong algorithm for the operation.
    #[error("key {name} has algorithm {alg:?}, which cannot be used here")]
    WrongAlg {
        /// Key name.
        name: String,
        /// Its algorithm.
        alg: KeyAlg,
    },
    /// No signature line carries the expected key's name and ID.
    #[error("note is not signed by {expected}; it has signatures from: {present}")]
    NotSignedBy {
        /// `name+keyid` of the expected key.
        expected: String,
        /// `name+keyid` of every signature present, comma-separated.
        present: String,
    },
    /// A signature from the expected key that does not verify.
    #[error(
        "signature by {key} does not verify: the note text or signature was altered, or the key is wrong"
    )]
    BadSignature {
        /// `name+keyid` of the key.
        key: String,
    },
}

/// One signature line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// Key ID (first 4 bytes of the decoded signature, big-endian).
    pub key_id: u32,
    /// The signature bytes after the key ID.
    pub signature: Vec<u8>,
}

impl NoteSignature {
    fn line(&self) -> String {
        let mut data = self.key_id.to_be_bytes().to_vec();
        data.extend_from_slice(&self.signature);
        format!("{DASH}{} {}\n", self.name, b64_encode(&data))
    }

    fn label(&self) -> String {
        format!("{}+{:08x}", self.name, self.key_id)
    }
}

/// A parsed signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    /// The signed text, including its final newline.
    pub text: String,
    /// Signature lines in order.
    pub signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// Signs `text` (which must end in a newline) with an [`KeyAlg::Ed25519`] key.
    pub fn sign(text: &str, key: &SignerKey) -> Result<Self, NoteError> {
        check_text(text)?;
        if key.alg() != KeyAlg::Ed25519 {
            return Err(NoteError::WrongAlg {
                name: key.name().to_owned(),
                alg: key.alg(),
            });
        }
        let sig = NoteSignature {
            name: key.name().to_owned(),
            key_id: key.key_id(),
            signature: key.sign_raw(text.as_bytes()).to_vec(),
        };
        Ok(Self {
            text: text.to_owned(),
            signatures: vec![sig],
        })
    }

    /// Parses a signed note (the text is split from the signatures at the last blank line).
    pub fn parse(note: &str) -> Result<Self, NoteError> {
        if note.chars().any(|c| c.is_ascii_control() && c != '\n') {
            return Err(NoteError::Malformed("contains control characters"));
        }
        let split = note
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("no blank line before signatures"))?;
        let text = &note[..=split];
        let block = &note[split + 2..];
        if !block.ends_with('\n') {
            return Err(NoteError::Malformed(
                "signature block does not end in a newline",
            ));
        }
        let mut signatures = Vec::new();
        for line in block[..block.len() - 1].split('\n') {
            if signatures.len() == MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures);
            }
            signatures.push(parse_signature_line(line)?);
        }
        Ok(Self {
            text: text.to_owned(),
            signatures,
        })
    }

    /// Verifies the note's signature by `key` (an [`KeyAlg::Ed25519`] key).
    pub fn verify(&self, key: &VerifierKey) -> Result<(), NoteError> {
        if key.alg() != KeyAlg::Ed25519 {
            return Err(NoteError::WrongAlg {
                name: key.name().to_owned(),
                alg: key.alg(),
            });
        }
        let mut found = false;
        for sig in self.signatures_by(key) {
            if !key.verify_raw(self.text.as_bytes(), &sig.signature) {
                return Err(NoteError::BadSignature { key: sig.label() });
            }
            found = true;
        }
        if found {
            Ok(())
        } else {
            Err(self.not_signed_by(key))
        }
    }

    /// Signature lines whose name and key ID both match `key`.
    pub fn signatures_by<'a>(
        &'a self,
        key: &'a VerifierKey,
    ) -> impl Iterator<Item = &'a NoteSignature> + 'a {
        self.signatures
            .iter()
            .filter(move |s| s.name == key.name() && s.key_id == key.key_id())
    }

    pub(crate) fn not_signed_by(&self, key: &VerifierKey) -> NoteError {
        NoteError::NotSignedBy {
            expected: format!("{}+{:08x}", key.name(), key.key_id()),
            present: self
                .signatures
                .iter()
                .map(NoteSignature::label)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    /// Adds a signature line (used for cosignatures).
    pub fn push_signature(&mut self, sig: NoteSignature) {
        self.signatures.push(sig);
    }

    /// The note in text form: text, blank line, signature lines.
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.line());
        }
        out
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::Malformed("note text must end in a newline"));
    }
    if text.chars().any(|c| c.is_ascii_control() && c != '\n') {
        return Err(NoteError::Malformed("contains control characters"));
    }
    Ok(())
}

fn parse_signature_line(line: &str) -> Result<NoteSignature, NoteError> {
    let rest = line.strip_prefix(DASH).ok_or(NoteError::Malformed(
        "signature line does not start with an em dash",
    ))?;
    let (name, data) = rest
        .split_once(' ')
        .ok_or(NoteError::Malformed("signature line has no signature"))?;
    check_name(name).map_err(NoteError::Key)?;
    let bytes = b64_decode(data).ok_or(NoteError::Malformed("signature is not base64"))?;
    if bytes.len() < 5 {
        return Err(NoteError::Malformed("signature too short"));
    }
    let key_id = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    Ok(NoteSignature {
        name: name.to_owned(),
        key_id,
        signature: bytes[4..].to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_note_reference_example_verifies() {
        // Example from the Go `note` package documentation.
        let vkey = VerifierKey::from_vkey(
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        )
        .unwrap();
        let note = "If you think cryptography is the answer to your problem,\n\
                    then you don't know what your problem is.\n\
                    \n\
                    \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
        let parsed = SignedNote::parse(note).unwrap();
        parsed.verify(&vkey).unwrap();
        assert_eq!(parsed.to_text(), note);
        let altered = note.replace("cryptography", "cryptograph!");
        assert!(matches!(
            SignedNote::parse(&altered).unwrap().verify(&vkey),
            Err(NoteError::BadSignature { .. })
        ));
    }

    #[test]
    fn sign_parse_verify_and_unknown_keys() {
        let k = SignerKey::from_seed("log.example", KeyAlg::Ed25519, [3; 32]).unwrap();
        let other = SignerKey::from_seed("log.example", KeyAlg::Ed25519, [4; 32]).unwrap();
        let note = SignedNote::sign("hello\n\nworld\n", &k).unwrap();
        let parsed = SignedNote::parse(&note.to_text()).unwrap();
        assert_eq!(parsed.text, "hello\n\nworld\n");
        parsed.verify(&k.verifier()).unwrap();
        let err = parsed.verify(&other.verifier()).unwrap_err();
        assert!(matches!(err, NoteError::NotSignedBy { .. }), "{err}");
        assert!(err.to_string().contains(&format!("{:08x}", k.key_id())));
    }

    #[test]
    fn malformed_notes_are_rejected() {
        for bad in [
            "no blank line\n",
            "text\n\n— a\n",
            "text\n\n- a AAAAAAAA\n",
            "te\u{7}xt\n\n— a AAAAAAAA\n",
            "text\n\n— a AAAAAAAA",
        ] {
            assert!(SignedNote::parse(bad).is_err(), "{bad:?}");
        }
        let k = SignerKey::from_seed("a", KeyAlg::Ed25519, [3; 32]).unwrap();
        assert!(SignedNote::sign("no newline", &k).is_err());
    }
}
