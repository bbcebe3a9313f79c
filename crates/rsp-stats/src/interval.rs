//! The shared result type: an estimate with its interval and provenance.
//!
//! Every interval in the crate is an [`Interval`], which carries everything a
//! reader needs to judge the number: the point estimate, the bounds, the
//! sample size, the method and the confidence level. Keeping these together
//! means a caller can never print a bare interval whose method or level has
//! been lost on the way to a report.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A confidence level strictly between 0 and 1, such as 0.95.
///
/// A newtype rather than a bare `f64` so that every function taking one can
/// rely on it being valid; the only way to build one is [`Confidence::new`]
/// (or deserialising, which runs the same check).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Confidence(f64);

impl Confidence {
    /// The conventional 95% level.
    pub const P95: Confidence = Confidence(0.95);
    /// 90%, the level whose two-sided interval ends are 95% one-sided bounds.
    pub const P90: Confidence = Confidence(0.90);
    /// 99%.
    pub const P99: Confidence = Confidence(0.99);

    /// Validates a confidence level.
    ///
    /// # Errors
    /// [`Error::InvalidConfidence`] unless `0 < level < 1`.
    pub fn new(level: f64) -> Result<Self> {
        if level > 0.0 && level < 1.0 {
            Ok(Confidence(level))
        } else {
            Err(Error::InvalidConfidence(level))
        }
    }

    /// The level itself, e.g. 0.95.
    pub fn level(self) -> f64 {
        self.0
    }

    /// The total error probability `1 - level`.
    pub fn alpha(self) -> f64 {
        1.0 - self.0
    }

    /// The one-sided level equivalent to this two-sided level.
    ///
    /// The upper end of a two-sided interval at level `c` is exactly the
    /// one-sided upper bound at level `(1 + c) / 2`. Functions that work with
    /// one-sided bounds (the calibration and sample-size helpers) take the
    /// one-sided level; a policy stated as "the two-sided 95% interval's
    /// upper end" passes `Confidence::P95.two_sided_as_one_sided()`.
    pub fn two_sided_as_one_sided(self) -> Confidence {
        Confidence(0.5 * (1.0 + self.0))
    }
}

impl TryFrom<f64> for Confidence {
    type Error = Error;

    fn try_from(level: f64) -> Result<Self> {
        Confidence::new(level)
    }
}

impl From<Confidence> for f64 {
    fn from(c: Confidence) -> f64 {
        c.0
    }
}

impl fmt::Display for Confidence {
    /// Prints the level as a percentage without trailing zeros: `95%`,
    /// `97.5%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Round away binary noise such as 95.00000000000001 before printing
        // with the shortest representation.
        let pct = (self.0 * 100.0 * 1e6).round() / 1e6;
        write!(f, "{pct}%")
    }
}

/// How an interval was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Method {
    /// Wilson score interval for a binomial proportion.
    Wilson,
    /// Clopper–Pearson exact (beta quantile) interval for a proportion.
    ClopperPearson,
    /// Student-t interval for a mean.
    StudentT,
    /// Percentile bootstrap.
    BootstrapPercentile,
    /// Bias-corrected and accelerated bootstrap.
    BootstrapBca,
    /// Cluster-robust (CR1 sandwich) standard error with a t reference on
    /// clusters − 1 degrees of freedom.
    ClusteredCr1,
    /// Newcombe's hybrid score interval for a difference of paired
    /// proportions (his method 10).
    NewcombePaired,
}

impl Method {
    /// The short human-readable name used in [`Interval`]'s `Display`.
    pub fn label(self) -> &'static str {
        match self {
            Method::Wilson => "Wilson",
            Method::ClopperPearson => "Clopper-Pearson",
            Method::StudentT => "t",
            Method::BootstrapPercentile => "percentile bootstrap",
            Method::BootstrapBca => "BCa bootstrap",
            Method::ClusteredCr1 => "clustered CR1",
            Method::NewcombePaired => "Newcombe paired",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Which bounds of an interval carry the stated confidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// Both bounds: the true value lies in `[lower, upper]` with the stated
    /// confidence.
    TwoSided,
    /// Only the upper bound: the true value is at most `upper` with the
    /// stated confidence; `lower` is the edge of the parameter space.
    Upper,
    /// Only the lower bound: the true value is at least `lower` with the
    /// stated confidence; `upper` is the edge of the parameter space.
    Lower,
}

/// An estimate with its confidence interval and the facts needed to read it.
///
/// `Display` prints `0.31 [0.25, 0.38] (Wilson, 95%, n=150)`; a formatter
/// precision changes the number of decimals (`{:.3}`), default 2. One-sided
/// bounds say so: `0.31 [0.00, 0.37] (Wilson, upper bound, 95%, n=150)`.
///
/// Serialised bounds that are infinite (the open side of a one-sided mean
/// bound) are written as `null`, since JSON has no infinity, and read back
/// as infinities. Deserialising runs the same checks as [`Interval::new`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "IntervalRepr", into = "IntervalRepr")]
pub struct Interval {
    estimate: f64,
    lower: f64,
    upper: f64,
    n: u64,
    method: Method,
    confidence: Confidence,
    side: Side,
}

impl Interval {
    /// Builds an interval, checking that it is well formed.
    ///
    /// The estimate is not required to lie inside the bounds, because a
    /// percentile bootstrap interval of a skewed statistic can legitimately
    /// exclude it.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] if the estimate is not finite, a bound is
    /// NaN or `lower > upper`.
    pub fn new(
        estimate: f64,
        lower: f64,
        upper: f64,
        n: u64,
        method: Method,
        confidence: Confidence,
        side: Side,
    ) -> Result<Self> {
        if !estimate.is_finite() {
            return Err(Error::InvalidParameter {
                name: "estimate",
                expected: "finite",
                value: estimate,
            });
        }
        if lower.is_nan() || upper.is_nan() || lower > upper {
            return Err(Error::InvalidParameter {
                name: "lower bound",
                expected: "a number no greater than the upper bound",
                value: lower,
            });
        }
        Ok(Interval {
            estimate,
            lower,
            upper,
            n,
            method,
            confidence,
            side,
        })
    }

    /// The point estimate.
    pub fn estimate(&self) -> f64 {
        self.estimate
    }

    /// The lower bound.
    pub fn lower(&self) -> f64 {
        self.lower
    }

    /// The upper bound. For rsp's determinations this is the number compared
    /// against a capability line.
    pub fn upper(&self) -> f64 {
        self.upper
    }

    /// Number of observations behind the estimate (for clustered estimates,
    /// the number of observations, not clusters).
    pub fn n(&self) -> u64 {
        self.n
    }

    /// How the interval was computed.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The confidence level.
    pub fn confidence(&self) -> Confidence {
        self.confidence
    }

    /// Which bounds carry the confidence.
    pub fn side(&self) -> Side {
        self.side
    }

    /// `upper - lower`.
    pub fn width(&self) -> f64 {
        self.upper - self.lower
    }

    /// Whether `value` lies inside the closed interval.
    pub fn contains(&self, value: f64) -> bool {
        self.lower <= value && value <= self.upper
    }
}

/// Wire form of [`Interval`]: infinite bounds become `None`.
#[derive(Serialize, Deserialize)]
struct IntervalRepr {
    estimate: f64,
    lower: Option<f64>,
    upper: Option<f64>,
    n: u64,
    method: Method,
    confidence: Confidence,
    side: Side,
}

impl From<Interval> for IntervalRepr {
    fn from(i: Interval) -> Self {
        IntervalRepr {
            estimate: i.estimate,
            lower: i.lower.is_finite().then_some(i.lower),
            upper: i.upper.is_finite().then_some(i.upper),
            n: i.n,
            method: i.method,
            confidence: i.confidence,
            side: i.side,
        }
    }
}

impl TryFrom<IntervalRepr> for Interval {
    type Error = Error;

    fn try_from(r: IntervalRepr) -> Result<Self> {
        Interval::new(
            r.estimate,
            r.lower.unwrap_or(f64::NEG_INFINITY),
            r.upper.unwrap_or(f64::INFINITY),
            r.n,
            r.method,
            r.confidence,
            r.side,
        )
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = f.precision().unwrap_or(2);
        write!(
            f,
            "{:.p$} [{:.p$}, {:.p$}] ({}",
            self.estimate, self.lower, self.upper, self.method
        )?;
        match self.side {
            Side::TwoSided => {}
            Side::Upper => f.write_str(", upper bound")?,
            Side::Lower => f.write_str(", lower bound")?,
        }
        write!(f, ", {}, n={})", self.confidence, self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Interval {
        Interval::new(
            0.3133,
            0.2501,
            0.3842,
            150,
            Method::Wilson,
            Confidence::P95,
            Side::TwoSided,
        )
        .unwrap()
    }

    #[test]
    fn display_matches_documented_form() {
        assert_eq!(
            sample().to_string(),
            "0.31 [0.25, 0.38] (Wilson, 95%, n=150)"
        );
        assert_eq!(
            format!("{:.3}", sample()),
            "0.313 [0.250, 0.384] (Wilson, 95%, n=150)"
        );
    }

    #[test]
    fn display_marks_one_sided_bounds() {
        let one = Interval::new(
            0.31,
            0.0,
            0.37,
            150,
            Method::Wilson,
            Confidence::P95,
            Side::Upper,
        )
        .unwrap();
        assert_eq!(
            one.to_string(),
            "0.31 [0.00, 0.37] (Wilson, upper bound, 95%, n=150)"
        );
    }

    #[test]
    fn confidence_display_trims_binary_noise() {
        assert_eq!(Confidence::P95.to_string(), "95%");
        assert_eq!(Confidence::new(0.975).unwrap().to_string(), "97.5%");
        assert_eq!(Confidence::new(0.999).unwrap().to_string(), "99.9%");
    }

    #[test]
    fn confidence_rejects_out_of_range() {
        for bad in [0.0, 1.0, -0.1, 1.5, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                Confidence::new(bad),
                Err(Error::InvalidConfidence(_))
            ));
        }
        assert!(serde_json::from_str::<Confidence>("1.2").is_err());
        let c: Confidence = serde_json::from_str("0.9").unwrap();
        assert_eq!(c.level(), 0.9);
    }

    #[test]
    fn two_sided_level_maps_to_one_sided() {
        let one = Confidence::P90.two_sided_as_one_sided();
        assert!((one.level() - 0.95).abs() < 1e-12);
    }

    #[test]
    fn new_rejects_inverted_or_nan_bounds() {
        let mk = |e, l, u| {
            Interval::new(
                e,
                l,
                u,
                1,
                Method::StudentT,
                Confidence::P95,
                Side::TwoSided,
            )
        };
        assert!(mk(0.5, 0.6, 0.4).is_err());
        assert!(mk(0.5, f64::NAN, 0.4).is_err());
        assert!(mk(f64::NAN, 0.1, 0.4).is_err());
        // Infinite bounds are legitimate for one-sided mean bounds.
        assert!(mk(0.5, f64::NEG_INFINITY, 0.6).is_ok());
    }

    #[test]
    fn serde_round_trip() {
        let json = serde_json::to_string(&sample()).unwrap();
        assert!(json.contains("\"method\":\"wilson\""));
        let back: Interval = serde_json::from_str(&json).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn serde_keeps_infinite_bounds_and_rejects_inverted_ones() {
        let one = Interval::new(
            1.0,
            f64::NEG_INFINITY,
            2.0,
            5,
            Method::StudentT,
            Confidence::P95,
            Side::Upper,
        )
        .unwrap();
        let json = serde_json::to_string(&one).unwrap();
        assert!(json.contains("\"lower\":null"), "{json}");
        assert_eq!(serde_json::from_str::<Interval>(&json).unwrap(), one);
        let bad = json.replace("\"lower\":null", "\"lower\":3.0");
        assert!(serde_json::from_str::<Interval>(&bad).is_err());
    }
}
