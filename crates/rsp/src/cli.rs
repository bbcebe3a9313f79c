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
    /// Ask a model one question and stream the answer (a quick smoke test).
    Chat(ChatArgs),
    /// Run an eval suite (or one task, SUITE/TASK) against a model; re-run to resume.
    Eval(EvalArgs),
    /// List and show evaluation runs.
    #[command(subcommand)]
    Runs(RunsCommand),
    /// Compare two runs on the same samples (McNemar or paired bootstrap).
    Compare {
        /// First run (id or unique prefix).
        a: String,
        /// Second run (id or unique prefix).
        b: String,
        /// Seed of the paired bootstrap.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Check, explain, diff and describe policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Fit scaling laws and capability trends, and forecast threshold crossings.
    #[command(subcommand)]
    Forecast(ForecastCommand),
    /// Verify audit-ledger proofs and auditor bundles.
    #[command(subcommand)]
    Ledger(LedgerCommand),
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

#[derive(Debug, Subcommand)]
pub enum ForecastCommand {
    /// Fit a law or trend to a CSV file with named columns.
    #[command(subcommand)]
    Fit(FitCommand),
}

/// Options shared by every fit.
#[derive(Debug, Args)]
pub struct FitCommon {
    /// Bootstrap resamples for the intervals (0 disables them).
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Seed of the bootstrap, so results are reproducible.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Confidence level of the intervals.
    #[arg(long, default_value_t = 0.95, value_parser = parse_level)]
    pub level: f64,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write an SVG chart with the data, the fit and its band.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Alert line(s) to draw and forecast the crossing of.
    #[arg(long)]
    pub alert: Vec<f64>,
    /// Line(s) to draw and forecast the crossing of.
    #[arg(long)]
    pub line: Vec<f64>,
}

fn parse_level(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if v > 0.0 && v < 1.0 {
        Ok(v)
    } else {
        Err(format!(
            "the level must be strictly between 0 and 1, not {v}"
        ))
    }
}

/// A CSV file and the two columns of a one-variable fit.
#[derive(Debug, Args)]
pub struct FitArgs {
    /// CSV file with a header row.
    pub data: PathBuf,
    /// Column with training compute in FLOP.
    #[arg(long = "flop", value_name = "COLUMN")]
    pub x: String,
    /// Column with the loss (power) or the benchmark score (sigmoid).
    #[arg(
        long = "y",
        visible_alias = "score",
        visible_alias = "loss",
        value_name = "COLUMN"
    )]
    pub y: String,
    #[command(flatten)]
    pub common: FitCommon,
}

#[derive(Debug, Subcommand)]
pub enum FitCommand {
    /// Chinchilla L(N, D) = E + A/N^α + B/D^β (Approach 3: LSE, summed Huber, L-BFGS from a grid).
    Chinchilla {
        /// CSV file with a header row.
        data: PathBuf,
        /// Column with the parameter count N.
        #[arg(long, value_name = "COLUMN")]
        n: String,
        /// Column with training FLOP C (tokens are taken as C / 6N).
        #[arg(long, value_name = "COLUMN")]
        flop: Option<String>,
        /// Column with training tokens D (instead of --flop).
        #[arg(long, value_name = "COLUMN", conflicts_with = "flop")]
        tokens: Option<String>,
        /// Column with the loss.
        #[arg(long, value_name = "COLUMN")]
        loss: String,
        /// Drop the K highest-loss points first (the replication drops 5).
        #[arg(long, value_name = "K", default_value_t = 0)]
        drop_highest: usize,
        #[command(flatten)]
        common: FitCommon,
    },
    /// Power law in compute, L(C) = E + A·C^-α.
    Power(FitArgs),
    /// Four-parameter sigmoid of a score against log10 compute.
    Sigmoid(FitArgs),
    /// Log-linear trend over time (METR-style doubling time).
    Trend {
        /// CSV file with a header row.
        data: PathBuf,
        /// Column with dates, YYYY-MM-DD.
        #[arg(long, value_name = "COLUMN")]
        date: String,
        /// Column with the (positive) value.
        #[arg(long, value_name = "COLUMN")]
        value: String,
        /// Keep only frontier points: at or above the running maximum of all earlier releases.
        #[arg(long)]
        frontier: bool,
        /// Ignore rows before this date (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
        #[command(flatten)]
        common: FitCommon,
    },
}

#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Verify an inclusion or consistency proof given as JSON (transparency-dev field names).
    ///
    /// Exits 0 when the proof is valid, 1 when it is not, 2 when the file cannot be read.
    VerifyProof {
        /// The proof: {leafIdx, treeSize, root, leafHash, proof} or {size1, size2, root1, root2, proof}.
        file: PathBuf,
    },
    /// Verify an auditor bundle on its own: every leaf, artifact and checkpoint.
    ///
    /// Exits 0 when it verifies, 1 when it does not, 2 when it cannot be read.
    Verify {
        /// The bundle written by `rsp ledger export`.
        #[arg(long)]
        bundle: PathBuf,
        /// The log's published verifier key (vkey file), pinned instead of trusting the bundle's.
        #[arg(long, value_name = "VKEY")]
        log_key: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ChatArgs {
    /// Model spec: `embedded`, `embedded/PATH.gguf`, `openai/MODEL`, `anthropic/MODEL`, `mock/SCRIPT`.
    #[arg(long, short, default_value = "embedded")]
    pub model: String,
    /// System message.
    #[arg(long)]
    pub system: Option<String>,
    /// Base URL of an OpenAI-compatible or Anthropic endpoint (else OPENAI_BASE_URL / ANTHROPIC_BASE_URL).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Maximum tokens to generate.
    #[arg(long, default_value_t = 256)]
    pub max_tokens: u32,
    /// Sampling temperature; 0 (the default) decodes greedily.
    #[arg(long)]
    pub temperature: Option<f32>,
    /// Seed for sampling: the same seed gives the same text.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// CPU threads for the embedded engine (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print token counts and latency to stderr.
    #[arg(long, short)]
    pub verbose: bool,
    /// Do not read or write the project's response cache.
    #[arg(long)]
    pub no_cache: bool,
    /// The question.
    pub prompt: String,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Suite, or SUITE/TASK: a built-in suite or one in the project's suites/.
    pub suite: String,
    /// Model spec: `embedded`, `openai/MODEL`, `anthropic/MODEL`, `mock/SCRIPT`.
    #[arg(long, short, default_value = "embedded")]
    pub model: String,
    /// Judge model for model-graded scorers and best-of-n selection.
    #[arg(long)]
    pub judge: Option<String>,
    /// Base URL of an OpenAI-compatible or Anthropic endpoint.
    #[arg(long)]
    pub base_url: Option<String>,
    /// Run only the first N samples (in the task's fixed order).
    #[arg(long)]
    pub limit: Option<usize>,
    /// Epochs per sample (default: the task's).
    #[arg(long)]
    pub epochs: Option<u32>,
    /// Run seed; per-sample seeds derive from it, the sample id and the epoch.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Samples in flight at once (default: from the provider).
    #[arg(long)]
    pub max_concurrency: Option<usize>,
    /// Retry a failed sample this many times before recording the error.
    #[arg(long, default_value_t = 1)]
    pub retry_errors: u32,
    /// CPU threads for the embedded engine (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// One line per run: id, task, model, samples, status, headline metric.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A run's metrics with their intervals, and its provenance.
    Show {
        /// Run id or unique prefix.
        run: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}
