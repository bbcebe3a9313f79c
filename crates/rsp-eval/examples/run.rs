//! Runs a suite against a model and prints its metrics: a stand-in for `rsp eval` until the
//! CLI is wired, and a way to measure throughput.
//!
//! ```sh
//! cargo run -p rsp-eval --release --example run -- knowledge-proxy embedded [LIMIT] [RUN_DIR]
//! ```
//!
//! With `RUN_DIR`, each task's samples go to a JSONL file there and a second invocation
//! resumes it. `RSP_THREADS` sets the embedded engine's CPU threads (default 2).

use std::path::PathBuf;
use std::time::Instant;

use rsp_eval::{
    Catalog, JsonlSink, MemorySink, Models, RunConfig, RunSink, Snapshot, plan_run, run_task,
};
use rsp_model::{EmbeddedOptions, ProviderEnv, ProviderFactory, ProviderOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let selector = args.first().map_or("knowledge-proxy", String::as_str);
    let spec = args.get(1).map_or("embedded", String::as_str);
    let limit = args.get(2).and_then(|l| l.parse().ok());
    let run_dir = args.get(3).map(PathBuf::from);
    let threads = std::env::var("RSP_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(2);
    let options = ProviderOptions {
        embedded: EmbeddedOptions {
            threads: Some(threads),
            ..EmbeddedOptions::default()
        },
        ..ProviderOptions::new(ProviderEnv::from_process())
    };
    let factory = ProviderFactory::new(options)?;
    let models = Models {
        model: factory.build(spec)?,
        judge: None,
    };
    let tasks = match Catalog::builtin().load(selector) {
        Ok(t) => t,
        Err(rsp_eval::Error::Invalid(files)) => {
            eprint!(
                "{}",
                rsp_eval::error::render_all(&files, rsp_policy::diag::Style::Color)
            );
            std::process::exit(1);
        }
        Err(e) => return Err(e.into()),
    };
    let config = RunConfig {
        limit,
        ..RunConfig::default()
    };
    for task in &tasks {
        let started = Instant::now();
        let progress = |s: &Snapshot| {
            if s.done.is_multiple_of(25) || s.done == s.total {
                let running = s.running.map(|i| format!("{i:.3}")).unwrap_or_default();
                eprintln!(
                    "  {} {}/{} errors {} {running} eta {:?}",
                    s.task, s.done, s.total, s.errors, s.eta
                );
            }
        };
        let memory = MemorySink::new();
        let file;
        let sink: &dyn RunSink = match &run_dir {
            Some(dir) => {
                file =
                    JsonlSink::open(JsonlSink::path_for(dir, &plan_run(task, &models, &config)))?;
                &file
            }
            None => &memory,
        };
        let out = run_task(task, &models, &config, sink, &progress).await?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{} on {}: {} sample-epochs ({} run now, {} resumed, {} errors) in {secs:.1} s ({:.2}/s)",
            task.id,
            out.spec.model,
            out.summary.planned,
            out.ran,
            out.skipped,
            out.summary.errors,
            out.ran as f64 / secs
        );
        for m in &out.summary.metrics {
            println!("  {m}");
        }
    }
    Ok(())
}
