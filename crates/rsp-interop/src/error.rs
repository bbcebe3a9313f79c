//! Why a log could not be read or written.

use std::path::PathBuf;

/// Errors from reading or writing another harness's logs.
#[derive(Debug, thiserror::Error)]
pub enum InteropError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A `.eval` archive could not be opened or one of its entries read.
    #[error("zip archive: {source}")]
    Zip {
        /// The cause.
        #[source]
        source: zip::result::ZipError,
    },
    /// Reading an entry's bytes failed (corrupt compressed data, truncated file).
    #[error("zip entry `{entry}`: {source}")]
    Entry {
        /// The entry name.
        entry: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A JSON document did not parse.
    #[error("{what}: invalid JSON: {source}")]
    Json {
        /// Which document.
        what: String,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// The document parsed but is not the shape the format requires.
    #[error("{what}: {problem}")]
    Shape {
        /// Which document.
        what: String,
        /// What is wrong.
        problem: String,
    },
    /// A log contains the text rsp uses internally to carry `NaN`/`Infinity` through a
    /// strict JSON parser; reading it would confuse a string with a number.
    #[error("{what}: contains the reserved marker {marker:?}")]
    ReservedMarker {
        /// Which document.
        what: String,
        /// The marker found.
        marker: &'static str,
    },
    /// The file is neither an Inspect `.eval` / `.json` log nor lm-eval output.
    #[error("{path}: not a recognised log (expected .eval, .json or lm-eval results_*.json)")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
}

impl InteropError {
    pub(crate) fn shape(what: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Shape {
            what: what.into(),
            problem: problem.into(),
        }
    }
}

impl From<zip::result::ZipError> for InteropError {
    fn from(source: zip::result::ZipError) -> Self {
        Self::Zip { source }
    }
}
