//! rsp's own recomputation of Inspect's metrics from the samples, and the check against
//! what the log reports.
//!
//! Inspect's pipeline, reproduced exactly:
//!
//! 1. **Value to float** (`value_to_float()`): `C` → 1, `P` → 0.5, `I` and `N` → 0;
//!    numbers and booleans cast; the strings `yes`/`true` → 1 and `no`/`false` → 0
//!    (case-insensitive); numeric strings parsed; anything else → 0.
//! 2. **Epoch reduction per sample** with the score's reducer (default `mean`). Unscored
//!    values (NaN) are dropped before reducing; a sample with no value left is unscored.
//!    `mean` and `median` reduce the floats, `max` and `mode` pick one of the raw values
//!    (`mode` ties go to the value seen first), `at_least_{k}` is 1 when at least `k` epochs
//!    reach 1.0, `pass_at_{k}` is the unbiased estimator 1 − C(n−c, k)/C(n, k).
//! 3. **Metrics** over the reduced, scored samples: `accuracy` and `mean` are the mean;
//!    `stderr` is the sample standard deviation (ddof = 1) over √n, and 0 when n < 2.
//!
//! Other metrics and reducers are listed as not recomputed, never as agreeing.
//! A score whose name differs from its scorer (a dict-valued scorer reporting per key)
//! is recomputed from that key of each value.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{ImportedLog, ImportedSample, SampleId, ScoreValue};

/// Absolute tolerance for agreement with the harness's reported value.
pub const TOLERANCE: f64 = 1e-9;

/// Inspect's `value_to_float()`: `None` for unscored (NaN) and container values.
pub fn value_to_float(v: &ScoreValue) -> Option<f64> {
    match v {
        ScoreValue::Number(x) if x.is_nan() => None,
        ScoreValue::Number(x) => Some(*x),
        ScoreValue::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        ScoreValue::Str(s) => Some(match s.as_str() {
            "C" => 1.0,
            "P" => 0.5,
            "I" | "N" => 0.0,
            other => match other.to_ascii_lowercase().as_str() {
                "yes" | "true" => 1.0,
                "no" | "false" => 0.0,
                t => t
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .unwrap_or(0.0),
            },
        }),
        // Inspect warns and uses 0 for lists and dicts; the reducers never reach here
        // with containers because `score_of` picks a key first.
        ScoreValue::List(_) | ScoreValue::Dict(_) => Some(0.0),
        ScoreValue::Null => None,
    }
}

fn is_unscored(v: &ScoreValue) -> bool {
    matches!(v, ScoreValue::Number(x) if x.is_nan()) || matches!(v, ScoreValue::Null)
}

/// An epoch reducer rsp can reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reducer {
    /// Mean of the floats.
    Mean,
    /// Median of the floats.
    Median,
    /// The raw value with the largest float.
    Max,
    /// The most frequent raw value (first seen wins ties).
    Mode,
    /// 1 when at least k epochs score 1.0.
    AtLeast(u64),
    /// Unbiased pass@k.
    PassAt(u64),
}

impl Reducer {
    /// Parses Inspect's reducer names (`mean`, `median`, `max`, `mode`, `at_least_3`,
    /// `pass_at_2`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "mean" => Some(Self::Mean),
            "median" => Some(Self::Median),
            "max" => Some(Self::Max),
            "mode" => Some(Self::Mode),
            _ => {
                if let Some(k) = name.strip_prefix("at_least_") {
                    k.parse().ok().map(Self::AtLeast)
                } else if let Some(k) = name.strip_prefix("pass_at_") {
                    k.parse().ok().map(Self::PassAt)
                } else {
                    None
                }
            }
        }
    }

    /// Reduces one sample's epoch values; `None` when no epoch was scored.
    pub fn reduce(self, values: &[&ScoreValue]) -> Option<f64> {
        let scored: Vec<&ScoreValue> = values.iter().copied().filter(|v| !is_unscored(v)).collect();
        let floats: Vec<f64> = scored.iter().filter_map(|v| value_to_float(v)).collect();
        if floats.is_empty() {
            return None;
        }
        Some(match self {
            Self::Mean => mean(&floats),
            Self::Median => {
                let mut f = floats;
                f.sort_by(f64::total_cmp);
                let n = f.len();
                if n % 2 == 1 {
                    f[n / 2]
                } else {
                    (f[n / 2 - 1] + f[n / 2]) / 2.0
                }
            }
            // max(values, key=to_float): the first maximal raw value, then to_float.
            Self::Max => floats.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            Self::Mode => {
                let mut counts: Vec<(&ScoreValue, usize)> = Vec::new();
                for v in &scored {
                    match counts.iter_mut().find(|(seen, _)| seen == v) {
                        Some((_, c)) => *c += 1,
                        None => counts.push((v, 1)),
                    }
                }
                let best = counts.iter().map(|(_, c)| *c).max().unwrap_or(0);
                counts
                    .iter()
                    .find(|(_, c)| *c == best)
                    .and_then(|(v, _)| value_to_float(v))
                    .unwrap_or(0.0)
            }
            Self::AtLeast(k) => {
                let hits = floats.iter().filter(|x| **x >= 1.0).count() as u64;
                if hits >= k { 1.0 } else { 0.0 }
            }
            Self::PassAt(k) => {
                let n = floats.len() as u64;
                let c = floats.iter().filter(|x| **x >= 1.0).count() as u64;
                if n < k {
                    return None;
                }
                if n - c < k {
                    1.0
                } else {
                    // 1 - prod_{i=n-c+1}^{n} (1 - k/i)
                    let mut prod = 1.0;
                    for i in (n - c + 1)..=n {
                        prod *= 1.0 - k as f64 / i as f64;
                    }
                    1.0 - prod
                }
            }
        })
    }
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Sample standard error of the mean: std (ddof = 1) / √n; 0 when n < 2, as Inspect.
pub fn stderr(v: &[f64]) -> f64 {
    let n = v.len();
    if n < 2 {
        return 0.0;
    }
    let m = mean(v);
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1) as f64;
    var.sqrt() / (n as f64).sqrt()
}

/// The value a score named `name` of `scorer` has in one sample-epoch.
fn score_of<'a>(s: &'a ImportedSample, scorer: &str, name: &str) -> Option<&'a ScoreValue> {
    let v = &s.scores.get(scorer)?.value;
    match v {
        ScoreValue::Dict(d) if name != scorer => d.get(name),
        _ => Some(v),
    }
}

/// Per-sample reduced values of one score, in sample-id order; unscored samples left out.
pub fn reduced_values(
    samples: &[ImportedSample],
    scorer: &str,
    name: &str,
    reducer: Reducer,
) -> Vec<(SampleId, f64)> {
    let mut by_id: BTreeMap<&SampleId, Vec<&ScoreValue>> = BTreeMap::new();
    for s in samples.iter().filter(|s| s.error.is_none()) {
        if let Some(v) = score_of(s, scorer, name) {
            by_id.entry(&s.id).or_default().push(v);
        }
    }
    by_id
        .into_iter()
        .filter_map(|(id, vs)| reducer.reduce(&vs).map(|x| (id.clone(), x)))
        .collect()
}

/// A metric rsp can recompute, by Inspect's name.
pub fn metric(name: &str, values: &[f64]) -> Option<f64> {
    match name {
        "accuracy" | "mean" => Some(if values.is_empty() {
            f64::NAN
        } else {
            mean(values)
        }),
        "stderr" => Some(stderr(values)),
        _ => None,
    }
}

/// The outcome of checking one reported metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricCheck {
    /// Score name.
    pub score: String,
    /// Scorer name.
    pub scorer: String,
    /// Reducer used.
    pub reducer: String,
    /// Metric name.
    pub metric: String,
    /// What the log reports.
    pub reported: f64,
    /// What rsp computes from the samples (`None`: not recomputed, see `note`).
    pub recomputed: Option<f64>,
    /// Samples the recomputation used.
    pub n: usize,
    /// `Some(true)` when within [`TOLERANCE`] (or both NaN); `None` when not recomputed.
    pub agrees: Option<bool>,
    /// Why a metric was not recomputed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Recomputes every reported metric it can and compares. Disagreements are returned as
/// checks with `agrees: Some(false)`, never dropped.
pub fn verify(log: &ImportedLog) -> Vec<MetricCheck> {
    let default_reducer = log.epochs_reducer.first().map_or("mean", String::as_str);
    let no_samples = log.samples.is_empty();
    let mut out = Vec::new();
    for score in &log.reported {
        let reducer_name = score.reducer.as_deref().unwrap_or(default_reducer);
        // Inspect maps list and dict values to 0 with a warning; rsp does not pretend
        // to reproduce that, it says the score was not checked.
        let containers = log.samples.iter().any(|s| {
            matches!(
                score_of(s, &score.scorer, &score.name),
                Some(ScoreValue::List(_) | ScoreValue::Dict(_))
            )
        });
        let reducer = Reducer::parse(reducer_name).filter(|_| !containers);
        let values: Vec<f64> = reducer
            .map(|r| {
                reduced_values(&log.samples, &score.scorer, &score.name, r)
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect()
            })
            .unwrap_or_default();
        for m in &score.metrics {
            let recomputed = reducer
                .filter(|_| !no_samples)
                .and_then(|_| metric(&m.name, &values));
            let note = match (reducer, recomputed) {
                _ if no_samples => Some("the log has no samples to recompute from".to_owned()),
                (None, _) if containers => {
                    Some("list or dict values are not reproduced by rsp".to_owned())
                }
                (None, _) => Some(format!("reducer `{reducer_name}` is not reproduced by rsp")),
                (Some(_), None) => Some(format!("metric `{}` is not recomputed by rsp", m.name)),
                _ => None,
            };
            let agrees = recomputed
                .map(|r| (r.is_nan() && m.value.is_nan()) || (r - m.value).abs() <= TOLERANCE);
            out.push(MetricCheck {
                score: score.name.clone(),
                scorer: score.scorer.clone(),
                reducer: reducer_name.to_owned(),
                metric: m.name.clone(),
                reported: m.value,
                recomputed,
                n: values.len(),
                agrees,
                note,
            });
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn s(x: &str) -> ScoreValue {
        ScoreValue::Str(x.into())
    }

    #[test]
    fn values_map_as_inspect_maps_them() {
        assert_eq!(value_to_float(&s("C")), Some(1.0));
        assert_eq!(value_to_float(&s("P")), Some(0.5));
        assert_eq!(value_to_float(&s("N")), Some(0.0));
        assert_eq!(value_to_float(&s("Yes")), Some(1.0));
        assert_eq!(value_to_float(&s("0.25")), Some(0.25));
        assert_eq!(value_to_float(&s("banana")), Some(0.0));
        assert_eq!(value_to_float(&ScoreValue::Bool(true)), Some(1.0));
        assert_eq!(value_to_float(&ScoreValue::Number(f64::NAN)), None);
    }

    #[test]
    fn reducers_drop_unscored_epochs_and_follow_inspect() {
        let nan = ScoreValue::Number(f64::NAN);
        let (c, i, p) = (s("C"), s("I"), s("P"));
        assert_eq!(Reducer::Mean.reduce(&[&c, &p]), Some(0.75));
        assert_eq!(Reducer::Mean.reduce(&[&nan, &c]), Some(1.0));
        assert_eq!(Reducer::Mean.reduce(&[&nan]), None);
        assert_eq!(Reducer::Max.reduce(&[&i, &p]), Some(0.5));
        assert_eq!(Reducer::Median.reduce(&[&i, &p, &c, &c]), Some(0.75));
        assert_eq!(
            Reducer::Mode.reduce(&[&i, &c, &c, &i]),
            Some(0.0),
            "ties: first seen"
        );
        assert_eq!(Reducer::AtLeast(2).reduce(&[&c, &i, &c]), Some(1.0));
        assert_eq!(Reducer::AtLeast(3).reduce(&[&c, &i, &c]), Some(0.0));
        // n = 3, c = 1, k = 2: 1 - C(2,2)/C(3,2) = 2/3.
        let got = Reducer::PassAt(2).reduce(&[&c, &i, &i]).unwrap();
        assert!((got - 2.0 / 3.0).abs() < 1e-15, "{got}");
        assert_eq!(Reducer::parse("pass_at_4"), Some(Reducer::PassAt(4)));
        assert_eq!(Reducer::parse("collect"), None);
    }

    #[test]
    fn container_values_are_not_claimed_as_checked() {
        let mut log =
            crate::inspect::parse::empty_log(crate::LogFormat::InspectJson, String::new());
        let mut sample = crate::ImportedSample {
            id: SampleId::Int(1),
            epoch: 1,
            input: String::new(),
            target: Vec::new(),
            choices: Vec::new(),
            completion: None,
            messages: Vec::new(),
            scores: BTreeMap::new(),
            metadata: serde_json::Map::new(),
            error: None,
            input_tokens: 0,
            output_tokens: 0,
            total_time: None,
            started_at: None,
            completed_at: None,
        };
        sample.scores.insert(
            "s".into(),
            crate::SampleScore {
                value: ScoreValue::List(vec![s("C")]),
                answer: None,
                explanation: None,
            },
        );
        log.samples.push(sample);
        log.reported.push(crate::ReportedScore {
            name: "s".into(),
            scorer: "s".into(),
            reducer: None,
            scored_samples: None,
            unscored_samples: None,
            metrics: vec![crate::ReportedMetric {
                name: "accuracy".into(),
                value: 1.0,
            }],
        });
        let checks = verify(&log);
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].agrees, None);
        assert!(checks[0].note.as_deref().unwrap().contains("list or dict"));
    }

    #[test]
    fn stderr_is_the_sample_standard_error() {
        assert_eq!(stderr(&[1.0]), 0.0);
        // [1, 0, 1, 1, 0]: mean 0.6, var (ddof 1) 0.3, se sqrt(0.3/5).
        let se = stderr(&[1.0, 0.0, 1.0, 1.0, 0.0]);
        assert!((se - (0.3f64 / 5.0).sqrt()).abs() < 1e-15);
        assert!((se - 0.244_948_974_278_317_83).abs() < 1e-15);
    }
}
