//! A small RFC 8785 (JCS) writer for `serde_json::Value`.
//!
//! Written here rather than taken from a crate because leaf verification is
//! the hot loop of `verify_log`: a general canonicaliser that re-parses keys
//! and buffers every object was ~5× slower than hashing. It is cross-checked
//! against `serde_json_canonicalizer` by property tests.
//!
//! * strings: `"` `\` escaped, control characters as `\b \t \n \f \r` or
//!   `\u00xx` (lowercase hex), everything else literal UTF-8, exactly what
//!   `serde_json` already emits for a `str`;
//! * numbers: integers in decimal (leaves keep them within ±(2^53 − 1), where
//!   this equals the ECMAScript form); other numbers via `ryu-js`, which
//!   implements ECMAScript `Number.prototype.toString`;
//! * object members sorted by the UTF-16 code units of their names.

use std::cmp::Ordering;

use serde_json::Value;

/// Appends the canonical form of `value` to `out`. Fails only on non-finite floats.
/// The RFC 8785 canonical form of `value`: the exact bytes rsp hashes and signs
/// for JSON artifacts (decisions, determinations, run summaries), so anyone can
/// recompute them from the JSON with any JCS implementation.
pub fn canonical_json(value: &Value) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    write_value(value, &mut out)?;
    Ok(out)
}

pub(crate) fn write_value(value: &Value, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                out.extend_from_slice(u.to_string().as_bytes());
            } else if let Some(i) = n.as_i64() {
                out.extend_from_slice(i.to_string().as_bytes());
            } else if let Some(f) = n.as_f64().filter(|f| f.is_finite()) {
                out.extend_from_slice(ryu_js::Buffer::new().format_finite(f).as_bytes());
            } else {
                return Err(serde::ser::Error::custom("non-finite number"));
            }
        }
        Value::String(s) => write_str(s, out)?,
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(map, out)?,
    }
    Ok(())
}

/// Appends a canonical object.
pub(crate) fn write_object(
    map: &serde_json::Map<String, Value>,
    out: &mut Vec<u8>,
) -> Result<(), serde_json::Error> {
    let mut members: Vec<(&String, &Value)> = map.iter().collect();
    members.sort_by(|a, b| utf16_cmp(a.0, b.0));
    out.push(b'{');
    for (i, (k, v)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(k, out)?;
        out.push(b':');
        write_value(v, out)?;
    }
    out.push(b'}');
    Ok(())
}

/// Appends a JSON string with JCS escaping.
pub(crate) fn write_str(s: &str, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    serde_json::to_writer(out, s)
}

/// Order of strings by UTF-16 code units. For ASCII (the usual case) and any
/// pair without supplementary-plane characters this is byte order.
fn utf16_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.cmp(b)
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(text: &str) -> String {
        let v: Value = serde_json::from_str(text).unwrap();
        let mut out = Vec::new();
        write_value(&v, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rfc8785_sorting_example() {
        // RFC 8785 §3.2.3: UTF-16 order puts U+1F600 before U+FB33.
        let input = r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#;
        let expected = "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
            \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
            \"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}";
        assert_eq!(canon(input), expected);
    }

    #[test]
    fn rfc8785_numbers_and_strings() {
        assert_eq!(
            canon("[1e30, 4.50, 2e-3, 0.000001, 1e-7, -0.0, 1E21, 333333333.3333333]"),
            "[1e+30,4.5,0.002,0.000001,1e-7,0,1e+21,333333333.3333333]"
        );
        assert_eq!(
            canon(r#"["\u000f\n\"\\/\u007f\u2028"]"#),
            "[\"\\u000f\\n\\\"\\\\/\u{7f}\u{2028}\"]"
        );
        assert_eq!(
            canon(r#"{"b":[],"a":{"d":null,"c":true}}"#),
            r#"{"a":{"c":true,"d":null},"b":[]}"#
        );
    }
}
