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
    /// Forecast when each evidence rule's alert line and line will be crossed, across the
    /// registered checkpoints (`rsp forecast` = `rsp forecast project`), or fit laws and
    /// trends to a CSV (`rsp forecast fit`).
    Forecast(ForecastArgs),
    /// Verify audit-ledger proofs and auditor bundles.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Register models (compute, parameters, tokens, date, lineage) and show them.
    #[command(subcommand)]
    Model(ModelCommand),
    /// Create role signing keys (Ed25519) and list the registered ones.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Attest safeguards with evidence files, and show every safeguard's status.
    #[command(subcommand)]
    Safeguard(SafeguardCommand),
    /// Sign a decision with a role's key; it is final once every required role has signed.
    Sign(SignArgs),
    /// List and show decisions, re-verifying every signature.
    #[command(subcommand)]
    Decisions(DecisionsCommand),
    /// Assess a model under the policy: triggers, evidence plan, evals, determinations,
    /// safeguards, a decision to sign, and the Capability and Safeguards reports.
    ///
    /// Exits 0 when the action is allowed and signed, 3 when it is blocked, 4 when the
    /// decision awaits signatures, 1 or 2 on errors.
    Assess(AssessArgs),
    /// One line per registered model: required standard, safeguards, decision, nearest
    /// line and when the next assessment is due.
    Status {
        /// Print JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Import Inspect AI or lm-evaluation-harness logs as rsp runs (evidence).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Export a run in another harness's log format.
    #[command(subcommand)]
    Export(ExportCommand),
    /// Constitutions: check, init, explain.
    #[command(subcommand)]
    Constitution(crate::cli_guard::ConstitutionCommand),
    /// The constitutional guard: a fail-closed proxy, and its measurement as evidence.
    #[command(subcommand)]
    Guard(crate::cli_guard::GuardCommand),
    /// Constitutional AI data: critique/revision SFT, response pairs, preference labels.
    #[command(subcommand)]
    Cai(crate::cli_guard::CaiCommand),
    /// Serve the dashboard and JSON API (read-only without a token; 127.0.0.1:8719).
    Serve(crate::cli_serve::ServeArgs),
    /// API tokens for `rsp serve` writes.
    #[command(subcommand)]
    Token(crate::cli_serve::TokenCommand),
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

/// `rsp forecast [project options]` or `rsp forecast SUBCOMMAND`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ForecastArgs {
    #[command(subcommand)]
    pub command: Option<ForecastCommand>,
    /// Without a subcommand: the project forecast.
    #[command(flatten)]
    pub project: ForecastProjectArgs,
}

#[derive(Debug, Subcommand)]
pub enum ForecastCommand {
    /// Fit a law or trend to a CSV file with named columns.
    #[command(subcommand)]
    Fit(FitCommand),
    /// Forecast every evidence rule's crossings across the registered checkpoints (default).
    ///
    /// For every evidence rule, fit its metric across the registered checkpoints against
    /// effective compute and forecast the compute and date at which the adjusted estimate
    /// reaches the alert line and the line, with bootstrap intervals; recommend an earlier
    /// assessment when a crossing comes before the next scheduled trigger.
    Project(ForecastProjectArgs),
}

/// Options of the project forecast.
#[derive(Debug, Args)]
pub struct ForecastProjectArgs {
    /// Only this checkpoint's lineage: it, its ancestors and its descendants (`--parent`).
    /// Default: every lineage separately.
    #[arg(long, value_name = "NAME", conflicts_with = "all")]
    pub model_lineage: Option<String>,
    /// Pool every registered model into one series, ignoring lineage.
    #[arg(long)]
    pub all: bool,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Folder for one SVG chart per lineage and rule (default: `reports/forecast/` in the
    /// project).
    #[arg(long, value_name = "DIR")]
    pub plot_dir: Option<PathBuf>,
    /// Seed of the bootstrap, so results are reproducible.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Bootstrap resamples.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(2..))]
    pub bootstrap: u64,
    /// Confidence level of the intervals.
    #[arg(long, default_value_t = 0.95, value_parser = parse_level)]
    pub level: f64,
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
    /// Verify the project's log (or, with --bundle, an auditor bundle on its own):
    /// every leaf, artifact and checkpoint.
    ///
    /// Exits 0 when it verifies, 1 when it does not, 2 when it cannot be read.
    Verify {
        /// The bundle written by `rsp ledger export`; without it, the project's log is verified.
        #[arg(long)]
        bundle: Option<PathBuf>,
        /// The log's published verifier key (vkey file), pinned instead of trusting the bundle's
        /// (or the project's `.rsp/ledger/log.vkey`).
        #[arg(long, value_name = "VKEY")]
        log_key: Option<PathBuf>,
    },
    /// Print the latest signed checkpoint (tree head).
    Checkpoint {
        /// Sign a new checkpoint first if leaves were added since the last one.
        #[arg(long)]
        sign: bool,
    },
    /// Print an inclusion proof for an artifact, or a consistency proof, against the latest checkpoint.
    Prove {
        /// The artifact: a sha256 prefix (8+ hex digits) or an id (run, decision, ...).
        #[arg(required_unless_present = "consistency")]
        artifact: Option<String>,
        /// Prove that the tree of this older size is a prefix of the latest checkpoint's tree.
        #[arg(long, value_name = "OLD_SIZE", conflicts_with = "artifact")]
        consistency: Option<u64>,
    },
    /// List the log's entries (index, time, kind, artifact digest, id).
    Log {
        /// Print each leaf as JSON.
        #[arg(long)]
        json: bool,
        /// Only the last N entries.
        #[arg(long, value_name = "N")]
        last: Option<u64>,
    },
    /// Write a self-contained auditor bundle (leaves, artifacts, checkpoints, public keys).
    Export {
        /// Output file (a tar archive).
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Countersign the latest checkpoint with a witness key, after verifying the whole log.
    Cosign {
        /// The witness's private key (from `rsp ledger witness-key`).
        #[arg(long)]
        key: PathBuf,
    },
    /// Create a witness (auditor) cosignature key pair: PREFIX.skey (0600) and PREFIX.vkey.
    WitnessKey {
        /// Key name, e.g. `auditor.example.org`.
        name: String,
        /// Output path prefix.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Create the log key of a project that was initialised without one.
    InitKey,
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
    #[arg(required_unless_present = "resume")]
    pub suite: Option<String>,
    /// Resume a stored run (id or unique prefix, see `rsp runs list`) with its exact task,
    /// model, judge, seed, limit and epochs; the same as re-running its command.
    #[arg(
        long,
        value_name = "RUN",
        conflicts_with_all = ["suite", "model", "judge", "limit", "epochs", "seed"]
    )]
    pub resume: Option<String>,
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
    /// Samples in flight at once (default: from the provider). For hosted providers it is
    /// also the connection limit, used from the start instead of grown to adaptively.
    #[arg(long)]
    pub max_concurrency: Option<usize>,
    /// Retry a failed sample this many times before recording the error.
    #[arg(long, default_value_t = 1)]
    pub retry_errors: u32,
    /// Let tool tasks run without isolation when this machine cannot sandbox them (no
    /// network namespace); the run records that it was unsandboxed.
    #[arg(long)]
    pub unsafe_local_tools: bool,
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

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Register a model, or update the one with this name.
    ///
    /// With --params and --tokens but no --compute, compute is taken as 6·N·D.
    Add(ModelAddArgs),
    /// One line per registered model.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Everything recorded about one model.
    Show {
        /// The model's registry name.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct ModelAddArgs {
    /// Registry name: lowercase letters, digits, `-`, `_` and `.`.
    pub name: String,
    /// Model spec: `embedded`, `openai/MODEL`, `anthropic/MODEL`, ...
    #[arg(long)]
    pub spec: String,
    /// Effective training compute in FLOP (e.g. 1.6e21).
    #[arg(long, value_name = "FLOP")]
    pub compute: Option<String>,
    /// Parameter count N (e.g. 135e6 or 135M).
    #[arg(long, value_name = "N")]
    pub params: Option<String>,
    /// Training tokens D (e.g. 2e12 or 2T).
    #[arg(long, value_name = "D")]
    pub tokens: Option<String>,
    /// Release or checkpoint date, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
    /// Registry name of the checkpoint this one continues from.
    #[arg(long, value_name = "NAME")]
    pub parent: Option<String>,
    /// Free-form notes (sources of the facts above, for example).
    #[arg(long, value_name = "TEXT")]
    pub notes: Option<String>,
    /// Endpoint of a hosted or self-served model.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an Ed25519 key for a policy role in .rsp/keys/ROLE.key (mode 0600) and
    /// register its public half.
    New {
        /// The role, as named in rsp.toml.
        #[arg(long)]
        role: String,
        /// Replace an existing key file (the old public key stays registered).
        #[arg(long)]
        force: bool,
    },
    /// The registered role keys, and whether this machine holds each private half.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SafeguardCommand {
    /// Record that a safeguard is in place, with a document as evidence.
    ///
    /// The file is hashed (SHA-256) and copied to .rsp/evidence/<sha256>.
    Attest {
        /// The safeguard id, as named in rsp.toml.
        id: String,
        /// The evidence document.
        #[arg(long, value_name = "FILE")]
        evidence: PathBuf,
        /// The attesting role: the one the policy names for this safeguard.
        #[arg(long, value_name = "ROLE")]
        by: String,
        /// Last day the evidence is valid (default and maximum: today + the policy's valid_days).
        #[arg(long, value_name = "YYYY-MM-DD")]
        expires: Option<String>,
    },
    /// Every safeguard of the policy with its latest attestation, checking evidence hashes.
    ///
    /// Exits 1 when a stored evidence file is missing or does not match its hash.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The decision (id or unique prefix).
    pub decision: String,
    /// The signing role; its key is read from .rsp/keys/ROLE.key.
    #[arg(long)]
    pub role: String,
}

#[derive(Debug, Subcommand)]
pub enum DecisionsCommand {
    /// One line per decision: id, model, action, outcome, status, signatures.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A decision with every signature re-verified.
    ///
    /// Exits 1 when a signature does not verify.
    Show {
        /// Decision id or unique prefix.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// The action an assessment decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AssessAction {
    /// Deploying the model.
    Deploy,
    /// Continuing training to `--to FLOP`.
    Train,
}

#[derive(Debug, Args)]
pub struct AssessArgs {
    /// The model: a registered name (`rsp model list`), or the spec of exactly one
    /// registered model (`embedded`).
    #[arg(long, short, default_value = "embedded")]
    pub model: String,
    /// What to decide.
    #[arg(long, value_enum, default_value_t = AssessAction::Deploy)]
    pub action: AssessAction,
    /// Target effective training compute for `--action train` (e.g. 6.4e21).
    #[arg(long, value_name = "FLOP", required_if_eq("action", "train"))]
    pub to: Option<f64>,
    /// Print the evidence plan (what is reused, what would run) and stop.
    #[arg(long)]
    pub plan: bool,
    /// Also estimate false-alarm and miss rates by Monte Carlo (this many runs per rule)
    /// besides the exact figures.
    #[arg(long, value_name = "RUNS", num_args = 0..=1, default_missing_value = "10000")]
    pub simulate: Option<u64>,
    /// Distance below the line of the false-alarm scenario (default: line − alert per rule).
    #[arg(long, value_name = "D")]
    pub distance: Option<f64>,
    /// Skip the plain (unelicited) baseline runs that measure the elicitation gap.
    #[arg(long)]
    pub skip_baselines: bool,
    /// Run only the first N items of each task (smoke tests; fewer than a rule's
    /// `min_samples` counts as no evidence).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Judge model for model-graded scorers.
    #[arg(long)]
    pub judge: Option<String>,
    /// Run seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Most samples in flight.
    #[arg(long)]
    pub max_concurrency: Option<usize>,
    /// Extra attempts for a sample that fails with an error.
    #[arg(long, default_value_t = 1)]
    pub retry_errors: u32,
    /// Let tool tasks run without isolation when this machine cannot sandbox them (no
    /// network namespace); the runs record that they were unsandboxed.
    #[arg(long)]
    pub unsafe_local_tools: bool,
    /// Threads for the embedded model (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Base URL for openai/ and anthropic/ models.
    #[arg(long)]
    pub base_url: Option<String>,
    /// Where to write the reports (default: reports/<model>/<assessment id>/).
    #[arg(long, short, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// `rsp import`: other harnesses' logs become ordinary rsp runs.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Inspect AI logs (.eval or .json files, or directories of them). Re-importing an
    /// unchanged file returns the run it already made.
    Inspect {
        /// Log files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        opts: ImportOpts,
    },
    /// lm-evaluation-harness output: a results_*.json file or a directory holding one,
    /// with its samples_*.jsonl files.
    LmEval {
        /// Results file or directory.
        path: PathBuf,
        #[command(flatten)]
        opts: ImportOpts,
    },
}

/// Options shared by the import commands.
#[derive(Debug, Args)]
pub struct ImportOpts {
    /// Record the run as this rsp task (SUITE/TASK), so a policy rule can use it as
    /// evidence (default: inspect/<task> or lm-eval/<task>).
    #[arg(long = "as", value_name = "SUITE/TASK")]
    pub as_task: Option<String>,
    /// The elicitation the log was produced with, e.g. `cot,fewshot=3,best_of=4,tools`
    /// (default: plain prompting).
    #[arg(long, value_name = "LIST")]
    pub elicitation: Option<String>,
    /// Registered model name the log evaluated (see `rsp model list`).
    #[arg(long, value_name = "NAME")]
    pub model_name: Option<String>,
    /// Print, per log, the task, model, status, samples, epochs, reported metrics and
    /// rsp's recomputation, as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `rsp export`: a run in another harness's format.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// An Inspect log (schema version 2, .eval) that `inspect view` opens.
    Inspect {
        /// Run id or unique prefix.
        run: String,
        /// Output file.
        #[arg(long, short, value_name = "FILE.eval")]
        out: PathBuf,
    },
}
