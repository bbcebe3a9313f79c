//! Settings resolved once from arguments and environment, then passed down.

use std::io::IsTerminal as _;
use std::path::PathBuf;

use rsp_policy::diag::Style;

use crate::cli::{ColorChoice, GlobalArgs};

/// Resolved global settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Explicit project directory, if given.
    pub project: Option<PathBuf>,
    /// How to render diagnostics.
    pub style: Style,
}

impl Settings {
    pub fn resolve(args: &GlobalArgs) -> Self {
        let color = match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        };
        Self {
            project: args.project.clone(),
            style: if color { Style::Color } else { Style::Plain },
        }
    }
}

/// Send logs to stderr, filtered by `RSP_LOG` (default: warnings only, and
/// llama.cpp's own chatter at load time silenced).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RSP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,llama_cpp_2=error"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
