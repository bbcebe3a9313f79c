//! The chart of one evidence rule: checkpoints with their intervals, the fit
//! and its bootstrap band, the alert line and the line.
//!
//! Everything is drawn on the *adjusted* scale (raw estimate moved by the
//! elicitation margin), because that is what the policy compares with its
//! lines: a point touching the alert line on the chart is a checkpoint whose
//! determination was "alert". x is effective compute on a log axis.

use crate::chart::{Chart, Scale, ThresholdKind};
use crate::crossing::{Crossing, CrossingOutcome, Curve};
use crate::rule::{Checkpoint, RuleFit, RuleLines};
use crate::rule_curve::RuleCurve;

/// A rule curve on the adjusted scale, with x in FLOP (what [`Chart`]
/// samples on a log axis).
struct AdjustedInFlop {
    curve: RuleCurve,
    shift: f64,
}

impl Curve for AdjustedInFlop {
    fn value(&self, flop: f64) -> f64 {
        self.curve.value(flop.log10()) + self.shift
    }

    fn crossing(&self, threshold: f64) -> Crossing {
        match self.curve.crossing(threshold - self.shift) {
            Crossing::At(x) => Crossing::At(10f64.powf(x)),
            other => other,
        }
    }
}

/// Build the chart of one rule; `fit` is `None` when there were too few
/// checkpoints (the chart then shows the history and the lines only).
#[must_use]
pub fn rule_chart(
    title: &str,
    y_label: &str,
    points: &[Checkpoint],
    lines: &RuleLines,
    fit: Option<&RuleFit>,
) -> Chart {
    // raw_threshold(t) = t − shift, so shift = t − raw_threshold(t).
    let shift = lines.line - lines.raw_threshold(lines.line);
    let mut chart = Chart::new(
        title,
        "effective compute (FLOP)",
        y_label,
        Scale::Log10,
        Scale::Linear,
    );
    if let Some(fit) = fit {
        let xs = points.iter().map(|p| p.compute_flop.log10());
        let lo = xs.clone().fold(f64::INFINITY, f64::min) - 0.2;
        // Show the way to the line's crossing when it is within the horizon.
        let mut hi = fit.latest_log10_flop + 0.5;
        for f in [&fit.alert, &fit.line] {
            if let CrossingOutcome::Reached { x } = f.compute.outcome {
                hi = hi.max(x + 0.2);
            }
        }
        let hi = hi.min(fit.horizon_log10_flop);
        let adj = |c: &RuleCurve| AdjustedInFlop { curve: *c, shift };
        let reps: Vec<AdjustedInFlop> = fit.replicates.iter().map(adj).collect();
        chart = chart.with_fit(
            &adj(&fit.curve),
            &reps,
            (10f64.powf(lo), 10f64.powf(hi)),
            120,
            fit.summary.level,
        );
    }
    chart.points = points
        .iter()
        .map(|p| (p.compute_flop, p.value + shift))
        .collect();
    chart.error_bars = points
        .iter()
        .map(|p| (p.compute_flop, p.lower + shift, p.upper + shift))
        .collect();
    chart
        .threshold(
            lines.alert,
            &format!("alert {}", lines.alert),
            ThresholdKind::Alert,
        )
        .threshold(
            lines.line,
            &format!("line {}", lines.line),
            ThresholdKind::Line,
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::BootstrapOptions;
    use crate::rule::{RuleForecast, RuleForecastOptions, forecast_rule_crossing};
    use crate::rule_curve::MetricDirection;

    #[test]
    fn chart_has_points_bars_fit_and_lines_on_the_adjusted_scale() {
        let points: Vec<Checkpoint> = [0.3, 0.36, 0.43, 0.48]
            .iter()
            .enumerate()
            .map(|(i, &v)| Checkpoint {
                name: format!("m{i}"),
                compute_flop: 1e21 * 2f64.powi(i as i32),
                date: None,
                value: v,
                lower: v - 0.05,
                upper: v + 0.05,
                confidence: 0.95,
            })
            .collect();
        let lines = RuleLines {
            direction: MetricDirection::Higher,
            margin: 0.05,
            alert: 0.6,
            line: 0.8,
        };
        let opts = RuleForecastOptions {
            boot: BootstrapOptions {
                resamples: 100,
                ..Default::default()
            },
            ..Default::default()
        };
        let RuleForecast::Fitted(fit) = forecast_rule_crossing(&points, &lines, &opts).unwrap()
        else {
            panic!("expected a fit")
        };
        let chart = rule_chart("KNOW-1", "accuracy", &points, &lines, Some(&fit));
        assert!(
            (chart.points[0].1 - 0.35).abs() < 1e-12,
            "{:?}",
            chart.points
        );
        assert_eq!(chart.error_bars.len(), 4);
        assert!(!chart.band.is_empty() && !chart.curve.is_empty());
        // The fitted curve is drawn on the adjusted scale too.
        let first = chart.curve[0];
        assert!((first.1 - (fit.curve.value(first.0.log10()) + 0.05)).abs() < 1e-12);
        let svg = chart.render_svg().unwrap();
        assert!(svg.contains("alert 0.6") && svg.contains("line 0.8"));
        assert!(svg.matches("<circle").count() >= 4);
        let bare = rule_chart("KNOW-1", "accuracy", &points[..2], &lines, None);
        assert!(bare.curve.is_empty());
        assert!(bare.render_svg().unwrap().contains("line 0.8"));
    }
}
