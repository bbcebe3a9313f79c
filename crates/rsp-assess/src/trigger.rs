//! Triggers: is an assessment due, why, and when is the next one due.
//!
//! The baseline is the last *comprehensive* assessment, as in Anthropic's
//! RSP: a preliminary look at a checkpoint does not reset the compute or
//! calendar clock, otherwise a lab could keep the clock young with cheap
//! partial checks. Triggers the policy sets but the inputs cannot decide
//! (compute unknown, post-training days untracked) are listed in
//! [`TriggerCheck::not_evaluated`] rather than silently passed.

use chrono::{Days, NaiveDate};
use rsp_policy::Triggers;

use crate::types::{ModelFacts, NextAssessment, PriorAssessment, TriggerCheck, TriggerReason};

/// The most recent assessment in `priors` (by date; later in the slice on ties).
fn latest<'a>(priors: impl Iterator<Item = &'a PriorAssessment>) -> Option<&'a PriorAssessment> {
    priors.fold(None, |best: Option<&PriorAssessment>, p| match best {
        Some(b) if b.date > p.date => Some(b),
        _ => Some(p),
    })
}

/// When the next assessment falls due after a comprehensive assessment of
/// `compute_flop` on `date` (whichever of compute and calendar comes first).
#[must_use]
pub fn next_after(
    triggers: &Triggers,
    date: NaiveDate,
    compute_flop: Option<f64>,
) -> NextAssessment {
    NextAssessment {
        at_flop: triggers
            .compute_ratio
            .zip(compute_flop)
            .map(|(ratio, flop)| flop * ratio),
        by_date: triggers
            .max_interval_days
            .and_then(|d| date.checked_add_days(Days::new(u64::from(d)))),
    }
}

/// Whether an assessment of `model` is due on `today`, given earlier
/// assessments and whether this one is for a deployment.
#[must_use]
pub fn check_trigger(
    triggers: &Triggers,
    model: &ModelFacts,
    priors: &[PriorAssessment],
    deployment: bool,
    today: NaiveDate,
) -> TriggerCheck {
    let last_comprehensive = latest(priors.iter().filter(|p| p.comprehensive)).cloned();
    let last_any = latest(priors.iter()).cloned();
    let mut reasons = Vec::new();
    let mut not_evaluated = Vec::new();

    match &last_comprehensive {
        None => reasons.push(TriggerReason::NoPriorAssessment),
        Some(last) => {
            if let Some(policy_ratio) = triggers.compute_ratio {
                match (last.compute_flop, model.effective_compute_flop) {
                    (Some(from), Some(to)) if from > 0.0 => {
                        let ratio = to / from;
                        if ratio >= policy_ratio {
                            reasons.push(TriggerReason::ComputeGrowth {
                                since: last.id.clone(),
                                from_flop: from,
                                to_flop: to,
                                ratio,
                                policy_ratio,
                            });
                        }
                    }
                    _ => not_evaluated.push(format!(
                        "compute ratio {policy_ratio}×: the effective compute of the model or of assessment {} is unknown",
                        last.id
                    )),
                }
            }
            if let Some(max_days) = triggers.max_interval_days {
                let days = (today - last.date).num_days();
                if days >= i64::from(max_days) {
                    reasons.push(TriggerReason::IntervalElapsed {
                        since: last.id.clone(),
                        last: last.date,
                        days,
                        max_days,
                    });
                }
            }
        }
    }
    if let Some(max_days) = triggers.post_training_days {
        match model.post_training_days {
            Some(days) if days >= max_days => {
                reasons.push(TriggerReason::PostTraining { days, max_days });
            }
            Some(_) => {}
            None => not_evaluated.push(format!(
                "post-training {max_days} days: the model's post-training days are not recorded"
            )),
        }
    }
    if deployment && triggers.on_deployment {
        reasons.push(TriggerReason::Deployment);
    }
    let next = last_comprehensive.as_ref().map_or(
        // Never assessed: due now.
        NextAssessment {
            at_flop: None,
            by_date: Some(today),
        },
        |last| next_after(triggers, last.date, last.compute_flop),
    );
    TriggerCheck {
        due: !reasons.is_empty(),
        reasons,
        last_comprehensive,
        last_any,
        next,
        not_evaluated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triggers() -> Triggers {
        Triggers {
            compute_ratio: Some(4.0),
            max_interval_days: Some(180),
            post_training_days: None,
            on_deployment: true,
        }
    }

    fn model(flop: Option<f64>) -> ModelFacts {
        ModelFacts {
            name: "m".into(),
            spec: "embedded".into(),
            effective_compute_flop: flop,
            parameters: None,
            training_tokens: None,
            date: None,
            parent: None,
            post_training_days: None,
        }
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn prior(id: &str, date: &str, flop: f64, comprehensive: bool) -> PriorAssessment {
        PriorAssessment {
            id: id.into(),
            date: day(date),
            compute_flop: Some(flop),
            comprehensive,
        }
    }

    #[test]
    fn no_prior_assessment_is_due_now() {
        let c = check_trigger(
            &triggers(),
            &model(Some(1e21)),
            &[],
            false,
            day("2026-12-01"),
        );
        assert!(c.due);
        assert_eq!(c.reasons, vec![TriggerReason::NoPriorAssessment]);
        assert_eq!(c.next.by_date, Some(day("2026-12-01")));
    }

    #[test]
    fn compute_growth_at_exactly_the_ratio_triggers() {
        let priors = [prior("a1", "2026-11-01", 1e21, true)];
        let at = check_trigger(
            &triggers(),
            &model(Some(4e21)),
            &priors,
            false,
            day("2026-11-10"),
        );
        assert!(at.due);
        assert!(matches!(
            at.reasons[0],
            TriggerReason::ComputeGrowth { ratio, .. } if (ratio - 4.0).abs() < 1e-12
        ));
        let below = check_trigger(
            &triggers(),
            &model(Some(3.9e21)),
            &priors,
            false,
            day("2026-11-10"),
        );
        assert!(!below.due, "{:?}", below.reasons);
        assert_eq!(below.next.at_flop, Some(4e21));
        assert_eq!(below.next.by_date, Some(day("2027-04-30")));
    }

    #[test]
    fn preliminary_assessments_do_not_reset_the_baseline() {
        let priors = [
            prior("a1", "2026-01-01", 1e21, true),
            prior("p2", "2026-06-01", 3.5e21, false),
        ];
        let c = check_trigger(
            &triggers(),
            &model(Some(4.5e21)),
            &priors,
            false,
            day("2026-06-02"),
        );
        assert_eq!(c.last_comprehensive.unwrap().id, "a1");
        assert_eq!(c.last_any.unwrap().id, "p2");
        assert!(
            matches!(c.reasons[0], TriggerReason::ComputeGrowth { ref since, .. } if since == "a1")
        );
    }

    #[test]
    fn interval_triggers_on_the_day_it_elapses() {
        let priors = [prior("a1", "2026-01-01", 1e21, true)];
        let before = check_trigger(
            &triggers(),
            &model(Some(1e21)),
            &priors,
            false,
            day("2026-06-29"),
        );
        assert!(!before.due);
        let on = check_trigger(
            &triggers(),
            &model(Some(1e21)),
            &priors,
            false,
            day("2026-06-30"),
        );
        assert_eq!(
            on.reasons,
            vec![TriggerReason::IntervalElapsed {
                since: "a1".into(),
                last: day("2026-01-01"),
                days: 180,
                max_days: 180
            }]
        );
    }

    #[test]
    fn deployment_triggers_only_when_the_policy_says_so() {
        let priors = [prior("a1", "2026-11-01", 1e21, true)];
        let m = model(Some(1e21));
        let c = check_trigger(&triggers(), &m, &priors, true, day("2026-11-02"));
        assert_eq!(c.reasons, vec![TriggerReason::Deployment]);
        let mut t = triggers();
        t.on_deployment = false;
        assert!(!check_trigger(&t, &m, &priors, true, day("2026-11-02")).due);
    }

    #[test]
    fn unknown_compute_and_post_training_are_reported_not_passed() {
        let priors = [prior("a1", "2026-11-01", 1e21, true)];
        let mut t = triggers();
        t.post_training_days = Some(90);
        let c = check_trigger(&t, &model(None), &priors, false, day("2026-11-02"));
        assert!(!c.due);
        assert_eq!(c.not_evaluated.len(), 2, "{:?}", c.not_evaluated);
        let mut m = model(Some(1e21));
        m.post_training_days = Some(90);
        let c = check_trigger(&t, &m, &priors, false, day("2026-11-02"));
        assert_eq!(
            c.reasons,
            vec![TriggerReason::PostTraining {
                days: 90,
                max_days: 90
            }]
        );
    }
}
