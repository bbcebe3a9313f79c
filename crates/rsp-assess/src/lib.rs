//! Assessments under a responsible scaling policy: the pure logic of
//! `rsp assess` and `rsp status`.
//!
//! # Design
//!
//! * **No I/O.** The CLI gathers the model's facts, earlier assessments,
//!   eval runs (with intervals already computed at the policy's confidence
//!   levels) and attestations (with evidence files hashed afresh) into an
//!   [`AssessInputs`], calls [`assess`], and persists the [`Assessment`]. The
//!   same inputs always give the same assessment, so logging the inputs
//!   makes every determination reproducible.
//! * **The JSON report is the type.** [`Assessment`] serialized with serde
//!   is the JSON report; the Markdown and HTML renderers read only it.
//! * **One concept per module**, in the order an assessment runs:
//!   [`trigger`] (is one due), [`plan`] (what evidence, reuse or run),
//!   [`determine`] (rule status), [`combine`] (threshold status), [`calibration`] (false-alarm
//!   and miss rates at the actual n), [`safeguards`] (required standards and
//!   safeguard status), [`decision`] (fired actions, deploy/train outcomes,
//!   exit codes), [`status`] (the one-line summary).
//! * **Conservative by construction.** No evidence never rules anything
//!   out; comparisons with a line give ties and rounding to the severe
//!   side; "cannot rule out" counts as crossed unless the policy chose
//!   `judgement`, and then it is flagged for the signers rather than
//!   dropped.
//! * **Errors are for inputs the caller must fix** (an estimate at the wrong
//!   confidence level, a NaN bound), never for gaps in the evidence, which
//!   are statuses.
#![deny(missing_docs)]
#![cfg_attr(
    test,
    allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")
)]

mod assess;
pub mod calibration;
pub mod combine;
pub mod decision;
pub mod determine;
mod error;
pub mod plan;
pub mod report;
pub mod safeguards;
pub mod status;
pub mod trigger;
pub mod types;

pub use assess::assess;
pub use decision::{EXIT_ALLOWED, EXIT_AWAITING_SIGNATURES, EXIT_BLOCKED, exit_code};
pub use error::{Error, Result};
pub use status::{StatusSummary, summarize};
pub use trigger::check_trigger;
pub use types::*;
#[cfg(test)]
mod testing;
