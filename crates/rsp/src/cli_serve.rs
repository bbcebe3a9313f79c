//! Arguments of `rsp serve` and `rsp token`.

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Anything but loopback makes every run, transcript and decision
    /// readable from other machines (reads are unauthenticated); a warning is printed.
    #[arg(long, default_value = "127.0.0.1:8719")]
    pub bind: std::net::SocketAddr,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for `rsp serve` writes; it is printed once and only its SHA-256
    /// is stored.
    New {
        /// viewer, evaluator, rso or admin.
        #[arg(long)]
        role: String,
    },
}
