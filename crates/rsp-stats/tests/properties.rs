//! Property tests: invariants every interval must satisfy for any input,
//! and typed errors (never NaN or a panic) at the edges.

use proptest::prelude::*;
use rsp_stats::{
    BootstrapConfig, BootstrapMethod, Confidence, Error, McNemarMethod, PairedTable,
    bootstrap_mean, clopper_pearson, clustered_mean, mcnemar, pass_at_k, t_interval, wilson,
    wilson_upper,
};

/// Counts with successes <= trials.
fn counts() -> impl Strategy<Value = (u64, u64)> {
    (1_u64..5000).prop_flat_map(|n| (0..=n, Just(n)))
}

/// Two confidence levels, lower first.
fn levels() -> impl Strategy<Value = (Confidence, Confidence)> {
    (0.5_f64..0.998, 0.0005_f64..0.0015).prop_filter_map("levels in (0, 1)", |(a, gap)| {
        let lo = Confidence::new(a).ok()?;
        let hi = Confidence::new((a + gap).min(0.9995)).ok()?;
        Some((lo, hi))
    })
}

fn data() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-1000.0_f64..1000.0, 2..60)
}

proptest! {
    #[test]
    fn proportion_intervals_are_well_formed((x, n) in counts(), (c1, c2) in levels()) {
        for f in [wilson, clopper_pearson] {
            let a = f(x, n, c1).unwrap();
            let b = f(x, n, c2).unwrap();
            let p = x as f64 / n as f64;
            prop_assert!(0.0 <= a.lower() && a.lower() <= p && p <= a.upper() && a.upper() <= 1.0, "{a}");
            prop_assert!(a.contains(a.estimate()));
            // Higher confidence: never narrower on either side.
            prop_assert!(b.lower() <= a.lower() && b.upper() >= a.upper(), "{a} vs {b}");
        }
    }

    #[test]
    fn one_sided_bound_is_inside_two_sided_interval((x, n) in counts(), (c, _) in levels()) {
        let one = wilson_upper(x, n, c).unwrap();
        let two = wilson(x, n, c).unwrap();
        prop_assert!(one.upper() <= two.upper() + 1e-15);
        prop_assert!(one.upper() >= one.estimate());
    }

    #[test]
    fn t_intervals_are_well_formed(xs in data(), (c1, c2) in levels()) {
        let a = t_interval(&xs, c1).unwrap();
        let b = t_interval(&xs, c2).unwrap();
        prop_assert!(a.lower() <= a.estimate() && a.estimate() <= a.upper());
        prop_assert!(b.lower() <= a.lower() && b.upper() >= a.upper());
        prop_assert!(a.lower().is_finite() && a.upper().is_finite());
    }

    #[test]
    fn clustered_intervals_contain_the_mean(xs in data(), groups in 2_usize..6) {
        let keys: Vec<usize> = (0..xs.len()).map(|i| i % groups).collect();
        let r = clustered_mean(&xs, &keys, Confidence::P95).unwrap();
        prop_assert!(r.interval.contains(r.interval.estimate()));
        prop_assert!(r.design_effect.is_finite() && r.design_effect >= 0.0);
    }

    #[test]
    fn newcombe_difference_is_well_formed(
        both in 0_u64..200, only_a in 0_u64..200, only_b in 0_u64..200, neither in 0_u64..200
    ) {
        let t = PairedTable { both, only_a, only_b, neither };
        prop_assume!(t.n() > 0);
        let r = mcnemar(&t, McNemarMethod::Auto, Confidence::P95).unwrap();
        let d = r.difference;
        prop_assert!(-1.0 <= d.lower() && d.lower() <= d.estimate());
        prop_assert!(d.estimate() <= d.upper() && d.upper() <= 1.0);
        prop_assert!((0.0..=1.0).contains(&r.p_value));
    }

    #[test]
    fn pass_at_k_is_a_monotone_probability(n in 1_u64..300, c_frac in 0.0_f64..=1.0, k_frac in 0.0_f64..=1.0) {
        let c = ((n as f64) * c_frac).floor() as u64;
        let k = (((n as f64) * k_frac).ceil() as u64).clamp(1, n);
        let v = pass_at_k(n, c, k).unwrap();
        prop_assert!((0.0..=1.0).contains(&v));
        if k < n {
            prop_assert!(pass_at_k(n, c, k + 1).unwrap() >= v - 1e-12);
        }
        if c < n {
            prop_assert!(pass_at_k(n, c + 1, k).unwrap() >= v - 1e-12);
        }
    }
}

proptest! {
    // Each case runs a bootstrap; keep the count modest.
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn bootstrap_intervals_stay_within_the_data(xs in data(), seed in any::<u64>()) {
        let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        for method in [BootstrapMethod::Percentile, BootstrapMethod::Bca] {
            let cfg = BootstrapConfig::new(seed).with_resamples(200).with_method(method);
            match bootstrap_mean(&xs, &cfg) {
                Ok(ci) => {
                    prop_assert!(ci.lower() <= ci.upper());
                    // A resample of identical values can have a mean one ulp
                    // beyond them, so allow rounding at the edges.
                    let eps = 1e-12 * (hi.abs().max(lo.abs()) + 1.0);
                    prop_assert!(lo - eps <= ci.lower() && ci.upper() <= hi + eps, "{ci}");
                }
                // BCa may legitimately refuse; percentile never does.
                Err(Error::BcaUndefined { .. }) => prop_assert_eq!(method, BootstrapMethod::Bca),
                Err(e) => prop_assert!(false, "unexpected error {e}"),
            }
        }
    }
}

#[test]
fn edge_cases_are_typed_errors() {
    assert!(matches!(
        Confidence::new(1.0),
        Err(Error::InvalidConfidence(_))
    ));
    assert!(matches!(
        Confidence::new(0.0),
        Err(Error::InvalidConfidence(_))
    ));
    assert!(matches!(
        wilson(0, 0, Confidence::P95),
        Err(Error::TooFewObservations { .. })
    ));
    assert!(matches!(
        t_interval(&[], Confidence::P95),
        Err(Error::TooFewObservations { .. })
    ));
    assert!(matches!(pass_at_k(3, 1, 4), Err(Error::KExceedsN { .. })));
    let cfg = BootstrapConfig::new(0);
    assert!(matches!(
        bootstrap_mean(&[], &cfg),
        Err(Error::TooFewObservations { .. })
    ));
}
