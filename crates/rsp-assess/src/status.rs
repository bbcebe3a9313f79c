//! `rsp status`: one line per model that answers "what level is it at, and
//! may we deploy it?".
//!
//! [`StatusSummary`] is the `--json` form; its `Display` is the line:
//!
//! `smollm2-135m  ASL-2 required · ASL-2 in place · deploy: allowed (signed) · nearest line: knowledge-proxy 0.31 [0.25,0.38] vs alert 0.60 · next assessment: at 6.4e21 FLOP or 2027-05-28`
//!
//! The "nearest line" is the rule that most deserves attention: the most
//! severe status first, then the smallest distance between the adjusted
//! bound and the next line it has not reached (the alert line while ruled
//! out, the line afterwards). The measured interval is shown, followed by
//! the margin when one is added, so the comparison can be redone by eye.
//! When the forecast across the model's lineage reaches a line before the
//! next assessment, the line ends with ` · forecast: ` and what it
//! recommends.

use std::cmp::Ordering;
use std::fmt;

use rsp_policy::Direction;
use serde::{Deserialize, Serialize};

use crate::types::{Assessment, DecisionAction, Determination, NextAssessment, Reason, Status};

/// The deploy decision as `rsp status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployState {
    /// Nothing blocks it.
    pub allowed: bool,
    /// Required roles that have not signed.
    pub awaiting: Vec<String>,
    /// Threshold and safeguard ids that block it.
    pub blocked_by: Vec<String>,
}

/// Which line the nearest rule is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LineKind {
    /// The alert line.
    Alert,
    /// The capability line.
    Line,
}

/// The rule closest to (or past) its next line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NearestLine {
    /// Threshold id.
    pub threshold: String,
    /// Suite selector.
    pub suite: String,
    /// Metric.
    pub metric: String,
    /// Rule status.
    pub status: Status,
    /// Measured estimate.
    pub estimate: f64,
    /// Measured lower bound.
    pub lower: f64,
    /// Measured upper bound.
    pub upper: f64,
    /// Elicitation margin added before comparing.
    pub margin: f64,
    /// Which line it is compared with.
    pub against: LineKind,
    /// That line's value.
    pub line: f64,
}

/// One model's status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusSummary {
    /// Model name.
    pub model: String,
    /// Latest assessment id, if any.
    pub assessment: Option<String>,
    /// Highest required standard.
    pub required: Option<String>,
    /// Highest standard fully in place.
    pub in_place: Option<String>,
    /// The deploy decision, if one was made.
    pub deploy: Option<DeployState>,
    /// The rule nearest its line.
    pub nearest: Option<NearestLine>,
    /// When the next assessment is due.
    pub next: NextAssessment,
    /// Set when the forecast across the model's lineage reaches a line
    /// before `next`: the earlier assessment it recommends, in a few words.
    /// Filled in by the caller, which can read the other checkpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<String>,
}

impl StatusSummary {
    /// The status of a model never assessed.
    #[must_use]
    pub fn unassessed(model: &str, next: NextAssessment) -> Self {
        Self {
            model: model.to_owned(),
            assessment: None,
            required: None,
            in_place: None,
            deploy: None,
            nearest: None,
            next,
            forecast: None,
        }
    }
}

fn sign(d: Direction) -> f64 {
    match d {
        Direction::Higher => 1.0,
        Direction::Lower => -1.0,
    }
}

/// Distance on the dangerous side from the adjusted bound to the next line.
fn gap(d: &Determination) -> Option<(f64, NearestLine)> {
    let raw = d.raw.as_ref()?;
    let adjusted = d.adjusted.as_ref()?;
    let s = sign(d.direction);
    let bound = (s * adjusted.upper).max(s * adjusted.lower);
    let (against, line) = if d.status == Status::RuledOut {
        (LineKind::Alert, d.alert)
    } else {
        (LineKind::Line, d.line)
    };
    Some((
        s * line - bound,
        NearestLine {
            threshold: d.threshold.clone(),
            suite: d.suite.split('/').next().unwrap_or(&d.suite).to_owned(),
            metric: d.metric.clone(),
            status: d.status,
            estimate: raw.value,
            lower: raw.lower,
            upper: raw.upper,
            margin: d.margin,
            against,
            line,
        },
    ))
}

/// Summarize `assessment`, given the roles that have signed its deploy
/// decision.
#[must_use]
pub fn summarize(assessment: &Assessment, signed_roles: &[String]) -> StatusSummary {
    let deploy = assessment
        .decisions
        .iter()
        .find(|d| d.action == DecisionAction::Deploy)
        .map(|d| {
            let mut blocked_by = Vec::new();
            for r in d.reasons.iter().filter(|r| r.blocks()) {
                let ids: Vec<&String> = match r {
                    Reason::Threshold { threshold, .. } => vec![threshold],
                    Reason::Safeguards {
                        threshold,
                        safeguards,
                        ..
                    } => std::iter::once(threshold)
                        .chain(safeguards.iter().map(|(id, _)| id))
                        .collect(),
                    Reason::ComputeCap { action, .. } => vec![action],
                    Reason::Baseline { safeguards, .. } => {
                        safeguards.iter().map(|(id, _)| id).collect()
                    }
                    Reason::Judgement { .. } => vec![],
                };
                for id in ids {
                    if !blocked_by.contains(id) {
                        blocked_by.push(id.clone());
                    }
                }
            }
            DeployState {
                allowed: d.allowed,
                awaiting: d
                    .awaiting(signed_roles)
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                blocked_by,
            }
        });
    let blocking_rules = assessment
        .findings
        .iter()
        .filter(|f| f.blocking)
        .flat_map(|f| &f.rules);
    let all_rules = assessment.findings.iter().flat_map(|f| &f.rules);
    let pick = |rules: &mut dyn Iterator<Item = &Determination>| {
        rules.filter_map(gap).min_by(|(ga, a), (gb, b)| {
            b.status
                .cmp(&a.status)
                .then(ga.partial_cmp(gb).unwrap_or(Ordering::Equal))
        })
    };
    let nearest = pick(&mut { blocking_rules })
        .or_else(|| pick(&mut { all_rules }))
        .map(|(_, n)| n);
    StatusSummary {
        model: assessment.model.name.clone(),
        assessment: Some(assessment.id.clone()),
        required: assessment.required.highest.clone(),
        in_place: assessment.required.in_place.clone(),
        deploy,
        nearest,
        next: assessment.next.clone(),
        forecast: None,
    }
}

impl fmt::Display for StatusSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}  ", self.model)?;
        if self.assessment.is_none() {
            f.write_str("not assessed")?;
        } else {
            match &self.required {
                Some(s) => write!(f, "{s} required")?,
                None => f.write_str("no standard required")?,
            }
            match &self.in_place {
                Some(s) => write!(f, " · {s} in place")?,
                None => f.write_str(" · no standard in place")?,
            }
        }
        if let Some(d) = &self.deploy {
            if !d.allowed {
                write!(f, " · deploy: blocked by {}", d.blocked_by.join(", "))?;
            } else if d.awaiting.is_empty() {
                f.write_str(" · deploy: allowed (signed)")?;
            } else {
                write!(f, " · deploy: allowed (awaiting {})", d.awaiting.join(", "))?;
            }
        }
        if let Some(n) = &self.nearest {
            write!(
                f,
                " · nearest line: {} {:.2} [{:.2},{:.2}]",
                n.suite, n.estimate, n.lower, n.upper
            )?;
            if n.margin != 0.0 {
                write!(f, " +{:.2}", n.margin)?;
            }
            let kind = match n.against {
                LineKind::Alert => "alert",
                LineKind::Line => "line",
            };
            write!(f, " vs {kind} {:.2}", n.line)?;
            if n.status.line_not_ruled_out() {
                write!(f, " ({})", n.status)?;
            }
        }
        f.write_str(" · next assessment: ")?;
        match (self.next.at_flop, self.next.by_date) {
            (Some(flop), Some(date)) => write!(f, "at {flop:.1e} FLOP or {date}"),
            (Some(flop), None) => write!(f, "at {flop:.1e} FLOP"),
            (None, Some(date)) => write!(f, "by {date}"),
            (None, None) => f.write_str("not scheduled"),
        }?;
        if let Some(r) = &self.forecast {
            write!(f, " · forecast: {r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_forecast_recommendation_ends_the_line_and_is_omitted_from_json_when_absent() {
        let next = NextAssessment {
            at_flop: Some(3.2e22),
            by_date: None,
        };
        let mut s = StatusSummary::unassessed("m4", next);
        let plain = s.to_string();
        assert_eq!(plain, "m4  not assessed · next assessment: at 3.2e22 FLOP");
        assert!(!serde_json::to_string(&s).unwrap().contains("forecast"));
        s.forecast = Some("assess at 1.4e22 FLOP".into());
        assert_eq!(
            s.to_string(),
            format!("{plain} · forecast: assess at 1.4e22 FLOP")
        );
        let json = serde_json::to_string(&s).unwrap();
        assert!(
            json.contains("\"forecast\":\"assess at 1.4e22 FLOP\""),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<StatusSummary>(&json).unwrap(), s);
    }
}
