//! Ledger leaves: small canonical-JSON documents describing one artifact each.
//!
//! The leaf bytes that get hashed into the tree are the RFC 8785 (JCS)
//! canonical serialisation of a [`LeafDocument`]. Because JCS gives every JSON
//! value exactly one byte form, the parser can insist that the bytes it is
//! given *are* that form: a leaf that was re-indented, had keys reordered,
//! `1.0` written for `1`, a duplicate key, or an uppercase hex digit, is
//! rejected as non-canonical even though it would parse to the same value.
//!
//! Integers beyond ±(2^53 − 1) must be written exactly as ECMAScript prints
//! the nearest double, so that an independent JCS implementation, which
//! treats every number as a double, produces the same bytes.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::hash::{Hash, sha256};
use crate::jcs;

/// Integers up to this magnitude (2^53 − 1) are always allowed in leaves;
/// larger ones only when their decimal form is ECMAScript's form of a double.
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// What kind of artifact a leaf describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeafKind {
    /// A version of the policy (the TOML text).
    PolicyVersion,
    /// An evaluation run and its samples.
    Run,
    /// An imported external eval log (Inspect, lm-eval).
    ImportedLog,
    /// A threshold determination.
    Determination,
    /// An attestation (e.g. safeguards evidence).
    Attestation,
    /// A decision (draft or final).
    Decision,
    /// A signature over another artifact.
    Signature,
    /// Registration of a signing key.
    KeyRegistration,
    /// Anything else.
    Other,
}

impl LeafKind {
    /// The snake_case name used in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PolicyVersion => "policy_version",
            Self::Run => "run",
            Self::ImportedLog => "imported_log",
            Self::Determination => "determination",
            Self::Attestation => "attestation",
            Self::Decision => "decision",
            Self::Signature => "signature",
            Self::KeyRegistration => "key_registration",
            Self::Other => "other",
        }
    }
}

impl fmt::Display for LeafKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why leaf bytes were rejected or a document could not be serialised.
#[derive(Debug, thiserror::Error)]
pub enum LeafError {
    /// Not JSON, or JSON that does not match the leaf schema (unknown or
    /// missing fields, wrong types, bad hex).
    #[error("leaf is not a valid leaf document")]
    Json(#[source] serde_json::Error),
    /// Valid JSON that is not in RFC 8785 canonical form.
    #[error("leaf is not canonical JSON (first difference at byte {offset})")]
    NotCanonical {
        /// Offset of the first byte that differs from the canonical form.
        offset: usize,
    },
    /// A hash field that is not 64 lowercase hex digits.
    #[error("leaf hash field {0:?} is not 64 lowercase hex digits")]
    BadHex(String),
    /// `time` is not an RFC 3339 timestamp in UTC ending in `Z`.
    #[error("leaf time {0:?} is not an RFC 3339 UTC timestamp ending in 'Z'")]
    BadTime(String),
    /// An integer that is not the ECMAScript form of a double (e.g. 2^53 + 1).
    #[error(
        "leaf contains an integer that JCS cannot represent portably (not the ECMAScript form of a double)"
    )]
    UnsafeInteger,
}

/// A ledger leaf: one artifact, what it is, when, and what it depends on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeafDocument {
    /// Artifact kind.
    pub kind: LeafKind,
    /// When the artifact was recorded, RFC 3339 in UTC (`…Z`).
    pub time: String,
    /// SHA-256 of the artifact bytes (lowercase hex in JSON).
    #[serde(with = "hex_hash")]
    pub artifact_sha256: Hash,
    /// SHA-256 of the artifacts this one depends on; each must be the
    /// `artifact_sha256` of an earlier leaf.
    #[serde(with = "hex_hash_list")]
    pub depends_on: Vec<Hash>,
    /// Small summary fields (model name, verdict, ...). Keep it small: the
    /// artifact itself carries the detail.
    pub meta: serde_json::Map<String, serde_json::Value>,
}

impl LeafDocument {
    /// A leaf for `artifact`, timestamped `time`, with no dependencies or meta.
    pub fn new(kind: LeafKind, time: DateTime<Utc>, artifact: &[u8]) -> Self {
        Self {
            kind,
            time: format_time(time),
            artifact_sha256: sha256(artifact),
            depends_on: Vec::new(),
            meta: serde_json::Map::new(),
        }
    }

    /// The canonical (JCS) bytes to store and hash as the leaf.
    pub fn to_canonical_bytes(&self) -> Result<Vec<u8>, LeafError> {
        check_time(&self.time)?;
        self.meta.values().try_for_each(check_integers)?;
        // Members in UTF-16 (here: ASCII) order; every value but `meta` and
        // `time` is plain ASCII that needs no escaping.
        let mut out = Vec::with_capacity(192 + 67 * self.depends_on.len());
        out.extend_from_slice(b"{\"artifact_sha256\":\"");
        push_hex(&mut out, &self.artifact_sha256);
        out.extend_from_slice(b"\",\"depends_on\":[");
        for (i, d) in self.depends_on.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'"');
            push_hex(&mut out, d);
            out.push(b'"');
        }
        out.extend_from_slice(b"],\"kind\":\"");
        out.extend_from_slice(self.kind.as_str().as_bytes());
        out.extend_from_slice(b"\",\"meta\":");
        jcs::write_object(&self.meta, &mut out).map_err(LeafError::Json)?;
        out.extend_from_slice(b",\"time\":");
        jcs::write_str(&self.time, &mut out).map_err(LeafError::Json)?;
        out.push(b'}');
        Ok(out)
    }

    /// Parses leaf bytes, rejecting anything that is not exactly the
    /// canonical form of a valid document.
    ///
    /// The bytes are parsed straight into the typed document (serde rejects
    /// unknown, missing and duplicated top-level members), re-serialised
    /// canonically and compared byte for byte, which catches every other
    /// deviation (whitespace, order, number spelling, escapes, duplicates in `meta`).
    pub fn from_canonical_bytes(bytes: &[u8]) -> Result<Self, LeafError> {
        // Parse with borrowed strings (this is verify_log's hot loop; owned
        // parsing was twice as slow), then convert.
        let raw: RawLeaf<'_> = serde_json::from_slice(bytes).map_err(LeafError::Json)?;
        let hash =
            |text: &str| Hash::from_hex(text).ok_or_else(|| LeafError::BadHex(text.to_owned()));
        let doc = Self {
            kind: raw.kind,
            time: raw.time.into_owned(),
            artifact_sha256: hash(&raw.artifact_sha256)?,
            depends_on: raw
                .depends_on
                .iter()
                .map(|d| hash(d))
                .collect::<Result<_, _>>()?,
            meta: raw.meta,
        };
        let canonical = doc.to_canonical_bytes()?;
        if canonical != bytes {
            let offset = canonical
                .iter()
                .zip(bytes)
                .position(|(a, b)| a != b)
                .unwrap_or(canonical.len().min(bytes.len()));
            return Err(LeafError::NotCanonical { offset });
        }
        Ok(doc)
    }
}

/// Borrowing twin of [`LeafDocument`] for fast parsing (same schema rules).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLeaf<'a> {
    kind: LeafKind,
    #[serde(borrow)]
    time: Cow<'a, str>,
    #[serde(borrow)]
    artifact_sha256: Cow<'a, str>,
    #[serde(borrow)]
    depends_on: Vec<Cow<'a, str>>,
    meta: serde_json::Map<String, serde_json::Value>,
}

fn push_hex(out: &mut Vec<u8>, hash: &Hash) {
    let mut buf = [0u8; 64];
    // Cannot fail: the buffer is exactly twice the input length.
    if hex::encode_to_slice(hash.0, &mut buf).is_ok() {
        out.extend_from_slice(&buf);
    }
}

/// Formats a time the way leaves store it (`2026-01-02T03:04:05.123Z`, with
/// as many fractional digits as needed and none when they are zero).
pub fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn check_time(time: &str) -> Result<(), LeafError> {
    if time.ends_with('Z') && DateTime::parse_from_rfc3339(time).is_ok() {
        Ok(())
    } else {
        Err(LeafError::BadTime(time.to_owned()))
    }
}

fn check_integers(value: &serde_json::Value) -> Result<(), LeafError> {
    use serde_json::Value;
    match value {
        Value::Number(n) => {
            // Beyond 2^53 an integer is portable only if it is exactly how
            // ECMAScript prints the nearest double (e.g. 142351416417595140,
            // but not 2^53 + 1).
            #[allow(clippy::cast_precision_loss)]
            let ok = match (n.as_u64(), n.as_i64()) {
                (Some(u), _) if u > MAX_SAFE_INTEGER => {
                    ryu_js::Buffer::new().format(u as f64) == u.to_string()
                }
                (None, Some(i)) if i.unsigned_abs() > MAX_SAFE_INTEGER => {
                    ryu_js::Buffer::new().format(i as f64) == i.to_string()
                }
                _ => true,
            };
            if ok {
                Ok(())
            } else {
                Err(LeafError::UnsafeInteger)
            }
        }
        Value::Array(items) => items.iter().try_for_each(check_integers),
        Value::Object(map) => map.values().try_for_each(check_integers),
        Value::Null | Value::Bool(_) | Value::String(_) => Ok(()),
    }
}

/// Counts of leaves per kind, as shown in verification reports.
pub type KindCounts = BTreeMap<LeafKind, u64>;

mod hex_hash {
    use super::*;

    pub fn serialize<S: Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&h.to_hex())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let text = String::deserialize(d)?;
        Hash::from_hex(&text)
            .ok_or_else(|| serde::de::Error::custom("expected 64 lowercase hex digits"))
    }
}

mod hex_hash_list {
    use super::*;

    pub fn serialize<S: Serializer>(list: &[Hash], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(list.iter().map(Hash::to_hex))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|t| {
                Hash::from_hex(t)
                    .ok_or_else(|| serde::de::Error::custom("expected 64 lowercase hex digits"))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn doc() -> LeafDocument {
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let mut d = LeafDocument::new(LeafKind::Determination, t, b"artifact");
        d.depends_on.push(sha256(b"dep"));
        d.meta.insert("model".into(), "m-1".into());
        d.meta.insert("score".into(), serde_json::json!(0.25));
        d.meta
            .insert("a_list".into(), serde_json::json!([1, 2.5, "x"]));
        d
    }

    #[test]
    fn canonical_bytes_round_trip_and_are_sorted() {
        let d = doc();
        let bytes = d.to_canonical_bytes().unwrap();
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.starts_with(r#"{"artifact_sha256":""#), "{text}");
        assert!(text.contains(r#""kind":"determination""#));
        assert!(text.contains(r#""time":"2026-01-02T03:04:05Z""#));
        assert!(
            text.contains(r#""meta":{"a_list":[1,2.5,"x"],"model":"m-1","score":0.25}"#),
            "{text}"
        );
        assert_eq!(LeafDocument::from_canonical_bytes(&bytes).unwrap(), d);
    }

    #[test]
    fn documented_example_leaf_is_byte_exact() {
        // The example in docs/ledger.md §3.
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
        let mut d = LeafDocument::new(LeafKind::Run, t, b"test");
        d.meta.insert("seq".into(), serde_json::json!(0));
        d.meta.insert("model".into(), "m-1".into());
        let expected = concat!(
            r#"{"artifact_sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","#,
            r#""depends_on":[],"kind":"run","meta":{"model":"m-1","seq":0},"time":"2026-03-01T09:00:00Z"}"#
        );
        assert_eq!(
            String::from_utf8(d.to_canonical_bytes().unwrap()).unwrap(),
            expected
        );
    }

    #[test]
    fn reformatted_leaves_are_rejected() {
        let d = doc();
        let bytes = d.to_canonical_bytes().unwrap();
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let pretty = serde_json::to_vec_pretty(&value).unwrap();
        assert!(matches!(
            LeafDocument::from_canonical_bytes(&pretty),
            Err(LeafError::NotCanonical { offset: 1 })
        ));
        let text = String::from_utf8(bytes).unwrap();
        // 2.5 written as 2.50, a duplicated key, uppercase hex: all the same
        // value to a lax parser, all rejected here.
        for bad in [
            text.replace("2.5", "2.50"),
            text.replacen('{', r#"{"kind":"run","#, 1),
            text.replace(
                &d.artifact_sha256.to_hex(),
                &d.artifact_sha256.to_hex().to_uppercase(),
            ),
        ] {
            assert!(
                LeafDocument::from_canonical_bytes(bad.as_bytes()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn schema_violations_are_rejected() {
        let mut d = doc();
        d.time = "2026-01-02T03:04:05+01:00".into();
        assert!(matches!(d.to_canonical_bytes(), Err(LeafError::BadTime(_))));
        let mut d = doc();
        d.meta
            .insert("big".into(), serde_json::json!((1u64 << 60) + 1));
        assert!(matches!(
            d.to_canonical_bytes(),
            Err(LeafError::UnsafeInteger)
        ));
        d.meta.insert("big".into(), serde_json::json!(1u64 << 60));
        assert!(
            matches!(d.to_canonical_bytes(), Err(LeafError::UnsafeInteger)),
            "ES prints 2^60 as 1152921504606847000"
        );
        d.meta.insert(
            "big".into(),
            serde_json::json!(1_152_921_504_606_847_000u64),
        );
        assert!(d.to_canonical_bytes().is_ok());
        d.meta.insert("big".into(), serde_json::json!(u64::MAX));
        assert!(matches!(
            d.to_canonical_bytes(),
            Err(LeafError::UnsafeInteger)
        ));
        let extra = br#"{"artifact_sha256":"00","extra":1}"#;
        assert!(matches!(
            LeafDocument::from_canonical_bytes(extra),
            Err(LeafError::Json(_))
        ));
    }
}
