//! The forecast section of the Capability Report.
//!
//! The report shows where each evidence rule is heading across the model's
//! lineage of checkpoints: a plain sentence with the forecast crossings and
//! their intervals (or why nothing was forecast), a callout when the trend
//! reaches a line before the next scheduled assessment, and the rule's
//! chart. The forecast itself is computed by the `rsp` binary (it needs the
//! other checkpoints' assessments, which the [`Assessment`] does not hold)
//! and arrives as [`ForecastNote`]s in the [`ReportExtras`], so the section
//! re-renders from the stored JSON like the rest of the report.
//!
//! [`Assessment`]: crate::Assessment

use serde::{Deserialize, Serialize};

use super::ReportExtras;
use super::doc::{Doc, Line, Tone};

/// One evidence rule's forecast across the model's lineage, as the report
/// shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastNote {
    /// Threshold id.
    pub threshold: String,
    /// Index of the rule within the threshold's evidence (0-based).
    pub rule: usize,
    /// Suite selector.
    pub suite: String,
    /// Metric.
    pub metric: String,
    /// One plain sentence: the forecast crossings with their intervals,
    /// or why there is no forecast (fewer than three checkpoints, an error).
    pub summary: String,
    /// Set when a crossing is forecast before the next scheduled
    /// assessment: what to do instead, in one sentence.
    #[serde(default)]
    pub recommendation: Option<String>,
    /// The rule's chart as an SVG document (embedded in the HTML report).
    #[serde(default)]
    pub svg: Option<String>,
    /// The chart's file name, relative to the report (linked from Markdown).
    #[serde(default)]
    pub chart_file: Option<String>,
}

impl ForecastNote {
    /// `KNOW-1 rule 1 (suite · metric)`.
    fn name(&self) -> String {
        format!(
            "{} rule {} ({} · {})",
            self.threshold,
            self.rule + 1,
            self.suite,
            self.metric
        )
    }
}

/// The "Forecast" section; nothing when no forecast was attached (reports
/// rendered without one, such as re-renders of older assessments).
pub(crate) fn section(d: &mut Doc, x: &ReportExtras) {
    if x.forecasts.is_empty() {
        return;
    }
    d.heading(2, "Forecast");
    d.para(
        "Each rule's estimate across the model's lineage of checkpoints (linked by parent), fitted against effective compute. A forecast is a trend, not evidence: the determinations above govern, and a crossing forecast before the next scheduled assessment is a reason to assess earlier.",
    );
    for n in &x.forecasts {
        d.heading(3, n.name());
        d.para(n.summary.as_str());
        if let Some(r) = &n.recommendation {
            d.callout(Tone::Caution, "Assess earlier", r.as_str());
        }
        if n.svg.is_some() || n.chart_file.is_some() {
            d.figure(
                format!("Forecast chart of {}", n.name()),
                n.svg.clone(),
                n.chart_file.clone(),
            );
        }
    }
    let recommended = x
        .forecasts
        .iter()
        .filter(|n| n.recommendation.is_some())
        .count();
    if recommended == 0 {
        d.para(Line::from(
            "No rule is forecast to reach its alert line or line before the next scheduled assessment.",
        ));
    }
}
