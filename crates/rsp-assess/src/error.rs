//! Errors of the assessment logic.
//!
//! Most gaps in the evidence are not errors: a missing run is the status
//! `no-evidence`, an expired attestation is `expired`. Errors are reserved
//! for inputs the caller must fix before any conclusion is sound, such as an
//! estimate computed at the wrong confidence level.

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The estimate was computed at another confidence level than the rule
    /// (or safeguard) asks for; the caller must recompute it.
    #[error(
        "{what}: the estimate in run {run_id} is at confidence {found}, but the policy asks for {expected}; recompute it at {expected}"
    )]
    ConfidenceMismatch {
        /// Rule or safeguard (`KNOW-1 rule 0`, `safeguard constitutional-guard`).
        what: String,
        /// Run id.
        run_id: String,
        /// Level the policy asks for.
        expected: f64,
        /// Level of the estimate.
        found: f64,
    },
    /// An estimate is not a usable interval (NaN, bounds out of order).
    #[error("{what}: invalid estimate in run {run_id}: {reason}")]
    InvalidEstimate {
        /// Rule or safeguard.
        what: String,
        /// Run id.
        run_id: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A threshold names a rule index it does not have.
    #[error("threshold {threshold} has no evidence rule {rule}")]
    NoSuchRule {
        /// Threshold id.
        threshold: String,
        /// Index asked for.
        rule: usize,
    },
    /// A statistics routine rejected its inputs.
    #[error("statistics for {what}")]
    Stats {
        /// What was being computed.
        what: String,
        /// The cause.
        #[source]
        source: rsp_stats::Error,
    },
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;
