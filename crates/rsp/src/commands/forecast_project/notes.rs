//! One checkpoint's lineage forecast as `rsp status` and the assessment reports show it:
//! a few words for the status line when an earlier assessment is recommended, and one
//! [`ForecastNote`] per evidence rule (a sentence with the crossings and their intervals,
//! the recommendation, the chart) for the Capability Report. The wording reuses the text
//! table's cells so `rsp forecast`, `rsp status` and the reports quote the same numbers.

use rsp_assess::report::ForecastNote;
use rsp_forecast::RuleForecast;
use rsp_policy::Policy;

use super::ModelForecast;
use super::print::{cell, crossing_name, recommendation, sci_end};
use super::report::{LineSummary, RuleReport};
use crate::commands::model::sci;

impl ModelForecast {
    /// One note per evidence rule of the policy, in policy order.
    pub(crate) fn notes(&self) -> Vec<ForecastNote> {
        self.lineage
            .rules
            .iter()
            .map(|r| note(r, self.level))
            .collect()
    }

    /// The earliest earlier-assessment recommendation of any rule, in a few words; `None`
    /// when the forecast recommends none (including with fewer than three checkpoints).
    pub(crate) fn short(&self) -> Option<String> {
        let (r, rec) = self
            .lineage
            .rules
            .iter()
            .filter_map(|r| r.recommendation.as_ref().map(|rec| (r, rec)))
            .min_by(|a, b| a.1.at_flop.total_cmp(&b.1.at_flop))?;
        let by = rec.by_date.map(|d| format!(" or {d}")).unwrap_or_default();
        Some(format!(
            "assess earlier: {} forecast to reach the {} {} at {} FLOP{by}",
            r.threshold,
            crossing_name(rec.crossing),
            rec.threshold,
            sci(rec.at_flop)
        ))
    }
}

/// The note of one rule.
fn note(r: &RuleReport, level: f64) -> ForecastNote {
    let summary = match (&r.forecast, &r.fit, &r.alert, &r.line) {
        (Ok(RuleForecast::TooFewCheckpoints { got, needed }), ..) => format!(
            "No forecast: fewer than {needed} checkpoints of this lineage have an estimate for \
             this rule (found {got}), so nothing is extrapolated."
        ),
        (Ok(RuleForecast::Fitted(_)), Some(fit), Some(alert), Some(line)) => {
            let r2 = fit
                .r_squared
                .map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"));
            let dates = if fit.dates.is_none() {
                " Dates are not forecast: fewer than two checkpoints have a registered date."
            } else {
                ""
            };
            format!(
                "{} fit to {} checkpoints (R² {r2}), crossings of the adjusted estimate with {}% \
                 bootstrap intervals: alert line {}; line {}.{dates}",
                capitalized(fit.model),
                r.points.len(),
                level * 100.0,
                crossing(alert),
                crossing(line)
            )
        }
        (Err(e), ..) => format!("No forecast: {e}."),
        _ => "No forecast: the fit gave no crossings.".to_owned(),
    };
    ForecastNote {
        threshold: r.threshold.clone(),
        rule: r.rule,
        suite: r.suite.clone(),
        metric: r.metric.clone(),
        summary,
        recommendation: r
            .recommendation
            .as_ref()
            .map(|rec| capitalized(&recommendation(rec)) + "."),
        svg: r.svg.clone(),
        chart_file: r
            .chart
            .as_ref()
            .and_then(|c| c.file_name())
            .map(|f| f.to_string_lossy().into_owned()),
    }
}

/// `s` with its first letter in upper case.
fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// `0.6: 1.4e22 FLOP [1.1e22, 2.9e22], date 2026-10-03 [2026-08-01, 2027-01-01]`.
fn crossing(l: &LineSummary) -> String {
    let flop = cell(&l.compute_flop, |f| format!("{} FLOP", sci(*f)), sci_end);
    let date = l
        .date
        .as_ref()
        .map(|d| format!(", date {}", cell(d, ToString::to_string, |d| d.to_string())))
        .unwrap_or_default();
    format!("{}: {flop}{date}", l.threshold)
}

/// One note per evidence rule saying why there is no forecast, for when it could not be
/// computed at all (an assessment report never fails for want of a forecast).
pub(crate) fn unavailable_notes(policy: &Policy, why: &str) -> Vec<ForecastNote> {
    policy
        .thresholds
        .iter()
        .flat_map(|t| {
            t.evidence.iter().enumerate().map(|(i, rule)| ForecastNote {
                threshold: t.id.clone(),
                rule: i,
                suite: rule.suite.clone(),
                metric: rule.metric.clone(),
                summary: format!("No forecast: it could not be computed ({why})."),
                recommendation: None,
                svg: None,
                chart_file: None,
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::NaiveDate;
    use rsp_forecast::{Checkpoint, MetricDirection, RuleForecastOptions, RuleLines};

    use super::super::report::{LineageReport, Next};
    use super::*;

    /// A lineage whose one rule rises 0.08 per doubling of compute (0.25 at 1e21 FLOP),
    /// with `n` checkpoints, the next assessment scheduled at `next_flop`.
    fn forecast(n: usize, next_flop: f64) -> ModelForecast {
        let spec: rsp_policy::EvidenceRule = serde_json::from_value(serde_json::json!({
            "suite": "knowledge-proxy", "metric": "accuracy", "line": 0.8, "alert": 0.6,
        }))
        .unwrap();
        let points: Vec<Checkpoint> = (0..n)
            .map(|i| {
                let v = 0.25 + 0.08 * i as f64;
                Checkpoint {
                    name: format!("m{i}"),
                    compute_flop: 1e21 * 2f64.powi(i32::try_from(i).unwrap()),
                    date: NaiveDate::from_ymd_opt(2026, 1 + 2 * u32::try_from(i).unwrap(), 1),
                    value: v,
                    lower: v - 0.06,
                    upper: v + 0.06,
                    confidence: 0.95,
                }
            })
            .collect();
        let lines = RuleLines {
            direction: MetricDirection::Higher,
            margin: 0.0,
            alert: 0.6,
            line: 0.8,
        };
        let f =
            rsp_forecast::forecast_rule_crossing(&points, &lines, &RuleForecastOptions::default());
        let mut r = RuleReport::new("KNOW-1", 0, &spec, points, lines, f);
        r.recommend(Some(&Next {
            at_flop: Some(next_flop),
            by_date: None,
            assessment: "a".into(),
        }));
        ModelForecast {
            lineage: LineageReport {
                name: "m0".into(),
                checkpoints: Vec::new(),
                skipped: Vec::new(),
                next: None,
                rules: vec![r],
            },
            level: 0.95,
        }
    }

    #[test]
    fn a_crossing_before_the_schedule_is_recommended_in_status_and_notes() {
        let f = forecast(4, 3.2e22);
        let short = f.short().unwrap();
        assert!(
            short.starts_with("assess earlier: KNOW-1 forecast to reach the alert line 0.6 at 2.07e22 FLOP or 2026-"),
            "{short}"
        );
        let [note] = f.notes().try_into().unwrap();
        assert!(
            note.summary.starts_with(
                "Log-linear fit to 4 checkpoints (R² 1.000), crossings of the adjusted estimate \
                 with 95% bootstrap intervals: alert line 0.6: 2.07e22 FLOP ["
            ),
            "{}",
            note.summary
        );
        assert!(note.summary.contains("; line 0.8: "), "{}", note.summary);
        assert!(note.summary.contains(", date 2026-"), "{}", note.summary);
        let rec = note.recommendation.unwrap();
        assert!(
            rec.starts_with("Assess earlier, at 2.07e22 FLOP or by 2026-"),
            "{rec}"
        );
        assert!(
            rec.ends_with("the next assessment is only scheduled at 3.2e22 FLOP."),
            "{rec}"
        );
        // No chart was asked for.
        assert!(note.svg.is_none() && note.chart_file.is_none());
    }

    #[test]
    fn no_recommendation_when_the_schedule_comes_first_or_points_are_too_few() {
        // The alert crossing (~2.1e22 FLOP) lies beyond a schedule at 1e22.
        let f = forecast(4, 1e22);
        assert_eq!(f.short(), None);
        assert!(f.notes()[0].recommendation.is_none());
        let f = forecast(2, 3.2e22);
        assert_eq!(f.short(), None);
        assert_eq!(
            f.notes()[0].summary,
            "No forecast: fewer than 3 checkpoints of this lineage have an estimate for this \
             rule (found 2), so nothing is extrapolated."
        );
    }

    #[test]
    fn an_unavailable_forecast_still_gives_one_note_per_rule() {
        let text = rsp_policy::templates::template("example").unwrap().text;
        let policy = rsp_policy::check(
            text.as_bytes(),
            &rsp_policy::Catalog::new(Vec::<String>::new()),
        )
        .policy
        .unwrap();
        let notes = unavailable_notes(&policy, "the store is locked");
        let rules: usize = policy.thresholds.iter().map(|t| t.evidence.len()).sum();
        assert!(rules > 0);
        assert_eq!(notes.len(), rules);
        assert!(notes.iter().all(|n| n.summary
            == "No forecast: it could not be computed (the store is locked)."
            && n.recommendation.is_none()));
    }
}
