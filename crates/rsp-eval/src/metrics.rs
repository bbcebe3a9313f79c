//! From stored samples to metrics with honest intervals.
//!
//! Per metric (scorer): epoch values are reduced per sample, then summarised with
//! `rsp-stats` — never a hand-rolled interval:
//! - every value 0 or 1 → Wilson score interval;
//! - otherwise Student t for n ≥ 30, BCa bootstrap below (percentile when BCa is
//!   undefined), seeded from the run seed so the summary is reproducible;
//! - `cluster_by` set → the CR1 clustered interval on that metadata field is the headline,
//!   with its design effect.
//!
//! Errored samples are excluded and counted (`errors`), never scored as wrong. Every
//! printed metric says n, the method and the confidence level ([`rsp_stats::Interval`]'s
//! `Display`), plus the minimum detectable effect at this n (80% power, two-sided).

use std::collections::BTreeMap;
use std::fmt;

use rsp_model::Usage;
use rsp_stats::{Alternative, BootstrapConfig, BootstrapMethod, Confidence, Interval, TestDesign};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::record::{RunSpec, SampleResult};
use crate::reducer::Reducer;

/// Below this many samples non-binary metrics use the bootstrap instead of t.
pub const T_MIN_N: usize = 30;

/// Bootstrap resamples for summaries.
pub const RESAMPLES: usize = 10_000;

/// Power assumed when reporting the minimum detectable effect.
pub const MDE_POWER: f64 = 0.8;

/// How to summarise.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsOptions {
    /// Confidence level of every interval.
    pub confidence: Confidence,
    /// Metadata field to cluster standard errors on.
    pub cluster_by: Option<String>,
    /// Seed for bootstrap intervals.
    pub seed: u64,
}

/// What one metric needs to know about its scorer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricDef {
    /// Metric (= scorer) name.
    pub name: String,
    /// Scorer kind.
    pub scorer: String,
    /// Lower is better (refusal rate).
    pub lower_is_better: bool,
}

/// Clustering diagnostics for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClusterInfo {
    /// Distinct clusters.
    pub clusters: usize,
    /// Variance inflation from clustering.
    pub design_effect: f64,
    /// The interval had items been independent, for comparison.
    pub iid: Interval,
}

/// One metric of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    /// Metric name (`accuracy`, `acc_norm`, `refusal_rate`).
    pub name: String,
    /// Scorer kind.
    pub scorer: String,
    /// Lower is better.
    pub lower_is_better: bool,
    /// Epoch reducer applied per sample.
    pub reducer: Reducer,
    /// Point estimate (mean of the reduced values).
    pub estimate: f64,
    /// Samples scored.
    pub n: usize,
    /// The interval (`None` only when n is too small for any interval: one non-binary
    /// value).
    pub interval: Option<Interval>,
    /// Present when the interval is clustered.
    pub clustered: Option<ClusterInfo>,
    /// Samples whose answer could not be read (counted as 0 in the estimate).
    pub no_answer: usize,
    /// Smallest true change from the estimate this n detects with 80% power at the
    /// interval's confidence level.
    pub mde: Option<f64>,
    /// Why something is missing (too few samples, one cluster…).
    pub note: Option<String>,
}

impl fmt::Display for MetricSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = f.precision().unwrap_or(3);
        write!(f, "{} = ", self.name)?;
        match &self.interval {
            Some(i) => write!(f, "{i:.p$}")?,
            None => write!(f, "{:.p$} (no interval, n={})", self.estimate, self.n)?,
        }
        if let Some(c) = &self.clustered {
            write!(
                f,
                "; design effect {:.2} over {} clusters",
                c.design_effect, c.clusters
            )?;
        }
        if let Some(m) = self.mde {
            write!(f, "; MDE {m:.p$}")?;
        }
        if self.lower_is_better {
            f.write_str("; lower is better")?;
        }
        if let Some(note) = &self.note {
            write!(f, " ({note})")?;
        }
        Ok(())
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// `suite/task`.
    pub task: String,
    /// Model under test.
    pub model: String,
    /// Run identity key.
    pub run_key: String,
    /// Sample-epochs planned.
    pub planned: usize,
    /// Sample-epochs finished without error.
    pub completed: usize,
    /// Sample-epochs whose last attempt failed (excluded from metrics).
    pub errors: usize,
    /// Failed attempts that were retried.
    pub retried_attempts: usize,
    /// Samples that hit a per-sample limit.
    pub limited: usize,
    /// Metrics, in scorer order.
    pub metrics: Vec<MetricSummary>,
    /// Tokens of the model under test, all attempts.
    pub usage: Usage,
    /// Tokens of the judge.
    pub judge_usage: Usage,
    /// When the summary was computed (RFC 3339).
    pub finished_at: String,
}

impl RunSummary {
    /// The metric with this name.
    pub fn metric(&self, name: &str) -> Option<&MetricSummary> {
        self.metrics.iter().find(|m| m.name == name)
    }
}

/// Reduced per-sample values of one metric: `(sample id, value, answered)` in id order.
pub fn reduced_values(
    samples: &[SampleResult],
    metric: &str,
    reducer: Reducer,
) -> Result<Vec<(String, f64, bool)>, Error> {
    let mut by_id: BTreeMap<&str, Vec<(u32, f64, bool)>> = BTreeMap::new();
    for s in samples.iter().filter(|s| s.is_ok()) {
        if let Some(score) = s.scores.get(metric) {
            by_id.entry(&s.sample_id).or_default().push((
                s.epoch,
                score.value.as_f64(),
                score.value != crate::scorer::Value::NoAnswer,
            ));
        }
    }
    by_id
        .into_iter()
        .map(|(id, mut v)| {
            v.sort_by_key(|(e, _, _)| *e);
            let values: Vec<f64> = v.iter().map(|(_, x, _)| *x).collect();
            Ok((
                id.to_owned(),
                reducer.reduce(&values)?,
                v.iter().any(|(_, _, a)| *a),
            ))
        })
        .collect()
}

fn is_binary(values: &[f64]) -> bool {
    values.iter().all(|&v| v == 0.0 || v == 1.0)
}

/// The interval for a set of values: Wilson for 0/1 values, t for n ≥ [`T_MIN_N`],
/// bootstrap (BCa, else percentile) below.
pub fn interval_for(values: &[f64], confidence: Confidence, seed: u64) -> Result<Interval, Error> {
    if is_binary(values) {
        let successes = values.iter().filter(|&&v| v == 1.0).count() as u64;
        return Ok(rsp_stats::wilson(
            successes,
            values.len() as u64,
            confidence,
        )?);
    }
    if values.len() >= T_MIN_N {
        return Ok(rsp_stats::t_interval(values, confidence)?);
    }
    let config = BootstrapConfig::new(seed)
        .with_resamples(RESAMPLES)
        .with_confidence(confidence);
    match rsp_stats::bootstrap_mean(values, &config) {
        Err(rsp_stats::Error::BcaUndefined { .. }) => Ok(rsp_stats::bootstrap_mean(
            values,
            &config.with_method(BootstrapMethod::Percentile),
        )?),
        other => Ok(other?),
    }
}

/// A two-sided test design at `confidence` with [`MDE_POWER`].
pub fn design(confidence: Confidence) -> Result<TestDesign, Error> {
    Ok(TestDesign::new(
        confidence.alpha(),
        MDE_POWER,
        Alternative::TwoSided,
    )?)
}

fn mde(values: &[f64], estimate: f64, confidence: Confidence) -> Option<f64> {
    let d = design(confidence).ok()?;
    let n = values.len() as u64;
    if is_binary(values) {
        // Measured from the side with room to move.
        let base = if estimate < 0.5 {
            estimate
        } else {
            1.0 - estimate
        };
        rsp_stats::mde_proportion(base, n, &d).ok()
    } else {
        let s = rsp_stats::summarize(values).ok()?;
        rsp_stats::mde_mean(s.sd(), n, &d).ok()
    }
}

/// A symmetric clustered interval of a 0–1 metric can reach past 0 or 1 with few
/// clusters; no value outside [0, 1] is possible, so the bounds are clipped there.
fn clamp_to_unit(i: Interval, values: &[f64]) -> Interval {
    if !values.iter().all(|v| (0.0..=1.0).contains(v)) {
        return i;
    }
    Interval::new(
        i.estimate(),
        i.lower().max(0.0),
        i.upper().min(1.0),
        i.n(),
        i.method(),
        i.confidence(),
        i.side(),
    )
    .unwrap_or(i)
}

/// Summarises one metric over the stored samples.
pub fn summarise_metric(
    samples: &[SampleResult],
    def: &MetricDef,
    reducer: Reducer,
    options: &StatsOptions,
) -> Result<MetricSummary, Error> {
    let reduced = reduced_values(samples, &def.name, reducer)?;
    let values: Vec<f64> = reduced.iter().map(|(_, v, _)| *v).collect();
    let n = values.len();
    let estimate = if n == 0 {
        0.0
    } else {
        values.iter().sum::<f64>() / n as f64
    };
    let mut summary = MetricSummary {
        name: def.name.clone(),
        scorer: def.scorer.clone(),
        lower_is_better: def.lower_is_better,
        reducer,
        estimate,
        n,
        interval: None,
        clustered: None,
        no_answer: reduced.iter().filter(|(_, _, answered)| !answered).count(),
        mde: None,
        note: None,
    };
    if n == 0 {
        summary.note = Some("no sample was scored".into());
        return Ok(summary);
    }
    let iid = match interval_for(&values, options.confidence, options.seed) {
        Ok(i) => Some(i),
        Err(Error::Stats(e)) => {
            summary.note = Some(format!("no interval: {e}"));
            None
        }
        Err(e) => return Err(e),
    };
    summary.interval = iid;
    summary.mde = mde(&values, estimate, options.confidence);
    if let (Some(field), Some(iid)) = (&options.cluster_by, iid) {
        let meta: BTreeMap<&str, String> = samples
            .iter()
            .map(|s| {
                let key = s.metadata.get(field).map_or_else(String::new, |v| {
                    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                });
                (s.sample_id.as_str(), key)
            })
            .collect();
        let keys: Vec<&str> = reduced
            .iter()
            .map(|(id, _, _)| meta.get(id.as_str()).map_or("", String::as_str))
            .collect();
        match rsp_stats::clustered_mean(&values, &keys, options.confidence) {
            // Clustering only ever widens an honest interval. A clustered interval narrower
            // than the iid one (design effect below 1 by chance with few clusters, or no
            // variance at all, as when every item scores 0) would understate uncertainty,
            // so the iid interval is reported then; the cluster diagnostics are kept.
            Ok(c) => {
                let narrower = c.interval.upper() - c.interval.lower() < iid.upper() - iid.lower();
                if narrower {
                    summary.note = Some(format!(
                        "the interval clustered by `{field}` was narrower than the iid one; \
                         the iid interval is reported"
                    ));
                } else {
                    summary.interval = Some(clamp_to_unit(c.interval, &values));
                }
                summary.clustered = Some(ClusterInfo {
                    clusters: c.clusters,
                    design_effect: c.design_effect,
                    iid,
                });
            }
            Err(e) => summary.note = Some(format!("not clustered by `{field}`: {e}")),
        }
    }
    Ok(summary)
}

/// Summarises a run from its stored samples.
pub fn summarise_run(
    spec: &RunSpec,
    samples: &[SampleResult],
    defs: &[MetricDef],
    options: &StatsOptions,
) -> Result<RunSummary, Error> {
    let mut usage = Usage::default();
    let mut judge_usage = Usage::default();
    for s in samples {
        usage.input_tokens += s.total_usage.input_tokens;
        usage.output_tokens += s.total_usage.output_tokens;
        judge_usage.input_tokens += s.judge_usage.input_tokens;
        judge_usage.output_tokens += s.judge_usage.output_tokens;
    }
    let metrics = defs
        .iter()
        .map(|d| summarise_metric(samples, d, spec.reducer, options))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RunSummary {
        task: spec.task.clone(),
        model: spec.model.clone(),
        run_key: spec.key.clone(),
        planned: spec.planned,
        completed: samples.iter().filter(|s| s.is_ok()).count(),
        errors: samples.iter().filter(|s| !s.is_ok()).count(),
        retried_attempts: samples.iter().map(|s| s.error_retries.len()).sum(),
        limited: samples.iter().filter(|s| s.limit.is_some()).count(),
        metrics,
        usage,
        judge_usage,
        finished_at: chrono::Utc::now().to_rfc3339(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorer::Value;
    use crate::testing::scored;

    fn options(cluster_by: Option<&str>) -> StatsOptions {
        StatsOptions {
            confidence: Confidence::P95,
            cluster_by: cluster_by.map(str::to_owned),
            seed: 1,
        }
    }

    fn def(name: &str) -> MetricDef {
        MetricDef {
            name: name.into(),
            scorer: "choice".into(),
            lower_is_better: false,
        }
    }

    #[test]
    fn binary_metrics_use_wilson_and_exclude_errors() {
        let mut samples: Vec<SampleResult> = (0..10)
            .map(|i| {
                scored(
                    &format!("s{i}"),
                    1,
                    "accuracy",
                    Value::from_bool(i < 3),
                    "t",
                )
            })
            .collect();
        let mut errored = scored("s10", 1, "accuracy", Value::Correct, "t");
        errored.error = Some("boom".into());
        samples.push(errored);
        samples[9].scores.get_mut("accuracy").unwrap().value = Value::NoAnswer;
        let mut spec = crate::testing::spec("k");
        spec.planned = 11;
        let s = summarise_run(&spec, &samples, &[def("accuracy")], &options(None)).unwrap();
        assert_eq!((s.task.as_str(), s.planned), ("s/t", 11));
        assert_eq!((s.completed, s.errors), (10, 1));
        let m = &s.metrics[0];
        assert_eq!((m.n, m.no_answer), (10, 1));
        let i = m.interval.unwrap();
        assert_eq!(i.method(), rsp_stats::Method::Wilson);
        assert!((i.estimate() - 0.3).abs() < 1e-12);
        assert!(m.mde.unwrap() > 0.0);
        let text = format!("{m}");
        assert!(
            text.starts_with("accuracy = 0.300 [") && text.contains("Wilson, 95%, n=10"),
            "{text}"
        );
    }

    #[test]
    fn epochs_reduce_before_the_interval_and_small_n_bootstraps() {
        let mut samples = Vec::new();
        for (i, v) in [
            [1.0, 0.0, 0.0],
            [1.0, 1.0, 0.0],
            [0.0, 0.0, 0.0],
            [1.0, 1.0, 1.0],
        ]
        .iter()
        .enumerate()
        {
            for (e, x) in v.iter().enumerate() {
                samples.push(scored(
                    &format!("s{i}"),
                    e as u32 + 1,
                    "accuracy",
                    Value::from_bool(*x == 1.0),
                    "t",
                ));
            }
        }
        let mean =
            summarise_metric(&samples, &def("accuracy"), Reducer::Mean, &options(None)).unwrap();
        assert_eq!(mean.n, 4);
        assert!((mean.estimate - 0.5).abs() < 1e-12);
        let method = mean.interval.unwrap().method();
        assert!(
            matches!(
                method,
                rsp_stats::Method::BootstrapBca | rsp_stats::Method::BootstrapPercentile
            ),
            "{method:?}"
        );
        let max =
            summarise_metric(&samples, &def("accuracy"), Reducer::Max, &options(None)).unwrap();
        assert_eq!(max.interval.unwrap().method(), rsp_stats::Method::Wilson);
        assert!((max.estimate - 0.75).abs() < 1e-12);
    }

    #[test]
    fn clustering_on_a_metadata_field() {
        let samples: Vec<SampleResult> = (0..40)
            .map(|i| {
                let topic = if i < 20 { "a" } else { "b" };
                let mut s = scored(
                    &format!("s{i:02}"),
                    1,
                    "accuracy",
                    Value::from_bool(i % 3 == 0 || i < 10),
                    topic,
                );
                s.metadata.insert("topic".into(), serde_json::json!(topic));
                s
            })
            .collect();
        let c = summarise_metric(
            &samples,
            &def("accuracy"),
            Reducer::Mean,
            &options(Some("topic")),
        )
        .unwrap();
        let info = c.clustered.unwrap();
        assert_eq!(info.clusters, 2);
        assert_eq!(
            c.interval.unwrap().method(),
            rsp_stats::Method::ClusteredCr1
        );
        assert_eq!(info.iid.method(), rsp_stats::Method::Wilson);
        let none =
            summarise_metric(&samples, &def("missing"), Reducer::Mean, &options(None)).unwrap();
        assert_eq!(none.n, 0);
        assert!(none.interval.is_none() && none.note.is_some());
    }
}
