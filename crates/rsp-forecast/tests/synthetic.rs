//! Synthetic recovery: data drawn from known laws plus noise, fitted back,
//! and the 95% bootstrap intervals checked to cover the truth at roughly the
//! nominal rate over 200 seeded replications. Percentile bootstraps of small
//! samples under-cover a little, so the accepted band is [0.85, 0.99].

#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use chrono::{NaiveDate, TimeDelta};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rsp_forecast::{
    BootstrapOptions, ComputeLaw, ComputeLawData, ComputeLawOptions, Curve, SigmoidData,
    SigmoidOptions, TrendOptions, bootstrap_compute_law, bootstrap_trend, fit_compute_law,
    fit_sigmoid, fit_trend,
};

const REPLICATIONS: u64 = 200;

fn in_band(covered: u64) {
    let rate = covered as f64 / REPLICATIONS as f64;
    assert!((0.85..=0.99).contains(&rate), "coverage {rate}");
}

#[test]
fn trend_doubling_time_intervals_cover_the_truth() {
    let truth_days = 150.0_f64;
    let slope = std::f64::consts::LN_2 / truth_days;
    let noise = Normal::<f64>::new(0.0, 0.3).unwrap();
    let start = NaiveDate::from_ymd_opt(2022, 1, 1).unwrap();
    let mut covered = 0;
    for rep in 0..REPLICATIONS {
        let mut rng = ChaCha8Rng::seed_from_u64(rep);
        let dates: Vec<NaiveDate> = (0..25).map(|k| start + TimeDelta::days(30 * k)).collect();
        let values: Vec<f64> = (0..25)
            .map(|k| (1.0 + slope * 30.0 * k as f64 + noise.sample(&mut rng)).exp())
            .collect();
        let fit = fit_trend(&dates, &values, &TrendOptions::default()).unwrap();
        let u = bootstrap_trend(
            &fit,
            &BootstrapOptions {
                resamples: 400,
                seed: rep,
                level: 0.95,
            },
        )
        .unwrap();
        let d = u.doubling_time_days.unwrap();
        if d.lower <= truth_days && truth_days <= d.upper {
            covered += 1;
        }
    }
    in_band(covered);
}

#[test]
fn compute_law_exponent_intervals_cover_the_truth() {
    let truth = ComputeLaw {
        e: 1.8,
        a: 40.0,
        alpha: 0.08,
    };
    let noise = Normal::<f64>::new(0.0, 0.02).unwrap();
    let mut covered = 0;
    for rep in 0..REPLICATIONS {
        let mut rng = ChaCha8Rng::seed_from_u64(1000 + rep);
        let c: Vec<f64> = (0..30)
            .map(|i| 1e18 * 10f64.powf(f64::from(i) * 0.2))
            .collect();
        let l: Vec<f64> = c
            .iter()
            .map(|&c| truth.value(c) * noise.sample(&mut rng).exp())
            .collect();
        let data = ComputeLawData::new(&c, &l).unwrap();
        let opts = ComputeLawOptions::default();
        let fit = fit_compute_law(&data, &opts).unwrap();
        let u = bootstrap_compute_law(
            &data,
            &fit,
            &opts,
            &BootstrapOptions {
                resamples: 200,
                seed: rep,
                level: 0.95,
            },
        )
        .unwrap();
        if u.alpha.lower <= truth.alpha && truth.alpha <= u.alpha.upper {
            covered += 1;
        }
    }
    in_band(covered);
}

#[test]
fn noisy_sigmoid_is_fitted_close_to_the_truth() {
    let truth = rsp_forecast::Sigmoid {
        floor: 0.25,
        ceiling: 0.85,
        midpoint: 22.5,
        slope: 2.0,
    };
    let noise = Normal::<f64>::new(0.0, 0.02).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let x: Vec<f64> = (0..40).map(|i| 20.0 + 0.125 * f64::from(i)).collect();
    let y: Vec<f64> = x
        .iter()
        .map(|&x| truth.value(x) + noise.sample(&mut rng))
        .collect();
    let fit = fit_sigmoid(
        &SigmoidData::new(&x, &y).unwrap(),
        &SigmoidOptions::default(),
    )
    .unwrap();
    let c = fit.curve;
    assert!((c.midpoint - 22.5).abs() < 0.1, "{c:?}");
    assert!(
        (c.floor - 0.25).abs() < 0.03 && (c.ceiling - 0.85).abs() < 0.03,
        "{c:?}"
    );
    assert!(
        (fit.quality.rmse - 0.02).abs() < 0.006,
        "{}",
        fit.quality.rmse
    );
}
