//! The rsp evaluation engine: tasks and suites as files, elicitation (solvers), scorers,
//! epochs and reducers, statistics with confidence intervals, and a resumable async run
//! engine.
//!
//! # Design
//!
//! The concepts follow Inspect (UK AISI) and lm-evaluation-harness, and each has one module:
//!
//! | concept | module | seam |
//! |---|---|---|
//! | item | [`sample`] | [`Sample`] |
//! | dataset (JSONL / CSV, field mapping, row diagnostics) | [`dataset`] | [`parse_dataset`] |
//! | task file (TOML) | [`task`] | [`load_task`], [`Task`] |
//! | suites (built-in, project) | [`catalog`] | [`Catalog`] |
//! | elicitation | [`solver`] | [`Solver`], [`SolverSpec`] |
//! | grading | [`scorer`] | [`Scorer`], [`ScorerSpec`], [`Score`] |
//! | epochs | [`reducer`] | [`Reducer`] |
//! | statistics | [`metrics`], [`compare`] | [`RunSummary`], [`compare()`] |
//! | storage | [`sink`] | [`RunSink`] |
//! | execution | [`engine`] | [`run_task`] |
//! | tools and the agent protocol | [`tools`], [`solver::React`] | [`tools::parse_reply`] |
//! | end-state scoring | [`scorer::end_state`] | [`scorer::Check`] |
//!
//! Choices that matter:
//!
//! - **Files, validated whole.** A task file and its dataset are checked completely on load;
//!   every problem is a [`rsp_policy::diag::Diagnostic`] with file, line and field
//!   ([`Error::Invalid`]), rendered with carets by [`error::render_all`].
//! - **Structured prompts.** Prompt solvers edit a [`state::Prompt`], rendered at the first
//!   model call, so few-shot examples are formatted exactly like the question and chain of
//!   thought replaces the answer instruction instead of contradicting it.
//! - **Statistics only from `rsp-stats`.** Every metric carries n, method and confidence
//!   level; binary metrics use Wilson, others t or bootstrap, clustered when asked; paired
//!   comparisons use McNemar or the paired bootstrap. This crate computes no interval itself.
//! - **Crash-safe, reproducible runs.** Each finished sample is committed to a [`RunSink`]
//!   before it counts; order and per-sample seeds derive from (run seed, sample id, epoch),
//!   so resumption reproduces an uninterrupted run and never duplicates or loses a sample.
//!   Errors are recorded and counted, never scored as wrong.
//! - **Sandboxed tools.** Tasks with `use_tools` or the `end_state` scorer get a fresh
//!   working directory per sample-epoch from `rsp-sandbox` (no network, rlimits, timeout,
//!   cleanup). Without isolation they refuse to run unless
//!   [`RunConfig::allow_unsafe_local_tools`] is set, and the run's provenance records the
//!   isolation used.
//! - **No global state.** Models, sinks and progress reporters are passed in.

#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod answer;
pub mod catalog;
pub mod compare;
pub mod dataset;
pub mod elicit;
pub mod engine;
pub mod error;
pub mod metrics;
pub mod progress;
pub mod provenance;
pub mod record;
pub mod reducer;
pub mod sample;
pub mod scorer;
pub mod sink;
pub mod solver;
pub mod state;
pub mod task;
pub mod tools;
mod validate;

pub use catalog::{BUILTIN_SUITES, Catalog, SuiteInfo, SuiteOrigin};
pub use compare::{CompareOptions, MetricComparison, compare};
pub use dataset::{DatasetFormat, FieldMap, parse_dataset};
pub use engine::{
    Models, RunConfig, RunOutcome, check_models, default_concurrency, plan_run, run_task,
    sandbox_isolation,
};
pub use error::{Error, FileDiagnostics, SinkError};
pub use metrics::{MetricSummary, RunSummary, StatsOptions};
pub use progress::{NoProgress, Progress, Snapshot};
pub use provenance::{Provenance, sample_seed};
pub use record::{RunId, RunSpec, SampleKey, SampleResult};
pub use reducer::Reducer;
pub use sample::Sample;
pub use scorer::{Score, Scorer, ScorerSpec, Value};
pub use sink::{JsonlSink, MemorySink, RunLog, RunSink};
pub use solver::{Solver, SolverSpec};
pub use task::{Task, load_task};

#[cfg(test)]
pub(crate) mod testing {
    //! Record builders shared by unit tests.

    use std::collections::{BTreeMap, BTreeSet};

    use rsp_model::Usage;
    use serde_json::Map;

    use crate::provenance::Provenance;
    use crate::record::{RunSpec, SampleResult};
    use crate::reducer::Reducer;
    use crate::scorer::{Score, Value};

    pub fn spec(key: &str) -> RunSpec {
        RunSpec {
            key: key.into(),
            task: "s/t".into(),
            task_version: 1,
            model: "mock/x".into(),
            epochs: 1,
            reducer: Reducer::Mean,
            seed: 0,
            limit: None,
            planned: 2,
            provenance: Provenance {
                rsp_version: "0".into(),
                task_sha256: String::new(),
                dataset_sha256: String::new(),
                dev_sha256: None,
                templates_sha256: BTreeMap::new(),
                model: "mock/x".into(),
                judge: None,
                generate_config: serde_json::Value::Null,
                seed: 0,
                host: "h".into(),
                created_at: String::new(),
                sandbox: None,
            },
        }
    }

    pub fn result(id: &str, epoch: u32, error: Option<&str>) -> SampleResult {
        SampleResult {
            sample_id: id.into(),
            epoch,
            seed: 1,
            input: "q".into(),
            target: vec!["a".into()],
            choices: Vec::new(),
            metadata: Map::new(),
            messages: Vec::new(),
            output: Some("a".into()),
            scores: BTreeMap::new(),
            usage: Usage::default(),
            judge_usage: Usage::default(),
            total_usage: Usage::default(),
            calls: 1,
            call_retries: Vec::new(),
            error: error.map(str::to_owned),
            error_retries: Vec::new(),
            limit: None,
            store: Map::new(),
            started_at: String::new(),
            completed_at: String::new(),
            total_time_ms: 0.0,
        }
    }

    pub fn scored(
        id: &str,
        epoch: u32,
        metric: &str,
        value: Value,
        _cluster: &str,
    ) -> SampleResult {
        let mut r = result(id, epoch, None);
        r.scores.insert(metric.into(), Score::new(value, None));
        r
    }

    #[allow(dead_code)]
    pub fn keys(samples: &[SampleResult]) -> BTreeSet<(String, u32)> {
        samples
            .iter()
            .map(|s| (s.sample_id.clone(), s.epoch))
            .collect()
    }
}
