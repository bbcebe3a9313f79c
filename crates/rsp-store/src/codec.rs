//! Conversions between Rust values and their stored SQL forms.
//!
//! Kept in one place so every backend agrees on the text forms: a timestamp written by one
//! table reads back the same from any other, and text order is time order.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::DecodeError;

/// The stored timestamp form: fixed width, nanosecond precision, UTC. Fixed width makes text
/// order equal time order; nanoseconds make a round trip exact.
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.9fZ";
/// The stored date form.
const DATE_FORMAT: &str = "%Y-%m-%d";

/// A timestamp as stored.
pub(crate) fn time_to_text(t: &DateTime<Utc>) -> String {
    t.format(TIME_FORMAT).to_string()
}

/// A stored timestamp.
pub(crate) fn time_from_text(s: &str) -> Result<DateTime<Utc>, DecodeError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|source| DecodeError::Time {
            value: s.to_owned(),
            source,
        })
}

/// A date as stored.
pub(crate) fn date_to_text(d: &NaiveDate) -> String {
    d.format(DATE_FORMAT).to_string()
}

/// A stored date.
pub(crate) fn date_from_text(s: &str) -> Result<NaiveDate, DecodeError> {
    NaiveDate::parse_from_str(s, DATE_FORMAT).map_err(|source| DecodeError::Time {
        value: s.to_owned(),
        source,
    })
}

/// JSON text of a value.
pub(crate) fn json_to_text<T: Serialize + ?Sized>(v: &T) -> Result<String, DecodeError> {
    serde_json::to_string(v).map_err(DecodeError::Json)
}

/// A value from stored JSON text.
pub(crate) fn json_from_text<T: DeserializeOwned>(s: &str) -> Result<T, DecodeError> {
    serde_json::from_str(s).map_err(DecodeError::Json)
}

/// SQLite integers are signed 64-bit; counts are `u64` in Rust.
pub(crate) fn u64_to_i64(v: u64) -> Result<i64, DecodeError> {
    i64::try_from(v).map_err(|_| DecodeError::Range { value: v.into() })
}

/// A stored integer as a narrower or unsigned Rust integer.
pub(crate) fn from_i64<T: TryFrom<i64>>(v: i64) -> Result<T, DecodeError> {
    T::try_from(v).map_err(|_| DecodeError::Range { value: v.into() })
}

/// A text value that names no variant of a stored enumeration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`")]
pub struct UnknownVariant {
    /// The enumeration (e.g. "run status").
    pub kind: &'static str,
    /// The text found.
    pub value: String,
}

/// Declares a fieldless enum stored as TEXT: serde, `as_str`, `Display` and `FromStr` all use
/// the same spelling as the schema's CHECK constraint.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $kind:literal {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored (and serialised) spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::codec::UnknownVariant;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::codec::UnknownVariant { kind: $kind, value: s.to_owned() }),
                }
            }
        }
    };
}
pub(crate) use text_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_exactly_and_sort_as_text() {
        let a = DateTime::parse_from_rfc3339("2025-03-01T09:05:07.000000001Z")
            .unwrap()
            .with_timezone(&Utc);
        let b = DateTime::parse_from_rfc3339("2025-03-01T09:05:07.1Z")
            .unwrap()
            .with_timezone(&Utc);
        let (ta, tb) = (time_to_text(&a), time_to_text(&b));
        assert_eq!(ta, "2025-03-01T09:05:07.000000001Z");
        assert_eq!(tb, "2025-03-01T09:05:07.100000000Z");
        assert_eq!(ta.len(), tb.len());
        assert!(ta < tb);
        assert_eq!(time_from_text(&ta).unwrap(), a);
        assert_eq!(time_from_text(&tb).unwrap(), b);
        assert!(time_from_text("yesterday").is_err());
    }

    #[test]
    fn dates_round_trip() {
        let d = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        assert_eq!(date_to_text(&d), "2024-02-29");
        assert_eq!(date_from_text("2024-02-29").unwrap(), d);
        assert!(date_from_text("2023-02-29").is_err());
    }

    #[test]
    fn integers_out_of_range_are_errors_not_wraps() {
        assert!(u64_to_i64(u64::MAX).is_err());
        assert_eq!(u64_to_i64(7).unwrap(), 7);
        assert!(from_i64::<u32>(-1).is_err());
        assert!(from_i64::<u32>(i64::from(u32::MAX) + 1).is_err());
        assert_eq!(from_i64::<u64>(42).unwrap(), 42);
    }
}
