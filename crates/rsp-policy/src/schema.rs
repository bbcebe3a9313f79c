//! The policy's JSON Schema, generated from the same types the parser uses
//! so the two cannot drift apart.

use crate::model::Policy;

/// The JSON Schema of a policy file, pretty-printed.
#[must_use]
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Policy);
    serde_json::to_string_pretty(&schema).unwrap_or_else(|_| "{}".to_owned())
}
