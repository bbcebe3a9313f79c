//! Semantic validation: references, ranges, cycles, duplicates.
//!
//! Runs on a policy that already deserialised, and reports every problem
//! it finds with the path of the offending field, turned into a span by the
//! [`Locator`].

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Diagnostic, Severity};
use crate::model::{Direction, Policy};
use crate::parse::{self, Locator, Path};

mod standards;

/// The eval suites rsp knows about outside the policy: built-in suites and
/// the project's `suites/` folder. The caller supplies it, because only the
/// caller knows the project.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Suite ids that can be run.
    pub suites: BTreeSet<String>,
}

impl Catalog {
    /// A catalog of the given suite ids.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(suites: I) -> Self {
        Self {
            suites: suites.into_iter().map(Into::into).collect(),
        }
    }

    /// True when `suite` (or the suite part of `suite/task`) is known.
    #[must_use]
    pub fn knows(&self, suite: &str) -> bool {
        let base = suite.split('/').next().unwrap_or(suite);
        self.suites.contains(suite) || self.suites.contains(base)
    }
}

/// Everything `check` found.
#[derive(Debug)]
pub struct CheckReport {
    /// The policy, when it deserialised (it may still have errors).
    pub policy: Option<Policy>,
    /// All problems, errors and warnings, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckReport {
    /// True when there is no error (warnings are allowed).
    #[must_use]
    pub fn is_valid(&self) -> bool {
        self.policy.is_some()
            && !self
                .diagnostics
                .iter()
                .any(|d| d.severity == Severity::Error)
    }

    /// The number of errors.
    #[must_use]
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// The number of warnings.
    #[must_use]
    pub fn warnings(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }
}

/// Parse and validate policy bytes in one pass.
#[must_use]
pub fn check(bytes: &[u8], catalog: &Catalog) -> CheckReport {
    let text = match parse::decode(bytes) {
        Ok(t) => t,
        Err(d) => {
            return CheckReport {
                policy: None,
                diagnostics: vec![d],
            };
        }
    };
    if text.trim().is_empty() {
        let d = Diagnostic::error("policy::empty", "the file is empty")
            .help("run `rsp init` for an example policy, or see docs/policy.md");
        return CheckReport {
            policy: None,
            diagnostics: vec![d],
        };
    }
    let (parsed, semantic) = parse::parse_with(text, |parsed, loc| {
        parsed
            .policy
            .as_ref()
            .map(|p| validate(p, loc, catalog))
            .unwrap_or_default()
    });
    let mut diagnostics = parsed.diagnostics;
    diagnostics.extend(semantic);
    diagnostics.sort_by_key(|d| d.span.as_ref().map_or(0, |s| s.start));
    CheckReport {
        policy: parsed.policy,
        diagnostics,
    }
}

/// Validate an assembled policy.
#[must_use]
pub fn validate(p: &Policy, loc: &Locator<'_>, catalog: &Catalog) -> Vec<Diagnostic> {
    let mut v = Validator {
        p,
        loc,
        catalog,
        out: Vec::new(),
    };
    v.ids();
    v.metadata();
    v.defaults_and_triggers();
    v.standards();
    v.thresholds();
    v.actions();
    v.out
}

struct Validator<'a> {
    p: &'a Policy,
    loc: &'a Locator<'a>,
    catalog: &'a Catalog,
    out: Vec<Diagnostic>,
}

fn root() -> Path {
    Path::root()
}

/// "a, b, c", or "(none)" for an empty list, for "known ..." hints.
fn known_list<'a>(ids: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = ids.collect();
    if v.is_empty() {
        "(none)".to_owned()
    } else {
        v.join(", ")
    }
}

impl Validator<'_> {
    fn err(
        &mut self,
        code: &'static str,
        msg: String,
        path: &Path,
        label: &str,
    ) -> &mut Diagnostic {
        self.report(Diagnostic::error(code, msg), path, label)
    }

    fn warn(
        &mut self,
        code: &'static str,
        msg: String,
        path: &Path,
        label: &str,
    ) -> &mut Diagnostic {
        self.report(Diagnostic::warning(code, msg), path, label)
    }

    /// Place a diagnostic at `path` and keep it; returns it so the caller
    /// can attach help.
    fn report(&mut self, d: Diagnostic, path: &Path, label: &str) -> &mut Diagnostic {
        let i = self.out.len();
        self.out.push(d.at(self.loc.span(path)).label(label));
        &mut self.out[i]
    }

    /// A count or a number of days that, when given, must be at least 1.
    fn at_least_one(&mut self, code: &'static str, value: Option<u32>, path: &Path) {
        if value == Some(0) {
            let field = match path.0.last() {
                Some(crate::parse::Seg::Key(k)) => k.clone(),
                _ => "value".to_owned(),
            };
            self.err(code, format!("{field} must be at least 1"), path, "zero");
        }
    }

    fn role_known(&self, id: &str) -> bool {
        self.p.roles.iter().any(|r| r.id == id)
    }

    fn role_ref(&mut self, id: &str, path: &Path) {
        if !self.role_known(id) {
            let known = known_list(self.p.roles.iter().map(|x| x.id.as_str()));
            self.err(
                "policy::unknown-role",
                format!("unknown role `{id}`"),
                path,
                "no [[role]] has this id",
            )
            .help = Some(format!("known roles: {}", known));
        }
    }

    fn confidence(&mut self, c: f64, path: &Path) {
        if !(c > 0.0 && c < 1.0) {
            self.err(
                "policy::confidence-range",
                format!("confidence must be strictly between 0 and 1, found {c}"),
                path,
                "out of range",
            )
            .help = Some("write a level such as 0.95".into());
        }
    }

    fn ids(&mut self) {
        let p = self.p;
        let groups: [(&str, Vec<(Path, &str)>); 6] = [
            (
                "role",
                p.roles
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (root().key("role").idx(i).key("id"), r.id.as_str()))
                    .collect(),
            ),
            (
                "domain",
                p.domains
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (root().key("domain").idx(i).key("id"), r.id.as_str()))
                    .collect(),
            ),
            (
                "standard",
                p.standards
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (root().key("standard").idx(i).key("id"), r.id.as_str()))
                    .collect(),
            ),
            (
                "threshold",
                p.thresholds
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (root().key("threshold").idx(i).key("id"), r.id.as_str()))
                    .collect(),
            ),
            (
                "suite",
                p.suites
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (root().key("suite").idx(i).key("id"), r.id.as_str()))
                    .collect(),
            ),
            (
                "action",
                p.actions
                    .iter()
                    .enumerate()
                    .map(|(i, r)| (root().key("action").idx(i).key("id"), r.id.as_str()))
                    .collect(),
            ),
        ];
        let safeguards: Vec<(Path, &str)> = p
            .standards
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                s.safeguards.iter().enumerate().map(move |(j, g)| {
                    (
                        root()
                            .key("standard")
                            .idx(i)
                            .key("safeguard")
                            .idx(j)
                            .key("id"),
                        g.id.as_str(),
                    )
                })
            })
            .collect();
        for (kind, items) in groups
            .iter()
            .chain(std::iter::once(&("safeguard", safeguards)))
        {
            let mut seen: BTreeMap<&str, &Path> = BTreeMap::new();
            for (path, id) in items {
                if id.trim().is_empty() || id.chars().any(char::is_whitespace) {
                    self.err(
                        "policy::bad-id",
                        format!("{kind} id `{id}` is empty or contains whitespace"),
                        path,
                        "bad id",
                    )
                    .help = Some("ids are short tokens such as `CBRN-3` or `rso`".into());
                }
                if let Some(first) = seen.get(id) {
                    let first_line = self.loc.span(first).map(|s| s.start);
                    let d = self.err(
                        "policy::duplicate-id",
                        format!("duplicate {kind} id `{id}`"),
                        path,
                        "defined again here",
                    );
                    if first_line.is_some() {
                        d.help = Some(format!(
                            "each {kind} id must be unique; the first `{id}` is earlier in the file"
                        ));
                    }
                } else {
                    seen.insert(id, path);
                }
            }
        }
    }

    fn metadata(&mut self) {
        let m = &self.p.policy;
        let base = root().key("policy");
        self.role_ref(&m.proposer.clone(), &base.key("proposer"));
        if m.approvers.is_empty() {
            self.err(
                "policy::empty-list",
                "the policy names no approvers".into(),
                &base.key("approvers"),
                "empty",
            )
            .help = Some(
                "list the role ids that approve this version, e.g. [\"ceo\", \"board\"]".into(),
            );
        }
        for (i, a) in m.approvers.clone().iter().enumerate() {
            self.role_ref(a, &base.key("approvers").idx(i));
        }
        if self.p.roles.is_empty() {
            self.err(
                "policy::empty-list",
                "the policy defines no [[role]]".into(),
                &root(),
                "",
            )
            .help = Some("add roles such as `rso` and `ceo`, with the decisions each signs".into());
        } else if self
            .p
            .signers(crate::model::DecisionKind::Deploy)
            .next()
            .is_none()
        {
            self.warn(
                "policy::no-deploy-signer",
                "no role signs deploy decisions, so a deployment decision can never be final"
                    .into(),
                &root().key("role"),
                "no role has signs = [\"deploy\"]",
            );
        }
        if self.p.domains.is_empty() {
            self.err(
                "policy::empty-list",
                "the policy defines no [[domain]]".into(),
                &root(),
                "",
            );
        }
        if self.p.thresholds.is_empty() {
            self.err(
                "policy::empty-list",
                "the policy defines no [[threshold]]".into(),
                &root(),
                "",
            );
        }
        if let Some(last) = m.changelog.last().filter(|l| l.version != m.version) {
            self.warn(
                "policy::changelog-stale",
                format!(
                    "the last changelog entry is for version {} but the policy is version {}",
                    last.version, m.version
                ),
                &base
                    .key("changelog")
                    .idx(m.changelog.len() - 1)
                    .key("version"),
                "stale",
            );
        }
    }

    fn defaults_and_triggers(&mut self) {
        self.confidence(
            self.p.defaults.confidence,
            &root().key("defaults").key("confidence"),
        );
        let t = &self.p.triggers;
        let base = root().key("triggers");
        if let Some(r) = t.compute_ratio.filter(|r| !(r.is_finite() && *r > 1.0)) {
            self.err(
                "policy::trigger-range",
                format!("compute_ratio must be a finite number above 1, found {r}"),
                &base.key("compute_ratio"),
                "out of range",
            );
        }
        self.at_least_one(
            "policy::trigger-range",
            t.max_interval_days,
            &base.key("max_interval_days"),
        );
        self.at_least_one(
            "policy::trigger-range",
            t.post_training_days,
            &base.key("post_training_days"),
        );
        let review = root().key("policy").key("review_interval_days");
        self.at_least_one(
            "policy::trigger-range",
            self.p.policy.review_interval_days,
            &review,
        );
        if t.compute_ratio.is_none()
            && t.max_interval_days.is_none()
            && t.post_training_days.is_none()
            && !t.on_deployment
        {
            self.err(
                "policy::no-trigger",
                "no trigger is set, so no assessment would ever be due".into(),
                &base,
                "empty triggers",
            )
            .help = Some("set compute_ratio, max_interval_days or on_deployment".into());
        }
    }

    fn suite_ref(&mut self, suite: &str, path: &Path) {
        let declared = self
            .p
            .suites
            .iter()
            .find(|s| s.id == suite || suite.split('/').next() == Some(s.id.as_str()));
        match declared {
            Some(decl) if decl.placeholder => {
                self.warn(
                    "policy::placeholder-suite",
                    format!("suite `{suite}` is a placeholder: supply it before an assessment can use this rule"),
                    path,
                    "placeholder",
                )
                .help = Some(format!("{} Add it under suites/ or import its results (rsp import).", decl.description));
            }
            Some(_) => {
                if !self.catalog.knows(suite) {
                    self.warn(
                        "policy::external-suite",
                        format!("suite `{suite}` is declared but not built in or in suites/; its results must be imported"),
                        path,
                        "external",
                    );
                }
            }
            None if self.catalog.knows(suite) => {}
            None => {
                let known = known_list(self.catalog.suites.iter().map(String::as_str));
                self.err(
                    "policy::unknown-suite",
                    format!("unknown suite `{suite}`"),
                    path,
                    "not built in, not in suites/, not declared",
                )
                .help = Some(format!(
                    "known suites: {}; or declare it with [[suite]] id = \"{suite}\" (placeholder = true if still to be written)",
                    known
                ));
            }
        }
    }

    fn thresholds(&mut self) {
        let p = self.p;
        let domains: BTreeSet<&str> = p.domains.iter().map(|d| d.id.as_str()).collect();
        for (i, t) in p.thresholds.iter().enumerate() {
            let base = root().key("threshold").idx(i);
            if !domains.contains(t.domain.as_str()) {
                let known = known_list(p.domains.iter().map(|x| x.id.as_str()));
                self.err(
                    "policy::unknown-domain",
                    format!("threshold `{}` names unknown domain `{}`", t.id, t.domain),
                    &base.key("domain"),
                    "no [[domain]] has this id",
                )
                .help = Some(format!("known domains: {}", known));
            }
            if p.standard(&t.requires).is_none() {
                let known = known_list(p.standards.iter().map(|x| x.id.as_str()));
                self.err(
                    "policy::unknown-standard",
                    format!(
                        "threshold `{}` requires unknown standard `{}`",
                        t.id, t.requires
                    ),
                    &base.key("requires"),
                    "no [[standard]] has this id",
                )
                .help = Some(format!("known standards: {}", known));
            }
            if t.evidence.is_empty() {
                self.err(
                    "policy::empty-list",
                    format!(
                        "threshold `{}` has no evidence rule, so it can never be ruled out",
                        t.id
                    ),
                    &base.key("id"),
                    "no [[threshold.evidence]]",
                )
                .help = Some(
                    "add a [[threshold.evidence]] table with suite, metric, line, alert".into(),
                );
            }
            for (j, r) in t.evidence.iter().enumerate() {
                let rp = base.key("evidence").idx(j);
                self.suite_ref(&r.suite.clone(), &rp.key("suite"));
                if let Some(c) = r.confidence {
                    self.confidence(c, &rp.key("confidence"));
                }
                let mut finite = true;
                for (k, x) in [
                    ("line", r.line),
                    ("alert", r.alert),
                    ("elicitation_margin", r.elicitation_margin),
                ] {
                    if !x.is_finite() {
                        finite = false;
                        self.err(
                            "policy::not-finite",
                            format!("{k} must be a finite number, found {x}"),
                            &rp.key(k),
                            "not finite",
                        );
                    }
                }
                if finite {
                    let safe_side = match r.direction {
                        Direction::Higher => r.alert < r.line,
                        Direction::Lower => r.alert > r.line,
                    };
                    if !safe_side {
                        let (word, dir) = match r.direction {
                            Direction::Higher => ("below", "higher"),
                            Direction::Lower => ("above", "lower"),
                        };
                        self.err(
                            "policy::alert-not-below-line",
                            format!(
                                "threshold `{}`: the alert line {} must be {word} the line {}",
                                t.id, r.alert, r.line
                            ),
                            &rp.key("alert"),
                            "not an early warning",
                        )
                        .help = Some(format!(
                            "the alert line is the early warning; with direction = \"{dir}\" it must come first"
                        ));
                    }
                }
                if r.elicitation_margin < 0.0 {
                    self.err(
                        "policy::margin-negative",
                        "elicitation_margin must not be negative".into(),
                        &rp.key("elicitation_margin"),
                        "negative",
                    );
                }
                let best_of = rp.key("elicitation").key("best_of_n");
                self.at_least_one(
                    "policy::elicitation",
                    Some(r.elicitation.best_of_n),
                    &best_of,
                );
                self.at_least_one("policy::min-samples", r.min_samples, &rp.key("min_samples"));
            }
        }
        let used: BTreeSet<&str> = p.thresholds.iter().map(|t| t.domain.as_str()).collect();
        for (i, d) in p.domains.iter().enumerate() {
            if d.status == crate::model::DomainStatus::Tracked && !used.contains(d.id.as_str()) {
                self.warn(
                    "policy::domain-without-threshold",
                    format!("tracked domain `{}` has no threshold", d.id),
                    &root().key("domain").idx(i).key("id"),
                    "tracked but never measured",
                );
            }
        }
    }

    fn actions(&mut self) {
        let p = self.p;
        for (i, a) in p.actions.iter().enumerate() {
            let base = root().key("action").idx(i);
            for (j, r) in a.notify.iter().enumerate() {
                self.role_ref(&r.clone(), &base.key("notify").idx(j));
            }
            if !a.block_deployment && !a.cap_training_compute && a.notify.is_empty() {
                self.err(
                    "policy::empty-action",
                    format!("action `{}` does nothing", a.id),
                    &base.key("id"),
                    "no effect",
                )
                .help = Some("set block_deployment, cap_training_compute or notify".into());
            }
        }
        if !p
            .actions
            .iter()
            .any(|a| a.when == crate::model::ActionWhen::SafeguardsMissing && a.block_deployment)
        {
            self.warn(
                "policy::no-block",
                "no action blocks deployment when required safeguards are missing".into(),
                &root().key("action"),
                "",
            )
            .help = Some(
                "add [[action]] when = \"safeguards-missing\", block_deployment = true".into(),
            );
        }
    }
}
