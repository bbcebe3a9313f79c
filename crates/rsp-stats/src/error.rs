//! The crate's error type.
//!
//! Every public function validates its inputs up front and reports a typed
//! error instead of returning NaN or panicking: an eval number that silently
//! turned into NaN would flow into a threshold determination, and a NaN upper
//! bound compares false against every line, which would read as "ruled out".

use std::error::Error as StdError;

/// Errors raised by the statistics in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A confidence level outside the open interval (0, 1).
    #[error("confidence level must lie strictly between 0 and 1, got {0}")]
    InvalidConfidence(f64),

    /// Fewer observations than the method needs (for example, a t interval
    /// needs two observations to estimate a spread).
    #[error("{what} needs at least {needed} observations, got {got}")]
    TooFewObservations {
        /// The computation that was attempted.
        what: &'static str,
        /// The minimum number of observations it needs.
        needed: usize,
        /// The number it was given.
        got: usize,
    },

    /// A count of successes larger than the number of trials.
    #[error("{successes} successes cannot come from {trials} trials")]
    SuccessesExceedTrials {
        /// Successes given.
        successes: u64,
        /// Trials given.
        trials: u64,
    },

    /// A `k` larger than the number of attempts it is drawn from (pass@k,
    /// at-least-k).
    #[error("k = {k} exceeds the {n} attempts available")]
    KExceedsN {
        /// The requested k.
        k: u64,
        /// The number of attempts.
        n: u64,
    },

    /// A numeric parameter outside its valid range.
    #[error("{name} must be {expected}, got {value}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// A description of the valid range.
        expected: &'static str,
        /// The value given.
        value: f64,
    },

    /// A NaN or infinite observation in the input data.
    #[error("observation {index} is not a finite number ({value})")]
    NonFinite {
        /// Position of the offending observation.
        index: usize,
        /// The offending value.
        value: f64,
    },

    /// Two inputs that must be aligned element by element have different
    /// lengths (paired samples, values and their cluster keys).
    #[error("{what}: lengths differ ({left} vs {right})")]
    LengthMismatch {
        /// What was being aligned.
        what: &'static str,
        /// Length of the first input.
        left: usize,
        /// Length of the second input.
        right: usize,
    },

    /// The bias-corrected and accelerated bootstrap is undefined for this
    /// sample (every resample fell on one side of the estimate, or the
    /// acceleration pushed a percentile outside (0, 1)). The percentile
    /// interval remains available.
    #[error("BCa bootstrap interval is undefined for this sample: {reason}")]
    BcaUndefined {
        /// Why the adjustment failed.
        reason: &'static str,
    },

    /// A goal that no sample size can reach, e.g. pushing the upper bound
    /// below a line that the estimate itself already reaches.
    #[error("unreachable: {reason}")]
    Unreachable {
        /// Why the goal cannot be reached.
        reason: &'static str,
    },

    /// A reference distribution rejected its parameters. Inputs are
    /// validated first, so this signals a bug rather than bad input.
    #[error("could not build the {distribution} distribution")]
    Distribution {
        /// The distribution that failed.
        distribution: &'static str,
        /// The underlying statrs error.
        #[source]
        source: Box<dyn StdError + Send + Sync>,
    },
}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Rejects NaN and infinite observations, reporting the first one found.
pub(crate) fn check_finite(data: &[f64]) -> Result<()> {
    match data.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(Error::NonFinite {
            index,
            value: data[index],
        }),
        None => Ok(()),
    }
}

/// Requires at least `needed` observations.
pub(crate) fn check_len(what: &'static str, got: usize, needed: usize) -> Result<()> {
    if got < needed {
        Err(Error::TooFewObservations { what, needed, got })
    } else {
        Ok(())
    }
}

/// Requires a probability strictly inside (0, 1).
pub(crate) fn check_open_unit(name: &'static str, value: f64) -> Result<()> {
    if value > 0.0 && value < 1.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name,
            expected: "strictly between 0 and 1",
            value,
        })
    }
}

/// Requires a probability inside [0, 1].
pub(crate) fn check_unit(name: &'static str, value: f64) -> Result<()> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::InvalidParameter {
            name,
            expected: "between 0 and 1",
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_finite_reports_first_bad_index() {
        let err = check_finite(&[1.0, f64::NAN, f64::INFINITY]).unwrap_err();
        assert!(matches!(err, Error::NonFinite { index: 1, .. }));
        assert!(check_finite(&[0.0, -1.0]).is_ok());
    }

    #[test]
    fn unit_checks_reject_edges_and_nan() {
        assert!(check_open_unit("p", 0.0).is_err());
        assert!(check_open_unit("p", 1.0).is_err());
        assert!(check_open_unit("p", f64::NAN).is_err());
        assert!(check_open_unit("p", 0.5).is_ok());
        assert!(check_unit("p", 0.0).is_ok());
        assert!(check_unit("p", 1.0).is_ok());
        assert!(check_unit("p", f64::NAN).is_err());
        assert!(check_unit("p", 1.5).is_err());
    }

    #[test]
    fn messages_name_the_problem() {
        let err = Error::TooFewObservations {
            what: "t interval",
            needed: 2,
            got: 1,
        };
        assert_eq!(
            err.to_string(),
            "t interval needs at least 2 observations, got 1"
        );
    }
}
