//! One run of the Chinchilla benchmark protocol (4,500-start grid, then
//! 1,000 bootstrap refits), without criterion's repetitions: for measuring
//! CPU time or instructions of exactly one run on a loaded machine, e.g.
//!
//! ```text
//! cargo build --release -p rsp-forecast --example chinchilla_profile
//! RAYON_NUM_THREADS=1 perf stat -e task-clock,instructions \
//!     target/release/examples/chinchilla_profile
//! ```
//!
//! `grid` as the first argument runs only the grid (for callgrind). Prints
//! the optimum and the bootstrap standard errors with full precision, so
//! two builds can be checked for identical results.

use rsp_forecast::{
    BootstrapOptions, ChinchillaData, ChinchillaOptions, Table, bootstrap_chinchilla,
    fit_chinchilla,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/scaling/chinchilla_svg_extracted_data.csv"
    );
    let table = Table::read(path)?;
    let n = table.f64_column("Model Size")?;
    let c = table.f64_column("Training FLOP")?;
    let l = table.f64_column("loss")?;
    let data = ChinchillaData::from_flops(&n, &c, &l)?.drop_highest_losses(5)?;
    let opts = ChinchillaOptions::default();
    let fit = fit_chinchilla(&data, &opts)?;
    let law = fit.law;
    println!(
        "objective {:e} A {:e} B {:e} E {:e} alpha {:e} beta {:e}",
        fit.quality.huber_objective.unwrap_or(f64::NAN),
        law.a,
        law.b,
        law.e,
        law.alpha,
        law.beta
    );
    if std::env::args().nth(1).as_deref() == Some("grid") {
        return Ok(());
    }
    let boot = BootstrapOptions {
        resamples: 1000,
        seed: 42,
        level: 0.95,
    };
    let u = bootstrap_chinchilla(&data, &fit, &opts, &boot)?;
    println!(
        "se A {:e} B {:e} E {:e} alpha {:e} beta {:e}",
        u.a.std_error, u.b.std_error, u.e.std_error, u.alpha.std_error, u.beta.std_error
    );
    Ok(())
}
