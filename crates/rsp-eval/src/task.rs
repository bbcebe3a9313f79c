//! Task files: TOML that names a dataset, a solver chain, scorers, epochs, limits and
//! statistics settings (the format is documented in `docs/evals.md`).
//!
//! Loading is all-or-nothing with every problem reported at once: schema errors from TOML
//! (with their span), then semantic checks of the chain (phases in order, exactly one
//! answer step, placeholders known, judge needs declared), then every dataset row. Paths in
//! a task file are relative to its suite's folder.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use rsp_model::GenerateConfig;
use rsp_policy::diag::Diagnostic;
use rsp_stats::Confidence;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::dataset::{DatasetFormat, FieldMap, RowRequirements, parse_dataset};
use crate::error::{Error, FileDiagnostics};
use crate::metrics::MetricDef;
use crate::provenance::sha256_hex;
use crate::reducer::Reducer;
use crate::sample::Sample;
use crate::scorer::ScorerSpec;
use crate::solver::{ChoiceMode, SolverSpec};
use crate::validate::check_chain;

/// A file's name (as shown in diagnostics) and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// Display name (`builtin:knowledge-proxy/mc.toml`, `suites/x/y.toml`).
    pub name: String,
    /// Contents.
    pub text: String,
}

/// The `[dataset]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSpec {
    /// Scored items, relative to the suite folder.
    pub path: String,
    /// `jsonl` or `csv` (default: from the extension).
    #[serde(default)]
    pub format: Option<DatasetFormat>,
    /// The dev split (few-shot examples), same format and mapping; never scored.
    #[serde(default)]
    pub dev: Option<String>,
    /// Field mapping.
    #[serde(default)]
    pub fields: FieldMap,
}

/// The `[epochs]` table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EpochsSpec {
    /// Times each sample is run (default 1).
    #[serde(default = "one")]
    pub count: u32,
    /// How epochs reduce to one value per sample (default `mean`).
    #[serde(default)]
    pub reducer: Reducer,
}

fn one() -> u32 {
    1
}

impl Default for EpochsSpec {
    fn default() -> Self {
        Self {
            count: 1,
            reducer: Reducer::Mean,
        }
    }
}

/// The `[generate]` table: settings for the model under test.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateSpec {
    /// Token budget per answer (default 256).
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Temperature (default 0: greedy).
    #[serde(default)]
    pub temperature: Option<f32>,
    /// Nucleus mass (default 1).
    #[serde(default)]
    pub top_p: Option<f32>,
    /// Stop sequences.
    #[serde(default)]
    pub stop: Vec<String>,
}

/// The `[limits]` table: per-sample limits. A sample that hits one stops its solver chain
/// and is scored on what it has (usually "no answer"), like Inspect; it is not an error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Wall-clock seconds per sample-epoch.
    #[serde(default)]
    pub time_limit_secs: Option<f64>,
    /// Tokens (input plus output, all calls) per sample-epoch.
    #[serde(default)]
    pub token_limit: Option<u64>,
}

impl Limits {
    /// The time limit as a duration.
    pub fn time_limit(&self) -> Option<Duration> {
        self.time_limit_secs
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64)
    }
}

/// The `[stats]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsSpec {
    /// Confidence level (default 0.95).
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    /// Metadata field to cluster standard errors on.
    #[serde(default)]
    pub cluster_by: Option<String>,
}

fn default_confidence() -> f64 {
    0.95
}

impl Default for StatsSpec {
    fn default() -> Self {
        Self {
            confidence: 0.95,
            cluster_by: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskFile {
    pub(crate) name: Spanned<String>,
    pub(crate) version: u32,
    #[serde(default)]
    pub(crate) description: Option<String>,
    pub(crate) dataset: Spanned<DatasetSpec>,
    #[serde(default)]
    pub(crate) solver: Vec<Spanned<SolverSpec>>,
    #[serde(default)]
    pub(crate) scorer: Vec<Spanned<ScorerSpec>>,
    #[serde(default)]
    pub(crate) epochs: Option<Spanned<EpochsSpec>>,
    #[serde(default)]
    pub(crate) generate: Option<GenerateSpec>,
    #[serde(default)]
    pub(crate) limits: Option<Spanned<Limits>>,
    #[serde(default)]
    pub(crate) stats: Option<Spanned<StatsSpec>>,
    #[serde(default)]
    pub(crate) sandbox: Option<Spanned<rsp_sandbox::Limits>>,
}

/// sha256 of everything a run's results depend on besides the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskHashes {
    /// The task file.
    pub task: String,
    /// The dataset file.
    pub dataset: String,
    /// The dev split.
    pub dev: Option<String>,
    /// Prompt texts by where they are used (`solver[0].system_message`, `scorer.accuracy`).
    pub templates: BTreeMap<String, String>,
}

/// A loaded, validated task, ready to run.
#[derive(Debug, Clone)]
pub struct Task {
    /// `suite/name`.
    pub id: String,
    /// Suite name.
    pub suite: String,
    /// Task name.
    pub name: String,
    /// Task version (bump it when the task's meaning changes).
    pub version: u32,
    /// What it measures.
    pub description: Option<String>,
    /// The task file's display name.
    pub file: String,
    /// Scored items, in file order.
    pub samples: Vec<Arc<Sample>>,
    /// Dev split (few-shot only).
    pub dev: Arc<[Arc<Sample>]>,
    /// The solver chain.
    pub solvers: Vec<SolverSpec>,
    /// Scorers; each is one metric.
    pub scorers: Vec<ScorerSpec>,
    /// Epochs per sample.
    pub epochs: u32,
    /// Epoch reducer.
    pub reducer: Reducer,
    /// Generation settings (the engine sets the per-sample seed).
    pub generate: GenerateConfig,
    /// Per-sample limits.
    pub limits: Limits,
    /// Confidence level of the task's intervals.
    pub confidence: Confidence,
    /// Metadata field for clustered standard errors.
    pub cluster_by: Option<String>,
    /// Provenance hashes.
    pub hashes: TaskHashes,
    /// Limits of every sandboxed command (the `[sandbox]` table), for tasks with tools or
    /// end-state checks; `None` for tasks that need no working directory.
    pub sandbox: Option<rsp_sandbox::Limits>,
}

impl Task {
    /// True when some solver or scorer calls the judge model.
    pub fn needs_judge(&self) -> bool {
        self.solvers.iter().any(SolverSpec::needs_judge)
            || self.scorers.iter().any(ScorerSpec::needs_judge)
    }

    /// True when samples need a sandboxed working directory (`use_tools`, `end_state`).
    pub fn needs_sandbox(&self) -> bool {
        self.sandbox.is_some()
    }

    /// True when the task scores log-likelihoods (the model must support scoring).
    pub fn needs_loglikelihood(&self) -> bool {
        self.solvers.iter().any(
            |s| matches!(s, SolverSpec::MultipleChoice(m) if m.mode == ChoiceMode::Loglikelihood),
        )
    }

    /// The elicitation the chain applies, in the policy's terms, so an evidence rule's
    /// required elicitation can be checked with [`rsp_policy::Elicitation::covers`];
    /// [`Task::elicited`] extends a chain until it covers a rule's request.
    pub fn elicitation(&self) -> rsp_policy::Elicitation {
        let mut e = rsp_policy::Elicitation::default();
        for s in &self.solvers {
            match s {
                SolverSpec::ChainOfThought(_) => e.chain_of_thought = true,
                SolverSpec::FewShot(f) => e.few_shot = u32::try_from(f.k).unwrap_or(u32::MAX),
                SolverSpec::BestOfN(b) => e.best_of_n = b.n,
                SolverSpec::UseTools(_) | SolverSpec::React(_) => e.tools = true,
                _ => {}
            }
        }
        e
    }

    /// One metric per scorer.
    pub fn metric_defs(&self) -> Vec<MetricDef> {
        self.scorers
            .iter()
            .map(|s| MetricDef {
                name: s.name().to_owned(),
                scorer: s.kind().to_owned(),
                lower_is_better: s.lower_is_better(),
            })
            .collect()
    }
}

pub(crate) fn spanned_err(
    code: &'static str,
    span: Range<usize>,
    msg: impl Into<String>,
) -> Diagnostic {
    Diagnostic::error(code, msg).at(Some(span))
}

/// Loads one task file of `suite`; `read` resolves paths relative to the suite folder.
pub fn load_task(
    suite: &str,
    task_path: &str,
    read: &dyn Fn(&str) -> Result<SourceFile, Error>,
) -> Result<Task, Error> {
    let src = read(task_path)?;
    let file: TaskFile = toml::from_str(&src.text).map_err(|e| {
        let d = Diagnostic::error("task::schema", e.message().to_owned()).at(e.span());
        Error::Invalid(vec![FileDiagnostics {
            file: src.name.clone(),
            source: src.text.clone(),
            diagnostics: vec![d],
        }])
    })?;
    let mut diags = check_chain(&file);
    let epochs = file
        .epochs
        .as_ref()
        .map(|e| *e.get_ref())
        .unwrap_or_default();
    let stats = file
        .stats
        .as_ref()
        .map(|s| s.get_ref().clone())
        .unwrap_or_default();
    let limits = file
        .limits
        .as_ref()
        .map(|l| *l.get_ref())
        .unwrap_or_default();
    let confidence = Confidence::new(stats.confidence);
    if let (Err(_), Some(s)) = (&confidence, &file.stats) {
        diags.push(spanned_err(
            "task::confidence",
            s.span(),
            format!(
                "confidence must lie strictly between 0 and 1, got {}",
                stats.confidence
            ),
        ));
    }
    if let Some(l) = &file.limits {
        let bad_time = limits
            .time_limit_secs
            .is_some_and(|t| !(t.is_finite() && t > 0.0));
        if bad_time || limits.token_limit == Some(0) {
            diags.push(spanned_err(
                "task::limits",
                l.span(),
                "limits must be positive",
            ));
        }
    }
    let solvers: Vec<SolverSpec> = file.solver.iter().map(|s| s.get_ref().clone()).collect();
    let scorers: Vec<ScorerSpec> = file.scorer.iter().map(|s| s.get_ref().clone()).collect();
    let needs_sandbox = solvers.iter().any(|s| matches!(s, SolverSpec::UseTools(_)))
        || scorers.iter().any(|s| matches!(s, ScorerSpec::EndState(_)));
    let sandbox = needs_sandbox.then(|| {
        file.sandbox
            .as_ref()
            .map(|l| *l.get_ref())
            .unwrap_or_default()
    });
    if let Some(l) = &file.sandbox {
        for p in l.get_ref().problems() {
            diags.push(spanned_err("task::sandbox", l.span(), p));
        }
        if !needs_sandbox {
            diags.push(spanned_err(
                "task::sandbox",
                l.span(),
                "[sandbox] limits apply only to tasks with use_tools or the end_state scorer",
            ));
        }
    }
    let dataset = file.dataset.get_ref();
    let format = dataset.format.or_else(|| infer_format(&dataset.path));
    if format.is_none() {
        diags.push(
            spanned_err(
                "task::dataset-format",
                file.dataset.span(),
                format!("cannot tell the format of `{}`", dataset.path),
            )
            .help("name the file *.jsonl or *.csv, or set format = \"jsonl\" or \"csv\""),
        );
    }
    let few_shot = solvers.iter().find_map(|s| match s {
        SolverSpec::FewShot(f) => Some(f.k),
        _ => None,
    });
    if few_shot.is_some() && dataset.dev.is_none() {
        diags.push(
            spanned_err(
                "task::no-dev-split",
                file.dataset.span(),
                "few_shot needs a dev split",
            )
            .help(
                "add dev = \"dev.jsonl\" to [dataset]; examples never come from the scored items",
            ),
        );
    }
    if let Some(e) = &file.epochs {
        if epochs.count == 0 {
            diags.push(spanned_err(
                "task::epochs",
                e.span(),
                "epochs.count must be at least 1",
            ));
        } else if epochs.reducer.min_epochs() > u64::from(epochs.count) {
            diags.push(spanned_err(
                "task::epochs",
                e.span(),
                format!(
                    "reducer {} needs at least {} epochs, count is {}",
                    epochs.reducer,
                    epochs.reducer.min_epochs(),
                    epochs.count
                ),
            ));
        }
    }
    let task_diag = |diags: Vec<Diagnostic>| FileDiagnostics {
        file: src.name.clone(),
        source: src.text.clone(),
        diagnostics: diags,
    };
    if !diags.is_empty() {
        return Err(Error::Invalid(vec![task_diag(diags)]));
    }
    let Some(format) = format else {
        return Err(Error::Invalid(vec![task_diag(diags)]));
    };

    // Datasets.
    let multiple_choice = solvers
        .iter()
        .any(|s| matches!(s, SolverSpec::MultipleChoice(_)))
        || scorers.iter().any(|s| matches!(s, ScorerSpec::Choice(_)));
    let mut metadata: Vec<String> = scorers
        .iter()
        .flat_map(ScorerSpec::metadata_fields)
        .collect();
    metadata.extend(stats.cluster_by.clone());
    let needs = RowRequirements {
        target: scorers.iter().any(ScorerSpec::needs_target),
        choices: multiple_choice,
        metadata,
    };
    let mut bad_files = Vec::new();
    let data_src = read(&dataset.path)?;
    let samples = load_rows(
        &data_src,
        format,
        &dataset.fields,
        &needs,
        &scorers,
        &mut bad_files,
    );
    let dev_src = dataset.dev.as_deref().map(read).transpose()?;
    let dev_needs = RowRequirements {
        metadata: Vec::new(),
        ..needs.clone()
    };
    let dev = dev_src
        .as_ref()
        .map(|d| load_rows(d, format, &dataset.fields, &dev_needs, &[], &mut bad_files))
        .unwrap_or_default();
    if let (Some(k), Some(d)) = (few_shot, &dev_src)
        && k > dev.len()
        && bad_files.is_empty()
    {
        bad_files.push(FileDiagnostics {
            file: src.name.clone(),
            source: src.text.clone(),
            diagnostics: vec![spanned_err(
                "task::few-shot",
                file.dataset.span(),
                format!(
                    "few_shot k = {k} but the dev split {} has {} items",
                    d.name,
                    dev.len()
                ),
            )],
        });
    }
    if let Some(d) = &dev_src {
        let test_ids: std::collections::HashSet<&str> =
            samples.iter().map(|s| s.id.as_str()).collect();
        let overlap: Vec<&str> = dev
            .iter()
            .map(|s| s.id.as_str())
            .filter(|id| test_ids.contains(id))
            .collect();
        if !overlap.is_empty() {
            bad_files.push(FileDiagnostics {
                file: d.name.clone(),
                source: d.text.clone(),
                diagnostics: vec![Diagnostic::error(
                    "dataset::dev-overlap",
                    format!(
                        "dev items share ids with scored items: {}",
                        overlap.join(", ")
                    ),
                )],
            });
        }
    }
    if !bad_files.is_empty() {
        return Err(Error::Invalid(bad_files));
    }

    let templates = template_hashes(&solvers, &scorers);
    let g = file.generate.clone().unwrap_or_default();
    let defaults = GenerateConfig::default();
    let generate = GenerateConfig {
        max_tokens: g.max_tokens.unwrap_or(defaults.max_tokens),
        temperature: g.temperature.unwrap_or(defaults.temperature),
        top_p: g.top_p.unwrap_or(defaults.top_p),
        stop: g.stop,
        ..defaults
    };
    let name = file.name.get_ref().clone();
    Ok(Task {
        id: format!("{suite}/{name}"),
        suite: suite.to_owned(),
        name,
        version: file.version,
        description: file.description,
        file: src.name.clone(),
        samples: samples.into_iter().map(Arc::new).collect(),
        dev: dev.into_iter().map(Arc::new).collect(),
        solvers,
        scorers,
        epochs: epochs.count,
        reducer: epochs.reducer,
        generate,
        limits,
        confidence: confidence.unwrap_or(Confidence::P95),
        cluster_by: stats.cluster_by,
        hashes: TaskHashes {
            task: sha256_hex(src.text.as_bytes()),
            dataset: sha256_hex(data_src.text.as_bytes()),
            dev: dev_src.map(|d| sha256_hex(d.text.as_bytes())),
            templates,
        },
        sandbox,
    })
}

/// sha256 of every prompt text of the chain and scorers, keyed by where it is used
/// (`solver[0].system_message[0]`, `scorer.accuracy[0]`).
pub(crate) fn template_hashes(
    solvers: &[SolverSpec],
    scorers: &[ScorerSpec],
) -> BTreeMap<String, String> {
    let mut templates = BTreeMap::new();
    for (i, s) in solvers.iter().enumerate() {
        for (j, t) in s.templates().into_iter().enumerate() {
            templates.insert(
                format!("solver[{i}].{}[{j}]", s.kind()),
                sha256_hex(t.as_bytes()),
            );
        }
    }
    for s in scorers {
        for (j, t) in s.templates().into_iter().enumerate() {
            templates.insert(
                format!("scorer.{}[{j}]", s.name()),
                sha256_hex(t.as_bytes()),
            );
        }
    }
    templates
}

fn infer_format(path: &str) -> Option<DatasetFormat> {
    if path.ends_with(".jsonl") {
        Some(DatasetFormat::Jsonl)
    } else if path.ends_with(".csv") {
        Some(DatasetFormat::Csv)
    } else {
        None
    }
}

/// The byte range of a 1-based line.
fn line_span(text: &str, line: usize) -> Range<usize> {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset..offset + l.trim_end_matches(['\n', '\r']).len();
        }
        offset += l.len();
    }
    text.len()..text.len()
}

fn load_rows(
    src: &SourceFile,
    format: DatasetFormat,
    fields: &FieldMap,
    needs: &RowRequirements,
    scorers: &[ScorerSpec],
    bad: &mut Vec<FileDiagnostics>,
) -> Vec<Sample> {
    let mut diags = Vec::new();
    let samples = match parse_dataset(&src.text, format, fields, needs) {
        Ok(s) => s,
        Err(d) => {
            diags = d;
            Vec::new()
        }
    };
    for s in &samples {
        for scorer in scorers {
            if let Some(problem) = scorer.check_sample(s) {
                diags.push(
                    Diagnostic::error(
                        "dataset::scorer",
                        format!("line {}: sample `{}`: {problem}", s.line, s.id),
                    )
                    .at(Some(line_span(&src.text, s.line))),
                );
            }
        }
    }
    if !diags.is_empty() {
        bad.push(FileDiagnostics {
            file: src.name.clone(),
            source: src.text.clone(),
            diagnostics: diags,
        });
    }
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str = concat!(
        r#"{"id": "q1", "input": "Q1?", "choices": ["a", "b"], "target": "A", "metadata": {"topic": "x"}}"#,
        "\n",
        r#"{"id": "q2", "input": "Q2?", "choices": ["a", "b"], "target": "B", "metadata": {"topic": "y"}}"#,
        "\n"
    );
    const DEV: &str = concat!(
        r#"{"id": "d1", "input": "D?", "choices": ["a", "b"], "target": "A"}"#,
        "\n"
    );

    fn reader(
        task: &'static str,
        data: &'static str,
    ) -> impl Fn(&str) -> Result<SourceFile, Error> {
        move |p: &str| {
            let text = match p {
                "t.toml" => task,
                "test.jsonl" => data,
                "dev.jsonl" => DEV,
                _ => {
                    return Err(Error::Read {
                        path: p.into(),
                        source: std::io::Error::from(std::io::ErrorKind::NotFound),
                    });
                }
            };
            Ok(SourceFile {
                name: p.into(),
                text: text.into(),
            })
        }
    }

    fn invalid(e: Error) -> Vec<FileDiagnostics> {
        match e {
            Error::Invalid(f) => f,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn loads_a_good_task_with_hashes() {
        let toml = r#"
name = "mc"
version = 2
[dataset]
path = "test.jsonl"
dev = "dev.jsonl"
[[solver]]
kind = "few_shot"
k = 1
[[solver]]
kind = "multiple_choice"
[[solver]]
kind = "generate"
[[scorer]]
kind = "choice"
[epochs]
count = 3
reducer = "pass_at(2)"
[stats]
cluster_by = "topic"
[generate]
max_tokens = 8
"#;
        let t = load_task("s", "t.toml", &reader(toml, DATA)).unwrap();
        assert_eq!(t.id, "s/mc");
        assert_eq!((t.samples.len(), t.dev.len()), (2, 1));
        assert_eq!((t.epochs, t.reducer), (3, Reducer::PassAt(2)));
        assert_eq!(t.generate.max_tokens, 8);
        assert_eq!(t.hashes.dataset, sha256_hex(DATA.as_bytes()));
        assert!(t.hashes.dev.is_some());
        assert_eq!(t.metric_defs()[0].name, "accuracy");
        assert!(!t.needs_judge() && !t.needs_loglikelihood());
        let e = t.elicitation();
        assert_eq!((e.few_shot, e.best_of_n, e.chain_of_thought), (1, 1, false));
    }

    #[test]
    fn chain_problems_point_at_their_tables() {
        let toml = r#"
name = "Bad Name"
version = 1
[dataset]
path = "test.jsonl"
[[solver]]
kind = "generate"
[[solver]]
kind = "prompt_template"
template = "{input} {target}"
[[scorer]]
kind = "choice"
source = "loglikelihood"
[[scorer]]
kind = "pattern"
name = "accuracy"
pattern = "("
"#;
        let files = invalid(load_task("s", "t.toml", &reader(toml, DATA)).unwrap_err());
        let codes: Vec<_> = files[0].diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [
                "task::name",
                "task::solver-order",
                "task::placeholder",
                "task::choice-source",
                "task::duplicate-metric",
                "task::pattern"
            ]
        );
        let span = files[0].diagnostics[1].span.clone().unwrap();
        let (line, _) = rsp_policy::diag::line_col(toml, span.start);
        assert_eq!(
            line, 8,
            "the caret is on the prompt_template's [[solver]] table"
        );
    }

    #[test]
    fn schema_errors_and_bad_rows_are_located() {
        let typo = "name = \"x\"\nversion = 1\n[dataset]\npath = \"test.jsonl\"\n[[solver]]\nkind = \"generat\"\n";
        let files = invalid(load_task("s", "t.toml", &reader(typo, DATA)).unwrap_err());
        let d = &files[0].diagnostics[0];
        assert_eq!(d.code, "task::schema");
        assert!(d.message.contains("generat"), "{}", d.message);
        assert!(d.span.is_some());

        let toml = "name = \"x\"\nversion = 1\n[dataset]\npath = \"test.jsonl\"\n[[solver]]\nkind = \"multiple_choice\"\n[[solver]]\nkind = \"generate\"\n[[scorer]]\nkind = \"choice\"\n[stats]\ncluster_by = \"topic\"\n";
        let data = "{\"id\": \"q1\", \"input\": \"Q\", \"choices\": [\"a\", \"b\"], \"target\": \"Z\", \"metadata\": {\"topic\": \"x\"}}\n{\"id\": \"q2\", \"input\": \"Q\", \"choices\": [\"a\", \"b\"], \"target\": \"A\"}\n";
        let files = invalid(load_task("s", "t.toml", &reader(toml, data)).unwrap_err());
        assert_eq!(files[0].file, "test.jsonl");
        let msgs: Vec<_> = files[0]
            .diagnostics
            .iter()
            .map(|d| (d.code, d.message.clone()))
            .collect();
        assert_eq!(msgs[0].0, "dataset::bad-target");
        assert!(msgs[0].1.starts_with("line 1:"));
        assert_eq!(msgs[1].0, "dataset::missing-metadata");
        assert!(msgs[1].1.starts_with("line 2:"));
        let rendered = files[0].render(rsp_policy::diag::Style::Plain);
        assert!(rendered.contains("test.jsonl:1:"), "{rendered}");
    }

    #[test]
    fn few_shot_needs_a_dev_split_and_epochs_must_fit_the_reducer() {
        let toml = "name = \"x\"\nversion = 1\n[dataset]\npath = \"test.jsonl\"\n[[solver]]\nkind = \"few_shot\"\nk = 2\n[[solver]]\nkind = \"generate\"\n[[scorer]]\nkind = \"includes\"\n[epochs]\ncount = 1\nreducer = \"at_least(2)\"\n";
        let files = invalid(load_task("s", "t.toml", &reader(toml, DATA)).unwrap_err());
        let codes: Vec<_> = files[0].diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["task::no-dev-split", "task::epochs"]);
    }
}
