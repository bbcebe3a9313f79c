//! Semantic diff between two policy versions, flagging every weakening.
//!
//! The diff compares meaning, not text: items are matched by id (evidence
//! rules by suite and metric), and each change is judged against a fixed
//! list of what makes a policy weaker. That list lives here and nowhere
//! else, so the CLI, CI gates and the dashboard agree on it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{Value, json};

use crate::model::{
    Action, ActionWhen, Combine, CrossedWhen, DecisionKind, Direction, DomainStatus, EvidenceRule,
    Policy, Role, Safeguard, SafeguardEvidence, Threshold, UnderUncertainty,
};

/// What happened to an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    /// New in the second version.
    Added,
    /// Gone from the second version.
    Removed,
    /// Present in both, with a different value.
    Changed,
}

/// One semantic change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// Added, removed or changed.
    pub kind: ChangeKind,
    /// Which part of the policy: `threshold`, `evidence`, `safeguard`, ...
    pub area: &'static str,
    /// Which item, for example `KNOW-1` or `KNOW-1 · knowledge-proxy/accuracy`.
    pub item: String,
    /// The field that changed, for `changed`.
    pub field: Option<String>,
    /// Old value.
    pub old: Option<Value>,
    /// New value.
    pub new: Option<Value>,
    /// Why the change weakens the policy, when it does.
    pub weakens: Option<String>,
}

/// The whole diff.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PolicyDiff {
    /// Old version string.
    pub old_version: String,
    /// New version string.
    pub new_version: String,
    /// All changes, in policy order.
    pub changes: Vec<Change>,
}

impl PolicyDiff {
    /// True when at least one change weakens the policy.
    #[must_use]
    pub fn weakens(&self) -> bool {
        self.changes.iter().any(|c| c.weakens.is_some())
    }

    /// The number of weakening changes.
    #[must_use]
    pub fn weakening_count(&self) -> usize {
        self.changes.iter().filter(|c| c.weakens.is_some()).count()
    }

    /// Human-readable rendering, one line per change.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "policy diff: {} → {}",
            self.old_version, self.new_version
        );
        if self.changes.is_empty() {
            out.push_str("no semantic changes\n");
            return out;
        }
        for c in &self.changes {
            let sign = match c.kind {
                ChangeKind::Added => '+',
                ChangeKind::Removed => '-',
                ChangeKind::Changed => '~',
            };
            let _ = write!(out, "{sign} {} {}", c.area, c.item);
            if let Some(f) = &c.field {
                let _ = write!(
                    out,
                    ": {f} {} → {}",
                    show(c.old.as_ref()),
                    show(c.new.as_ref())
                );
            }
            out.push('\n');
            if let Some(w) = &c.weakens {
                let _ = writeln!(out, "    WEAKENS: {w}");
            }
        }
        let n = self.weakening_count();
        let _ = writeln!(
            out,
            "{} change(s), {n} weaken{} the policy",
            self.changes.len(),
            if n == 1 { "s" } else { "" }
        );
        out
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(unset)".into(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    }
}

/// Compare two policies.
#[must_use]
pub fn diff(old: &Policy, new: &Policy) -> PolicyDiff {
    let mut d = Differ { out: Vec::new() };
    d.metadata(old, new);
    d.defaults(old, new);
    d.triggers(old, new);
    d.roles(old, new);
    d.domains(old, new);
    d.standards(old, new);
    d.thresholds(old, new);
    d.actions(old, new);
    d.suites(old, new);
    PolicyDiff {
        old_version: old.policy.version.clone(),
        new_version: new.policy.version.clone(),
        changes: d.out,
    }
}

struct Differ {
    out: Vec<Change>,
}

impl Differ {
    fn push(&mut self, kind: ChangeKind, area: &'static str, item: &str, weakens: Option<String>) {
        self.out.push(Change {
            kind,
            area,
            item: item.to_owned(),
            field: None,
            old: None,
            new: None,
            weakens,
        });
    }

    fn field<T: Serialize + PartialEq>(
        &mut self,
        area: &'static str,
        item: &str,
        field: &str,
        old: &T,
        new: &T,
        weakens: Option<String>,
    ) {
        if old != new {
            self.out.push(Change {
                kind: ChangeKind::Changed,
                area,
                item: item.to_owned(),
                field: Some(field.to_owned()),
                old: Some(json!(old)),
                new: Some(json!(new)),
                weakens,
            });
        }
    }

    /// Items present on one side only; returns the pairs in both.
    fn match_items<'a, T>(
        &mut self,
        area: &'static str,
        old: &'a [T],
        new: &'a [T],
        id: impl Fn(&T) -> String,
        removal_weakens: impl Fn(&T) -> Option<String>,
    ) -> Vec<(&'a T, &'a T)> {
        let o: BTreeMap<String, &T> = old.iter().map(|x| (id(x), x)).collect();
        let n: BTreeMap<String, &T> = new.iter().map(|x| (id(x), x)).collect();
        let mut both = Vec::new();
        for x in old {
            let k = id(x);
            match n.get(&k) {
                Some(y) => both.push((x, *y)),
                None => self.push(ChangeKind::Removed, area, &k, removal_weakens(x)),
            }
        }
        for y in new {
            let k = id(y);
            if !o.contains_key(&k) {
                self.push(ChangeKind::Added, area, &k, None);
            }
        }
        both
    }

    fn metadata(&mut self, o: &Policy, n: &Policy) {
        let (a, b) = (&o.policy, &n.policy);
        self.field("policy", "metadata", "name", &a.name, &b.name, None);
        self.field(
            "policy", "metadata", "version", &a.version, &b.version, None,
        );
        self.field(
            "policy",
            "metadata",
            "effective",
            &a.effective.to_string(),
            &b.effective.to_string(),
            None,
        );
        self.field(
            "policy",
            "metadata",
            "proposer",
            &a.proposer,
            &b.proposer,
            None,
        );
        let dropped: Vec<&String> = a
            .approvers
            .iter()
            .filter(|x| !b.approvers.contains(x))
            .collect();
        let w = (!dropped.is_empty()).then(|| format!("approver(s) dropped: {}", join(&dropped)));
        self.field(
            "policy",
            "metadata",
            "approvers",
            &a.approvers,
            &b.approvers,
            w,
        );
        let dropped: Vec<&String> = a
            .consulted
            .iter()
            .filter(|x| !b.consulted.contains(x))
            .collect();
        let w = (!dropped.is_empty()).then(|| format!("no longer consulted: {}", join(&dropped)));
        self.field(
            "policy",
            "metadata",
            "consulted",
            &a.consulted,
            &b.consulted,
            w,
        );
        let w = looser_days(a.review_interval_days, b.review_interval_days)
            .then(|| "the policy is reviewed less often".to_owned());
        self.field(
            "policy",
            "metadata",
            "review_interval_days",
            &a.review_interval_days,
            &b.review_interval_days,
            w,
        );
    }

    fn defaults(&mut self, o: &Policy, n: &Policy) {
        let (a, b) = (&o.defaults, &n.defaults);
        let w = (b.confidence < a.confidence).then(|| "lower default confidence level".to_owned());
        self.field(
            "defaults",
            "defaults",
            "confidence",
            &a.confidence,
            &b.confidence,
            w,
        );
        let w = (a.under_uncertainty == UnderUncertainty::TreatAsCrossed
            && b.under_uncertainty != UnderUncertainty::TreatAsCrossed)
            .then(|| {
                "a threshold that cannot be ruled out is no longer treated as crossed".to_owned()
            });
        self.field(
            "defaults",
            "defaults",
            "under_uncertainty",
            &a.under_uncertainty,
            &b.under_uncertainty,
            w,
        );
        let w = (a.crossed_when == CrossedWhen::Estimate
            && b.crossed_when == CrossedWhen::LowerBound)
            .then(|| {
                "crossing now needs the lower bound, not the estimate, to reach the line".to_owned()
            });
        self.field(
            "defaults",
            "defaults",
            "crossed_when",
            &a.crossed_when,
            &b.crossed_when,
            w,
        );
        let w = (a.combine == Combine::Worst && b.combine == Combine::Best)
            .then(|| "thresholds now fire only when every rule fires".to_owned());
        self.field("defaults", "defaults", "combine", &a.combine, &b.combine, w);
    }

    fn triggers(&mut self, o: &Policy, n: &Policy) {
        let (a, b) = (&o.triggers, &n.triggers);
        let w = match (a.compute_ratio, b.compute_ratio) {
            (Some(x), Some(y)) if y > x => Some(format!(
                "assessment now waits for {y}× compute growth instead of {x}×"
            )),
            (Some(_), None) => Some("the compute-growth trigger was removed".to_owned()),
            _ => None,
        };
        self.field(
            "trigger",
            "triggers",
            "compute_ratio",
            &a.compute_ratio,
            &b.compute_ratio,
            w,
        );
        let w = looser_days(a.max_interval_days, b.max_interval_days)
            .then(|| "longer maximum interval between assessments".to_owned());
        self.field(
            "trigger",
            "triggers",
            "max_interval_days",
            &a.max_interval_days,
            &b.max_interval_days,
            w,
        );
        let w = looser_days(a.post_training_days, b.post_training_days)
            .then(|| "more post-training allowed before reassessment".to_owned());
        self.field(
            "trigger",
            "triggers",
            "post_training_days",
            &a.post_training_days,
            &b.post_training_days,
            w,
        );
        let w = (a.on_deployment && !b.on_deployment)
            .then(|| "deployments no longer trigger an assessment".to_owned());
        self.field(
            "trigger",
            "triggers",
            "on_deployment",
            &a.on_deployment,
            &b.on_deployment,
            w,
        );
    }

    fn roles(&mut self, o: &Policy, n: &Policy) {
        let both = self.match_items(
            "role",
            &o.roles,
            &n.roles,
            |r| r.id.clone(),
            |r: &Role| {
                (!r.signs.is_empty())
                    .then(|| format!("a required signer was dropped (signed {})", join(&r.signs)))
            },
        );
        for (a, b) in both {
            self.field("role", &a.id, "name", &a.name, &b.name, None);
            let lost: Vec<&DecisionKind> =
                a.signs.iter().filter(|k| !b.signs.contains(k)).collect();
            let w =
                (!lost.is_empty()).then(|| format!("`{}` no longer signs {}", a.id, join(&lost)));
            self.field(
                "role",
                &a.id,
                "signs",
                &sorted(&a.signs),
                &sorted(&b.signs),
                w,
            );
            let lost: Vec<&DecisionKind> = a
                .informed
                .iter()
                .filter(|k| !b.informed.contains(k))
                .collect();
            let w = (!lost.is_empty())
                .then(|| format!("`{}` is no longer informed of {}", a.id, join(&lost)));
            self.field(
                "role",
                &a.id,
                "informed",
                &sorted(&a.informed),
                &sorted(&b.informed),
                w,
            );
        }
    }

    fn domains(&mut self, o: &Policy, n: &Policy) {
        let both = self.match_items(
            "domain",
            &o.domains,
            &n.domains,
            |d| d.id.clone(),
            |d| {
                (d.status == DomainStatus::Tracked)
                    .then(|| "a tracked domain was removed".to_owned())
            },
        );
        for (a, b) in both {
            self.field("domain", &a.id, "name", &a.name, &b.name, None);
            let w = (b.status > a.status)
                .then(|| format!("domain demoted from {} to {}", a.status, b.status));
            self.field("domain", &a.id, "status", &a.status, &b.status, w);
        }
    }

    fn standards(&mut self, o: &Policy, n: &Policy) {
        let both = self.match_items(
            "standard",
            &o.standards,
            &n.standards,
            |s| s.id.clone(),
            |_| Some("a safeguard standard was removed".to_owned()),
        );
        for (a, b) in both {
            let old_set = closure_ids(o, &a.id);
            let new_set = closure_ids(n, &b.id);
            let lost: Vec<&String> = old_set.difference(&new_set).collect();
            let w = (!lost.is_empty())
                .then(|| format!("standard `{}` no longer requires {}", a.id, join(&lost)));
            self.field(
                "standard",
                &a.id,
                "includes",
                &a.includes,
                &b.includes,
                w.clone().filter(|_| a.includes != b.includes),
            );
            self.field("standard", &a.id, "name", &a.name, &b.name, None);
            let lost: Vec<&String> = a
                .threat_actors_in_scope
                .iter()
                .filter(|x| !b.threat_actors_in_scope.contains(x))
                .collect();
            let w = (!lost.is_empty())
                .then(|| format!("threat actors no longer in scope: {}", join(&lost)));
            self.field(
                "standard",
                &a.id,
                "threat_actors_in_scope",
                &a.threat_actors_in_scope,
                &b.threat_actors_in_scope,
                w,
            );
            let added: Vec<&String> = b
                .threat_actors_out_of_scope
                .iter()
                .filter(|x| !a.threat_actors_out_of_scope.contains(x))
                .collect();
            let w = (!added.is_empty())
                .then(|| format!("threat actors newly out of scope: {}", join(&added)));
            self.field(
                "standard",
                &a.id,
                "threat_actors_out_of_scope",
                &a.threat_actors_out_of_scope,
                &b.threat_actors_out_of_scope,
                w,
            );
            let sb = self.match_items(
                "safeguard",
                &a.safeguards,
                &b.safeguards,
                |g| format!("{} · {}", a.id, g.id),
                |g| Some(format!("safeguard `{}` removed from `{}`", g.id, a.id)),
            );
            for (x, y) in sb {
                self.safeguard(&format!("{} · {}", a.id, x.id), x, y, o, n);
            }
        }
    }

    fn safeguard(&mut self, item: &str, a: &Safeguard, b: &Safeguard, o: &Policy, n: &Policy) {
        self.field("safeguard", item, "kind", &a.kind, &b.kind, None);
        self.field(
            "safeguard",
            item,
            "description",
            &a.description,
            &b.description,
            None,
        );
        let w = match (&a.evidence, &b.evidence) {
            (SafeguardEvidence::Metric { .. }, SafeguardEvidence::Attestation { .. }) => {
                Some("a measured bound was replaced by an attestation".to_owned())
            }
            (
                SafeguardEvidence::Metric {
                    max: amax,
                    min: amin,
                    confidence: ac,
                    suite: asuite,
                    metric: am,
                    ..
                },
                SafeguardEvidence::Metric {
                    max: bmax,
                    min: bmin,
                    confidence: bc,
                    suite: bsuite,
                    metric: bm,
                    ..
                },
            ) => {
                let mut why = Vec::new();
                match (amax, bmax) {
                    (Some(x), Some(y)) if y > x => {
                        why.push(format!("max loosened from {x} to {y}"));
                    }
                    (Some(_), None) => why.push("max bound removed".to_owned()),
                    _ => {}
                }
                match (amin, bmin) {
                    (Some(x), Some(y)) if y < x => {
                        why.push(format!("min loosened from {x} to {y}"));
                    }
                    (Some(_), None) => why.push("min bound removed".to_owned()),
                    _ => {}
                }
                let ca = ac.unwrap_or(o.defaults.confidence);
                let cb = bc.unwrap_or(n.defaults.confidence);
                if cb < ca {
                    why.push(format!("confidence lowered from {ca} to {cb}"));
                }
                if asuite != bsuite || am != bm {
                    why.push("measured by a different suite or metric".to_owned());
                }
                (!why.is_empty()).then(|| why.join("; "))
            }
            (
                SafeguardEvidence::Attestation { by: x, .. },
                SafeguardEvidence::Attestation { by: y, .. },
            ) if x != y => Some(format!("attested by `{y}` instead of `{x}`")),
            _ => None,
        };
        let w = match w {
            Some(w) => Some(w),
            None if b.evidence.valid_days() > a.evidence.valid_days() => Some(format!(
                "evidence now stays valid {} days instead of {}",
                b.evidence.valid_days(),
                a.evidence.valid_days()
            )),
            None => None,
        };
        self.field("safeguard", item, "evidence", &a.evidence, &b.evidence, w);
    }

    fn thresholds(&mut self, o: &Policy, n: &Policy) {
        let both = self.match_items(
            "threshold",
            &o.thresholds,
            &n.thresholds,
            |t| t.id.clone(),
            |_| Some("a capability threshold was removed".to_owned()),
        );
        for (a, b) in both {
            self.threshold(a, b, o, n);
        }
    }

    fn threshold(&mut self, a: &Threshold, b: &Threshold, o: &Policy, n: &Policy) {
        let id = a.id.as_str();
        self.field("threshold", id, "domain", &a.domain, &b.domain, None);
        self.field(
            "threshold",
            id,
            "description",
            &a.description,
            &b.description,
            None,
        );
        self.field("threshold", id, "actor", &a.actor, &b.actor, None);
        self.field("threshold", id, "baseline", &a.baseline, &b.baseline, None);
        let old_set = closure_ids(o, &a.requires);
        let new_set = closure_ids(n, &b.requires);
        let lost: Vec<&String> = old_set.difference(&new_set).collect();
        let w = (!lost.is_empty())
            .then(|| format!("crossing `{id}` no longer requires {}", join(&lost)));
        self.field("threshold", id, "requires", &a.requires, &b.requires, w);
        let ca = a.combine.unwrap_or(o.defaults.combine);
        let cb = b.combine.unwrap_or(n.defaults.combine);
        let w = (ca == Combine::Worst && cb == Combine::Best)
            .then(|| "the threshold now fires only when every rule fires".to_owned());
        self.field("threshold", id, "combine", &a.combine, &b.combine, w);
        let key = |r: &EvidenceRule| format!("{id} · {} · {}", r.suite, r.metric);
        let pairs = self.match_items("evidence", &a.evidence, &b.evidence, key, |_| {
            Some("an evidence rule was removed".to_owned())
        });
        for (x, y) in pairs {
            self.rule(&key(x), x, y, o, n);
        }
    }

    fn rule(&mut self, item: &str, a: &EvidenceRule, b: &EvidenceRule, o: &Policy, n: &Policy) {
        let permissive = |x: f64, y: f64| match a.direction {
            Direction::Higher => y > x,
            Direction::Lower => y < x,
        };
        let w =
            (a.direction != b.direction).then(|| "the metric's direction was flipped".to_owned());
        self.field("evidence", item, "direction", &a.direction, &b.direction, w);
        let w =
            permissive(a.line, b.line).then(|| "line moved in the permissive direction".to_owned());
        self.field("evidence", item, "line", &a.line, &b.line, w);
        let w = permissive(a.alert, b.alert)
            .then(|| "alert line moved in the permissive direction".to_owned());
        self.field("evidence", item, "alert", &a.alert, &b.alert, w);
        let (ca, cb) = (o.confidence_of(a), n.confidence_of(b));
        let w = (cb < ca).then(|| format!("confidence lowered from {ca} to {cb}"));
        self.field("evidence", item, "confidence", &ca, &cb, w);
        let w = (!b.elicitation.covers(&a.elicitation)).then(|| {
            format!(
                "less elicitation required: {} instead of {}",
                b.elicitation.summary(),
                a.elicitation.summary()
            )
        });
        self.field(
            "evidence",
            item,
            "elicitation",
            &a.elicitation,
            &b.elicitation,
            w,
        );
        let w = (b.elicitation_margin < a.elicitation_margin)
            .then(|| "smaller elicitation margin".to_owned());
        self.field(
            "evidence",
            item,
            "elicitation_margin",
            &a.elicitation_margin,
            &b.elicitation_margin,
            w,
        );
        let xa = a.crossed_when.unwrap_or(o.defaults.crossed_when);
        let xb = b.crossed_when.unwrap_or(n.defaults.crossed_when);
        let w = (xa == CrossedWhen::Estimate && xb == CrossedWhen::LowerBound)
            .then(|| "crossing now needs the lower bound to reach the line".to_owned());
        self.field("evidence", item, "crossed_when", &xa, &xb, w);
        let ua = a.under_uncertainty.unwrap_or(o.defaults.under_uncertainty);
        let ub = b.under_uncertainty.unwrap_or(n.defaults.under_uncertainty);
        let w = (ua == UnderUncertainty::TreatAsCrossed && ub != UnderUncertainty::TreatAsCrossed)
            .then(|| "cannot-rule-out is no longer treated as crossed".to_owned());
        self.field("evidence", item, "under_uncertainty", &ua, &ub, w);
        let w = match (a.min_samples, b.min_samples) {
            (Some(x), Some(y)) if y < x => {
                Some(format!("fewer samples required ({y} instead of {x})"))
            }
            (Some(_), None) => Some("the minimum sample size was removed".to_owned()),
            _ => None,
        };
        self.field(
            "evidence",
            item,
            "min_samples",
            &a.min_samples,
            &b.min_samples,
            w,
        );
    }

    fn actions(&mut self, o: &Policy, n: &Policy) {
        let both = self.match_items(
            "action",
            &o.actions,
            &n.actions,
            |a| a.id.clone(),
            |a: &Action| Some(format!("action `{}` was removed", a.id)),
        );
        for (a, b) in both {
            let id = a.id.as_str();
            let w = (a.when != b.when && b.when != ActionWhen::Alert)
                .then(|| "the action now fires in a different, not earlier, situation".to_owned());
            self.field("action", id, "when", &a.when, &b.when, w);
            let w = (a.block_deployment && !b.block_deployment)
                .then(|| "deployment is no longer blocked".to_owned());
            self.field(
                "action",
                id,
                "block_deployment",
                &a.block_deployment,
                &b.block_deployment,
                w,
            );
            let w = (a.cap_training_compute && !b.cap_training_compute)
                .then(|| "training compute is no longer capped".to_owned());
            self.field(
                "action",
                id,
                "cap_training_compute",
                &a.cap_training_compute,
                &b.cap_training_compute,
                w,
            );
            let lost: Vec<&String> = a.notify.iter().filter(|r| !b.notify.contains(r)).collect();
            let w = (!lost.is_empty()).then(|| format!("no longer notifies {}", join(&lost)));
            self.field("action", id, "notify", &a.notify, &b.notify, w);
            self.field(
                "action",
                id,
                "description",
                &a.description,
                &b.description,
                None,
            );
        }
    }

    fn suites(&mut self, o: &Policy, n: &Policy) {
        let both = self.match_items("suite", &o.suites, &n.suites, |s| s.id.clone(), |_| None);
        for (a, b) in both {
            self.field(
                "suite",
                &a.id,
                "description",
                &a.description,
                &b.description,
                None,
            );
            self.field(
                "suite",
                &a.id,
                "placeholder",
                &a.placeholder,
                &b.placeholder,
                None,
            );
        }
    }
}

fn looser_days(a: Option<u32>, b: Option<u32>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => y > x,
        (Some(_), None) => true,
        _ => false,
    }
}

fn closure_ids(p: &Policy, standard: &str) -> BTreeSet<String> {
    p.standard_closure(standard)
        .iter()
        .flat_map(|s| s.safeguards.iter().map(|g| g.id.clone()))
        .collect()
}

fn sorted<T: Ord + Clone>(v: &[T]) -> Vec<T> {
    let mut v = v.to_vec();
    v.sort();
    v
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|x| format!("`{x}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
