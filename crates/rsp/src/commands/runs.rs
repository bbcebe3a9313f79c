//! `rsp runs list|show` and `rsp compare`: read runs from the project store, find a run by
//! id prefix, and compare two runs sample by sample with paired statistics.

use std::io::Write as _;

use anyhow::{Context as _, Result};
use rsp_eval::CompareOptions;
use rsp_store::{RunFilter, RunStatus, RunStore as _, SampleFilter, SqliteStore};
use serde_json::json;

use crate::cli::RunsCommand;
use crate::exit::Code;
use crate::settings::Settings;
use crate::store_sink::{StoredRun, list_runs, load_run, open_store, samples, store_location};

/// The store, if it exists: reading commands never create one.
async fn existing_store(settings: &Settings) -> Result<Option<std::sync::Arc<SqliteStore>>> {
    let (path, _) = store_location(settings)?;
    if !path.is_file() {
        return Ok(None);
    }
    Ok(Some(open_store(&path).await?))
}

use super::store_runtime as runtime;

pub fn run(cmd: RunsCommand, settings: &Settings) -> Result<Code> {
    runtime()?.block_on(runs(cmd, settings))
}

/// Sample-epochs stored, and how many of them errored.
async fn counts(store: &SqliteStore, run: &StoredRun) -> Result<(u64, u64)> {
    let id = &run.record.id;
    let all = store.count_samples(id, &SampleFilter::default()).await?;
    let errors = SampleFilter {
        has_error: Some(true),
        ..SampleFilter::default()
    };
    Ok((all, store.count_samples(id, &errors).await?))
}

fn run_json(run: &StoredRun, stored: u64, errors: u64) -> serde_json::Value {
    json!({
        "run": run.record.id,
        "status": run.record.status.as_str(),
        "created_at": run.record.created_at,
        "finished_at": run.record.finished_at,
        "samples": stored,
        "errors": errors,
        "spec": run.spec,
        "summary": run.summary,
        "launch": run.launch,
        "source": run.record.source.as_str(),
        "source_sha256": run.record.source_sha256,
    })
}

async fn runs(cmd: RunsCommand, settings: &Settings) -> Result<Code> {
    let store = existing_store(settings).await?;
    let mut out = std::io::stdout().lock();
    match cmd {
        RunsCommand::List { json } => {
            let runs = match &store {
                Some(s) => list_runs(s.as_ref(), &RunFilter::default()).await?,
                None => Vec::new(),
            };
            let mut rows = Vec::with_capacity(runs.len());
            for r in &runs {
                let (stored, errors) = match &store {
                    Some(s) => counts(s, r).await?,
                    None => (0, 0),
                };
                rows.push((r, stored, errors));
            }
            if json {
                let v: Vec<_> = rows.iter().map(|(r, n, e)| run_json(r, *n, *e)).collect();
                writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
                return Ok(Code::Ok);
            }
            if rows.is_empty() {
                writeln!(out, "no runs yet (rsp eval SUITE --model SPEC)")?;
            }
            for (r, stored, _) in &rows {
                let headline = r
                    .summary
                    .as_ref()
                    .filter(|_| r.record.status == RunStatus::Completed)
                    .and_then(|s| s.metrics.first())
                    .map(ToString::to_string)
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{}  {:<26} {:<32} {:>6}/{:<6} {:<11} {:<7} {headline}",
                    r.record.id,
                    r.spec.task,
                    r.spec.model,
                    stored,
                    r.spec.planned,
                    r.record.status.as_str(),
                    r.record.source.as_str(),
                )?;
            }
        }
        RunsCommand::Show { run, json } => {
            let store = store.context("no runs yet (rsp eval SUITE --model SPEC)")?;
            let r = load_run(store.as_ref(), &run).await?;
            let (stored, errors) = counts(&store, &r).await?;
            if json {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&run_json(&r, stored, errors))?
                )?;
                return Ok(Code::Ok);
            }
            show(&mut out, &r, stored, errors, store.location())?;
        }
    }
    Ok(Code::Ok)
}

fn show(
    out: &mut impl std::io::Write,
    r: &StoredRun,
    stored: u64,
    errors: u64,
    location: &str,
) -> Result<()> {
    let s = &r.spec;
    writeln!(out, "run {} ({})", r.record.id, r.record.status.as_str())?;
    writeln!(
        out,
        "task {} (version {}), model {}, seed {}, epochs {}{}",
        s.task,
        s.task_version,
        s.model,
        s.seed,
        s.epochs,
        s.limit.map(|l| format!(", limit {l}")).unwrap_or_default()
    )?;
    writeln!(
        out,
        "samples {stored} of {} planned, {errors} with errors",
        s.planned
    )?;
    match (&r.summary, r.record.status) {
        (Some(summary), RunStatus::Completed) => {
            writeln!(
                out,
                "errors {}, retried attempts {}",
                summary.errors, summary.retried_attempts
            )?;
            for m in &summary.metrics {
                writeln!(out, "  {m}")?;
            }
        }
        (_, status) => writeln!(
            out,
            "not finished ({}): `rsp eval --resume {}` (or the same `rsp eval` command) resumes it",
            status.as_str(),
            r.record.id
        )?,
    }
    writeln!(out, "provenance: {}", serde_json::to_string(&s.provenance)?)?;
    writeln!(out, "identity {}", s.key)?;
    writeln!(out, "store {location}")?;
    Ok(())
}

/// `rsp compare A B`: paired statistics over the samples both runs share.
pub fn compare(a: &str, b: &str, seed: u64, settings: &Settings) -> Result<Code> {
    runtime()?.block_on(async {
        let store = existing_store(settings)
            .await?
            .context("no runs yet (rsp eval SUITE --model SPEC)")?;
        let ra = load_run(store.as_ref(), a).await?;
        let rb = load_run(store.as_ref(), b).await?;
        let sa = samples(store.as_ref(), &ra.record.id).await?;
        let sb = samples(store.as_ref(), &rb.record.id).await?;
        let options = CompareOptions {
            seed,
            ..CompareOptions::default()
        };
        let results = rsp_eval::compare(&sa, &sb, &options)?;
        let mut out = std::io::stdout().lock();
        for (name, r) in [("A", &ra), ("B", &rb)] {
            writeln!(
                out,
                "{name} = {} ({} on {}, {})",
                r.record.id,
                r.spec.task,
                r.spec.model,
                r.record.status.as_str()
            )?;
        }
        for r in &results {
            writeln!(out, "{r}")?;
        }
        Ok(Code::Ok)
    })
}
