//! Four-parameter sigmoid of a benchmark score against log10 compute:
//! y = floor + (ceiling − floor) / (1 + exp(−slope · (x − midpoint))).
//!
//! Observational scaling laws (Ruan et al. 2024) find benchmark scores
//! sigmoidal in log compute within a model family. Bounded least squares keeps
//! the fit meaningful on the short, noisy series such data give: floor and
//! ceiling stay in the score's range (default [0, 1]), the slope is positive
//! and bounded, and the midpoint stays within one data span of the data.
//! Bounds are enforced by a smooth reparameterisation θ = lo + (hi − lo) ·
//! logistic(u) and unconstrained L-BFGS over u from a small grid of starts;
//! an optimum *at* a bound is approached but reported just inside it.
//!
//! `floor` is the asymptote as x → −∞ and `ceiling` as x → +∞; a decreasing
//! curve has ceiling < floor. x is whatever the caller passes — normally
//! log10(FLOP), which [`SigmoidData::from_compute`] computes.

use serde::Serialize;

use crate::bootstrap::{self, BootstrapOptions, BootstrapSummary, Estimate};
use crate::crossing::{Crossing, Curve};
use crate::error::{Error, Result};
use crate::lbfgs::{self, Config, Objective};
use crate::quality::FitQuality;
use crate::validate;

const MODEL: &str = "sigmoid";

/// Scores against x (normally log10 compute).
#[derive(Debug, Clone)]
pub struct SigmoidData {
    x: Vec<f64>,
    y: Vec<f64>,
}

impl SigmoidData {
    /// Validate x and scores: equal lengths, finite, at least five points,
    /// neither constant.
    pub fn new(x: &[f64], score: &[f64]) -> Result<Self> {
        validate::same_len("x", x.len(), "score", score.len())?;
        validate::enough(MODEL, 5, x.len())?;
        validate::finite("x", x)?;
        validate::finite("score", score)?;
        validate::not_constant("x", x)?;
        validate::not_constant("score", score)?;
        Ok(Self {
            x: x.to_vec(),
            y: score.to_vec(),
        })
    }

    /// Take x = log10(compute); compute must be positive.
    pub fn from_compute(compute: &[f64], score: &[f64]) -> Result<Self> {
        let x: Vec<f64> = validate::positive_logs("compute", compute)?
            .into_iter()
            .map(|l| l / std::f64::consts::LN_10)
            .collect();
        Self::new(&x, score)
    }

    /// (x, score) pairs.
    pub fn points(&self) -> Vec<(f64, f64)> {
        self.x.iter().copied().zip(self.y.iter().copied()).collect()
    }

    fn subset(&self, idx: &[usize]) -> Self {
        Self {
            x: idx.iter().map(|&i| self.x[i]).collect(),
            y: idx.iter().map(|&i| self.y[i]).collect(),
        }
    }
}

/// Bounds of the sigmoid's parameters, each (lower, upper).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SigmoidOptions {
    /// Bounds of the floor.
    pub floor: (f64, f64),
    /// Bounds of the ceiling.
    pub ceiling: (f64, f64),
    /// Bounds of the slope (per unit of x; must be positive).
    pub slope: (f64, f64),
    /// Bounds of the midpoint; `None` means one data span either side of
    /// the data.
    pub midpoint: Option<(f64, f64)>,
}

impl Default for SigmoidOptions {
    fn default() -> Self {
        Self {
            floor: (0.0, 1.0),
            ceiling: (0.0, 1.0),
            slope: (1e-3, 20.0),
            midpoint: None,
        }
    }
}

/// A fitted sigmoid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Sigmoid {
    /// Asymptote as x → −∞.
    pub floor: f64,
    /// Asymptote as x → +∞.
    pub ceiling: f64,
    /// x of the half-way point.
    pub midpoint: f64,
    /// Steepness.
    pub slope: f64,
}

fn logistic(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        z.exp() / (1.0 + z.exp())
    }
}

impl Curve for Sigmoid {
    fn value(&self, x: f64) -> f64 {
        self.floor + (self.ceiling - self.floor) * logistic(self.slope * (x - self.midpoint))
    }

    /// Rising direction: the first x from which the score stays ≥ threshold.
    fn crossing(&self, threshold: f64) -> Crossing {
        let (lo, hi) = (self.floor.min(self.ceiling), self.floor.max(self.ceiling));
        if threshold <= lo {
            return Crossing::Always;
        }
        if self.ceiling <= self.floor || threshold >= hi {
            // Decreasing (or flat) curves fall away from the threshold; a
            // rising one only approaches its ceiling.
            return Crossing::Never;
        }
        let p = (threshold - self.floor) / (self.ceiling - self.floor);
        Crossing::At(self.midpoint + (p / (1.0 - p)).ln() / self.slope)
    }
}

/// Box of the four parameters in internal order [floor, ceiling, midpoint, slope].
#[derive(Debug, Clone, Copy)]
struct Boxed([(f64, f64); 4]);

impl Boxed {
    fn params(self, u: &[f64]) -> [f64; 4] {
        std::array::from_fn(|j| {
            let (lo, hi) = self.0[j];
            lo + (hi - lo) * logistic(u[j])
        })
    }

    fn unbounded(self, p: [f64; 4]) -> Vec<f64> {
        (0..4)
            .map(|j| {
                let (lo, hi) = self.0[j];
                let t = ((p[j] - lo) / (hi - lo)).clamp(1e-6, 1.0 - 1e-6);
                (t / (1.0 - t)).ln()
            })
            .collect()
    }
}

struct LeastSquares<'a> {
    data: &'a SigmoidData,
    bounds: Boxed,
}

impl Objective for LeastSquares<'_> {
    fn value_grad(&self, u: &[f64], g: &mut [f64]) -> f64 {
        let [fl, ce, mid, k] = self.bounds.params(u);
        let mut gp = [0.0; 4];
        let mut f = 0.0;
        for (&x, &y) in self.data.x.iter().zip(&self.data.y) {
            let s = logistic(k * (x - mid));
            let r = fl + (ce - fl) * s - y;
            f += r * r;
            let ds = (ce - fl) * s * (1.0 - s);
            gp[0] += 2.0 * r * (1.0 - s);
            gp[1] += 2.0 * r * s;
            gp[2] -= 2.0 * r * ds * k;
            gp[3] += 2.0 * r * ds * (x - mid);
        }
        for j in 0..4 {
            let (lo, hi) = self.bounds.0[j];
            let s = logistic(u[j]);
            g[j] = gp[j] * (hi - lo) * s * (1.0 - s);
        }
        f
    }
}

/// A sigmoid fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SigmoidFit {
    /// The fitted curve.
    pub curve: Sigmoid,
    /// Diagnostics in score units.
    pub quality: FitQuality,
    /// Starts tried.
    pub starts: usize,
    /// Starts that converged.
    pub converged: usize,
}

fn bounds(data: &SigmoidData, opts: &SigmoidOptions) -> Result<Boxed> {
    let (xmin, xmax) = data
        .x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let span = xmax - xmin;
    let mid = opts.midpoint.unwrap_or((xmin - span, xmax + span));
    let all = [opts.floor, opts.ceiling, mid, opts.slope];
    if all
        .iter()
        .any(|(lo, hi)| !(lo.is_finite() && hi.is_finite() && lo < hi))
    {
        return Err(Error::InvalidOption {
            name: "bounds",
            reason: "each bound must be finite with lower < upper",
        });
    }
    if opts.slope.0 <= 0.0 {
        return Err(Error::InvalidOption {
            name: "slope",
            reason: "lower bound must be positive",
        });
    }
    Ok(Boxed(all))
}

fn grid(data: &SigmoidData, b: &Boxed) -> Vec<Vec<f64>> {
    let (ymin, ymax) = data
        .y
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, c), &y| {
            (a.min(y), c.max(y))
        });
    let (xmin, xmax) = data
        .x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, c), &x| {
            (a.min(x), c.max(x))
        });
    let span = xmax - xmin;
    let mut out = Vec::new();
    for (fl, ce) in [(ymin, ymax), (b.0[0].0, b.0[1].1), (ymax, ymin)] {
        for q in [0.25, 0.5, 0.75, 1.25] {
            // Slopes that make the rise take the whole span, a quarter, a 16th.
            for k in [4.0, 16.0, 64.0] {
                out.push(b.unbounded([fl, ce, xmin + q * span, k / span]));
            }
        }
    }
    out
}

fn best(data: &SigmoidData, b: Boxed, starts: &[Vec<f64>]) -> Option<(Sigmoid, f64, usize)> {
    let obj = LeastSquares { data, bounds: b };
    let best = lbfgs::best_of(&obj, starts, &Config::default(), false)?;
    let [floor, ceiling, midpoint, slope] = b.params(&best.min.x);
    Some((
        Sigmoid {
            floor,
            ceiling,
            midpoint,
            slope,
        },
        best.min.f,
        best.converged,
    ))
}

/// Fit the sigmoid by bounded least squares.
pub fn fit_sigmoid(data: &SigmoidData, opts: &SigmoidOptions) -> Result<SigmoidFit> {
    let b = bounds(data, opts)?;
    let starts = grid(data, &b);
    let (curve, _, converged) = best(data, b, &starts).ok_or(Error::NoOptimum {
        model: MODEL,
        starts: starts.len(),
    })?;
    let residuals = data
        .x
        .iter()
        .zip(&data.y)
        .map(|(&x, &y)| curve.value(x) - y)
        .collect();
    Ok(SigmoidFit {
        curve,
        quality: FitQuality::new(&data.y, residuals, None),
        starts: starts.len(),
        converged,
    })
}

/// Bootstrap uncertainty of a sigmoid fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SigmoidUncertainty {
    /// Floor.
    pub floor: Estimate,
    /// Ceiling.
    pub ceiling: Estimate,
    /// Midpoint.
    pub midpoint: Estimate,
    /// Slope.
    pub slope: Estimate,
    /// Refitted curves.
    pub replicates: Vec<Sigmoid>,
    /// Run bookkeeping.
    pub summary: BootstrapSummary,
}

/// Refit resamples from the full-data optimum and the standard grid (with
/// bounds recomputed from the full data, so every replicate lives in the same
/// box). Resamples with a constant x or score fail.
pub fn bootstrap_sigmoid(
    data: &SigmoidData,
    fit: &SigmoidFit,
    opts: &SigmoidOptions,
    boot: &BootstrapOptions,
) -> Result<SigmoidUncertainty> {
    let b = bounds(data, opts)?;
    let c = fit.curve;
    let (reps, summary) = bootstrap::run(MODEL, data.x.len(), boot, |idx| {
        let sub = data.subset(idx);
        if sub.x.iter().all(|&x| x == sub.x[0]) || sub.y.iter().all(|&y| y == sub.y[0]) {
            return None;
        }
        let mut starts = vec![b.unbounded([c.floor, c.ceiling, c.midpoint, c.slope])];
        starts.extend(grid(&sub, &b));
        best(&sub, b, &starts).map(|r| r.0)
    })?;
    let col = |f: fn(&Sigmoid) -> f64| reps.iter().map(f).collect::<Vec<f64>>();
    let level = boot.level;
    Ok(SigmoidUncertainty {
        floor: bootstrap::estimate(c.floor, col(|s| s.floor), level),
        ceiling: bootstrap::estimate(c.ceiling, col(|s| s.ceiling), level),
        midpoint: bootstrap::estimate(c.midpoint, col(|s| s.midpoint), level),
        slope: bootstrap::estimate(c.slope, col(|s| s.slope), level),
        replicates: reps,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRUE: Sigmoid = Sigmoid {
        floor: 0.25,
        ceiling: 0.9,
        midpoint: 22.0,
        slope: 1.5,
    };

    #[test]
    fn noiseless_curve_is_recovered() {
        let x: Vec<f64> = (0..15).map(|i| 19.0 + 0.4 * f64::from(i)).collect();
        let y: Vec<f64> = x.iter().map(|&x| TRUE.value(x)).collect();
        let fit = fit_sigmoid(
            &SigmoidData::new(&x, &y).unwrap(),
            &SigmoidOptions::default(),
        )
        .unwrap();
        let c = fit.curve;
        assert!(
            (c.floor - 0.25).abs() < 1e-4 && (c.ceiling - 0.9).abs() < 1e-4,
            "{c:?}"
        );
        assert!(
            (c.midpoint - 22.0).abs() < 1e-3 && (c.slope - 1.5).abs() < 1e-3,
            "{c:?}"
        );
        assert!(fit.quality.r_squared.unwrap() > 0.999_999);
    }

    #[test]
    fn crossings_cover_every_case() {
        assert_eq!(TRUE.crossing(0.2), Crossing::Always);
        assert_eq!(TRUE.crossing(0.95), Crossing::Never);
        assert_eq!(TRUE.crossing(0.9), Crossing::Never);
        match TRUE.crossing(0.575) {
            Crossing::At(x) => assert!((x - 22.0).abs() < 1e-12),
            other => panic!("{other:?}"),
        }
        let falling = Sigmoid {
            floor: 0.9,
            ceiling: 0.2,
            ..TRUE
        };
        assert_eq!(falling.crossing(0.5), Crossing::Never);
        assert_eq!(falling.crossing(0.1), Crossing::Always);
    }

    #[test]
    fn bad_inputs_and_bounds_are_errors() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!(matches!(
            SigmoidData::new(&x[..4], &[0.1; 4]),
            Err(Error::TooFewPoints { .. })
        ));
        assert!(matches!(
            SigmoidData::new(&x, &[0.3; 5]),
            Err(Error::Constant { what: "score", .. })
        ));
        assert!(matches!(
            SigmoidData::from_compute(&[1e20, -1.0, 1e21, 1e22, 1e23], &x),
            Err(Error::NonPositive { .. })
        ));
        let data = SigmoidData::new(&x, &[0.1, 0.2, 0.5, 0.7, 0.8]).unwrap();
        let bad = SigmoidOptions {
            slope: (0.0, 1.0),
            ..Default::default()
        };
        assert!(matches!(
            fit_sigmoid(&data, &bad),
            Err(Error::InvalidOption { .. })
        ));
        let bad = SigmoidOptions {
            floor: (1.0, 0.0),
            ..Default::default()
        };
        assert!(matches!(
            fit_sigmoid(&data, &bad),
            Err(Error::InvalidOption { .. })
        ));
    }

    #[test]
    fn estimates_stay_inside_bounds() {
        // Scores above the ceiling bound force the optimum onto the bound.
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let y = [0.1, 0.2, 0.6, 0.95, 0.99, 0.99];
        let opts = SigmoidOptions {
            ceiling: (0.0, 0.8),
            ..Default::default()
        };
        let fit = fit_sigmoid(&SigmoidData::new(&x, &y).unwrap(), &opts).unwrap();
        assert!(
            fit.curve.ceiling <= 0.8 && fit.curve.ceiling > 0.79,
            "{:?}",
            fit.curve
        );
    }
}
