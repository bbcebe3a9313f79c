//! How numbers and statuses are spelled in the reports.
//!
//! One place decides the precision of every figure, so the same estimate
//! reads the same in the summary table, the findings and the calibration
//! section. An estimate is only ever printed together with its interval,
//! n, method and confidence level ([`estimate`]): a bare point estimate
//! would overstate what the evidence shows.

use rsp_policy::{Direction, Elicitation};

use super::doc::{Line, Tone};
use crate::types::{Estimate, SafeguardStatus, Status};

/// A metric value: three decimals in the usual range, scientific outside it.
pub(crate) fn num(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let a = x.abs();
    if a == 0.0 || (0.001..10_000.0).contains(&a) {
        format!("{x:.3}")
    } else {
        format!("{x:.3e}")
    }
}

/// A compact number for settings such as lines and margins (`0.6`, `0.05`).
pub(crate) fn short(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    match s {
        "" | "-" | "-0" => "0".into(),
        s => s.to_owned(),
    }
}

/// A probability as a percentage with one decimal (`12.3%`).
pub(crate) fn pct(p: f64) -> String {
    if p.is_finite() {
        format!("{:.1}%", p * 100.0)
    } else {
        "n/a".into()
    }
}

/// A confidence level (`95%`, `99.5%`).
pub(crate) fn level(c: f64) -> String {
    format!("{}%", short(c * 100.0))
}

/// Compute in FLOP (`1.62e21 FLOP`).
pub(crate) fn flop(x: f64) -> String {
    format!("{x:.2e} FLOP")
}

/// `0.310 [0.250, 0.380] (n = 200, Wilson, 95% CI)`.
pub(crate) fn estimate(e: &Estimate) -> String {
    format!(
        "{} [{}, {}] (n = {}, {}, {} CI)",
        num(e.value),
        num(e.lower),
        num(e.upper),
        e.n,
        e.method,
        level(e.confidence)
    )
}

/// The bound on the capable side of an estimate: the upper bound when
/// higher means more capable, the lower bound otherwise. It is the bound
/// compared with the lines.
pub(crate) fn capable_bound(e: &Estimate, d: Direction) -> f64 {
    match d {
        Direction::Higher => e.upper,
        Direction::Lower => e.lower,
    }
}

/// `≥` or `≤`: how a score relates to a line it reaches.
pub(crate) fn reaches(d: Direction) -> &'static str {
    match d {
        Direction::Higher => "≥",
        Direction::Lower => "≤",
    }
}

/// Distance from `bound` to `line` on the safe side (negative once reached).
pub(crate) fn headroom(bound: f64, line: f64, d: Direction) -> f64 {
    match d {
        Direction::Higher => line - bound,
        Direction::Lower => bound - line,
    }
}

/// Words, tone and CSS class of a determination status.
pub(crate) fn status(s: Status) -> (&'static str, Tone) {
    match s {
        Status::RuledOut => ("ruled out", Tone::Good),
        Status::Alert => ("alert", Tone::Caution),
        Status::NoEvidence => ("no evidence", Tone::Unknown),
        Status::CannotRuleOut => ("cannot rule out", Tone::Bad),
        Status::Crossed => ("crossed", Tone::Bad),
    }
}

/// A status badge.
pub(crate) fn status_badge(s: Status) -> Line {
    let (text, tone) = status(s);
    Line::new().badge(text, tone, &format!("status-{}", s.label()))
}

/// A safeguard status badge.
pub(crate) fn safeguard_badge(s: SafeguardStatus) -> Line {
    let (text, tone) = match s {
        SafeguardStatus::InPlace => ("in place", Tone::Good),
        SafeguardStatus::Missing => ("missing", Tone::Bad),
        SafeguardStatus::Expired => ("expired", Tone::Bad),
        SafeguardStatus::FailingBound => ("failing its bound", Tone::Bad),
        SafeguardStatus::Unverified => ("unverified", Tone::Unknown),
    };
    Line::new().badge(text, tone, &format!("safeguard-{}", s.label()))
}

/// Elicitation in words.
pub(crate) fn elicitation(e: &Elicitation) -> String {
    e.summary()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_precision_across_scales() {
        assert_eq!(num(0.3125), "0.312");
        assert_eq!(num(0.0), "0.000");
        assert_eq!(num(0.0004), "4.000e-4");
        assert_eq!(num(f64::NAN), "n/a");
        assert_eq!(short(0.6), "0.6");
        assert_eq!(short(-0.0), "0");
        assert_eq!(pct(0.2345), "23.4%");
        assert_eq!(level(0.995), "99.5%");
        assert_eq!(flop(1.62e21), "1.62e21 FLOP");
    }

    #[test]
    fn estimates_always_carry_interval_n_method_and_level() {
        let e = Estimate {
            value: 0.31,
            lower: 0.25,
            upper: 0.38,
            n: 200,
            method: "Wilson".into(),
            confidence: 0.95,
        };
        assert_eq!(
            estimate(&e),
            "0.310 [0.250, 0.380] (n = 200, Wilson, 95% CI)"
        );
    }

    #[test]
    fn capable_side_follows_direction() {
        let e = Estimate {
            value: 5.0,
            lower: 4.0,
            upper: 6.0,
            n: 9,
            method: "t".into(),
            confidence: 0.9,
        };
        assert_eq!(capable_bound(&e, Direction::Higher), 6.0);
        assert_eq!(capable_bound(&e, Direction::Lower), 4.0);
        assert_eq!(headroom(4.0, 3.0, Direction::Lower), 1.0);
        assert_eq!(headroom(6.0, 7.0, Direction::Higher), 1.0);
    }
}
