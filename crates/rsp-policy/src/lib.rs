//! Responsible scaling policies as code.
//!
//! A policy is a TOML file (documented in `docs/policy.md`). This crate
//! turns it into a typed [`Policy`], reports every problem in it at once
//! with its exact place ([`check`]), renders it in plain language
//! ([`explain`]) and compares two versions, flagging each change that
//! weakens the policy ([`diff`]).
//!
//! Design choices:
//! - The model types carry no spans. Spans stay in the parsed TOML tree and
//!   are found by path, so the same plain types serve validation, rendering,
//!   the diff and the JSON Schema.
//! - Validation never stops at the first problem: users fix policies in one
//!   round, not ten.
//! - What counts as "weaker" is encoded once, in [`diff`], so that the
//!   dashboard, the CLI and CI agree.
#![deny(missing_docs)]

pub mod date;
pub mod diag;
pub mod diff;
pub mod explain;
pub mod model;
pub mod parse;
pub mod schema;
pub mod templates;
pub mod validate;

pub use diag::{Diagnostic, Severity};
pub use model::*;
pub use validate::{Catalog, CheckReport, check};
