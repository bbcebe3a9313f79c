//! Loss as a power law in training compute, L(C) = E + A · C^−α.
//!
//! Fitted exactly like the Chinchilla law (log-space LSE residuals, summed
//! Huber loss, L-BFGS from a grid of starts; see [`crate::powersum`]) so the
//! two are comparable; with one term the grid is e ∈ {−1, …, 1},
//! a ∈ {0, 5, …, 25} (a = ln A), α ∈ {0, 0.5, …, 2}: 150 starts. Bootstrap
//! refits start at the full-data optimum and two perturbations of it.
//! Compute is in FLOP; A absorbs the unit, so α is unit-free.

use serde::Serialize;

use crate::bootstrap::{self, BootstrapOptions, BootstrapSummary, Estimate};
use crate::crossing::{Crossing, Curve};
use crate::error::{Error, Result};
use crate::lbfgs::{self, Config};
use crate::powersum::{HuberObjective, LogData};
use crate::quality::FitQuality;
use crate::validate;

const MODEL: &str = "compute law";

/// (compute, loss) points.
#[derive(Debug, Clone)]
pub struct ComputeLawData {
    data: LogData<1>,
}

impl ComputeLawData {
    /// Validate: equal lengths, at least four points, all finite and
    /// positive, neither column constant.
    pub fn new(compute: &[f64], loss: &[f64]) -> Result<Self> {
        validate::same_len("compute", compute.len(), "loss", loss.len())?;
        validate::enough(MODEL, 4, compute.len())?;
        let ln_c = validate::positive_logs("compute", compute)?;
        let ln_l = validate::positive_logs("loss", loss)?;
        validate::not_constant("compute", compute)?;
        validate::not_constant("loss", loss)?;
        Ok(Self {
            data: LogData::new([ln_c], ln_l),
        })
    }

    /// (compute, loss) pairs.
    pub fn points(&self) -> Vec<(f64, f64)> {
        self.data.ln_x[0]
            .iter()
            .zip(&self.data.ln_y)
            .map(|(c, l)| (c.exp(), l.exp()))
            .collect()
    }
}

/// Options of the compute-law fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ComputeLawOptions {
    /// Huber threshold on log-space residuals.
    pub huber_delta: f64,
}

impl Default for ComputeLawOptions {
    fn default() -> Self {
        Self { huber_delta: 1e-3 }
    }
}

/// A fitted compute law.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ComputeLaw {
    /// Irreducible loss E.
    pub e: f64,
    /// Coefficient A.
    pub a: f64,
    /// Exponent α.
    pub alpha: f64,
}

impl ComputeLaw {
    fn from_internal(p: &[f64]) -> Self {
        Self {
            e: p[0].exp(),
            a: p[1].exp(),
            alpha: p[2],
        }
    }
}

impl Curve for ComputeLaw {
    fn value(&self, compute: f64) -> f64 {
        self.e + self.a * compute.powf(-self.alpha)
    }

    /// Falling direction: the compute from which loss stays ≤ threshold.
    fn crossing(&self, threshold: f64) -> Crossing {
        if threshold <= self.e || self.alpha <= 0.0 {
            // Loss never gets below E, and does not fall without α > 0.
            return if self.alpha <= 0.0 && self.value(1.0) <= threshold {
                Crossing::Always
            } else {
                Crossing::Never
            };
        }
        let c = ((threshold - self.e) / self.a).powf(-1.0 / self.alpha);
        if c.is_finite() {
            Crossing::At(c)
        } else {
            Crossing::Never
        }
    }
}

/// A compute-law fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComputeLawFit {
    /// The fitted law.
    pub law: ComputeLaw,
    /// Diagnostics in log-loss space.
    pub quality: FitQuality,
    /// Starts tried.
    pub starts: usize,
    /// Starts that converged.
    pub converged: usize,
}

fn grid() -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    for alpha in [0.0, 0.5, 1.0, 1.5, 2.0] {
        for e in [-1.0, -0.5, 0.0, 0.5, 1.0] {
            for a in [0.0, 5.0, 10.0, 15.0, 20.0, 25.0] {
                out.push(vec![e, a, alpha]);
            }
        }
    }
    out
}

fn config() -> Config {
    Config {
        grad_tol: 1e-10,
        f_rel_tol: 1e-13,
        ..Config::default()
    }
}

fn check(opts: &ComputeLawOptions) -> Result<()> {
    if opts.huber_delta > 0.0 && opts.huber_delta.is_finite() {
        Ok(())
    } else {
        Err(Error::InvalidOption {
            name: "huber_delta",
            reason: "must be positive and finite",
        })
    }
}

/// Fit L(C) = E + A C^−α.
pub fn fit_compute_law(data: &ComputeLawData, opts: &ComputeLawOptions) -> Result<ComputeLawFit> {
    check(opts)?;
    let starts = grid();
    let obj = HuberObjective {
        data: &data.data,
        delta: opts.huber_delta,
    };
    let best = lbfgs::best_of(&obj, &starts, &config(), true).ok_or(Error::NoOptimum {
        model: MODEL,
        starts: starts.len(),
    })?;
    let law = ComputeLaw::from_internal(&best.min.x);
    if !(law.e.is_finite() && law.a.is_finite()) {
        return Err(Error::NoOptimum {
            model: MODEL,
            starts: starts.len(),
        });
    }
    let quality = FitQuality::new(
        &data.data.ln_y,
        obj.residuals(&best.min.x),
        Some(best.min.f),
    );
    Ok(ComputeLawFit {
        law,
        quality,
        starts: starts.len(),
        converged: best.converged,
    })
}

/// Bootstrap uncertainty of a compute law.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComputeLawUncertainty {
    /// E.
    pub e: Estimate,
    /// A.
    pub a: Estimate,
    /// α.
    pub alpha: Estimate,
    /// Refitted laws.
    pub replicates: Vec<ComputeLaw>,
    /// Run bookkeeping.
    pub summary: BootstrapSummary,
}

/// Refit resamples from the optimum and (Δa, Δα) = ±(1, 0.1).
pub fn bootstrap_compute_law(
    data: &ComputeLawData,
    fit: &ComputeLawFit,
    opts: &ComputeLawOptions,
    boot: &BootstrapOptions,
) -> Result<ComputeLawUncertainty> {
    check(opts)?;
    let l = fit.law;
    let base = [l.e.ln(), l.a.ln(), l.alpha];
    let starts: Vec<Vec<f64>> = [0.0, -1.0, 1.0]
        .iter()
        .map(|d| vec![base[0], base[1] + d, base[2] + 0.1 * d])
        .collect();
    let cfg = config();
    let (reps, summary) = bootstrap::run(MODEL, data.data.len(), boot, |idx| {
        let sub = data.data.subset(idx);
        if !sub.identifiable() {
            return None;
        }
        let obj = HuberObjective {
            data: &sub,
            delta: opts.huber_delta,
        };
        let best = lbfgs::best_of(&obj, &starts, &cfg, false)?;
        let law = ComputeLaw::from_internal(&best.min.x);
        (law.e.is_finite() && law.a.is_finite()).then_some(law)
    })?;
    let col = |f: fn(&ComputeLaw) -> f64| reps.iter().map(f).collect::<Vec<f64>>();
    Ok(ComputeLawUncertainty {
        e: bootstrap::estimate(l.e, col(|x| x.e), boot.level),
        a: bootstrap::estimate(l.a, col(|x| x.a), boot.level),
        alpha: bootstrap::estimate(l.alpha, col(|x| x.alpha), boot.level),
        replicates: reps,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAW: ComputeLaw = ComputeLaw {
        e: 1.7,
        a: 30.0,
        alpha: 0.07,
    };

    #[test]
    fn noiseless_law_is_recovered_and_crossing_inverts_it() {
        let c: Vec<f64> = (0..12).map(|i| 1e18 * 4f64.powi(i)).collect();
        let l: Vec<f64> = c.iter().map(|&c| LAW.value(c)).collect();
        let fit = fit_compute_law(
            &ComputeLawData::new(&c, &l).unwrap(),
            &ComputeLawOptions::default(),
        )
        .unwrap();
        assert!((fit.law.alpha - 0.07).abs() < 1e-4, "{:?}", fit.law);
        assert!((fit.law.e - 1.7).abs() < 1e-3, "{:?}", fit.law);
        match LAW.crossing(LAW.value(1e24)) {
            Crossing::At(x) => assert!((x / 1e24 - 1.0).abs() < 1e-9),
            other => panic!("{other:?}"),
        }
        assert_eq!(LAW.crossing(1.6), Crossing::Never);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(matches!(
            ComputeLawData::new(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]),
            Err(Error::TooFewPoints { .. })
        ));
        assert!(matches!(
            ComputeLawData::new(&[1.0, 2.0, 0.0, 4.0], &[3.0; 4]),
            Err(Error::NonPositive { .. })
        ));
        assert!(matches!(
            ComputeLawData::new(&[1.0, 2.0, 3.0, 4.0], &[3.0; 4]),
            Err(Error::Constant { .. })
        ));
    }
}
