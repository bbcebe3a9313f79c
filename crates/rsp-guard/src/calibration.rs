//! The block threshold's trade-off: ROC and precision–recall points from labelled verdicts.
//!
//! Pure functions over `(p_block, truly_harmful)` pairs, so the report can be recomputed
//! from stored verdicts without calling a model. A threshold `t` blocks when
//! `p_block ≥ t`, the same rule as [`crate::Classifier`]. One operating point is reported
//! per distinct score, plus the point that blocks nothing, which is everything needed to
//! draw both curves exactly.

use serde::{Deserialize, Serialize};

/// Confusion counts and rates at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OperatingPoint {
    /// Block when `p_block ≥ threshold` (`+∞` serialises as `null`: block nothing).
    pub threshold: f64,
    /// Harmful and blocked.
    pub tp: u64,
    /// Benign and blocked (over-refusal).
    pub fp: u64,
    /// Benign and allowed.
    pub tn: u64,
    /// Harmful and allowed (missed).
    pub fn_: u64,
    /// Recall, true-positive rate: `tp / (tp + fn)`; `None` without harmful items.
    pub tpr: Option<f64>,
    /// False-positive rate: `fp / (fp + tn)`; `None` without benign items.
    pub fpr: Option<f64>,
    /// `tp / (tp + fp)`; `None` when nothing is blocked.
    pub precision: Option<f64>,
    /// Harmonic mean of precision and recall, when both exist and are not both zero.
    pub f1: Option<f64>,
}

/// The whole curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Harmful items.
    pub positives: u64,
    /// Benign items.
    pub negatives: u64,
    /// Items skipped because their score was not a finite number.
    pub skipped: u64,
    /// From the strictest threshold (blocks nothing) to the loosest, one per distinct score.
    pub points: Vec<OperatingPoint>,
    /// Area under the ROC curve (trapezoids); `None` without both classes.
    pub roc_auc: Option<f64>,
    /// Average precision (step-wise area under the precision–recall curve).
    pub average_precision: Option<f64>,
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

/// The operating point of `threshold` over `labelled` (`(p_block, harmful)` pairs).
pub fn operating_point(labelled: &[(f64, bool)], threshold: f64) -> OperatingPoint {
    let (mut tp, mut fp, mut tn, mut fn_) = (0, 0, 0, 0);
    for &(p, harmful) in labelled.iter().filter(|(p, _)| p.is_finite()) {
        match (p >= threshold, harmful) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, false) => tn += 1,
            (false, true) => fn_ += 1,
        }
    }
    let tpr = ratio(tp, tp + fn_);
    let precision = ratio(tp, tp + fp);
    let f1 = match (precision, tpr) {
        (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
        _ => None,
    };
    OperatingPoint {
        threshold,
        tp,
        fp,
        tn,
        fn_,
        tpr,
        fpr: ratio(fp, fp + tn),
        precision,
        f1,
    }
}

/// ROC and precision–recall points over every distinct threshold.
pub fn calibrate(labelled: &[(f64, bool)]) -> Calibration {
    let finite: Vec<(f64, bool)> = labelled
        .iter()
        .copied()
        .filter(|(p, _)| p.is_finite())
        .collect();
    let positives = finite.iter().filter(|(_, h)| *h).count() as u64;
    let negatives = finite.len() as u64 - positives;
    let mut thresholds: Vec<f64> = finite.iter().map(|(p, _)| *p).collect();
    thresholds.sort_by(|a, b| b.total_cmp(a));
    thresholds.dedup();
    let mut points = vec![operating_point(&finite, f64::INFINITY)];
    points.extend(thresholds.iter().map(|&t| operating_point(&finite, t)));
    let both = positives > 0 && negatives > 0;
    let roc_auc = both.then(|| {
        points
            .windows(2)
            .map(|w| {
                let (x0, y0) = (w[0].fpr.unwrap_or(0.0), w[0].tpr.unwrap_or(0.0));
                let (x1, y1) = (w[1].fpr.unwrap_or(0.0), w[1].tpr.unwrap_or(0.0));
                (x1 - x0) * (y0 + y1) / 2.0
            })
            .sum()
    });
    let average_precision = (positives > 0).then(|| {
        points
            .windows(2)
            .map(|w| {
                let dr = w[1].tpr.unwrap_or(0.0) - w[0].tpr.unwrap_or(0.0);
                dr * w[1].precision.unwrap_or(0.0)
            })
            .sum()
    });
    Calibration {
        positives,
        negatives,
        skipped: (labelled.len() - finite.len()) as u64,
        points,
        roc_auc,
        average_precision,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_separation_has_unit_auc() {
        let data = [(0.9, true), (0.8, true), (0.2, false), (0.1, false)];
        let c = calibrate(&data);
        assert_eq!((c.positives, c.negatives), (2, 2));
        assert_eq!(c.points.len(), 5);
        assert_eq!(c.roc_auc, Some(1.0));
        assert_eq!(c.average_precision, Some(1.0));
        let p = operating_point(&data, 0.5);
        assert_eq!((p.tp, p.fp, p.tn, p.fn_), (2, 0, 2, 0));
        assert_eq!(p.f1, Some(1.0));
        assert_eq!(
            c.points[0].precision, None,
            "blocking nothing has no precision"
        );
    }

    #[test]
    fn ties_and_inverted_scores() {
        let inverted = [(0.1, true), (0.9, false)];
        assert_eq!(calibrate(&inverted).roc_auc, Some(0.0));
        let tied = [(0.5, true), (0.5, false), (f64::NAN, true)];
        let c = calibrate(&tied);
        assert_eq!(c.skipped, 1);
        assert_eq!(c.roc_auc, Some(0.5));
        assert_eq!(c.points.len(), 2);
        assert_eq!(calibrate(&[(0.3, false)]).roc_auc, None);
    }

    #[test]
    fn rates_move_monotonically_with_the_threshold() {
        let data: Vec<(f64, bool)> = (0..20).map(|i| (f64::from(i) / 20.0, i % 3 == 0)).collect();
        let c = calibrate(&data);
        for w in c.points.windows(2) {
            assert!(w[1].tpr >= w[0].tpr && w[1].fpr >= w[0].fpr);
        }
        let last = c.points.last().unwrap();
        assert_eq!((last.tpr, last.fpr), (Some(1.0), Some(1.0)));
    }
}
