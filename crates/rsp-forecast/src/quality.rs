//! Goodness of fit, reported for every fit in the space the fit minimises.
//!
//! The scaling laws are fitted to log loss, so their residuals, RMSE and R²
//! are in natural-log units; the sigmoid in score units; the time trend in
//! ln(value). Reporting them in the fitting space keeps R² honest (it measures
//! what the optimiser actually explained).

use serde::Serialize;

/// Residual diagnostics of one fit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FitQuality {
    /// Number of points fitted.
    pub n: usize,
    /// Root mean squared residual.
    pub rmse: f64,
    /// Coefficient of determination, 1 − SS_res / SS_tot; `None` when the
    /// response has zero variance (R² is undefined).
    pub r_squared: Option<f64>,
    /// The minimised Huber objective (sum over points), for Huber fits.
    pub huber_objective: Option<f64>,
    /// Residuals (fitted − observed), in input order.
    pub residuals: Vec<f64>,
}

impl FitQuality {
    /// Diagnostics from observed values and residuals `fitted − observed`.
    pub(crate) fn new(observed: &[f64], residuals: Vec<f64>, huber_objective: Option<f64>) -> Self {
        let n = residuals.len();
        let ss_res: f64 = residuals.iter().map(|r| r * r).sum();
        let mean = observed.iter().sum::<f64>() / observed.len().max(1) as f64;
        let ss_tot: f64 = observed.iter().map(|y| (y - mean).powi(2)).sum();
        let r_squared = (ss_tot > 0.0).then(|| 1.0 - ss_res / ss_tot);
        FitQuality {
            n,
            rmse: (ss_res / n.max(1) as f64).sqrt(),
            r_squared,
            huber_objective,
            residuals,
        }
    }
}

/// Huber loss with threshold `delta`.
pub(crate) fn huber(r: f64, delta: f64) -> f64 {
    let a = r.abs();
    if a <= delta {
        0.5 * r * r
    } else {
        delta * (a - 0.5 * delta)
    }
}

/// Derivative of [`huber`].
pub(crate) fn huber_grad(r: f64, delta: f64) -> f64 {
    if r.abs() <= delta {
        r
    } else {
        delta * r.signum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_fit_has_unit_r2_and_zero_rmse() {
        let q = FitQuality::new(&[1.0, 2.0, 3.0], vec![0.0; 3], None);
        assert_eq!(q.r_squared, Some(1.0));
        assert_eq!(q.rmse, 0.0);
    }

    #[test]
    fn constant_response_has_no_r2() {
        let q = FitQuality::new(&[2.0, 2.0], vec![0.1, -0.1], None);
        assert_eq!(q.r_squared, None);
        assert!((q.rmse - 0.1).abs() < 1e-12);
    }

    #[test]
    fn huber_is_quadratic_then_linear_and_continuous() {
        let d = 1e-3;
        assert_eq!(huber(5e-4, d), 0.5 * 25e-8);
        assert!((huber(d, d) - huber(d + 1e-12, d)).abs() < 1e-14);
        assert!((huber(-0.1, d) - d * (0.1 - 0.5 * d)).abs() < 1e-15);
        assert_eq!(huber_grad(-0.1, d), -d);
        assert_eq!(huber_grad(2e-4, d), 2e-4);
    }
}
