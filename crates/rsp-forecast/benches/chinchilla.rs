//! Chinchilla Approach 3 benchmark: the full 4,500-start grid fit plus 1,000
//! bootstrap refits (each from the full-data optimum and the two default
//! offsets of `ChinchillaOptions::bootstrap_offsets`), on the 240 points of
//! the replication data. Compare with `benches/forecast/chinchilla_scipy.py`
//! at the workspace root; docs/forecast.md has the protocol and numbers.
//!
//! Run: `cargo bench -p rsp-forecast --bench chinchilla`.
//!
//! Besides criterion's per-phase estimates, the bench ends by timing the
//! whole protocol (grid, then bootstrap) three times with a wall clock and
//! printing the median as one JSON line with the same keys as the scipy
//! script's output (`grid_seconds`, `bootstrap_seconds`, `total_seconds`,
//! the optimum and the bootstrap standard errors), so the two totals can be
//! compared directly.

use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use rsp_forecast::{
    BootstrapOptions, ChinchillaData, ChinchillaOptions, Table, bootstrap_chinchilla,
    fit_chinchilla,
};

fn data() -> ChinchillaData {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/scaling/chinchilla_svg_extracted_data.csv"
    );
    let table = Table::read(path).expect("read data");
    let n = table.f64_column("Model Size").expect("N");
    let c = table.f64_column("Training FLOP").expect("C");
    let l = table.f64_column("loss").expect("loss");
    ChinchillaData::from_flops(&n, &c, &l)
        .and_then(|d| d.drop_highest_losses(5))
        .expect("data")
}

fn bench(c: &mut Criterion) {
    let data = data();
    let opts = ChinchillaOptions::default();
    let boot = BootstrapOptions {
        resamples: 1000,
        seed: 42,
        level: 0.95,
    };
    let mut g = c.benchmark_group("chinchilla");
    g.sample_size(10);
    g.bench_function("grid_4500_starts", |b| {
        b.iter(|| fit_chinchilla(&data, &opts).expect("fit"));
    });
    let fit = fit_chinchilla(&data, &opts).expect("fit");
    g.bench_function("bootstrap_1000", |b| {
        b.iter(|| bootstrap_chinchilla(&data, &fit, &opts, &boot).expect("bootstrap"));
    });
    g.bench_function("grid_plus_bootstrap_1000", |b| {
        b.iter(|| {
            let fit = fit_chinchilla(&data, &opts).expect("fit");
            bootstrap_chinchilla(&data, &fit, &opts, &boot).expect("bootstrap")
        });
    });
    g.finish();
    summary(&data, &opts, &boot);
}

/// Wall-clock the whole protocol three times and print the median run as
/// JSON, comparable with `benches/forecast/chinchilla_scipy.py`.
fn summary(data: &ChinchillaData, opts: &ChinchillaOptions, boot: &BootstrapOptions) {
    let mut runs: Vec<(f64, f64, f64)> = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let t0 = Instant::now();
        let fit = fit_chinchilla(data, opts).expect("fit");
        let t_grid = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let u = bootstrap_chinchilla(data, &fit, opts, boot).expect("bootstrap");
        let t_boot = t1.elapsed().as_secs_f64();
        runs.push((t_grid + t_boot, t_grid, t_boot));
        last = Some((fit, u));
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (total, grid, boot_s) = runs[1];
    let (fit, u) = last.expect("three runs");
    let law = fit.law;
    println!(
        "{{\"implementation\": \"rust\", \"threads\": {}, \"starts\": {}, \"grid_seconds\": {grid:.4}, \
         \"bootstrap\": {}, \"bootstrap_seconds\": {boot_s:.4}, \"total_seconds\": {total:.4}, \
         \"objective\": {:.13e}, \"A\": {:.4}, \"B\": {:.4}, \"E\": {:.7}, \"alpha\": {:.8}, \
         \"beta\": {:.8}, \"se_A\": {:.4}, \"se_B\": {:.4}, \"se_E\": {:.6}, \"se_alpha\": {:.6}, \
         \"se_beta\": {:.6}}}",
        rayon::current_num_threads(),
        fit.starts,
        boot.resamples,
        fit.quality.huber_objective.unwrap_or(f64::NAN),
        law.a,
        law.b,
        law.e,
        law.alpha,
        law.beta,
        u.a.std_error,
        u.b.std_error,
        u.e.std_error,
        u.alpha.std_error,
        u.beta.std_error,
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
