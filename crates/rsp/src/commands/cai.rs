//! `rsp cai revise|pairs|label`: Constitutional AI data from the project's constitution.
//!
//! Every job appends one fsynced JSONL line per finished prompt and skips finished ids on
//! a re-run, so an interrupted job (Ctrl-C or `kill -9`) is resumed by running the same
//! command again.

use std::io::IsTerminal as _;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use rsp_guard::cai::{self, CaiSummary, LabelConfig, PairsConfig, ReviseConfig};
use rsp_model::GenerateConfig;

use crate::cli_guard::CaiCommand;
use crate::exit::Code;
use crate::settings::Settings;

/// A bar on a terminal, nothing otherwise (logs and CI stay clean).
pub(crate) fn progress_bar(total: u64, label: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(label.to_owned());
    bar
}

pub fn run(cmd: CaiCommand, settings: &Settings) -> Result<Code> {
    super::runtime()?.block_on(run_async(cmd, settings))
}

async fn run_async(cmd: CaiCommand, settings: &Settings) -> Result<Code> {
    let (summary, out) = match cmd {
        CaiCommand::Revise {
            prompts,
            constitution,
            model,
            rounds,
            out,
            column,
            model_opts: o,
        } => {
            let c = super::constitution::load(&constitution, settings)?;
            let set = rsp_guard::load_prompts(&prompts, column.as_deref())?;
            let m = super::guard::factory(o.base_url.as_deref(), o.threads)?.build(&model)?;
            let config = ReviseConfig {
                rounds,
                seed: o.seed,
                generate: GenerateConfig::greedy(o.max_tokens),
                system: None,
                concurrency: o.concurrency.max(1),
            };
            let bar = progress_bar(set.items.len() as u64, "cai revise");
            let s = cai::revise(m, &c, &set, &out, &config, &|p| {
                bar.set_position((p.skipped + p.done) as u64);
            })
            .await?;
            bar.finish_and_clear();
            (s, out)
        }
        CaiCommand::Pairs {
            prompts,
            model,
            n,
            temperature,
            out,
            column,
            model_opts: o,
        } => {
            let set = rsp_guard::load_prompts(&prompts, column.as_deref())?;
            let m = super::guard::factory(o.base_url.as_deref(), o.threads)?.build(&model)?;
            let config = PairsConfig {
                n,
                seed: o.seed,
                generate: GenerateConfig {
                    temperature,
                    ..GenerateConfig::greedy(o.max_tokens)
                },
                system: None,
                concurrency: o.concurrency.max(1),
            };
            let bar = progress_bar(set.items.len() as u64, "cai pairs");
            let s = cai::pairs(m, &set, &out, &config, &|p| {
                bar.set_position((p.skipped + p.done) as u64);
            })
            .await?;
            bar.finish_and_clear();
            (s, out)
        }
        CaiCommand::Label {
            pairs,
            constitution,
            model,
            cot,
            out,
            model_opts: o,
        } => {
            let c = super::constitution::load(&constitution, settings)?;
            let items = cai::load_pairs(&pairs)?;
            let m = super::guard::factory(o.base_url.as_deref(), o.threads)?.build(&model)?;
            let config = LabelConfig {
                seed: o.seed,
                cot,
                cot_max_tokens: o.max_tokens,
                concurrency: o.concurrency.max(1),
            };
            let bar = progress_bar(items.len() as u64, "cai label");
            let s = cai::label(m, &c, &items, &out, &config, &|p| {
                bar.set_position((p.skipped + p.done) as u64);
            })
            .await?;
            bar.finish_and_clear();
            (s, out)
        }
    };
    report(&summary, &out)
}

fn report(s: &CaiSummary, out: &std::path::Path) -> Result<Code> {
    let p = &s.progress;
    println!(
        "{}: {} written, {} already there, {} failed (of {})",
        out.display(),
        s.written,
        p.skipped,
        p.errors,
        p.total
    );
    if s.repaired_bytes > 0 {
        println!(
            "repaired: dropped a {}-byte partial last line left by an interrupted run",
            s.repaired_bytes
        );
    }
    for e in &s.errors {
        eprintln!("error: {e}");
    }
    // Failed prompts are retried by the next run; say so with the exit code.
    Ok(if p.errors == 0 { Code::Ok } else { Code::Fail })
}
