//! Chinchilla Approach 3 benchmark: the full 4,500-start grid fit plus 1,000
//! bootstrap refits (each from the full-data optimum and the two default
//! offsets of `ChinchillaOptions::bootstrap_offsets`), on the 240 points of
//! the replication data. Compare with `benches/forecast/chinchilla_scipy.py`
//! at the workspace root; docs/forecast.md has the protocol and numbers.
//!
//! Run: `cargo bench -p rsp-forecast --bench chinchilla`.

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
}

criterion_group!(benches, bench);
criterion_main!(benches);
