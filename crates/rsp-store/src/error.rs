//! The store's error type.
//!
//! Every variant that comes from the database names the database's location (a file path, or
//! `:memory:`) so a user with several projects can tell which store failed. Locations never
//! carry credentials: a future PostgreSQL backend must redact the password from its URL
//! before building these errors.

use std::path::PathBuf;

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The directory that should hold the database file could not be created.
    #[error("cannot create the store directory {}", path.display())]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The database could not be opened or configured.
    #[error("cannot open the store at {location}")]
    Open {
        /// Where the database lives.
        location: String,
        /// The driver failure.
        #[source]
        source: sqlx::Error,
    },
    /// The schema migrations could not be applied.
    #[error("cannot apply the schema migrations to the store at {location}")]
    Migrate {
        /// Where the database lives.
        location: String,
        /// The migration failure.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A statement failed.
    #[error("store operation `{op}` failed on {location}")]
    Query {
        /// Which store operation ran the statement (e.g. `record_sample`).
        op: &'static str,
        /// Where the database lives.
        location: String,
        /// The driver failure.
        #[source]
        source: sqlx::Error,
    },
    /// A stored value could not be turned back into its Rust type: the file was edited by
    /// hand, or written by a newer rsp.
    #[error("stored column `{column}` in {location} cannot be read")]
    Decode {
        /// The column.
        column: &'static str,
        /// Where the database lives.
        location: String,
        /// What was wrong with the value.
        #[source]
        source: DecodeError,
    },
    /// A value cannot be stored (e.g. a JSON value that does not serialise).
    #[error("cannot encode `{column}` for the store")]
    Encode {
        /// The column.
        column: &'static str,
        /// Why not.
        #[source]
        source: DecodeError,
    },
    /// A record with this key is already stored, and this kind of record is never replaced.
    #[error("{what} `{key}` already exists")]
    AlreadyExists {
        /// The kind of record (e.g. "attestation").
        what: &'static str,
        /// Its key.
        key: String,
    },
    /// The record an operation refers to is not stored.
    #[error("{what} `{key}` not found")]
    NotFound {
        /// The kind of record (e.g. "run").
        what: &'static str,
        /// Its key.
        key: String,
    },
    /// A final decision was asked to change.
    #[error("decision `{id}` is final and cannot change")]
    DecisionFinal {
        /// The decision id.
        id: String,
    },
    /// A sample filter cannot be expressed.
    #[error("invalid sample filter on metadata field `{field}`: {reason}")]
    InvalidFilter {
        /// The metadata field.
        field: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// An artifact's bytes do not hash to the digest it was stored under.
    #[error("artifact bytes hash to {actual}, not the declared {declared}")]
    ArtifactHashMismatch {
        /// The declared lowercase-hex SHA-256.
        declared: String,
        /// The SHA-256 of the bytes.
        actual: String,
    },
    /// A checkpoint claims more leaves than the log holds.
    #[error("checkpoint for tree size {size} but the log holds only {count} leaves")]
    CheckpointBeyondLog {
        /// The checkpoint's tree size.
        size: u64,
        /// Leaves stored.
        count: u64,
    },
}

/// Why a value could not be converted between its Rust and stored forms.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not valid JSON, or JSON of the wrong shape.
    #[error("invalid JSON")]
    Json(#[source] serde_json::Error),
    /// Not a timestamp or date in the stored format.
    #[error("invalid timestamp or date `{value}`")]
    Time {
        /// The stored text.
        value: String,
        /// The parse failure.
        #[source]
        source: chrono::ParseError,
    },
    /// An enumeration value this version does not know.
    #[error(transparent)]
    Enum(#[from] crate::codec::UnknownVariant),
    /// An integer outside the range of its Rust type.
    #[error("integer {value} is out of range")]
    Range {
        /// The value, widened.
        value: i128,
    },
    /// A fixed-length blob of the wrong length.
    #[error("expected {expected} bytes, found {found}")]
    Length {
        /// Expected length.
        expected: usize,
        /// Found length.
        found: usize,
    },
}
