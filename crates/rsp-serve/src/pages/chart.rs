//! Inline SVG charts drawn from data, with presentation attributes only (no `style`), so
//! they render under the strict CSP.

use std::fmt::Write as _;

use maud::html;

use crate::api::types::RuleHistory;

const W: f64 = 420.0;
const H: f64 = 220.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 36.0;

/// Estimate with its interval per assessment (oldest left), the alert line dashed and the
/// capability line solid. The y range always includes both lines and every bound.
pub(crate) fn history_svg(h: &RuleHistory) -> String {
    let mut lo = h.alert.min(h.line);
    let mut hi = h.alert.max(h.line);
    for p in &h.points {
        lo = lo.min(p.lower);
        hi = hi.max(p.upper);
    }
    lo = lo.min(0.0);
    let pad = ((hi - lo) * 0.08).max(1e-9);
    hi += pad;
    let span = hi - lo;
    let y = |v: f64| TOP + (hi - v) / span * (H - TOP - BOTTOM);
    let n = h.points.len().max(1) as f64;
    let x = |i: usize| LEFT + (i as f64 + 0.5) * (W - LEFT - RIGHT) / n;
    let mut s = String::new();
    let title = format!(
        "{} {} {}: {} assessments; latest estimate {:.3}; alert {:.2}, line {:.2}",
        h.threshold,
        h.suite,
        h.metric,
        h.points.len(),
        h.points.last().map_or(f64::NAN, |p| p.estimate),
        h.alert,
        h.line
    );
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" class="chart"><title>{}</title>"##,
        html! { (title) }.into_string()
    );
    // Axes and y ticks.
    let _ = write!(
        s,
        r##"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{}" stroke="#555"/><line x1="{LEFT}" y1="{0}" x2="{}" y2="{0}" stroke="#555"/>"##,
        H - BOTTOM,
        W - RIGHT
    );
    for k in 0..=4 {
        let v = lo + span * f64::from(k) / 4.0;
        let _ = write!(
            s,
            r##"<text x="{}" y="{:.1}" font-size="10" text-anchor="end" fill="#333">{v:.2}</text>"##,
            LEFT - 4.0,
            y(v) + 3.0
        );
    }
    for (v, dash, label, colour) in [
        (h.alert, " stroke-dasharray=\"5 4\"", "alert", "#b7791f"),
        (h.line, "", "line", "#c53030"),
    ] {
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{0:.1}" x2="{1}" y2="{0:.1}" stroke="{colour}" stroke-width="1.5"{dash}/><text x="{1}" y="{2:.1}" font-size="10" text-anchor="end" fill="{colour}">{label} {v:.2}</text>"##,
            y(v),
            W - RIGHT,
            y(v) - 3.0
        );
    }
    for (i, p) in h.points.iter().enumerate() {
        let _ = write!(
            s,
            r##"<line x1="{0:.1}" y1="{1:.1}" x2="{0:.1}" y2="{2:.1}" stroke="#2b6cb0" stroke-width="2"/><circle cx="{0:.1}" cy="{3:.1}" r="4" fill="#2b6cb0"><title>{4}: {5:.3} [{6:.3}, {7:.3}]</title></circle>"##,
            x(i),
            y(p.lower),
            y(p.upper),
            y(p.estimate),
            p.at.format("%Y-%m-%d"),
            p.estimate,
            p.lower,
            p.upper
        );
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{}" font-size="10" text-anchor="middle" fill="#333">{}</text>"##,
            x(i),
            H - BOTTOM + 14.0,
            p.at.format("%m-%d")
        );
    }
    s.push_str("</svg>");
    s
}

/// Keeps an SVG document from the forecast hook safe to inline: drops anything before
/// `<svg` (XML declaration, doctype) and refuses documents with scripts or event handlers.
pub(crate) fn sanitize_svg(svg: &str) -> String {
    let lower = svg.to_ascii_lowercase();
    let Some(start) = lower.find("<svg") else {
        return String::new();
    };
    let risky = [
        "<script",
        "javascript:",
        "<foreignobject",
        "onload=",
        "onclick=",
        "onerror=",
        "onmouseover=",
    ];
    if risky.iter().any(|r| lower.contains(r)) {
        return "<p>chart withheld: it contains script</p>".to_owned();
    }
    svg[start..].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::types::HistoryPoint;
    use chrono::Utc;

    #[test]
    fn history_chart_has_a_point_per_assessment_and_both_lines() {
        let h = RuleHistory {
            threshold: "T<1>".into(),
            suite: "s".into(),
            metric: "acc".into(),
            alert: 0.4,
            line: 0.6,
            points: (0..3)
                .map(|i| HistoryPoint {
                    assessment: format!("a{i}"),
                    at: Utc::now(),
                    estimate: 0.1 * f64::from(i),
                    lower: 0.0,
                    upper: 0.2 * f64::from(i),
                })
                .collect(),
        };
        let svg = history_svg(&h);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("alert 0.40") && svg.contains("line 0.60"));
        assert!(
            svg.contains("T&lt;1&gt;") && !svg.contains("T<1>"),
            "title escaped"
        );
        assert!(!svg.contains("style="));
    }

    #[test]
    fn sanitize_strips_prolog_and_refuses_scripts() {
        assert_eq!(
            sanitize_svg("<?xml version=\"1.0\"?>\n<svg></svg>"),
            "<svg></svg>"
        );
        assert!(sanitize_svg("<svg><script>x</script></svg>").contains("withheld"));
    }
}
