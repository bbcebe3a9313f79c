//! A string that never prints itself.
//!
//! API keys travel through provider constructors, HTTP headers and error paths. Wrapping
//! them in [`SecretString`] makes the safe thing the default: `Debug` and `Display` print
//! `***`, the type has no `Serialize`, and [`SecretString::redact`] scrubs the key out of any
//! text (such as an error body a server echoed back) before that text is stored or shown.

use std::fmt;

/// A secret (API key) whose `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Call this only where the value must leave the process (an HTTP
    /// header), never to format a message.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of the secret in `text` with `***`.
    ///
    /// Servers sometimes echo the key back in error bodies ("Incorrect API key provided:
    /// sk-…"), so every body excerpt that ends up in an [`crate::Error`] or in
    /// [`crate::CallMeta::errors`] goes through here.
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() {
            return text.to_owned();
        }
        text.replace(&self.0, "***")
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = SecretString::new("sk-very-secret");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{:?}", Some(s.clone())), "Some(***)");
        assert_eq!(s.expose(), "sk-very-secret");
    }

    #[test]
    fn redact_scrubs_every_occurrence() {
        let s = SecretString::new("sk-abc");
        assert_eq!(s.redact("bad key sk-abc (sk-abc)"), "bad key *** (***)");
        assert_eq!(SecretString::new("").redact("text"), "text");
    }
}
