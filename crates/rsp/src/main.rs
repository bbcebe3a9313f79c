//! The `rsp` command-line tool. Kept thin: parse, resolve settings, run.

mod audit;
mod cli;
mod cli_guard;
mod cli_serve;
mod commands;
mod exit;
mod project;
mod run_lock;
mod settings;
mod store_cache;
mod store_sink;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    settings::init_logging();
    let settings = settings::Settings::resolve(&cli.global);
    match commands::run(cli.command, &settings) {
        Ok(code) => code.into(),
        Err(err) => {
            if exit::is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            exit::Code::Usage.into()
        }
    }
}
