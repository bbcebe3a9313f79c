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

use crate::lbfgs::Objective;
use crate::quality::{huber, huber_grad};

/// Log-transformed data for a K-term law.
#[derive(Debug, Clone)]
pub(crate) struct LogData<const K: usize> {
    pub ln_x: [Vec<f64>; K],
    pub ln_y: Vec<f64>,
}

impl<const K: usize> LogData<K> {
    pub fn len(&self) -> usize {
        self.ln_y.len()
    }

    pub fn subset(&self, idx: &[usize]) -> Self {
        LogData {
            ln_x: std::array::from_fn(|k| idx.iter().map(|&i| self.ln_x[k][i]).collect()),
            ln_y: idx.iter().map(|&i| self.ln_y[i]).collect(),
        }
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

impl<const K: usize> Objective for HuberObjective<'_, K> {
    fn value_grad(&self, p: &[f64], g: &mut [f64]) -> f64 {
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
            // The largest term's weight is exactly 1: skipping its exp saves
            // a third of the transcendental calls of the two-term law.
            let w0 = if e == m { 1.0 } else { (e - m).exp() };
            let mut w = [0.0; K];
            let mut s = w0;
            for k in 0..K {
                w[k] = if t[k] == m { 1.0 } else { (t[k] - m).exp() };
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> LogData<2> {
        LogData {
            ln_x: [vec![18.0, 19.0, 20.0, 21.0], vec![21.0, 22.5, 23.0, 25.0]],
            ln_y: vec![1.2, 1.0, 0.9, 0.8],
        }
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
