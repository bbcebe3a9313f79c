//! JSON with Python's non-standard numbers.
//!
//! Python's `json` module writes `NaN`, `Infinity` and `-Infinity` as bare tokens, and
//! Inspect does so for unscored samples (a score value of NaN) and for metrics that are
//! undefined. `serde_json` rejects them. Rather than a second, lenient JSON parser (a new
//! dependency and another parser to trust), the bytes are rewritten first: each bare token
//! *outside a string* becomes a string holding a reserved marker, and readers turn markers
//! back into floats with [`number`]. The scan tracks string state (quotes and backslash
//! escapes), so a `"NaN"` inside text is left alone. A document that already contains a
//! marker is rejected ([`InteropError::ReservedMarker`]) instead of being misread.
//!
//! Writing is the mirror image: [`to_python_json`] serialises with markers and replaces
//! each quoted marker by the bare token, which is what Inspect itself writes.

use serde_json::Value;

use crate::InteropError;

/// Marker standing in for `NaN`.
pub(crate) const NAN: &str = "\u{1}rsp:NaN";
/// Marker standing in for `Infinity`.
pub(crate) const INF: &str = "\u{1}rsp:+Infinity";
/// Marker standing in for `-Infinity`.
pub(crate) const NEG_INF: &str = "\u{1}rsp:-Infinity";

/// The escaped form of the markers' first character, as it appears in JSON text.
const MARK_ESCAPED: &str = "\\u0001rsp:";

/// Parses JSON that may contain bare `NaN` / `Infinity` / `-Infinity`.
pub fn parse(bytes: &[u8], what: &str) -> Result<Value, InteropError> {
    let text = rewrite(bytes, what)?;
    serde_json::from_slice(&text).map_err(|source| InteropError::Json {
        what: what.to_owned(),
        source,
    })
}

/// Rewrites bare non-finite tokens into marker strings (see the module docs).
fn rewrite(bytes: &[u8], what: &str) -> Result<Vec<u8>, InteropError> {
    if contains(bytes, MARK_ESCAPED.as_bytes()) || contains(bytes, b"\x01rsp:") {
        return Err(InteropError::ReservedMarker {
            what: what.to_owned(),
            marker: "\\u0001rsp:",
        });
    }
    let mut out = Vec::with_capacity(bytes.len() + 16);
    let mut in_string = false;
    let mut escaped = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            out.push(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        let rest = &bytes[i..];
        let token: Option<(&[u8], &str)> = if rest.starts_with(b"NaN") {
            Some((b"NaN", NAN))
        } else if rest.starts_with(b"-Infinity") {
            Some((b"-Infinity", NEG_INF))
        } else if rest.starts_with(b"Infinity") {
            Some((b"Infinity", INF))
        } else {
            None
        };
        match token {
            Some((raw, marker)) => {
                out.push(b'"');
                out.extend_from_slice(marker.replace('\u{1}', "\\u0001").as_bytes());
                out.push(b'"');
                i += raw.len();
            }
            None => {
                if b == b'"' {
                    in_string = true;
                }
                out.push(b);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A JSON value as a float: numbers, and the markers for non-finite values.
pub fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => marker_value(s),
        _ => None,
    }
}

/// The float a marker string stands for.
pub(crate) fn marker_value(s: &str) -> Option<f64> {
    match s {
        NAN => Some(f64::NAN),
        INF => Some(f64::INFINITY),
        NEG_INF => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// A float as a JSON value, using a marker when it is not finite.
pub(crate) fn float_value(x: f64) -> Value {
    if x.is_nan() {
        Value::String(NAN.to_owned())
    } else if x == f64::INFINITY {
        Value::String(INF.to_owned())
    } else if x == f64::NEG_INFINITY {
        Value::String(NEG_INF.to_owned())
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

/// Serialises `v` (which may hold markers) as Python-flavoured JSON with bare tokens.
pub(crate) fn to_python_json(v: &Value) -> Result<Vec<u8>, InteropError> {
    let text = serde_json::to_string(v).map_err(|source| InteropError::Json {
        what: "writing".to_owned(),
        source,
    })?;
    let text = text
        .replace("\"\\u0001rsp:NaN\"", "NaN")
        .replace("\"\\u0001rsp:+Infinity\"", "Infinity")
        .replace("\"\\u0001rsp:-Infinity\"", "-Infinity");
    Ok(text.into_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn bare_tokens_become_floats_and_strings_stay_strings() {
        let v = parse(
            br#"{"a": NaN, "b": [Infinity, -Infinity, 1.5], "c": "NaN and \"Infinity\"", "d": "x\\"}"#,
            "t",
        )
        .unwrap();
        assert!(number(&v["a"]).unwrap().is_nan());
        assert_eq!(number(&v["b"][0]), Some(f64::INFINITY));
        assert_eq!(number(&v["b"][1]), Some(f64::NEG_INFINITY));
        assert_eq!(number(&v["b"][2]), Some(1.5));
        assert_eq!(v["c"], "NaN and \"Infinity\"");
        assert_eq!(v["d"], "x\\");
    }

    #[test]
    fn a_document_holding_the_marker_is_refused() {
        let err = parse(br#"{"a": "\u0001rsp:NaN"}"#, "t").unwrap_err();
        assert!(matches!(err, InteropError::ReservedMarker { .. }), "{err}");
    }

    #[test]
    fn writing_round_trips_non_finite_values() {
        let v = serde_json::json!({"x": float_value(f64::NAN), "y": [float_value(f64::NEG_INFINITY), float_value(2.0)]});
        let text = to_python_json(&v).unwrap();
        assert_eq!(
            String::from_utf8(text.clone()).unwrap(),
            r#"{"x":NaN,"y":[-Infinity,2.0]}"#
        );
        let back = parse(&text, "t").unwrap();
        assert!(number(&back["x"]).unwrap().is_nan());
        assert_eq!(number(&back["y"][0]), Some(f64::NEG_INFINITY));
    }

    #[test]
    fn invalid_json_is_an_error_not_a_panic() {
        assert!(parse(b"{\"a\": Na", "t").is_err());
        assert!(parse(b"\"unterminated", "t").is_err());
    }
}
