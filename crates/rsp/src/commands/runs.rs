//! `rsp runs list|show` and `rsp compare`: read the run logs under
//! `.rsp/runs/`, find a run by id prefix, and compare two runs sample by
//! sample with paired statistics.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use rsp_eval::{CompareOptions, JsonlSink, RunLog};

use crate::cli::RunsCommand;
use crate::exit::Code;
use crate::project::{Project, STATE_DIR};
use crate::settings::Settings;

fn runs_dir(settings: &Settings) -> Result<PathBuf> {
    Ok(Project::find(settings.project.as_deref())?
        .root
        .join(STATE_DIR)
        .join("runs"))
}

/// Every run log, oldest first by file name.
fn all_runs(dir: &Path) -> Result<Vec<(PathBuf, RunLog)>> {
    let mut paths: Vec<PathBuf> = match fs_err::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect(),
        Err(_) => Vec::new(),
    };
    paths.sort();
    paths
        .into_iter()
        .map(|p| Ok((p.clone(), JsonlSink::read(&p)?)))
        .collect()
}

/// The one run whose id starts with `prefix`.
fn find(dir: &Path, prefix: &str) -> Result<(PathBuf, RunLog)> {
    let mut hits: Vec<(PathBuf, RunLog)> = all_runs(dir)?
        .into_iter()
        .filter(|(_, l)| l.spec.key.starts_with(prefix))
        .collect();
    match hits.len() {
        0 => bail!("no run id starts with `{prefix}` (see `rsp runs list`)"),
        1 => Ok(hits.remove(0)),
        n => bail!("{n} runs start with `{prefix}`; give more of the id"),
    }
}

pub fn run(cmd: RunsCommand, settings: &Settings) -> Result<Code> {
    let dir = runs_dir(settings)?;
    let mut out = std::io::stdout().lock();
    match cmd {
        RunsCommand::List { json } => {
            let runs = all_runs(&dir)?;
            if json {
                let v: Vec<_> = runs.iter().map(|(p, l)| serde_json::json!({"run": l.spec.key, "spec": l.spec, "summary": l.summary, "log": p})).collect();
                writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
                return Ok(Code::Ok);
            }
            if runs.is_empty() {
                writeln!(out, "no runs yet (rsp eval SUITE --model SPEC)")?;
            }
            for (_, l) in &runs {
                let status = if l.summary.is_some() {
                    "complete"
                } else {
                    "partial"
                };
                let headline = l
                    .summary
                    .as_ref()
                    .and_then(|s| s.metrics.first())
                    .map(ToString::to_string)
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{}  {:<26} {:<40} {:>5}/{:<5} {status:<8} {headline}",
                    short(&l.spec.key),
                    l.spec.task,
                    l.spec.model,
                    l.samples.len(),
                    l.spec.planned
                )?;
            }
        }
        RunsCommand::Show { run, json } => {
            let (path, l) = find(&dir, &run)?;
            if json {
                let v = serde_json::json!({"run": l.spec.key, "spec": l.spec, "summary": l.summary, "samples": l.samples.len(), "log": path});
                writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
                return Ok(Code::Ok);
            }
            writeln!(out, "run {}", l.spec.key)?;
            writeln!(
                out,
                "task {} (version {}), model {}, seed {}, epochs {}",
                l.spec.task, l.spec.task_version, l.spec.model, l.spec.seed, l.spec.epochs
            )?;
            writeln!(
                out,
                "samples {} of {} planned{}",
                l.samples.len(),
                l.spec.planned,
                if l.truncated_tail {
                    " (a torn last line was ignored)"
                } else {
                    ""
                }
            )?;
            match &l.summary {
                Some(s) => {
                    writeln!(
                        out,
                        "errors {}, retried attempts {}",
                        s.errors, s.retried_attempts
                    )?;
                    for m in &s.metrics {
                        writeln!(out, "  {m}")?;
                    }
                }
                None => writeln!(
                    out,
                    "not finished: re-run the same `rsp eval` command to resume"
                )?,
            }
            writeln!(
                out,
                "provenance: {}",
                serde_json::to_string(&l.spec.provenance)?
            )?;
            writeln!(out, "log {}", path.display())?;
        }
    }
    Ok(Code::Ok)
}

/// `rsp compare A B`: paired statistics over the samples both runs share.
pub fn compare(a: &str, b: &str, seed: u64, settings: &Settings) -> Result<Code> {
    let dir = runs_dir(settings)?;
    let (_, la) = find(&dir, a)?;
    let (_, lb) = find(&dir, b)?;
    let options = CompareOptions {
        seed,
        ..CompareOptions::default()
    };
    let results = rsp_eval::compare(&la.samples, &lb.samples, &options)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "A = {} ({} on {})",
        short(&la.spec.key),
        la.spec.task,
        la.spec.model
    )?;
    writeln!(
        out,
        "B = {} ({} on {})",
        short(&lb.spec.key),
        lb.spec.task,
        lb.spec.model
    )?;
    for r in &results {
        writeln!(out, "{r}")?;
    }
    Ok(Code::Ok)
}

fn short(key: &str) -> &str {
    &key[..12.min(key.len())]
}
