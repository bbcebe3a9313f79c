//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong while preparing, running or cleaning up a sandbox.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Isolation is not available here and the caller did not allow unsandboxed tools.
    #[error(
        "tool sandbox unavailable: {reason} (pass --unsafe-local-tools to run tools unsandboxed)"
    )]
    Unavailable {
        /// What the probe found.
        reason: String,
    },
    /// A file-system operation failed.
    #[error("{op} {}", path.display())]
    Io {
        /// What was being done (`create`, `remove`, `read`…).
        op: &'static str,
        /// On what.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The tool process could not be started.
    #[error("could not start `{program}`")]
    Spawn {
        /// The launcher program.
        program: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A path given to a file tool leaves the working directory (absolute, `..`, or through
    /// a symbolic link).
    #[error("path `{path}` is outside the working directory: {reason}")]
    PathEscape {
        /// The path as given.
        path: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// A file tool was pointed at something that is not what it needs (a directory to
    /// `read_file`, a missing file).
    #[error("`{path}`: {reason}")]
    BadPath {
        /// The path as given.
        path: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A marker file could not be encoded.
    #[error("marker {}", path.display())]
    Marker {
        /// The marker.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
