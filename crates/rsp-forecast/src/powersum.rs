//! The log-space "sum of power laws" objective shared by the Chinchilla law
//! (two terms, N and D) and the compute law (one term, C).
//!
//! With parameters p = [e, a₁, α₁, …, a_K, α_K] the model is
//! log L̂ = LSE(e, a₁ − α₁ ln x₁, …, a_K − α_K ln x_K), i.e.
//! L̂ = E + Σ A_k / x_k^α_k with E = eᵉ and A_k = e^{a_k}. Fitting in log space
//! with a log-sum-exp keeps every term positive without constraints and makes
//! the residuals relative errors, which is what Hoffmann et al. (2022) and the
//! Besiroglu et al. (2024) replication do. The objective is the *sum* (not the
//! mean) of Huber losses: with δ = 10⁻³ a mean makes the gradient so small that
//! L-BFGS's tolerances stop it early, which is the replication's main finding.
//!
//! The gradient is analytic: with weights w_j = softmax(terms) and
//! ψ = Huber'(residual), ∂/∂e = ψ w₀, ∂/∂a_k = ψ w_k, ∂/∂α_k = −ψ w_k ln x_k.
//!
//! # Evaluation cost
//!
//! The Chinchilla benchmark evaluates this objective about a million times,
//! so [`HuberObjective::value_grad`] is written for speed, computing the same
//! function:
//! - the log-sum-exp is shifted by one constant per evaluation,
//!   c = max(e, max over points of every term), found in O(1) from the cached
//!   range of each ln x_k (a term is monotone in ln x_k), instead of by each
//!   point's own maximum. e^{e−c} is then one exponential per evaluation, so a
//!   point costs K exponentials and one logarithm, and the loop has no
//!   data-dependent branches;
//! - points are processed in blocks of [`LANES`] with per-lane accumulators,
//!   value, Huber loss and gradient in one pass, using the branch-free
//!   [`crate::fastmath`] functions, so the compiler emits SIMD code, and
//!   that pass is compiled for AVX-512, AVX2 + FMA and the baseline and
//!   picked at run time from the CPU's features (`block_sums`);
//! - if a point's shifted sum is below 10⁻²⁹⁰ (its terms are all ~700 e-folds
//!   below the largest term of another point, which happens only at wild
//!   line-search trial points) or anything is not finite, the evaluation is
//!   redone with each point's own maximum and libm (`value_grad_stable`).

use multiversion::multiversion;

use crate::fastmath::{exp_nonpos, ln_normal};
use crate::lanes::{F64v, LANES};
use crate::lbfgs::Objective;
use crate::quality::{huber, huber_grad};

/// Log-transformed data for a K-term law.
#[derive(Debug, Clone)]
pub(crate) struct LogData<const K: usize> {
    pub ln_x: [Vec<f64>; K],
    pub ln_y: Vec<f64>,
    /// (min, max) of each `ln_x[k]`, for the evaluation's shift.
    range: [(f64, f64); K],
    /// The same points in blocks of [`LANES`], the last padded with copies
    /// of the final point at weight zero, laid out as the vectorised loop
    /// reads them.
    blocks: Vec<Block<K>>,
}

/// [`LANES`] points: predictors, response and weight (1, or 0 for padding).
#[derive(Debug, Clone, Copy)]
struct Block<const K: usize> {
    x: [F64v; K],
    y: F64v,
    live: F64v,
}

/// A shifted sum below this means the shift was too coarse for some point.
const MIN_SHIFTED_SUM: f64 = 1e-290;

impl<const K: usize> LogData<K> {
    /// `ln_x[k]` and `ln_y` must have the same, non-zero length.
    pub fn new(ln_x: [Vec<f64>; K], ln_y: Vec<f64>) -> Self {
        debug_assert!(ln_x.iter().all(|c| c.len() == ln_y.len()));
        let range = std::array::from_fn(|k| {
            ln_x[k]
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                    (lo.min(v), hi.max(v))
                })
        });
        let n = ln_y.len();
        let blocks = (0..n.div_ceil(LANES))
            .map(|b| {
                let at = |l: usize| (b * LANES + l).min(n - 1);
                let lanes = |col: &[f64]| F64v(std::array::from_fn(|l| col[at(l)]));
                Block {
                    x: std::array::from_fn(|k| lanes(&ln_x[k])),
                    y: lanes(&ln_y),
                    live: F64v(std::array::from_fn(|l| {
                        if b * LANES + l < n { 1.0 } else { 0.0 }
                    })),
                }
            })
            .collect();
        Self {
            ln_x,
            ln_y,
            range,
            blocks,
        }
    }

    pub fn len(&self) -> usize {
        self.ln_y.len()
    }

    pub fn subset(&self, idx: &[usize]) -> Self {
        LogData::new(
            std::array::from_fn(|k| idx.iter().map(|&i| self.ln_x[k][i]).collect()),
            idx.iter().map(|&i| self.ln_y[i]).collect(),
        )
    }

    /// Whether every predictor has at least two distinct values (else its
    /// exponent is not identifiable).
    pub fn identifiable(&self) -> bool {
        self.ln_x.iter().all(|col| col.iter().any(|&v| v != col[0]))
    }
}

/// log L̂ at one point.
pub(crate) fn predict_ln<const K: usize>(p: &[f64], ln_x: [f64; K]) -> f64 {
    let mut t = [0.0; K];
    let mut m = p[0];
    for k in 0..K {
        t[k] = p[1 + 2 * k] - p[2 + 2 * k] * ln_x[k];
        m = m.max(t[k]);
    }
    let mut s = (p[0] - m).exp();
    for tk in t {
        s += (tk - m).exp();
    }
    m + s.ln()
}

/// Summed Huber loss of log-space residuals.
pub(crate) struct HuberObjective<'a, const K: usize> {
    pub data: &'a LogData<K>,
    pub delta: f64,
}

impl<const K: usize> HuberObjective<'_, K> {
    /// Residuals (fitted − observed) in log space.
    pub fn residuals(&self, p: &[f64]) -> Vec<f64> {
        (0..self.data.len())
            .map(|i| {
                predict_ln::<K>(p, std::array::from_fn(|k| self.data.ln_x[k][i]))
                    - self.data.ln_y[i]
            })
            .collect()
    }
}

impl<const K: usize> HuberObjective<'_, K> {
    /// The reference evaluation: each point's log-sum-exp shifted by its own
    /// largest term, libm `exp`/`ln`. Robust for any finite parameters.
    fn value_grad_stable(&self, p: &[f64], g: &mut [f64]) -> f64 {
        g.fill(0.0);
        let e = p[0];
        let mut f = 0.0;
        for (i, &y) in self.data.ln_y.iter().enumerate() {
            let mut t = [0.0; K];
            let mut m = e;
            for k in 0..K {
                t[k] = p[1 + 2 * k] - p[2 + 2 * k] * self.data.ln_x[k][i];
                m = m.max(t[k]);
            }
            let w0 = (e - m).exp();
            let mut w = [0.0; K];
            let mut s = w0;
            for k in 0..K {
                w[k] = (t[k] - m).exp();
                s += w[k];
            }
            let r = m + s.ln() - y;
            f += huber(r, self.delta);
            let psi = huber_grad(r, self.delta) / s;
            g[0] += psi * w0;
            for k in 0..K {
                let pw = psi * w[k];
                g[1 + 2 * k] += pw;
                g[2 + 2 * k] -= pw * self.data.ln_x[k][i];
            }
        }
        f
    }

    /// The fast evaluation (see the module docs); `None` when a point's
    /// shifted sum is too small or not finite, so the caller falls back.
    fn value_grad_fast(&self, p: &[f64], g: &mut [f64]) -> Option<f64> {
        let e = p[0];
        let a: [f64; K] = std::array::from_fn(|k| p[1 + 2 * k]);
        let al: [f64; K] = std::array::from_fn(|k| p[2 + 2 * k]);
        // The largest value of every term over the data: a term a − α ln x
        // is largest at the smallest ln x when α ≥ 0, else at the largest.
        // Computed with the loop's own expression, so t − c ≤ 0 exactly.
        let mut c = e;
        for k in 0..K {
            let (lo, hi) = self.data.range[k];
            let at = if al[k] >= 0.0 { lo } else { hi };
            c = c.max(a[k] - al[k] * at);
        }
        if !c.is_finite() {
            return None;
        }
        let w0 = exp_nonpos(F64v::splat(e - c)).0[0];
        let sums = block_sums::<K>(&self.data.blocks, a, al, c, w0, self.delta);
        g[0] = w0 * sums.g0;
        for k in 0..K {
            g[1 + 2 * k] = sums.ga[k];
            g[2 + 2 * k] = sums.gal[k];
        }
        let f = sums.f;
        (f.is_finite() && g.iter().all(|v| v.is_finite())).then_some(f)
    }
}

/// The lane-summed results of [`block_sums`]: the objective and the gradient
/// before the final scaling of ∂/∂e by e^{e−c}.
#[derive(Debug, Clone, Copy, PartialEq)]
struct BlockSums<const K: usize> {
    f: f64,
    g0: f64,
    ga: [f64; K],
    gal: [f64; K],
}

/// The fast evaluation's pass over the blocks ([`block_sums_lanes`]),
/// compiled three times and chosen once per process from the CPU's features.
///
/// `multiversion` emits an AVX-512 clone, an AVX2 + FMA clone (the x86-64-v3
/// level: 4-wide f64 and 64-bit integer lanes for the bit manipulations of
/// `exp`/`ln`) and the baseline one (SSE2 on x86-64), and a dispatcher that
/// detects the features on the first call and caches the choice in an atomic
/// (one load per evaluation after that). The checked call into a
/// `#[target_feature]` clone is inside that crate's macro, so this crate
/// stays free of `unsafe`. `multiversion` adds Ice Lake's AVX-512
/// extensions (VBMI2, GFNI, …) to any AVX-512 target, so CPUs that lower
/// their clock under AVX-512 (Skylake-SP, Cascade Lake) take the AVX2 clone.
///
/// The body is a call to an `#[inline(always)]` function whose arithmetic
/// (the [`F64v`] operators, [`exp_nonpos`], [`ln_normal`]) is all
/// `#[inline(always)]` too, so all of it is compiled inside each clone with
/// that clone's instructions; a helper that was not inlined would run
/// baseline code. The clones give bitwise-identical results (a test checks
/// the one the running CPU selects against the baseline code): Rust
/// never contracts `a * b + c` into a fused multiply-add on its own, so FMA
/// only makes the target match x86-64-v3 and changes no rounding, and every
/// lane operation is the scalar IEEE operation whatever the vector width.
#[multiversion(targets("x86_64+avx512f+avx512dq+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn block_sums<const K: usize>(
    blocks: &[Block<K>],
    a: [f64; K],
    al: [f64; K],
    c: f64,
    w0: f64,
    delta: f64,
) -> BlockSums<K> {
    block_sums_lanes(blocks, a, al, c, w0, delta)
}

/// The pass itself, with the shift `c` and `w0 = e^{e−c}` already computed.
#[inline(always)]
fn block_sums_lanes<const K: usize>(
    blocks: &[Block<K>],
    a: [f64; K],
    al: [f64; K],
    c: f64,
    w0: f64,
    delta: f64,
) -> BlockSums<K> {
    let neg_delta = F64v::splat(-delta);
    let delta = F64v::splat(delta);
    let tiny = F64v::splat(MIN_SHIFTED_SUM);

    let mut f = F64v::splat(0.0);
    let mut g0 = F64v::splat(0.0);
    let mut ga = [F64v::splat(0.0); K];
    let mut gal = [F64v::splat(0.0); K];
    for &Block { x, y, live } in blocks {
        let mut w = [F64v::splat(0.0); K];
        let mut s = F64v::splat(w0);
        for k in 0..K {
            w[k] = exp_nonpos(a[k] - al[k] * x[k] - c);
            s += w[k];
        }
        // A sum too small for `ln_normal` becomes NaN, which poisons
        // ψ/s and so the gradient, and the caller falls back (padding
        // lanes copy a real point, so they are flagged with it).
        let s = s.ge(tiny).select(s, F64v::splat(f64::NAN));
        let r = c + ln_normal(s) - y;
        // ψ = Huber'(r) = r clamped to ±δ; Huber(r) = ψ·(r − ψ/2).
        let psi = r
            .gt(delta)
            .select(delta, r.lt(neg_delta).select(neg_delta, r));
        f += live * (psi * (r - 0.5 * psi));
        let q = live * (psi / s);
        g0 += q;
        for k in 0..K {
            let qw = q * w[k];
            ga[k] += qw;
            gal[k] -= qw * x[k];
        }
    }
    BlockSums {
        f: f.sum(),
        g0: g0.sum(),
        ga: std::array::from_fn(|k| ga[k].sum()),
        gal: std::array::from_fn(|k| gal[k].sum()),
    }
}

impl<const K: usize> Objective for HuberObjective<'_, K> {
    fn value_grad(&self, p: &[f64], g: &mut [f64]) -> f64 {
        if let Some(f) = self.value_grad_fast(p, g) {
            return f;
        }
        self.value_grad_stable(p, g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> LogData<2> {
        LogData::new(
            [vec![18.0, 19.0, 20.0, 21.0], vec![21.0, 22.5, 23.0, 25.0]],
            vec![1.2, 1.0, 0.9, 0.8],
        )
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let d = data();
        for delta in [1e-3, 10.0] {
            let obj = HuberObjective { data: &d, delta };
            let p = [0.5, 6.0, 0.3, 7.0, 0.35];
            let mut g = [0.0; 5];
            obj.value_grad(&p, &mut g);
            for j in 0..5 {
                let h = 1e-7;
                let (mut pp, mut pm) = (p, p);
                pp[j] += h;
                pm[j] -= h;
                let mut scratch = [0.0; 5];
                let fd = (obj.value_grad(&pp, &mut scratch) - obj.value_grad(&pm, &mut scratch))
                    / (2.0 * h);
                assert!(
                    (fd - g[j]).abs() <= 1e-6 * (1.0 + fd.abs()),
                    "j={j} fd={fd} g={}",
                    g[j]
                );
            }
        }
    }

    /// The fast evaluation computes the same function as the stable one, to
    /// rounding, across the parameter ranges the grid starts from.
    #[test]
    fn fast_evaluation_matches_the_stable_one() {
        let ln_n: Vec<f64> = (0..37).map(|i| 17.0 + 0.15 * i as f64).collect();
        let ln_d: Vec<f64> = (0..37)
            .map(|i| 20.0 + 0.17 * ((i * 7) % 37) as f64)
            .collect();
        let ln_y: Vec<f64> = (0..37)
            .map(|i| 0.6 + 0.02 * ((i * 5) % 37) as f64)
            .collect();
        let d = LogData::new([ln_n, ln_d], ln_y);
        let obj = HuberObjective {
            data: &d,
            delta: 1e-3,
        };
        let mut checked = 0;
        for e in [-1.0, 0.0, 0.6, 1.0] {
            for a in [0.0, 6.2, 15.0, 25.0] {
                for al in [0.0, 0.35, 1.0, 2.0, -0.3] {
                    let p = [e, a, al, 7.5, 0.37];
                    let (mut gf, mut gs) = ([0.0; 5], [0.0; 5]);
                    let ff = obj.value_grad_fast(&p, &mut gf).unwrap();
                    let fs = obj.value_grad_stable(&p, &mut gs);
                    assert!((ff - fs).abs() <= 1e-12 * fs.abs(), "{p:?}: {ff} vs {fs}");
                    let scale = gs.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
                    for j in 0..5 {
                        assert!(
                            (gf[j] - gs[j]).abs() <= 1e-12 * scale,
                            "{p:?} g{j}: {gf:?} vs {gs:?}"
                        );
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 80);
    }

    /// When the only live term spans 900 e-folds across the data, the common
    /// shift underflows the sum of some points: the fast path declines and
    /// the stable one answers.
    #[test]
    fn extreme_exponents_fall_back_to_the_stable_evaluation() {
        let d = data();
        let obj = HuberObjective {
            data: &d,
            delta: 1e-3,
        };
        let p = [-9000.0, 6.0, 300.0, -9000.0, 0.0];
        let mut g = [0.0; 5];
        assert!(obj.value_grad_fast(&p, &mut g).is_none());
        let mut gs = [0.0; 5];
        let want = obj.value_grad_stable(&p, &mut gs);
        assert!(want.is_finite());
        assert_eq!(obj.value_grad(&p, &mut g), want);
        assert_eq!(g, gs);
        // Non-finite parameters also take the stable path (and stay non-finite).
        assert!(
            obj.value_grad_fast(&[f64::NAN, 6.0, 0.3, 7.0, 0.35], &mut g)
                .is_none()
        );
    }

    /// The dispatched kernel (the AVX-512 or AVX2 + FMA clone on a CPU that
    /// has them) and the baseline code give bitwise-identical sums, so the optimum
    /// and the bootstrap do not depend on the machine.
    #[test]
    fn dispatched_kernel_matches_the_baseline_bitwise() {
        let ln_n: Vec<f64> = (0..53).map(|i| 17.0 + 0.11 * i as f64).collect();
        let ln_d: Vec<f64> = (0..53)
            .map(|i| 20.0 + 0.13 * ((i * 11) % 53) as f64)
            .collect();
        let ln_y: Vec<f64> = (0..53)
            .map(|i| 0.6 + 0.015 * ((i * 7) % 53) as f64)
            .collect();
        let d = LogData::new([ln_n, ln_d], ln_y);
        for (a, al, c) in [
            ([6.2, 7.5], [0.35, 0.37], 1.0),
            ([15.0, 25.0], [1.0, 2.0], 0.0),
            ([0.0, 7.5], [-0.3, 0.37], 7.0),
        ] {
            for delta in [1e-3, 10.0] {
                let got = block_sums::<2>(&d.blocks, a, al, c, 0.25, delta);
                let want = block_sums_lanes::<2>(&d.blocks, a, al, c, 0.25, delta);
                let bits = |s: BlockSums<2>| {
                    [s.f, s.g0, s.ga[0], s.ga[1], s.gal[0], s.gal[1]].map(f64::to_bits)
                };
                assert!(got.f.is_finite() && got.f > 0.0, "{got:?}");
                assert_eq!(bits(got), bits(want), "{a:?} {al:?} {c} {delta}");
            }
        }
    }

    #[test]
    fn prediction_is_sum_of_terms() {
        let p = [0.5_f64, 6.0, 0.3, 7.0, 0.35];
        let (ln_n, ln_d) = (20.0_f64, 23.0_f64);
        let direct = p[0].exp() + (p[1] - p[2] * ln_n).exp() + (p[3] - p[4] * ln_d).exp();
        assert!((predict_ln::<2>(&p, [ln_n, ln_d]) - direct.ln()).abs() < 1e-12);
        // Huge terms do not overflow thanks to the max shift.
        assert!(predict_ln::<2>(&[0.0, 800.0, -10.0, 0.0, 0.0], [25.0, 25.0]).is_finite());
    }

    #[test]
    fn identifiability_needs_two_distinct_values_per_predictor() {
        let mut d = data();
        assert!(d.identifiable());
        d.ln_x[1] = vec![3.0; 4];
        assert!(!d.identifiable());
        assert_eq!(d.subset(&[0, 0, 3]).ln_y, vec![1.2, 1.2, 0.8]);
    }
}
