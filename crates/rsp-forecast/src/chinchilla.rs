//! The Chinchilla parametric law L(N, D) = E + A/N^α + B/D^β ("Approach 3" of
//! Hoffmann et al. 2022, as re-derived by Besiroglu et al. 2024,
//! arXiv 2404.10102).
//!
//! Fitting follows the replication exactly: log-space residuals through a
//! log-sum-exp (see [`crate::powersum`]), the summed Huber loss with δ = 10⁻³,
//! and L-BFGS from every point of a grid of starts (4,500 by default), run in
//! parallel. The bootstrap refits each resample from the full-data optimum and
//! a few perturbations of it (see [`ChinchillaOptions::bootstrap_offsets`]),
//! which is what makes a thousand refits affordable; the replication started
//! its bootstrap refits from a single point.

use serde::Serialize;

use crate::bootstrap::{self, BootstrapOptions, BootstrapSummary, Estimate};
use crate::error::{Error, Result};
use crate::lbfgs::{self, Config};
use crate::powersum::{HuberObjective, LogData};
use crate::quality::FitQuality;
use crate::validate;

const MODEL: &str = "Chinchilla law";
const PARAMS: usize = 5;

/// Training runs: parameter count N, training tokens D and final loss L.
#[derive(Debug, Clone)]
pub struct ChinchillaData {
    data: LogData<2>,
}

impl ChinchillaData {
    /// Validate and take logs. Every value must be finite and positive, and
    /// N, D and L must each take at least two distinct values.
    pub fn new(params: &[f64], tokens: &[f64], loss: &[f64]) -> Result<Self> {
        validate::same_len("model size", params.len(), "tokens", tokens.len())?;
        validate::same_len("model size", params.len(), "loss", loss.len())?;
        validate::enough(MODEL, PARAMS + 1, params.len())?;
        let ln_n = validate::positive_logs("model size", params)?;
        let ln_d = validate::positive_logs("tokens", tokens)?;
        let ln_l = validate::positive_logs("loss", loss)?;
        validate::not_constant("model size", params)?;
        validate::not_constant("tokens", tokens)?;
        validate::not_constant("loss", loss)?;
        Ok(Self {
            data: LogData::new([ln_n, ln_d], ln_l),
        })
    }

    /// Like [`ChinchillaData::new`] with tokens derived from training compute
    /// as D = C / (6 N), the convention of the Chinchilla data.
    pub fn from_flops(params: &[f64], flops: &[f64], loss: &[f64]) -> Result<Self> {
        validate::same_len("model size", params.len(), "training FLOP", flops.len())?;
        validate::finite("training FLOP", flops)?;
        let tokens: Vec<f64> = flops
            .iter()
            .zip(params)
            .map(|(c, n)| c / (6.0 * n))
            .collect();
        Self::new(params, &tokens, loss)
    }

    /// Drop the `k` highest-loss points (the replication drops 5 outliers),
    /// keeping the others in their original order.
    pub fn drop_highest_losses(&self, k: usize) -> Result<Self> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.sort_by(|&i, &j| self.data.ln_y[i].total_cmp(&self.data.ln_y[j]));
        let mut keep: Vec<usize> = order[..self.len().saturating_sub(k)].to_vec();
        keep.sort_unstable();
        validate::enough(MODEL, PARAMS + 1, keep.len())?;
        Ok(Self {
            data: self.data.subset(&keep),
        })
    }

    /// Number of training runs.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether there are no runs (never true for validated data).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (N, D, L) of every run, for charts and reports.
    pub fn points(&self) -> Vec<(f64, f64, f64)> {
        (0..self.len())
            .map(|i| {
                (
                    self.data.ln_x[0][i].exp(),
                    self.data.ln_x[1][i].exp(),
                    self.data.ln_y[i].exp(),
                )
            })
            .collect()
    }
}

/// Grid of L-BFGS starting points, each axis in the fitting parameterisation:
/// α, β exponents, e = ln E, a = ln A, b = ln B.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StartGrid {
    /// Starting values of α.
    pub alpha: Vec<f64>,
    /// Starting values of β.
    pub beta: Vec<f64>,
    /// Starting values of e = ln E.
    pub e: Vec<f64>,
    /// Starting values of a = ln A.
    pub a: Vec<f64>,
    /// Starting values of b = ln B.
    pub b: Vec<f64>,
}

impl StartGrid {
    /// The replication's grid: α, β ∈ {0, 0.5, …, 2}; e ∈ {−1, −0.5, …, 1};
    /// a, b ∈ {0, 5, …, 25}: 5·5·5·6·6 = 4,500 starts.
    pub fn approach3() -> Self {
        let halves = vec![0.0, 0.5, 1.0, 1.5, 2.0];
        Self {
            alpha: halves.clone(),
            beta: halves,
            e: vec![-1.0, -0.5, 0.0, 0.5, 1.0],
            a: vec![0.0, 5.0, 10.0, 15.0, 20.0, 25.0],
            b: vec![0.0, 5.0, 10.0, 15.0, 20.0, 25.0],
        }
    }

    /// Number of starts.
    pub fn len(&self) -> usize {
        self.alpha.len() * self.beta.len() * self.e.len() * self.a.len() * self.b.len()
    }

    /// Whether the grid is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Starts in internal order [e, a, α, b, β], iterating α, β, e, a, b
    /// (outermost first) like `itertools.product` in the replication.
    fn starts(&self) -> Vec<Vec<f64>> {
        let mut out = Vec::with_capacity(self.len());
        for &al in &self.alpha {
            for &be in &self.beta {
                for &e in &self.e {
                    for &a in &self.a {
                        for &b in &self.b {
                            out.push(vec![e, a, al, b, be]);
                        }
                    }
                }
            }
        }
        out
    }
}

/// How to fit the Chinchilla law.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChinchillaOptions {
    /// Huber threshold δ on log-space residuals (default 10⁻³).
    pub huber_delta: f64,
    /// Starting points of the full-data fit.
    pub grid: StartGrid,
    /// Bootstrap refits start at the full-data optimum plus each of these
    /// offsets, given as (Δa, Δb, Δe, Δα, Δβ) with a = ln A etc.; the best
    /// end point is kept. Default: no offset, (−1, +1, 0, −0.1, +0.1) and
    /// (+1, −1, 0, +0.1, −0.1), which probe both ways along the flat
    /// direction that trades the A term against the B term.
    pub bootstrap_offsets: Vec<[f64; 5]>,
}

impl Default for ChinchillaOptions {
    fn default() -> Self {
        Self {
            huber_delta: 1e-3,
            grid: StartGrid::approach3(),
            bootstrap_offsets: vec![
                [0.0; 5],
                [-1.0, 1.0, 0.0, -0.1, 0.1],
                [1.0, -1.0, 0.0, 0.1, -0.1],
            ],
        }
    }
}

impl ChinchillaOptions {
    fn validate(&self) -> Result<()> {
        if !(self.huber_delta > 0.0 && self.huber_delta.is_finite()) {
            return Err(Error::InvalidOption {
                name: "huber_delta",
                reason: "must be positive and finite",
            });
        }
        if self.grid.is_empty() {
            return Err(Error::InvalidOption {
                name: "grid",
                reason: "has no starting points",
            });
        }
        if self.bootstrap_offsets.is_empty() {
            return Err(Error::InvalidOption {
                name: "bootstrap_offsets",
                reason: "is empty",
            });
        }
        Ok(())
    }
}

/// A fitted law, E, A and B on their natural scale.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChinchillaLaw {
    /// Irreducible loss E.
    pub e: f64,
    /// Coefficient A of the model-size term.
    pub a: f64,
    /// Coefficient B of the data term.
    pub b: f64,
    /// Model-size exponent α.
    pub alpha: f64,
    /// Data exponent β.
    pub beta: f64,
}

/// How compute-optimal N and D grow with compute: N_opt ∝ C^a, D_opt ∝ C^b.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AllocationExponents {
    /// a = β / (α + β).
    pub a: f64,
    /// b = α / (α + β) = 1 − a.
    pub b: f64,
}

/// A compute-optimal split of a FLOP budget C = 6 N D.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Allocation {
    /// Parameters N.
    pub params: f64,
    /// Training tokens D.
    pub tokens: f64,
}

impl ChinchillaLaw {
    fn from_internal(p: &[f64]) -> Self {
        Self {
            e: p[0].exp(),
            a: p[1].exp(),
            alpha: p[2],
            b: p[3].exp(),
            beta: p[4],
        }
    }

    fn internal(&self) -> [f64; 5] {
        [self.e.ln(), self.a.ln(), self.alpha, self.b.ln(), self.beta]
    }

    /// Predicted loss for N parameters trained on D tokens.
    pub fn loss(&self, params: f64, tokens: f64) -> f64 {
        self.e + self.a / params.powf(self.alpha) + self.b / tokens.powf(self.beta)
    }

    /// Allocation exponents; `None` unless α > 0 and β > 0 (otherwise loss
    /// does not fall with scale and there is no optimum).
    pub fn exponents(&self) -> Option<AllocationExponents> {
        (self.alpha > 0.0 && self.beta > 0.0).then(|| {
            let s = self.alpha + self.beta;
            AllocationExponents {
                a: self.beta / s,
                b: self.alpha / s,
            }
        })
    }

    /// Minimise L(N, D) subject to 6 N D = `flops`:
    /// N_opt = G (C/6)^a, D_opt = (C/6)^b / G with G = (αA / βB)^{1/(α+β)}.
    /// `None` when the exponents are not positive or `flops` is not positive.
    pub fn compute_optimal(&self, flops: f64) -> Option<Allocation> {
        let ex = self.exponents()?;
        if !(flops > 0.0 && flops.is_finite()) {
            return None;
        }
        let g = ((self.alpha * self.a) / (self.beta * self.b)).powf(1.0 / (self.alpha + self.beta));
        let c6 = flops / 6.0;
        let out = Allocation {
            params: g * c6.powf(ex.a),
            tokens: c6.powf(ex.b) / g,
        };
        (out.params.is_finite() && out.tokens.is_finite()).then_some(out)
    }
}

/// A full-data fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChinchillaFit {
    /// The best law found.
    pub law: ChinchillaLaw,
    /// Fit diagnostics in log-loss space (with the Huber objective).
    pub quality: FitQuality,
    /// Number of starts tried.
    pub starts: usize,
    /// Number of starts whose L-BFGS run met a convergence test.
    pub converged: usize,
}

fn config() -> Config {
    Config {
        grad_tol: 1e-10,
        f_rel_tol: 1e-13,
        ..Config::default()
    }
}

/// Fit the law by L-BFGS from every start of `opts.grid`, in parallel.
pub fn fit_chinchilla(data: &ChinchillaData, opts: &ChinchillaOptions) -> Result<ChinchillaFit> {
    opts.validate()?;
    let starts = opts.grid.starts();
    let obj = HuberObjective {
        data: &data.data,
        delta: opts.huber_delta,
    };
    let best = lbfgs::best_of(&obj, &starts, &config(), true).ok_or(Error::NoOptimum {
        model: MODEL,
        starts: starts.len(),
    })?;
    let law = ChinchillaLaw::from_internal(&best.min.x);
    if ![law.e, law.a, law.b]
        .iter()
        .all(|v| v.is_finite() && *v > 0.0)
    {
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
    Ok(ChinchillaFit {
        law,
        quality,
        starts: starts.len(),
        converged: best.converged,
    })
}

/// Bootstrap uncertainty of a Chinchilla fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChinchillaUncertainty {
    /// E.
    pub e: Estimate,
    /// A.
    pub a: Estimate,
    /// B.
    pub b: Estimate,
    /// α.
    pub alpha: Estimate,
    /// β.
    pub beta: Estimate,
    /// Allocation exponent a = β/(α+β) of N_opt ∝ C^a.
    pub exponent_params: Estimate,
    /// Allocation exponent b = α/(α+β) of D_opt ∝ C^b.
    pub exponent_tokens: Estimate,
    /// The refitted law of every successful resample.
    pub replicates: Vec<ChinchillaLaw>,
    /// Run bookkeeping.
    pub summary: BootstrapSummary,
}

/// Refit `boot.resamples` resamples of the data (see the module docs for the
/// starting points). Resamples whose best fit has α ≤ 0 or β ≤ 0, or whose
/// N or D column is constant, are counted as failed.
pub fn bootstrap_chinchilla(
    data: &ChinchillaData,
    fit: &ChinchillaFit,
    opts: &ChinchillaOptions,
    boot: &BootstrapOptions,
) -> Result<ChinchillaUncertainty> {
    opts.validate()?;
    let base = fit.law.internal();
    // Offsets are (Δa, Δb, Δe, Δα, Δβ); internal order is [e, a, α, b, β].
    let starts: Vec<Vec<f64>> = opts
        .bootstrap_offsets
        .iter()
        .map(|o| {
            vec![
                base[0] + o[2],
                base[1] + o[0],
                base[2] + o[3],
                base[3] + o[1],
                base[4] + o[4],
            ]
        })
        .collect();
    let cfg = config();
    let (reps, summary) = bootstrap::run(MODEL, data.len(), boot, |idx| {
        let sub = data.data.subset(idx);
        if !sub.identifiable() {
            return None;
        }
        let obj = HuberObjective {
            data: &sub,
            delta: opts.huber_delta,
        };
        let best = lbfgs::best_of(&obj, &starts, &cfg, false)?;
        let law = ChinchillaLaw::from_internal(&best.min.x);
        let ok = law.exponents().is_some() && [law.e, law.a, law.b].iter().all(|v| v.is_finite());
        ok.then_some(law)
    })?;
    let level = boot.level;
    let col = |f: fn(&ChinchillaLaw) -> f64| reps.iter().map(f).collect::<Vec<f64>>();
    let ex = fit.law.exponents();
    let exp_col = |tokens: bool| -> Vec<f64> {
        reps.iter()
            .filter_map(ChinchillaLaw::exponents)
            .map(|x| if tokens { x.b } else { x.a })
            .collect()
    };
    Ok(ChinchillaUncertainty {
        e: bootstrap::estimate(fit.law.e, col(|l| l.e), level),
        a: bootstrap::estimate(fit.law.a, col(|l| l.a), level),
        b: bootstrap::estimate(fit.law.b, col(|l| l.b), level),
        alpha: bootstrap::estimate(fit.law.alpha, col(|l| l.alpha), level),
        beta: bootstrap::estimate(fit.law.beta, col(|l| l.beta), level),
        exponent_params: bootstrap::estimate(ex.map_or(f64::NAN, |x| x.a), exp_col(false), level),
        exponent_tokens: bootstrap::estimate(ex.map_or(f64::NAN, |x| x.b), exp_col(true), level),
        replicates: reps,
        summary,
    })
}

impl ChinchillaUncertainty {
    /// Compute-optimal N and D at `flops` with bootstrap intervals; `None`
    /// if the full-data law has no optimum (non-positive exponents).
    pub fn compute_optimal(
        &self,
        point: &ChinchillaLaw,
        flops: f64,
    ) -> Option<(Estimate, Estimate)> {
        let at = point.compute_optimal(flops)?;
        let reps: Vec<Allocation> = self
            .replicates
            .iter()
            .filter_map(|l| l.compute_optimal(flops))
            .collect();
        let level = self.summary.level;
        Some((
            bootstrap::estimate(at.params, reps.iter().map(|a| a.params).collect(), level),
            bootstrap::estimate(at.tokens, reps.iter().map(|a| a.tokens).collect(), level),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAW: ChinchillaLaw = ChinchillaLaw {
        e: 1.8,
        a: 480.0,
        b: 2100.0,
        alpha: 0.35,
        beta: 0.37,
    };

    #[test]
    fn compute_optimal_minimises_loss_on_the_budget() {
        let c = 1e22;
        let opt = LAW.compute_optimal(c).unwrap();
        assert!((6.0 * opt.params * opt.tokens / c - 1.0).abs() < 1e-9);
        let best = LAW.loss(opt.params, opt.tokens);
        for f in [0.8, 0.95, 1.05, 1.25] {
            let n = opt.params * f;
            assert!(LAW.loss(n, c / (6.0 * n)) > best);
        }
    }

    #[test]
    fn exponents_sum_to_one_and_need_positive_scaling() {
        let ex = LAW.exponents().unwrap();
        assert!((ex.a + ex.b - 1.0).abs() < 1e-15);
        assert!((ex.a - 0.37 / 0.72).abs() < 1e-15);
        assert!(ChinchillaLaw { alpha: -0.1, ..LAW }.exponents().is_none());
        assert!(LAW.compute_optimal(-1.0).is_none());
    }

    #[test]
    fn degenerate_inputs_are_typed_errors() {
        let n = [1e8, 2e8, 4e8, 8e8, 1.6e9, 3.2e9];
        let d = [1e9, 3e9, 2e9, 5e9, 4e9, 9e9];
        let l = [3.0, 2.9, 2.8, 2.7, 2.6, 2.5];
        assert!(ChinchillaData::new(&n, &d, &l).is_ok());
        assert!(matches!(
            ChinchillaData::new(&n[..5], &d[..5], &l[..5]),
            Err(Error::TooFewPoints { needed: 6, .. })
        ));
        assert!(matches!(
            ChinchillaData::new(&n, &d, &[2.0; 6]),
            Err(Error::Constant { what: "loss", .. })
        ));
        assert!(matches!(
            ChinchillaData::new(&[1e8; 6], &d, &l),
            Err(Error::Constant {
                what: "model size",
                ..
            })
        ));
        let mut bad = l;
        bad[2] = 0.0;
        assert!(matches!(
            ChinchillaData::new(&n, &d, &bad),
            Err(Error::NonPositive {
                what: "loss",
                index: 2,
                ..
            })
        ));
        bad[2] = f64::NAN;
        assert!(matches!(
            ChinchillaData::new(&n, &d, &bad),
            Err(Error::NonFinite { index: 2, .. })
        ));
        assert!(matches!(
            ChinchillaData::new(&n, &d[..4], &l),
            Err(Error::LengthMismatch { .. })
        ));
        let opts = ChinchillaOptions {
            huber_delta: 0.0,
            ..Default::default()
        };
        let data = ChinchillaData::new(&n, &d, &l).unwrap();
        assert!(matches!(
            fit_chinchilla(&data, &opts),
            Err(Error::InvalidOption { .. })
        ));
    }

    #[test]
    fn drop_highest_losses_keeps_order() {
        let n = [1e8, 2e8, 4e8, 8e8, 1.6e9, 3.2e9, 6.4e9];
        let d = [1e9, 3e9, 2e9, 5e9, 4e9, 9e9, 8e9];
        let l = [3.0, 4.0, 2.8, 2.7, 5.0, 2.5, 2.4];
        let data = ChinchillaData::new(&n, &d, &l)
            .unwrap()
            .drop_highest_losses(1)
            .unwrap();
        let losses: Vec<f64> = data
            .points()
            .iter()
            .map(|p| (p.2 * 1e9).round() / 1e9)
            .collect();
        assert_eq!(losses, vec![3.0, 4.0, 2.8, 2.7, 2.5, 2.4]);
        assert!(data.drop_highest_losses(1).is_err());
    }

    #[test]
    fn grid_has_4500_starts_in_product_order() {
        let g = StartGrid::approach3();
        assert_eq!(g.len(), 4500);
        let s = g.starts();
        assert_eq!(s[0], vec![-1.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(s[1], vec![-1.0, 0.0, 0.0, 5.0, 0.0]);
        assert_eq!(s[4499], vec![1.0, 25.0, 2.0, 25.0, 2.0]);
    }

    #[test]
    fn noiseless_synthetic_law_is_recovered() {
        let mut n = vec![];
        let mut d = vec![];
        for i in 0..8 {
            for j in 0..6 {
                n.push(1e8 * 2f64.powi(i));
                d.push(1e9 * 3f64.powi(j));
            }
        }
        let l: Vec<f64> = n.iter().zip(&d).map(|(n, d)| LAW.loss(*n, *d)).collect();
        let data = ChinchillaData::new(&n, &d, &l).unwrap();
        let fit = fit_chinchilla(&data, &ChinchillaOptions::default()).unwrap();
        assert!((fit.law.alpha - LAW.alpha).abs() < 1e-4, "{:?}", fit.law);
        assert!((fit.law.beta - LAW.beta).abs() < 1e-4, "{:?}", fit.law);
        assert!((fit.law.e / LAW.e - 1.0).abs() < 1e-4, "{:?}", fit.law);
        assert!(fit.quality.rmse < 1e-6);
    }
}
