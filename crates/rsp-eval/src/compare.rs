//! Paired comparison of two runs of the same task (model A against model B).
//!
//! Samples are paired by id, after each side's epochs are reduced; only ids scored in both
//! runs count, and the ids present on one side only are reported, never silently dropped.
//! Binary metrics use McNemar's test (exact below 25 discordant pairs) with Newcombe's
//! interval for the difference; other metrics use the paired bootstrap. Paired tests are
//! the right ones here: the same items were answered by both models, and an unpaired test
//! throws that away (lm-eval #3831).

use std::collections::BTreeMap;
use std::fmt;

use rsp_stats::{BootstrapConfig, Confidence, McNemarMethod, PairedComparison, PairedTable};
use serde::Serialize;

use crate::error::Error;
use crate::metrics::{RESAMPLES, design, reduced_values};
use crate::record::SampleResult;
use crate::reducer::Reducer;

/// Settings of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareOptions {
    /// Confidence level of the difference's interval.
    pub confidence: Confidence,
    /// Epoch reducer applied to both runs.
    pub reducer: Reducer,
    /// Bootstrap seed.
    pub seed: u64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self {
            confidence: Confidence::P95,
            reducer: Reducer::Mean,
            seed: 0,
        }
    }
}

/// The comparison of one metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricComparison {
    /// Metric name.
    pub metric: String,
    /// Pairs compared.
    pub n_paired: usize,
    /// Mean of A over the pairs.
    pub a: f64,
    /// Mean of B over the pairs.
    pub b: f64,
    /// `A − B` with interval, p-value and test.
    #[serde(serialize_with = "comparison_as_text")]
    pub comparison: PairedComparison,
    /// The 2×2 table, for binary metrics.
    pub table: Option<PairedTable>,
    /// Smallest true difference this many pairs detects with 80% power.
    pub mde: Option<f64>,
    /// Ids scored in A only.
    pub only_in_a: Vec<String>,
    /// Ids scored in B only.
    pub only_in_b: Vec<String>,
}

fn comparison_as_text<S: serde::Serializer>(c: &PairedComparison, s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut st = s.serialize_struct("PairedComparison", 3)?;
    st.serialize_field("difference", &c.difference)?;
    st.serialize_field("p_value", &c.p_value)?;
    st.serialize_field("test", &c.test)?;
    st.end()
}

impl fmt::Display for MetricComparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: A {:.3} vs B {:.3}; A − B = {:.3}",
            self.metric, self.a, self.b, self.comparison
        )?;
        if let Some(m) = self.mde {
            write!(f, "; MDE {m:.3}")?;
        }
        if !self.only_in_a.is_empty() || !self.only_in_b.is_empty() {
            write!(
                f,
                "; unpaired: {} only in A, {} only in B",
                self.only_in_a.len(),
                self.only_in_b.len()
            )?;
        }
        Ok(())
    }
}

/// Compares every metric the two runs share.
pub fn compare(
    a: &[SampleResult],
    b: &[SampleResult],
    options: &CompareOptions,
) -> Result<Vec<MetricComparison>, Error> {
    let names = |s: &[SampleResult]| -> Vec<String> {
        let mut v: Vec<String> = s.iter().flat_map(|r| r.scores.keys().cloned()).collect();
        v.sort();
        v.dedup();
        v
    };
    let (na, nb) = (names(a), names(b));
    let shared: Vec<&String> = na.iter().filter(|m| nb.contains(m)).collect();
    if shared.is_empty() {
        return Err(Error::Incomparable("the runs share no metric".into()));
    }
    shared
        .into_iter()
        .map(|m| compare_metric(a, b, m, options))
        .collect()
}

/// Compares one metric.
pub fn compare_metric(
    a: &[SampleResult],
    b: &[SampleResult],
    metric: &str,
    options: &CompareOptions,
) -> Result<MetricComparison, Error> {
    let ra: BTreeMap<String, f64> = reduced_values(a, metric, options.reducer)?
        .into_iter()
        .map(|(id, v, _)| (id, v))
        .collect();
    let rb: BTreeMap<String, f64> = reduced_values(b, metric, options.reducer)?
        .into_iter()
        .map(|(id, v, _)| (id, v))
        .collect();
    let mut xa = Vec::new();
    let mut xb = Vec::new();
    for (id, va) in &ra {
        if let Some(vb) = rb.get(id) {
            xa.push(*va);
            xb.push(*vb);
        }
    }
    let only_in_a = ra
        .keys()
        .filter(|k| !rb.contains_key(*k))
        .cloned()
        .collect();
    let only_in_b = rb
        .keys()
        .filter(|k| !ra.contains_key(*k))
        .cloned()
        .collect();
    if xa.is_empty() {
        return Err(Error::Incomparable(format!(
            "no sample is scored on `{metric}` in both runs"
        )));
    }
    let binary = xa.iter().chain(&xb).all(|&v| v == 0.0 || v == 1.0);
    let (comparison, table) = if binary {
        let ta: Vec<bool> = xa.iter().map(|&v| v == 1.0).collect();
        let tb: Vec<bool> = xb.iter().map(|&v| v == 1.0).collect();
        let table = PairedTable::from_outcomes(&ta, &tb)?;
        (
            rsp_stats::mcnemar(&table, McNemarMethod::Auto, options.confidence)?,
            Some(table),
        )
    } else {
        let config = BootstrapConfig::new(options.seed)
            .with_resamples(RESAMPLES)
            .with_confidence(options.confidence)
            .with_method(rsp_stats::BootstrapMethod::Percentile);
        (rsp_stats::paired_bootstrap(&xa, &xb, &config)?, None)
    };
    let diffs: Vec<f64> = xa.iter().zip(&xb).map(|(x, y)| x - y).collect();
    let mde = rsp_stats::summarize(&diffs)
        .ok()
        .and_then(|s| design(options.confidence).ok().map(|d| (s, d)))
        .and_then(|(s, d)| rsp_stats::mde_mean(s.sd(), diffs.len() as u64, &d).ok());
    let n = xa.len() as f64;
    Ok(MetricComparison {
        metric: metric.to_owned(),
        n_paired: xa.len(),
        a: xa.iter().sum::<f64>() / n,
        b: xb.iter().sum::<f64>() / n,
        comparison,
        table,
        mde,
        only_in_a,
        only_in_b,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorer::Value;
    use crate::testing::scored;

    #[test]
    fn binary_runs_use_mcnemar_and_report_unpaired_ids() {
        // A right on 0..30, B right on 0..10: 20 discordant pairs, all favouring A.
        let a: Vec<_> = (0..40)
            .map(|i| {
                scored(
                    &format!("s{i:02}"),
                    1,
                    "accuracy",
                    Value::from_bool(i < 30),
                    "t",
                )
            })
            .collect();
        let mut b: Vec<_> = (0..40)
            .map(|i| {
                scored(
                    &format!("s{i:02}"),
                    1,
                    "accuracy",
                    Value::from_bool(i < 10),
                    "t",
                )
            })
            .collect();
        b.push(scored("extra", 1, "accuracy", Value::Correct, "t"));
        let c = compare(&a, &b, &CompareOptions::default()).unwrap();
        assert_eq!(c.len(), 1);
        let m = &c[0];
        assert_eq!(m.n_paired, 40);
        assert_eq!(m.only_in_b, ["extra"]);
        assert_eq!(m.table.unwrap().only_a, 20);
        assert!((m.comparison.difference.estimate() - 0.5).abs() < 1e-12);
        assert!(m.comparison.p_value < 1e-4);
        assert_eq!(m.comparison.test, rsp_stats::PairedTest::McNemarExact);
        assert!(m.mde.unwrap() > 0.0);
        assert!(m.to_string().contains("McNemar exact"), "{m}");
    }

    #[test]
    fn numeric_runs_use_the_paired_bootstrap_and_identical_runs_show_no_difference() {
        let a: Vec<_> = (0..20)
            .map(|i| {
                scored(
                    &format!("s{i}"),
                    1,
                    "score",
                    Value::Number(f64::from(i) / 20.0),
                    "t",
                )
            })
            .collect();
        let c = compare_metric(&a, &a, "score", &CompareOptions::default()).unwrap();
        assert_eq!(c.comparison.test, rsp_stats::PairedTest::PairedBootstrap);
        assert_eq!(c.comparison.difference.estimate(), 0.0);
        assert!(c.comparison.p_value > 0.5);
        assert!(compare(&a, &[], &CompareOptions::default()).is_err());
    }
}
