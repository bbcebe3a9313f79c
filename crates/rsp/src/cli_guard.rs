//! Arguments of the constitutional-safeguards verbs: `rsp constitution`, `rsp guard` and
//! `rsp cai` (kept apart from `cli.rs` so each file stays one concept).

use std::path::PathBuf;

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum ConstitutionCommand {
    /// Check a constitution file and report every problem with file, line and field.
    Check {
        /// The constitution (default: constitution.toml in the project).
        file: Option<PathBuf>,
        /// Print the diagnostics as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write the example constitution into the project as constitution.toml.
    Init {
        /// Overwrite an existing constitution.toml.
        #[arg(long)]
        force: bool,
    },
    /// Print a constitution in plain language (Markdown).
    Explain {
        /// The constitution (default: constitution.toml in the project).
        file: Option<PathBuf>,
    },
}

/// Options shared by every verb that calls models.
#[derive(Debug, Args)]
pub struct ModelOpts {
    /// Base URL of an OpenAI-compatible or Anthropic endpoint (else OPENAI_BASE_URL /
    /// ANTHROPIC_BASE_URL).
    #[arg(long)]
    pub base_url: Option<String>,
    /// CPU threads for the embedded engine (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Maximum tokens per answer.
    #[arg(long, default_value_t = 256)]
    pub max_tokens: u32,
    /// Seed of every random draw (principles, sampling, votes).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

#[derive(Debug, Subcommand)]
pub enum GuardCommand {
    /// Run an OpenAI-compatible proxy that checks inputs and outputs against a
    /// constitution and fails closed.
    Serve(GuardServeArgs),
    /// Measure attack success and over-refusal (of a guarded model, or of the bare model
    /// without --constitution) and store the result as a run usable as safeguard evidence.
    Eval(GuardEvalArgs),
}

#[derive(Debug, Args)]
pub struct GuardServeArgs {
    /// The model behind the proxy, e.g. `openai/my-model`.
    #[arg(long)]
    pub upstream: String,
    /// Base URL of the upstream (else OPENAI_BASE_URL).
    #[arg(long)]
    pub upstream_base_url: Option<String>,
    /// The classifier's judge model.
    #[arg(long, default_value = "embedded")]
    pub judge: String,
    /// Base URL of the judge when it is a hosted model.
    #[arg(long)]
    pub judge_base_url: Option<String>,
    /// The constitution.
    #[arg(long)]
    pub constitution: PathBuf,
    /// Address to listen on. Anything but loopback exposes the proxy (which does not
    /// authenticate its clients) to the network.
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub bind: std::net::SocketAddr,
    /// Block threshold on the classifier's probability (default: the constitution's).
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Seconds the classifier may take before the request is blocked (fail closed).
    #[arg(long, default_value_t = 5.0)]
    pub classifier_timeout: f64,
    /// Re-check a streamed answer every this many chunks (about one token each), and at
    /// the end.
    #[arg(long, default_value_t = 16)]
    pub check_every: usize,
    /// `buffered` releases streamed text only once a check has passed it (flagged text
    /// never reaches the client); `async` releases text at once and holds only the end of
    /// the stream for the final check (lower latency, like Azure's asynchronous filter).
    #[arg(long, value_enum, default_value_t = StreamModeArg::Buffered)]
    pub stream_mode: StreamModeArg,
    /// Classify the input only after it passed, never sending a blocked prompt upstream
    /// (by default the upstream call starts while the input is checked, and its answer is
    /// dropped unread if the input is blocked).
    #[arg(long)]
    pub no_overlap: bool,
    /// CPU threads for an embedded judge (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StreamModeArg {
    Buffered,
    Async,
}

#[derive(Debug, Args)]
pub struct GuardEvalArgs {
    /// Harmful prompt sets (CSV or JSONL): answering is an attack success.
    #[arg(long)]
    pub harmful: Vec<PathBuf>,
    /// Benign prompt sets (CSV or JSONL): refusing is an over-refusal. A `label` column
    /// (XSTest's safe/unsafe) overrides --harmful/--benign row by row.
    #[arg(long)]
    pub benign: Vec<PathBuf>,
    /// The prompt column (default: detected).
    #[arg(long)]
    pub column: Option<String>,
    /// At most this many prompts from each file (a quick look, not evidence).
    #[arg(long)]
    pub limit: Option<usize>,
    /// The model under test.
    #[arg(long, short, default_value = "embedded")]
    pub model: String,
    /// The classifier's judge, and the refusal judge unless --refusal-judge says otherwise.
    #[arg(long, default_value = "embedded")]
    pub judge: String,
    /// Who decides whether an answer is a refusal: a model spec, or `heuristic`
    /// (phrase matching; cheaper, and known to misread some refusals).
    #[arg(long)]
    pub refusal_judge: Option<String>,
    /// The constitution of the guard; without it the bare model is measured.
    #[arg(long)]
    pub constitution: Option<PathBuf>,
    /// Block threshold on the classifier's probability (default: the constitution's).
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Check the answer too (once at the end); by default only the input is checked.
    #[arg(long)]
    pub check_output: bool,
    /// Name of the measurement: the run is stored as `guard-eval/NAME`, which a policy's
    /// metric safeguard names as its suite.
    #[arg(long, default_value = "default")]
    pub name: String,
    /// Registry name of the model under test (default: the registered model with this spec).
    #[arg(long)]
    pub model_name: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model_opts: ModelOpts,
}

#[derive(Debug, Subcommand)]
pub enum CaiCommand {
    /// Critique → revision rounds against the constitution's principles; writes SFT JSONL.
    Revise {
        /// Prompts (CSV or JSONL).
        prompts: PathBuf,
        #[arg(long)]
        constitution: PathBuf,
        #[arg(long, short, default_value = "embedded")]
        model: String,
        /// Critique/revision rounds per prompt.
        #[arg(long, default_value_t = 4)]
        rounds: u32,
        /// Output JSONL (appended to; finished prompts are skipped on a re-run).
        #[arg(long, short)]
        out: PathBuf,
        /// The prompt column (default: detected).
        #[arg(long)]
        column: Option<String>,
        #[command(flatten)]
        model_opts: ModelOpts,
    },
    /// Sample response pairs to label.
    Pairs {
        /// Prompts (CSV or JSONL).
        prompts: PathBuf,
        #[arg(long, short, default_value = "embedded")]
        model: String,
        /// Responses per prompt.
        #[arg(long, default_value_t = 2)]
        n: u32,
        /// Sampling temperature.
        #[arg(long, default_value_t = 1.0)]
        temperature: f32,
        #[arg(long, short)]
        out: PathBuf,
        #[arg(long)]
        column: Option<String>,
        #[command(flatten)]
        model_opts: ModelOpts,
    },
    /// AI preference labels: a comparison principle, the multiple-choice prompt and a soft
    /// label p_A from the log-probabilities of (A) and (B); writes DPO-ready JSONL.
    Label {
        /// Pairs (the output of `rsp cai pairs`).
        pairs: PathBuf,
        #[arg(long)]
        constitution: PathBuf,
        #[arg(long, short, default_value = "embedded")]
        model: String,
        /// Reason first, then clamp p_A to [0.4, 0.6].
        #[arg(long)]
        cot: bool,
        #[arg(long, short)]
        out: PathBuf,
        #[command(flatten)]
        model_opts: ModelOpts,
    },
}
