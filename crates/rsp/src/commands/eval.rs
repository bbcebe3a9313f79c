//! `rsp eval SUITE[/TASK] --model SPEC`: run a suite with a progress bar,
//! commit every sample as it finishes, resume by re-running the same command,
//! and print every metric with n, its CI method and confidence level.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};
use indicatif::{ProgressBar, ProgressStyle};
use rsp_eval::{Catalog, JsonlSink, Models, RunConfig, Snapshot, plan_run, run_task};
use rsp_model::{ProviderEnv, ProviderFactory, ProviderOptions};

use crate::cli::EvalArgs;
use crate::exit::Code;
use crate::project::{Project, STATE_DIR};
use crate::settings::Settings;

pub fn run(args: EvalArgs, settings: &Settings) -> Result<Code> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(eval(args, settings))
}

async fn eval(args: EvalArgs, settings: &Settings) -> Result<Code> {
    // Inside a project, runs live in .rsp/runs and user suites come from
    // suites/; outside one, runs go to ./rsp-runs so work is never lost.
    let project = Project::find(settings.project.as_deref()).ok();
    let catalog = match &project {
        Some(p) => Catalog::with_user_dir(p.root.join(crate::project::SUITES_DIR)),
        None => Catalog::builtin(),
    };
    let runs_dir: PathBuf = match &project {
        Some(p) => p.root.join(STATE_DIR).join("runs"),
        None => PathBuf::from("rsp-runs"),
    };
    let tasks = match catalog.load(&args.suite) {
        Ok(t) => t,
        Err(rsp_eval::Error::Invalid(files)) => {
            eprint!("{}", rsp_eval::error::render_all(&files, settings.style));
            return Ok(Code::Fail);
        }
        Err(e) => return Err(e.into()),
    };
    let mut opts = ProviderOptions::new(ProviderEnv::from_process());
    if let Some(url) = &args.base_url {
        opts.openai_base_url = Some(url.clone());
        opts.anthropic_base_url = Some(url.clone());
    }
    if args.threads.is_some() {
        opts.embedded.threads = args.threads;
    }
    let factory = ProviderFactory::new(opts)?;
    let models = Models {
        model: factory.build(&args.model)?,
        judge: args
            .judge
            .as_deref()
            .map(|j| factory.build(j))
            .transpose()?,
    };
    let config = RunConfig {
        seed: args.seed,
        limit: args.limit,
        epochs: args.epochs,
        max_concurrency: args.max_concurrency,
        retry_errors: args.retry_errors,
    };
    fs_err::create_dir_all(&runs_dir)?;
    let mut out = std::io::stdout().lock();
    for task in &tasks {
        rsp_eval::check_models(task, &models)?;
        let spec = plan_run(task, &models, &config);
        let path = JsonlSink::path_for(&runs_dir, &spec);
        let sink = JsonlSink::open(&path)
            .with_context(|| format!("cannot open the run log {}", path.display()))?;
        let bar = progress_bar(&task.id);
        let progress = |s: &Snapshot| report(&bar, s);
        let outcome = run_task(task, &models, &config, &sink, &progress).await?;
        bar.finish_and_clear();
        writeln!(
            out,
            "{} on {}: {} samples ({} run now, {} resumed), {} errors",
            task.id,
            outcome.spec.model,
            outcome.summary.planned,
            outcome.ran,
            outcome.skipped,
            outcome.summary.errors
        )?;
        for m in &outcome.summary.metrics {
            writeln!(out, "  {m}")?;
        }
        writeln!(out, "  run {} · log {}", outcome.run, path.display())?;
    }
    Ok(Code::Ok)
}

/// A bar on a terminal; plain log lines (every 10%) when not on one, so CI
/// logs stay readable.
fn progress_bar(task: &str) -> ProgressBar {
    if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(task.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    } else {
        ProgressBar::hidden()
    }
}

fn report(bar: &ProgressBar, s: &Snapshot) {
    let running = match (&s.metric, s.running) {
        (Some(m), Some(i)) => format!("{m} {i:.3}"),
        _ => String::new(),
    };
    let msg = format!("errors {} {running}", s.errors);
    if bar.is_hidden() {
        let step = (s.total / 10).max(1);
        if s.done.is_multiple_of(step) || s.done == s.total {
            eprintln!("{} {}/{} {msg}", s.task, s.done, s.total);
        }
    } else {
        bar.set_length(s.total as u64);
        bar.set_position(s.done as u64);
        bar.set_message(msg);
    }
}
