//! pass@k and the epoch reducers that go with it.
//!
//! When a model gets `n` attempts at a task and `c` succeed, the chance that
//! at least one of `k` attempts succeeds is estimated without bias by
//! (Chen et al. 2021, "Evaluating Large Language Models Trained on Code")
//!
//! ```text
//! pass@k = 1 − C(n − c, k) / C(n, k)
//! ```
//!
//! The binomial coefficients overflow for realistic n, so the ratio is
//! evaluated as the product `Π_{i = n−c+1}^{n} (1 − k / i)`, as in the
//! paper's reference implementation; every factor lies in [0, 1], so there
//! is no overflow and no catastrophic cancellation.

use crate::error::{Error, Result, check_finite};

/// Unbiased pass@k from `successes` out of `attempts`.
///
/// # Errors
/// [`Error::TooFewObservations`] if `attempts == 0`;
/// [`Error::SuccessesExceedTrials`] if `successes > attempts`;
/// [`Error::InvalidParameter`] if `k == 0`; [`Error::KExceedsN`] if
/// `k > attempts` (the estimator needs at least k attempts).
pub fn pass_at_k(attempts: u64, successes: u64, k: u64) -> Result<f64> {
    if attempts == 0 {
        return Err(Error::TooFewObservations {
            what: "pass@k",
            needed: 1,
            got: 0,
        });
    }
    if successes > attempts {
        return Err(Error::SuccessesExceedTrials {
            successes,
            trials: attempts,
        });
    }
    if k == 0 {
        return Err(Error::InvalidParameter {
            name: "k",
            expected: "at least 1",
            value: 0.0,
        });
    }
    if k > attempts {
        return Err(Error::KExceedsN { k, n: attempts });
    }
    let failures = attempts - successes;
    if failures < k {
        // Every draw of k attempts contains a success.
        return Ok(1.0);
    }
    let kf = k as f64;
    let all_fail: f64 = (failures + 1..=attempts)
        .map(|i| 1.0 - kf / i as f64)
        .product();
    Ok(1.0 - all_fail)
}

/// Reducer: pass@k over one sample's epoch scores, counting a score as a
/// success when it is at least `value` (Inspect's `pass_at(k, value)`).
///
/// # Errors
/// As for [`pass_at_k`], plus [`Error::NonFinite`] for NaN scores.
pub fn pass_at(scores: &[f64], k: u64, value: f64) -> Result<f64> {
    check_finite(scores)?;
    let successes = scores.iter().filter(|&&s| s >= value).count() as u64;
    pass_at_k(scores.len() as u64, successes, k)
}

/// Reducer: 1.0 when at least `k` of one sample's epoch scores are at least
/// `value`, else 0.0 (Inspect's `at_least(k, value)`).
///
/// # Errors
/// [`Error::TooFewObservations`] for no scores; [`Error::KExceedsN`] if `k`
/// exceeds the number of scores (the condition could never hold, which is
/// almost certainly a configuration mistake); [`Error::NonFinite`] for NaN
/// scores.
pub fn at_least(scores: &[f64], k: u64, value: f64) -> Result<f64> {
    if scores.is_empty() {
        return Err(Error::TooFewObservations {
            what: "at_least",
            needed: 1,
            got: 0,
        });
    }
    check_finite(scores)?;
    let n = scores.len() as u64;
    if k > n {
        return Err(Error::KExceedsN { k, n });
    }
    let hits = scores.iter().filter(|&&s| s >= value).count() as u64;
    Ok(if hits >= k { 1.0 } else { 0.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct `1 − C(n−c, k)/C(n, k)` with exact integers, for small n.
    fn by_binomials(n: u64, c: u64, k: u64) -> f64 {
        fn choose(n: u64, k: u64) -> u128 {
            if k > n {
                return 0;
            }
            let mut r: u128 = 1;
            for i in 0..k {
                r = r * u128::from(n - i) / u128::from(i + 1);
            }
            r
        }
        1.0 - choose(n - c, k) as f64 / choose(n, k) as f64
    }

    #[test]
    fn agrees_with_the_binomial_definition() {
        for n in 1..=20 {
            for c in 0..=n {
                for k in 1..=n {
                    let got = pass_at_k(n, c, k).unwrap();
                    let want = by_binomials(n, c, k);
                    assert!(
                        (got - want).abs() < 1e-12,
                        "n={n} c={c} k={k}: {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn known_values() {
        // pass@1 is the plain success rate.
        assert!((pass_at_k(10, 3, 1).unwrap() - 0.3).abs() < 1e-15);
        // n=5, c=2, k=2: 1 - C(3,2)/C(5,2) = 1 - 3/10.
        assert!((pass_at_k(5, 2, 2).unwrap() - 0.7).abs() < 1e-15);
        assert_eq!(pass_at_k(10, 0, 5).unwrap(), 0.0);
        assert_eq!(pass_at_k(10, 6, 5).unwrap(), 1.0);
    }

    #[test]
    fn stable_for_large_n() {
        // C(1000, 100) overflows f64; the product form does not.
        let v = pass_at_k(1000, 1, 100).unwrap();
        assert!((v - 0.1).abs() < 1e-12, "{v}");
        let v = pass_at_k(200, 37, 10).unwrap();
        assert!(v.is_finite() && v > 0.0 && v < 1.0);
    }

    #[test]
    fn reducers() {
        let scores = [1.0, 0.0, 1.0, 0.5];
        assert!((pass_at(&scores, 1, 1.0).unwrap() - 0.5).abs() < 1e-15);
        assert_eq!(at_least(&scores, 2, 1.0).unwrap(), 1.0);
        assert_eq!(at_least(&scores, 3, 1.0).unwrap(), 0.0);
        assert_eq!(at_least(&scores, 3, 0.5).unwrap(), 1.0);
    }

    #[test]
    fn edge_cases_are_errors() {
        assert!(matches!(
            pass_at_k(0, 0, 1),
            Err(Error::TooFewObservations { .. })
        ));
        assert!(matches!(
            pass_at_k(5, 6, 1),
            Err(Error::SuccessesExceedTrials { .. })
        ));
        assert!(matches!(
            pass_at_k(5, 2, 6),
            Err(Error::KExceedsN { k: 6, n: 5 })
        ));
        assert!(matches!(
            pass_at_k(5, 2, 0),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(matches!(
            at_least(&[], 1, 1.0),
            Err(Error::TooFewObservations { .. })
        ));
        assert!(matches!(
            at_least(&[1.0], 2, 1.0),
            Err(Error::KExceedsN { .. })
        ));
        assert!(matches!(
            pass_at(&[f64::NAN], 1, 1.0),
            Err(Error::NonFinite { .. })
        ));
    }
}
