//! `rsp eval SUITE[/TASK] --model SPEC` and `rsp eval --resume RUN`: run a suite with a
//! progress bar, commit every sample to the project store as it finishes, resume by
//! re-running the same command (or `--resume`), and print every metric with n, its CI
//! method and confidence level.
//!
//! [`execute_task`] is the one entry point for running a task into the store, shared with
//! commands that run evals as part of something larger (`rsp assess`). It marks the run
//! `interrupted` on Ctrl-C or SIGTERM (and returns [`Interrupted`]), `failed` on an error;
//! a `kill -9` leaves it `running`, and any of the three resumes exactly.

use std::io::{IsTerminal as _, Write as _};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rsp_eval::{Catalog, Models, RunConfig, RunOutcome, RunSink as _, Snapshot, Task};
use rsp_model::{ProviderEnv, ProviderFactory, ProviderOptions};
use rsp_store::{RunStatus, RunStore as _, SampleFilter, SqliteStore};

use crate::cli::EvalArgs;
use crate::exit::Code;
use crate::settings::Settings;
use crate::store_sink::{Launch, StoreSink, load_run, open_store, store_location};

pub fn run(args: EvalArgs, settings: &Settings) -> Result<Code> {
    let runtime = super::runtime()?;
    match runtime.block_on(eval(args, settings)) {
        Err(e) => match e.downcast_ref::<Interrupted>() {
            Some(i) => {
                eprintln!("{i}");
                // Everything finished is committed; nothing is left to flush.
                std::process::exit(i.exit_code);
            }
            None => Err(e),
        },
        ok => ok,
    }
}

/// A run stopped by a signal. It is marked `interrupted` in the store and keeps every
/// sample that finished; the process should exit with [`Interrupted::exit_code`].
#[derive(Debug)]
pub(crate) struct Interrupted {
    /// The run's id.
    pub run: String,
    /// `SIGINT` or `SIGTERM`.
    pub signal: &'static str,
    /// 128 + the signal number, as shells report it.
    pub exit_code: i32,
    /// Sample-epochs stored without error.
    pub done: u64,
    /// Sample-epochs planned.
    pub planned: usize,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "interrupted by {}: run {} keeps its {}/{} finished samples; resume with \
             `rsp eval --resume {}` or the same command",
            self.signal, self.run, self.done, self.planned, self.run
        )
    }
}

impl std::error::Error for Interrupted {}

async fn eval(args: EvalArgs, settings: &Settings) -> Result<Code> {
    let (path, project) = store_location(settings)?;
    if project.is_none() {
        eprintln!(
            "note: not in an rsp project; runs are stored in {}",
            path.display()
        );
    }
    let store = open_store(&path).await?;
    let catalog = match &project {
        Some(p) => Catalog::with_user_dir(p.root.join(crate::project::SUITES_DIR)),
        None => Catalog::builtin(),
    };
    let resumed = match &args.resume {
        Some(id) => Some(load_run(store.as_ref(), id).await?),
        None => None,
    };
    let (selector, launch, config) = match &resumed {
        Some(run) => {
            let launch = run.launch.clone().unwrap_or_else(|| Launch {
                model: run.spec.model.clone(),
                judge: run.spec.provenance.judge.clone(),
            });
            let config = RunConfig {
                seed: run.spec.seed,
                limit: run.spec.limit,
                epochs: Some(run.spec.epochs),
                max_concurrency: args.max_concurrency,
                retry_errors: args.retry_errors,
                allow_unsafe_local_tools: args.unsafe_local_tools,
            };
            (run.spec.task.clone(), launch, config)
        }
        None => {
            let launch = Launch {
                model: args.model.clone(),
                judge: args.judge.clone(),
            };
            let config = RunConfig {
                seed: args.seed,
                limit: args.limit,
                epochs: args.epochs,
                max_concurrency: args.max_concurrency,
                retry_errors: args.retry_errors,
                allow_unsafe_local_tools: args.unsafe_local_tools,
            };
            let selector = args.suite.clone().context("give a suite or --resume RUN")?;
            (selector, launch, config)
        }
    };
    let tasks = match catalog.load(&selector) {
        Ok(t) => t,
        Err(rsp_eval::Error::Invalid(files)) => {
            eprint!("{}", rsp_eval::error::render_all(&files, settings.style));
            return Ok(Code::Fail);
        }
        Err(e) => return Err(e.into()),
    };
    let models = build_models(
        &launch,
        ModelOptions {
            base_url: args.base_url.as_deref(),
            threads: args.threads,
            max_concurrency: args.max_concurrency,
        },
    )?;
    if let Some(run) = &resumed {
        for task in &tasks {
            if rsp_eval::plan_run(task, &models, &config).key != run.spec.key {
                bail!(
                    "run {} cannot be resumed: its task files or model changed since it started \
                     (the run identity no longer matches); `rsp eval {} --model {}` starts a new run",
                    run.record.id,
                    run.spec.task,
                    launch.model
                );
            }
        }
    }
    let mut out = std::io::stdout().lock();
    for task in &tasks {
        let (id, outcome) = execute_task(task, &models, &config, &store, &launch, true).await?;
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
        writeln!(out, "  run {id} · store {}", path.display())?;
        if let Some(p) = &project {
            log_finished_run(p, &store, &id).await;
        }
    }
    Ok(Code::Ok)
}

/// Appends a finished run to the project's audit log and signs a checkpoint. The run
/// itself is already safe in the store, so a project without a log key (made before
/// the ledger existed) only gets a warning.
async fn log_finished_run(project: &crate::project::Project, store: &Arc<SqliteStore>, id: &str) {
    let result = async {
        let log = crate::audit::ProjectLog::open(project, store)?;
        let run = load_run(store.as_ref(), id).await?;
        crate::audit::log_run(&log, store, &run).await?;
        log.checkpoint().await?;
        anyhow::Ok(())
    }
    .await;
    if let Err(e) = result {
        eprintln!("warning: run {id} is stored but not in the audit log: {e:#}");
    }
}

/// How to reach and drive the models, from the command line.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ModelOptions<'a> {
    pub base_url: Option<&'a str>,
    pub threads: Option<usize>,
    pub max_concurrency: Option<usize>,
}

/// The model (and judge) from their launch specs, with `--base-url`, `--threads` and
/// `--max-concurrency` applied.
pub(crate) fn build_models(launch: &Launch, o: ModelOptions<'_>) -> Result<Models> {
    let mut opts = ProviderOptions::new(ProviderEnv::from_process());
    if let Some(url) = o.base_url {
        opts.openai_base_url = Some(url.to_owned());
        opts.anthropic_base_url = Some(url.to_owned());
    }
    if o.threads.is_some() {
        opts.embedded.threads = o.threads;
    }
    if let Some(n) = o.max_concurrency {
        // An explicit concurrency is the connection limit too: start there rather than
        // growing from the default of 8 (429s still halve it).
        opts.max_concurrency = n.max(1);
        opts.initial_concurrency = n.max(1);
    }
    let factory = ProviderFactory::new(opts)?;
    Ok(Models {
        model: factory.build(&launch.model)?,
        judge: launch
            .judge
            .as_deref()
            .map(|j| factory.build(j))
            .transpose()?,
    })
}

/// Runs (or resumes) one task into the store and returns the run's id and outcome.
///
/// The run is created (or found, by its identity key) before any sample runs, so it is in
/// the store even if the process dies at once. With `progress`, a bar is drawn on a
/// terminal and plain log lines are written to stderr otherwise. On SIGINT or SIGTERM the
/// in-flight samples are dropped, the run is marked `interrupted` and the error is an
/// [`Interrupted`]; on any other error it is marked `failed`.
pub(crate) async fn execute_task(
    task: &Task,
    models: &Models,
    config: &RunConfig,
    store: &Arc<SqliteStore>,
    launch: &Launch,
    progress: bool,
) -> Result<(String, RunOutcome)> {
    rsp_eval::check_models(task, models)?;
    let spec = rsp_eval::plan_run(task, models, config);
    if task.reducer.min_epochs() > u64::from(spec.epochs) {
        return Err(rsp_eval::Error::TooFewEpochs {
            reducer: task.reducer.to_string(),
            needed: task.reducer.min_epochs(),
            epochs: spec.epochs,
        }
        .into());
    }
    let sink = StoreSink::new(Arc::clone(store) as _, task).with_launch(launch.clone());
    let run = sink
        .create_or_resume_run(&spec)
        .await
        .map_err(rsp_eval::Error::Sink)?;
    // Held until this function returns; the kernel releases it if the process dies.
    let _owner = crate::run_lock::acquire(store, &run.0)?;
    let reporter = Reporter::new(&task.id, progress);
    let report = |s: &Snapshot| reporter.update(s);
    let result = tokio::select! {
        r = rsp_eval::run_task(task, models, config, &sink, &report) => r,
        (signal, exit_code) = signalled() => {
            reporter.clear();
            store.set_run_status(&run.0, RunStatus::Interrupted).await?;
            let ok = SampleFilter { has_error: Some(false), ..SampleFilter::default() };
            let done = store.count_samples(&run.0, &ok).await?;
            return Err(Interrupted {
                run: run.0,
                signal,
                exit_code,
                done,
                planned: spec.planned,
            }
            .into());
        }
    };
    reporter.clear();
    match result {
        Ok(outcome) => Ok((run.0, outcome)),
        Err(e) => {
            // Best effort: the error being reported matters more than the status.
            let _ = store.set_run_status(&run.0, RunStatus::Failed).await;
            Err(e.into())
        }
    }
}

/// Waits for SIGINT or SIGTERM; returns its name and the shell's exit code for it.
#[cfg(unix)]
async fn signalled() -> (&'static str, i32) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        // Without handlers the default action (exit) applies; the run stays `running`.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => ("SIGINT", 130),
        _ = term.recv() => ("SIGTERM", 143),
    }
}

#[cfg(not(unix))]
async fn signalled() -> (&'static str, i32) {
    match tokio::signal::ctrl_c().await {
        Ok(()) => ("Ctrl-C", 130),
        Err(_) => std::future::pending().await,
    }
}

/// How progress is shown: a bar on a terminal, plain lines (every 10%) otherwise so CI
/// logs stay readable, or nothing.
enum Reporter {
    Bar(ProgressBar),
    Lines,
    Quiet,
}

impl Reporter {
    fn new(task: &str, progress: bool) -> Self {
        if !progress {
            return Reporter::Quiet;
        }
        if !std::io::stderr().is_terminal() {
            return Reporter::Lines;
        }
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(task.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        Reporter::Bar(bar)
    }

    fn update(&self, s: &Snapshot) {
        let message = || {
            let running = match (&s.metric, s.running) {
                (Some(m), Some(i)) => format!(" {m} {i:.3}"),
                _ => String::new(),
            };
            format!("errors {}{running}", s.errors)
        };
        match self {
            Reporter::Bar(bar) => {
                bar.set_length(s.total as u64);
                bar.set_position(s.done as u64);
                bar.set_message(message());
            }
            Reporter::Lines => {
                let step = (s.total / 10).max(1);
                if s.done.is_multiple_of(step) || s.done == s.total {
                    eprintln!("{} {}/{} {}", s.task, s.done, s.total, message());
                }
            }
            Reporter::Quiet => {}
        }
    }

    fn clear(&self) {
        if let Reporter::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}
