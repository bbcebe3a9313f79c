//! Builders shared by the unit tests.

use chrono::{DateTime, TimeZone, Utc};
use rsp_policy::{Elicitation, Policy};

use crate::types::{Estimate, EvidenceRun};

/// The policy `rsp init` writes.
pub fn example_policy() -> Policy {
    let text = rsp_policy::templates::template("example").unwrap().text;
    toml::from_str(text).unwrap()
}

/// Noon UTC on a day.
pub fn at(date: &str) -> DateTime<Utc> {
    let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    Utc.from_utc_datetime(&d.and_hms_opt(12, 0, 0).unwrap())
}

/// A Wilson estimate at 95%.
pub fn est(value: f64, lower: f64, upper: f64, n: u64) -> Estimate {
    Estimate {
        value,
        lower,
        upper,
        n,
        method: "Wilson".into(),
        confidence: 0.95,
    }
}

/// A completed run of `suite/task` on model `m` with one metric.
pub fn run(
    id: &str,
    suite: &str,
    task: &str,
    elicitation: Elicitation,
    done: &str,
    metric: &str,
    e: Estimate,
) -> EvidenceRun {
    EvidenceRun {
        run_id: id.into(),
        suite: suite.into(),
        task: task.into(),
        model: "m".into(),
        elicitation,
        completed_at: Some(at(done)),
        imported: false,
        metrics: [(metric.to_owned(), e)].into_iter().collect(),
    }
}

/// Chain of thought with `shots` examples.
pub fn cot(shots: u32) -> Elicitation {
    Elicitation {
        chain_of_thought: true,
        few_shot: shots,
        ..Elicitation::default()
    }
}
