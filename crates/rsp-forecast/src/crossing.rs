//! Threshold-crossing forecasts.
//!
//! A crossing is the point from which a fitted curve is at or past a
//! threshold *for good*: for a rising capability curve, the first x with
//! f(x) ≥ threshold; for a falling loss curve, the first x with f(x) ≤
//! threshold. Two outcomes are not a number and are explicit variants rather
//! than NaN or ±∞: the curve is past the threshold everywhere
//! ([`Crossing::Always`], e.g. a sigmoid whose floor is already above it) or
//! never gets there ([`Crossing::Never`], e.g. a threshold at or above a
//! sigmoid's ceiling, or below a loss law's irreducible term).
//!
//! The interval comes from the bootstrap replicates' crossings, ordered
//! Always < At(x) < Never; its ends are order statistics (rounded outwards),
//! so an end can itself be `Never`, which reads "the data do not exclude that
//! the threshold is never reached".

use serde::Serialize;

use crate::error::{Error, Result};

/// Where a single curve crosses a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", content = "x", rename_all = "snake_case")]
pub enum Crossing {
    /// The curve is past the threshold over its whole domain.
    Always,
    /// The curve crosses at this x (in the curve's x units).
    At(f64),
    /// The curve never reaches the threshold.
    Never,
}

impl Crossing {
    fn key(self) -> f64 {
        match self {
            Crossing::Always => f64::NEG_INFINITY,
            Crossing::At(x) => x,
            Crossing::Never => f64::INFINITY,
        }
    }
}

/// A fitted curve that can be evaluated and solved for a threshold.
pub trait Curve {
    /// The curve's value at `x`.
    fn value(&self, x: f64) -> f64;
    /// Where the curve crosses `threshold` (see the module docs for direction).
    fn crossing(&self, threshold: f64) -> Crossing;
}

/// The point forecast, with the horizon applied.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CrossingOutcome {
    /// Already past the threshold everywhere.
    AlreadyReached,
    /// Crossed at `x`, within the horizon (or no horizon was given).
    Reached {
        /// Crossing point.
        x: f64,
    },
    /// The curve crosses, but only after the horizon.
    NotReachedWithinHorizon {
        /// Crossing point.
        x: f64,
        /// The horizon asked about.
        horizon: f64,
    },
    /// The curve never reaches the threshold.
    NeverReached,
}

/// A crossing forecast with its bootstrap interval.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrossingForecast {
    /// The threshold.
    pub threshold: f64,
    /// The full-data curve's crossing, with the horizon applied.
    pub outcome: CrossingOutcome,
    /// Lower end of the interval (`None` without replicates).
    pub lower: Option<Crossing>,
    /// Upper end of the interval (`None` without replicates).
    pub upper: Option<Crossing>,
    /// Confidence level of the interval.
    pub level: f64,
    /// Fraction of replicates that never reach the threshold.
    pub never_fraction: f64,
    /// Fraction of replicates within the horizon (`None` without a horizon).
    pub within_horizon_fraction: Option<f64>,
}

/// Forecast where `point` crosses `threshold`, with an interval from
/// `replicates` (bootstrap refits of the same curve) at `level`.
pub fn forecast_crossing<C: Curve>(
    point: &C,
    replicates: &[C],
    threshold: f64,
    horizon: Option<f64>,
    level: f64,
) -> Result<CrossingForecast> {
    if !threshold.is_finite() {
        return Err(Error::InvalidOption {
            name: "threshold",
            reason: "must be finite",
        });
    }
    if horizon.is_some_and(|h| !h.is_finite()) {
        return Err(Error::InvalidOption {
            name: "horizon",
            reason: "must be finite",
        });
    }
    if !(level > 0.0 && level < 1.0) {
        return Err(Error::InvalidOption {
            name: "level",
            reason: "must be in (0, 1)",
        });
    }
    let outcome = match point.crossing(threshold) {
        Crossing::Always => CrossingOutcome::AlreadyReached,
        Crossing::Never => CrossingOutcome::NeverReached,
        Crossing::At(x) => match horizon {
            Some(h) if x > h => CrossingOutcome::NotReachedWithinHorizon { x, horizon: h },
            _ => CrossingOutcome::Reached { x },
        },
    };
    let mut reps: Vec<Crossing> = replicates.iter().map(|c| c.crossing(threshold)).collect();
    reps.sort_by(|a, b| a.key().total_cmp(&b.key()));
    let n = reps.len();
    let (lower, upper) = if n == 0 {
        (None, None)
    } else {
        let tail = (1.0 - level) / 2.0;
        let lo = (tail * (n - 1) as f64).floor() as usize;
        let hi = ((1.0 - tail) * (n - 1) as f64).ceil() as usize;
        (Some(reps[lo]), Some(reps[hi.min(n - 1)]))
    };
    let frac = |f: &dyn Fn(&Crossing) -> bool| {
        if n == 0 {
            0.0
        } else {
            reps.iter().filter(|c| f(c)).count() as f64 / n as f64
        }
    };
    let never_fraction = frac(&|c| matches!(c, Crossing::Never));
    let within_horizon_fraction = horizon.map(|h| frac(&|c| c.key() <= h));
    Ok(CrossingForecast {
        threshold,
        outcome,
        lower,
        upper,
        level,
        never_fraction,
        within_horizon_fraction,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// y = x, clamped to [0, 1].
    struct Ramp(f64);
    impl Curve for Ramp {
        fn value(&self, x: f64) -> f64 {
            (x - self.0).clamp(0.0, 1.0)
        }
        fn crossing(&self, t: f64) -> Crossing {
            if t <= 0.0 {
                Crossing::Always
            } else if t > 1.0 {
                Crossing::Never
            } else {
                Crossing::At(self.0 + t)
            }
        }
    }

    #[test]
    fn outcomes_are_explicit() {
        let f = |t, h| {
            forecast_crossing(&Ramp(0.0), &[], t, h, 0.95)
                .unwrap()
                .outcome
        };
        assert_eq!(f(-1.0, None), CrossingOutcome::AlreadyReached);
        assert_eq!(f(2.0, None), CrossingOutcome::NeverReached);
        assert_eq!(f(0.5, None), CrossingOutcome::Reached { x: 0.5 });
        assert_eq!(
            f(0.5, Some(0.4)),
            CrossingOutcome::NotReachedWithinHorizon {
                x: 0.5,
                horizon: 0.4
            }
        );
        assert!(forecast_crossing(&Ramp(0.0), &[], f64::NAN, None, 0.95).is_err());
    }

    #[test]
    fn interval_can_end_in_never() {
        // 90 replicates cross at 0.50..0.89; 10 are capped below the threshold.
        struct Capped(f64, f64);
        impl Curve for Capped {
            fn value(&self, _x: f64) -> f64 {
                0.0
            }
            fn crossing(&self, t: f64) -> Crossing {
                if t > self.1 {
                    Crossing::Never
                } else {
                    Crossing::At(self.0 + t)
                }
            }
        }
        let mut reps: Vec<Capped> = (0..90).map(|i| Capped(f64::from(i) / 100.0, 1.0)).collect();
        reps.extend((0..10).map(|_| Capped(0.0, 0.3)));
        let fc = forecast_crossing(&Capped(0.4, 1.0), &reps, 0.5, Some(1.2), 0.95).unwrap();
        assert_eq!(fc.upper, Some(Crossing::Never));
        // Order statistics rounded outwards: index ⌊0.025·99⌋ = 2 → 0.52.
        assert!(
            matches!(fc.lower, Some(Crossing::At(x)) if (x - 0.52).abs() < 1e-12),
            "{:?}",
            fc.lower
        );
        assert!((fc.never_fraction - 0.1).abs() < 1e-12);
        assert!((fc.within_horizon_fraction.unwrap() - 0.71).abs() < 1e-12);
    }
}
