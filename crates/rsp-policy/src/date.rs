//! Calendar dates in policy files.
//!
//! TOML has a native local-date type (`effective = 2026-11-01`) and people
//! also write dates as strings; both are accepted so that neither spelling
//! is a trap. Times and offsets are rejected: a policy date is a day.

use std::fmt;

use chrono::NaiveDate;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// A calendar day, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyDate(pub NaiveDate);

impl fmt::Display for PolicyDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl Serialize for PolicyDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PolicyDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Toml(toml::value::Datetime),
            Text(String),
        }
        let text = match Raw::deserialize(d) {
            Ok(Raw::Toml(dt)) => {
                if dt.time.is_some() || dt.offset.is_some() {
                    return Err(de::Error::custom(format!(
                        "expected a date like 2026-11-01, found the date-time {dt}"
                    )));
                }
                dt.to_string()
            }
            Ok(Raw::Text(s)) => s,
            Err(_) => {
                return Err(de::Error::custom("expected a date like 2026-11-01"));
            }
        };
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map(PolicyDate)
            .map_err(|_| {
                de::Error::custom(format!("expected a date like 2026-11-01, found `{text}`"))
            })
    }
}

impl JsonSchema for PolicyDate {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PolicyDate".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "date",
            "description": "A calendar day, YYYY-MM-DD (TOML local date or string)."
        })
    }
}
