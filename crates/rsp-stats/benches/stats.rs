//! Benchmarks for the costly paths: bootstrap resampling and the exact
//! rule-out probability. Run with `cargo bench -p rsp-stats`.

use criterion::{Criterion, criterion_group, criterion_main};
use rsp_stats::{
    BootstrapConfig, BootstrapMethod, Confidence, RuleOutScenario, bootstrap_mean,
    cannot_rule_out_exact, cannot_rule_out_monte_carlo, samples_to_rule_out, wilson,
};
use std::hint::black_box;

fn bench_bootstrap(c: &mut Criterion) {
    let data: Vec<f64> = (0..1000).map(|i| f64::from(i % 7) / 7.0).collect();
    let mut group = c.benchmark_group("bootstrap_mean_n1000_b10000");
    group.sample_size(10);
    for method in [BootstrapMethod::Percentile, BootstrapMethod::Bca] {
        let cfg = BootstrapConfig::new(1).with_method(method);
        group.bench_function(format!("{method:?}"), |b| {
            b.iter(|| bootstrap_mean(black_box(&data), &cfg));
        });
    }
    group.finish();
}

fn bench_calibration(c: &mut Criterion) {
    let s = RuleOutScenario {
        true_score: 0.2,
        n: 1000,
        line: 0.25,
        confidence: Confidence::P95,
    };
    c.bench_function("wilson_95", |b| {
        b.iter(|| wilson(black_box(310), 1000, Confidence::P95));
    });
    c.bench_function("cannot_rule_out_exact_n1000", |b| {
        b.iter(|| cannot_rule_out_exact(black_box(&s)));
    });
    c.bench_function("cannot_rule_out_monte_carlo_n1000_100k", |b| {
        b.iter(|| cannot_rule_out_monte_carlo(black_box(&s), 100_000, 1));
    });
    c.bench_function("samples_to_rule_out", |b| {
        b.iter(|| samples_to_rule_out(black_box(0.2), 100, 0.25, Confidence::P95, 0.8));
    });
}

criterion_group!(benches, bench_bootstrap, bench_calibration);
criterion_main!(benches);
