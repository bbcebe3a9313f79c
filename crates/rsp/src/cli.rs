//! Command-line arguments. clap lives here and nowhere else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// rsp: a responsible scaling policy as machinery that runs.
///
/// Policy as code, evaluations with honest error bars, threshold
/// determinations, signed decisions and a verifiable audit log.
#[derive(Debug, Parser)]
#[command(name = "rsp", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Project directory (default: search upward from the current directory for rsp.toml).
    #[arg(long, global = true, env = "RSP_PROJECT", value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// When to colour output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a project: rsp.toml with a policy template, suites/ and .rsp/.
    Init(InitArgs),
    /// Check, explain, diff and describe policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Print shell completions to stdout.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to create the project in (default: the current directory).
    pub dir: Option<PathBuf>,
    /// Policy template to start from.
    #[arg(long, default_value = "example", value_parser = template_names())]
    pub template: String,
    /// Overwrite an existing rsp.toml.
    #[arg(long)]
    pub force: bool,
}

fn template_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(
        rsp_policy::templates::TEMPLATES
            .iter()
            .map(|t| clap::builder::PossibleValue::new(t.name).help(t.summary)),
    )
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy: syntax, types, references, ranges, cycles.
    ///
    /// Exits 0 when valid (warnings allowed), 1 when invalid, 2 on a usage or I/O error.
    Check {
        /// Policy file (default: the project's rsp.toml).
        file: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
        format: CheckFormat,
    },
    /// Render the policy in plain language.
    Explain {
        /// Policy file (default: the project's rsp.toml).
        file: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExplainFormat::Md)]
        format: ExplainFormat,
        /// Write to this file instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Semantic diff of two policy versions; flags every weakening.
    ///
    /// Exits 1 when any change weakens the policy, 0 otherwise, 2 on error.
    Diff {
        /// The old version.
        old: PathBuf,
        /// The new version.
        new: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
        format: DiffFormat,
    },
    /// Print the policy file's JSON Schema.
    Schema,
    /// List the built-in policy templates.
    Templates,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    Md,
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
}
