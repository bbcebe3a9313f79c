//! The curves of a rule forecast: the metric against log10 compute (a
//! straight line or a sigmoid, in "more capable is up" orientation) and the
//! same curve against calendar time through a compute-vs-date line.
//!
//! Orientation keeps one crossing rule for both metric directions: a
//! [`RuleCurve`] stores its shape with the sign flipped for lower-is-capable
//! metrics, reports values in the metric's own units, and takes thresholds
//! in those units too.

use serde::Serialize;

use crate::crossing::{Crossing, Curve};
use crate::sigmoid::Sigmoid;

/// Which direction of the metric means "more capable".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetricDirection {
    /// Higher values are more capable (accuracy).
    Higher,
    /// Lower values are more capable (time, loss).
    Lower,
}

impl MetricDirection {
    pub(crate) fn sign(self) -> f64 {
        match self {
            Self::Higher => 1.0,
            Self::Lower => -1.0,
        }
    }
}

/// y = intercept + slope · log10(FLOP), in oriented units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LogLinear {
    /// Value at log10 FLOP = 0.
    pub intercept: f64,
    /// Change per decade of compute.
    pub slope: f64,
}

impl Curve for LogLinear {
    fn value(&self, x: f64) -> f64 {
        self.intercept + self.slope * x
    }

    /// Rising direction; a flat or falling line never gets past a threshold
    /// for good unless it starts past it (flat).
    fn crossing(&self, t: f64) -> Crossing {
        if self.slope > 0.0 {
            Crossing::At((t - self.intercept) / self.slope)
        } else if self.slope == 0.0 && self.intercept >= t {
            Crossing::Always
        } else {
            Crossing::Never
        }
    }
}

/// The fitted shape, in oriented units (more capable is up).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RuleShape {
    /// Straight line in log10 compute.
    LogLinear(LogLinear),
    /// Four-parameter sigmoid in log10 compute.
    Sigmoid(Sigmoid),
}

/// Which shape was fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleModel {
    /// See [`LogLinear`].
    LogLinear,
    /// See [`Sigmoid`].
    Sigmoid,
}

impl RuleModel {
    /// Short label (`log-linear`, `sigmoid`).
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::LogLinear => "log-linear",
            Self::Sigmoid => "sigmoid",
        }
    }
}

/// A fitted rule curve: raw metric (original units) against log10 FLOP.
/// [`Curve::crossing`] takes a raw-metric threshold and finds where the
/// metric reaches it in the capable direction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RuleCurve {
    /// The oriented shape.
    pub shape: RuleShape,
    /// Direction of capability.
    pub direction: MetricDirection,
}

impl RuleCurve {
    fn oriented(&self, x: f64) -> f64 {
        match &self.shape {
            RuleShape::LogLinear(l) => l.value(x),
            RuleShape::Sigmoid(s) => s.value(x),
        }
    }
}

impl Curve for RuleCurve {
    fn value(&self, x: f64) -> f64 {
        self.direction.sign() * self.oriented(x)
    }

    fn crossing(&self, threshold: f64) -> Crossing {
        let t = self.direction.sign() * threshold;
        match &self.shape {
            RuleShape::LogLinear(l) => l.crossing(t),
            RuleShape::Sigmoid(s) => s.crossing(t),
        }
    }
}

/// log10 FLOP = intercept + slope_per_day · (days − reference), days since
/// 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ComputeDateLine {
    /// log10 FLOP at `reference`.
    pub intercept: f64,
    /// Decades of compute per day.
    pub slope_per_day: f64,
    /// Reference day.
    pub reference: f64,
}

impl ComputeDateLine {
    /// log10 FLOP on day `x`.
    #[must_use]
    pub fn log10_flop(&self, x: f64) -> f64 {
        self.intercept + self.slope_per_day * (x - self.reference)
    }

    /// The day compute reaches `log10_flop`, if it grows.
    #[must_use]
    pub fn day_of(&self, log10_flop: f64) -> Option<f64> {
        (self.slope_per_day > 0.0)
            .then(|| self.reference + (log10_flop - self.intercept) / self.slope_per_day)
    }
}

/// A rule curve against calendar time, through a compute-vs-date line.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DatedRuleCurve {
    /// Metric against log10 compute.
    pub curve: RuleCurve,
    /// Compute against date.
    pub dates: ComputeDateLine,
}

impl Curve for DatedRuleCurve {
    fn value(&self, x: f64) -> f64 {
        self.curve.value(self.dates.log10_flop(x))
    }

    fn crossing(&self, threshold: f64) -> Crossing {
        match self.curve.crossing(threshold) {
            Crossing::At(x) => self.dates.day_of(x).map_or(Crossing::Never, Crossing::At),
            other => other,
        }
    }
}
