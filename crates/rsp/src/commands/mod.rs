//! One module per verb. Each takes parsed arguments and the resolved
//! settings, and returns the exit code.

mod assess;
mod cai;
mod chat;
mod constitution;
mod eval;
mod forecast;
mod forecast_project;
mod guard;
mod guard_run;
mod init;
mod interop;
mod key;
mod ledger;
mod ledger_log;
mod model;
mod policy;
mod runs;
mod safeguard;
mod serve;
mod sign;

use anyhow::{Context as _, Result};

use crate::cli::Command;
use crate::exit::Code;
use crate::settings::Settings;

/// The runtime for commands that run models or evals (several tasks in flight, and
/// `block_in_place` for the ledger's synchronous artifact lookups).
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// A single-threaded runtime for commands that only read or write the store.
pub(crate) fn store_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub fn run(command: Command, settings: &Settings) -> Result<Code> {
    match command {
        Command::Init(args) => init::run(&args),
        Command::Chat(args) => chat::run(args, settings),
        Command::Eval(args) => eval::run(args, settings),
        Command::Runs(cmd) => runs::run(cmd, settings),
        Command::Compare { a, b, seed } => runs::compare(&a, &b, seed, settings),
        Command::Policy(cmd) => policy::run(cmd, settings),
        Command::Forecast(args) => forecast_project::dispatch(args, settings),
        Command::Ledger(cmd) => ledger::run(cmd, settings),
        Command::Model(cmd) => model::run(cmd, settings),
        Command::Key(cmd) => key::run(cmd, settings),
        Command::Safeguard(cmd) => safeguard::run(cmd, settings),
        Command::Sign(args) => sign::sign(&args, settings),
        Command::Decisions(cmd) => sign::decisions(cmd, settings),
        Command::Assess(args) => assess::run(args, settings),
        Command::Status { json } => assess::status(json, settings),
        Command::Import(cmd) => interop::import(&cmd, settings),
        Command::Export(cmd) => interop::export(cmd, settings),
        Command::Constitution(cmd) => constitution::run(cmd, settings),
        Command::Guard(cmd) => guard::run(cmd, settings),
        Command::Cai(cmd) => cai::run(cmd, settings),
        Command::Serve(args) => serve::serve(&args, settings),
        Command::Token(cmd) => serve::token(&cmd, settings),
        Command::Completions { shell } => {
            let mut cmd = <crate::cli::Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "rsp", &mut std::io::stdout());
            Ok(Code::Ok)
        }
    }
}
