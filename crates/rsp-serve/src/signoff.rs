//! Decision sign-off: the exact bytes a role signs, and checking a signature.
//!
//! This is the protocol documented in docs/governance.md and used by `rsp sign`: a role
//! signs the RFC 8785 canonical JSON of
//! `{"decision": <record without status>, "role": R, "type": "rsp.decision-signoff/v1"}`.
//! The server re-implements only this message and the check (a few lines), never the
//! signing, so a signature made with `rsp sign` and one submitted to the API are
//! interchangeable; the tests pin the format with a known vector.

use ed25519_dalek::{Signature, VerifyingKey};
use rsp_store::{DecisionRecord, KeyRecord, SignatureRecord};
use serde_json::{Value, json};

/// The type tag inside every signed message.
pub const SIGNOFF_TYPE: &str = "rsp.decision-signoff/v1";

/// The bytes `role` signs for `decision`, or `None` if the decision holds a number that
/// canonical JSON cannot represent.
pub fn signed_message(decision: &DecisionRecord, role: &str) -> Option<Vec<u8>> {
    let mut d = serde_json::to_value(decision).ok()?;
    if let Value::Object(m) = &mut d {
        m.remove("status");
    }
    rsp_ledger::canonical_json(&json!({"type": SIGNOFF_TYPE, "role": role, "decision": d})).ok()
}

/// A hex Ed25519 public key, if well formed.
pub fn parse_key(hex_key: &str) -> Option<VerifyingKey> {
    let bytes = <[u8; 32]>::try_from(hex::decode(hex_key).ok()?).ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

/// True when `signature` (hex) verifies over `decision` for `role` under `public_key`.
pub fn verifies(decision: &DecisionRecord, role: &str, public_key: &str, signature: &str) -> bool {
    let Some(key) = parse_key(public_key) else {
        return false;
    };
    let Some(sig) = hex::decode(signature)
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .map(|b| Signature::from_bytes(&b))
    else {
        return false;
    };
    signed_message(decision, role).is_some_and(|m| key.verify_strict(&m, &sig).is_ok())
}

/// True when a stored signature verifies and its key is registered for its role.
pub fn valid(decision: &DecisionRecord, sig: &SignatureRecord, keys: &[KeyRecord]) -> bool {
    keys.iter()
        .any(|k| k.role == sig.role && k.public_key == sig.public_key)
        && verifies(decision, &sig.role, &sig.public_key, &sig.signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use ed25519_dalek::{Signer as _, SigningKey};
    use rsp_store::{DecisionAction, DecisionStatus};

    fn decision() -> DecisionRecord {
        DecisionRecord {
            id: "d1".into(),
            model: "m".into(),
            action: DecisionAction::Deploy,
            params: json!({}),
            status: DecisionStatus::Draft,
            outcome: json!({"allowed": true}),
            created_at: DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    #[test]
    fn message_is_canonical_and_leaves_out_the_status() {
        let m = String::from_utf8(signed_message(&decision(), "rso").unwrap()).unwrap();
        assert_eq!(
            m,
            r#"{"decision":{"action":"deploy","created_at":"2026-01-02T03:04:05Z","id":"d1","model":"m","outcome":{"allowed":true},"params":{}},"role":"rso","type":"rsp.decision-signoff/v1"}"#
        );
        let mut final_ = decision();
        final_.status = DecisionStatus::Final;
        assert_eq!(
            signed_message(&final_, "rso"),
            signed_message(&decision(), "rso")
        );
    }

    #[test]
    fn signatures_bind_role_and_key() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let public = hex::encode(key.verifying_key().to_bytes());
        let sig = hex::encode(
            key.sign(&signed_message(&decision(), "rso").unwrap())
                .to_bytes(),
        );
        assert!(verifies(&decision(), "rso", &public, &sig));
        assert!(
            !verifies(&decision(), "ceo", &public, &sig),
            "replayed under another role"
        );
        assert!(!verifies(&decision(), "rso", &public, "00"));
        let record = SignatureRecord {
            decision_id: "d1".into(),
            role: "rso".into(),
            public_key: public.clone(),
            signature: sig,
            signed_at: Utc::now(),
        };
        assert!(!valid(&decision(), &record, &[]), "unregistered key");
        let keys = [KeyRecord {
            role: "rso".into(),
            public_key: public,
            created_at: Utc::now(),
        }];
        assert!(valid(&decision(), &record, &keys));
    }
}
