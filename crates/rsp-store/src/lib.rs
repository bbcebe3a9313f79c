//! The rsp project store.
//!
//! Everything rsp must remember between commands lives here: the models registry, eval runs
//! and their samples, the response cache, the audit ledger's leaves and checkpoints, and the
//! sign-off records (attestations, decisions, signatures, role keys, API tokens).
//!
//! # Design
//!
//! * **One trait, many small ones.** Callers hold an `Arc<dyn Store>`. [`Store`] is the sum
//!   of one small trait per concern ([`ModelStore`], [`RunStore`], [`CacheStore`],
//!   [`LedgerStore`], [`GovernanceStore`], [`TokenStore`]), so a component that only needs
//!   the ledger can take `&dyn LedgerStore`, and each concern's records and rules sit in one
//!   file. `use rsp_store::prelude::*` brings every method into scope.
//! * **Backends are implementations.** [`SqliteStore`] is the default: one file, by default
//!   `<project>/.rsp/rsp.db`. A PostgreSQL backend can be added behind a `postgres` feature
//!   as another implementation with its own `migrations/postgres/` folder; nothing in the
//!   traits is SQLite-specific (JSON is `serde_json::Value`, times are `chrono`, ids are
//!   text).
//! * **Durability first.** The SQLite backend runs in WAL mode with `synchronous=NORMAL`:
//!   a committed transaction survives the process being killed at any instant (it is in the
//!   WAL file before `COMMIT` returns), and the file is never left half-written. Only an OS
//!   crash or power loss can roll back the last few commits, never corrupt earlier ones.
//!   Every multi-row write is one transaction, begun `IMMEDIATE` so concurrent writers queue
//!   on the busy timeout instead of failing.
//! * **Invariants in the schema.** Where a rule must hold whoever writes the file (ledger
//!   leaves contiguous and append-only, final decisions frozen, one sample per
//!   `(run, sample, epoch)`), it is a constraint or trigger in the migration, not only a
//!   check in Rust.
//! * **No compile-time database.** Queries are checked at run time (`sqlx::query`), so
//!   building needs no `DATABASE_URL`; the integration tests exercise every statement.

#![deny(missing_docs)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")
)]

mod assessments;
mod cache;
mod codec;
mod error;
mod governance;
mod id;
mod ledger;
mod models;
mod runs;
mod samples;
mod sqlite;
mod tokens;

pub use assessments::{AssessmentRecord, AssessmentStore};
pub use cache::CacheStore;
pub use codec::UnknownVariant;
pub use error::{DecodeError, Error};
pub use governance::{
    AttestationRecord, DecisionAction, DecisionRecord, DecisionStatus, GovernanceStore, KeyRecord,
    SignatureRecord,
};
pub use id::new_id;
pub use ledger::{Artifact, CheckpointRecord, LeafRecord, LedgerStore};
pub use models::{ModelRecord, ModelStore};
pub use runs::{NewRun, RunFilter, RunKey, RunRecord, RunSource, RunStatus, RunStore};
pub use samples::{RecordOutcome, SampleCursor, SampleFilter, SamplePage, SampleRecord};
pub use sqlite::{SqliteStore, push_sample_filter};
pub use tokens::{TokenRecord, TokenStore};

/// The whole store: every storage concern rsp has. Implemented automatically for any type
/// that implements all the parts; use it as `Arc<dyn Store>`.
pub trait Store:
    AssessmentStore
    + ModelStore
    + RunStore
    + CacheStore
    + LedgerStore
    + GovernanceStore
    + TokenStore
    + std::fmt::Debug
{
}

impl<T> Store for T where
    T: AssessmentStore
        + ModelStore
        + RunStore
        + CacheStore
        + LedgerStore
        + GovernanceStore
        + TokenStore
        + std::fmt::Debug
{
}

/// Every store trait, so methods can be called on an `Arc<dyn Store>`.
pub mod prelude {
    pub use crate::{
        CacheStore, GovernanceStore, LedgerStore, ModelStore, RunStore, Store, TokenStore,
    };
}

/// The default database file inside a project's `.rsp/` directory.
pub const DEFAULT_DB_FILE: &str = "rsp.db";
