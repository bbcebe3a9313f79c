//! Plain-language rendering of a policy, as Markdown or HTML.
//!
//! The content is written once against the small [`Doc`] interface and
//! rendered by two writers, so the Markdown and HTML versions can never
//! say different things.

use std::fmt::Write as _;

use crate::model::{
    ActionWhen, Combine, CrossedWhen, DecisionKind, Direction, EvidenceRule, Policy,
    SafeguardEvidence, UnderUncertainty,
};

/// Output format of [`explain`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// GitHub-flavoured Markdown.
    Markdown,
    /// A self-contained HTML page.
    Html,
}

/// The few building blocks the explanation needs.
trait Doc {
    fn heading(&mut self, level: u8, text: &str);
    fn para(&mut self, text: &str);
    fn list(&mut self, items: &[String]);
    fn table(&mut self, header: &[&str], rows: &[Vec<String>]);
    fn finish(self: Box<Self>, title: &str) -> String;
}

struct Markdown(String);

impl Doc for Markdown {
    fn heading(&mut self, level: u8, text: &str) {
        let _ = writeln!(self.0, "{} {text}\n", "#".repeat(usize::from(level)));
    }
    fn para(&mut self, text: &str) {
        let _ = writeln!(self.0, "{text}\n");
    }
    fn list(&mut self, items: &[String]) {
        for i in items {
            let _ = writeln!(self.0, "- {i}");
        }
        self.0.push('\n');
    }
    fn table(&mut self, header: &[&str], rows: &[Vec<String>]) {
        let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
        let _ = writeln!(self.0, "| {} |", header.join(" | "));
        let _ = writeln!(self.0, "|{}", "---|".repeat(header.len()));
        for r in rows {
            let cells: Vec<String> = r.iter().map(|c| cell(c)).collect();
            let _ = writeln!(self.0, "| {} |", cells.join(" | "));
        }
        self.0.push('\n');
    }
    fn finish(self: Box<Self>, _title: &str) -> String {
        self.0
    }
}

struct Html(String);

/// Escape text for HTML element content and attribute values.
#[must_use]
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Render the small inline Markdown used by the explanation (`**bold**`,
/// `` `code` ``) as HTML, escaping everything else.
fn inline_html(s: &str) -> String {
    let esc = escape_html(s);
    let mut out = String::new();
    let (mut bold, mut code) = (false, false);
    let mut chars = esc.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '`' {
            out.push_str(if code { "</code>" } else { "<code>" });
            code = !code;
        } else if c == '*' && chars.peek() == Some(&'*') && !code {
            chars.next();
            out.push_str(if bold { "</strong>" } else { "<strong>" });
            bold = !bold;
        } else {
            out.push(c);
        }
    }
    if code {
        out.push_str("</code>");
    }
    if bold {
        out.push_str("</strong>");
    }
    out
}

impl Doc for Html {
    fn heading(&mut self, level: u8, text: &str) {
        let _ = writeln!(self.0, "<h{level}>{}</h{level}>", inline_html(text));
    }
    fn para(&mut self, text: &str) {
        let _ = writeln!(self.0, "<p>{}</p>", inline_html(text));
    }
    fn list(&mut self, items: &[String]) {
        self.0.push_str("<ul>\n");
        for i in items {
            let _ = writeln!(self.0, "<li>{}</li>", inline_html(i));
        }
        self.0.push_str("</ul>\n");
    }
    fn table(&mut self, header: &[&str], rows: &[Vec<String>]) {
        self.0.push_str("<table>\n<thead><tr>");
        for h in header {
            let _ = write!(self.0, "<th scope=\"col\">{}</th>", inline_html(h));
        }
        self.0.push_str("</tr></thead>\n<tbody>\n");
        for r in rows {
            self.0.push_str("<tr>");
            for c in r {
                let _ = write!(self.0, "<td>{}</td>", inline_html(c));
            }
            self.0.push_str("</tr>\n");
        }
        self.0.push_str("</tbody>\n</table>\n");
    }
    fn finish(self: Box<Self>, title: &str) -> String {
        format!(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n{}</main>\n</body>\n</html>\n",
            escape_html(title),
            self.0
        )
    }
}

const CSS: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#fafafa;color:#1a1a1a}\
main{max-width:60rem;margin:0 auto;padding:1rem 2rem;background:#fff}\
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{border:1px solid #ccc;padding:.4rem .6rem;text-align:left;vertical-align:top}\
th{background:#f0f0f0}code{background:#f3f3f3;padding:0 .2rem;border-radius:3px}h1{border-bottom:2px solid #333}";

/// Render `policy` in plain language.
#[must_use]
pub fn explain(policy: &Policy, format: Format) -> String {
    let mut doc: Box<dyn Doc> = match format {
        Format::Markdown => Box::new(Markdown(String::new())),
        Format::Html => Box::new(Html(String::new())),
    };
    write_doc(policy, doc.as_mut());
    doc.finish(&policy.policy.name)
}

fn role_name(p: &Policy, id: &str) -> String {
    p.roles
        .iter()
        .find(|r| r.id == id)
        .map_or_else(|| format!("`{id}`"), |r| format!("{} (`{id}`)", r.name))
}

fn fmt_num(x: f64) -> String {
    let s = format!("{x:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" {
        "0".into()
    } else {
        s.to_owned()
    }
}

fn write_doc(p: &Policy, d: &mut dyn Doc) {
    let m = &p.policy;
    d.heading(1, &m.name);
    d.para(&format!(
        "Version **{}**, in force from **{}**. Proposed by {}; approved by {}.",
        m.version,
        m.effective,
        role_name(p, &m.proposer),
        m.approvers
            .iter()
            .map(|a| role_name(p, a))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    if !m.consulted.is_empty() {
        d.para(&format!(
            "Consulted or informed before adoption: {}.",
            m.consulted.join(", ")
        ));
    }
    if let Some(days) = m.review_interval_days {
        d.para(&format!(
            "The policy is reviewed and re-approved at least every {days} days."
        ));
    }

    d.heading(2, "In short");
    let uncertain = match p.defaults.under_uncertainty {
        UnderUncertainty::TreatAsCrossed => {
            "If the evidence **cannot rule out** that a model is past a line, the model is treated **as if it had crossed it**."
        }
        UnderUncertainty::Judgement => {
            "If the evidence cannot rule out that a model is past a line, the named roles decide case by case (no automatic default)."
        }
    };
    d.list(&[
        format!(
            "The policy watches {} capability thresholds in {} risk domains.",
            p.thresholds.len(),
            p.domains.len()
        ),
        format!(
            "Every measurement carries a {}% confidence interval unless a rule says otherwise; a line is ruled out only when the **upper** end of that interval is below it.",
            fmt_num(p.defaults.confidence * 100.0)
        ),
        uncertain.to_owned(),
        format!(
            "A threshold counts as **crossed** when {} reaches the line.",
            match p.defaults.crossed_when {
                CrossedWhen::Estimate => "the measured estimate",
                CrossedWhen::LowerBound => "the lower end of the interval",
            }
        ),
        format!(
            "When a threshold has several rules, {}.",
            match p.defaults.combine {
                Combine::Worst => "the most severe rule decides",
                Combine::Best => "every rule must fire before the threshold does",
            }
        ),
    ]);

    d.heading(2, "When a model is assessed");
    let t = &p.triggers;
    let mut when = Vec::new();
    if let Some(r) = t.compute_ratio {
        when.push(format!("its effective training compute has grown **{}×** since the last comprehensive assessment", fmt_num(r)));
    }
    if let Some(days) = t.max_interval_days {
        when.push(format!(
            "**{days} days** have passed since the last assessment"
        ));
    }
    if let Some(days) = t.post_training_days {
        when.push(format!("**{days} days** of post-training have accumulated"));
    }
    if t.on_deployment {
        when.push("it is about to be **deployed**".into());
    }
    when.push("it has never been assessed".into());
    d.para("A new assessment is due as soon as any of these holds:");
    d.list(&when);

    d.heading(2, "Risk domains");
    d.table(
        &["Domain", "Status", "What it covers"],
        &p.domains
            .iter()
            .map(|x| {
                vec![
                    format!("{} (`{}`)", x.name, x.id),
                    x.status.to_string(),
                    x.description.clone().unwrap_or_default(),
                ]
            })
            .collect::<Vec<_>>(),
    );

    d.heading(2, "Capability thresholds");
    for th in &p.thresholds {
        let title = th
            .name
            .as_ref()
            .map_or_else(|| th.id.clone(), |n| format!("{} — {n}", th.id));
        d.heading(3, &title);
        d.para(&th.description);
        let mut facts = vec![format!("Domain: `{}`.", th.domain)];
        if let Some(a) = &th.actor {
            facts.push(format!("Who would gain: {a}."));
        }
        if let Some(b) = &th.baseline {
            facts.push(format!("Compared with: {b}."));
        }
        facts.push(format!(
            "If it cannot be ruled out, the model needs the **{}** safeguards.",
            th.requires
        ));
        d.list(&facts);
        let rows: Vec<Vec<String>> = th.evidence.iter().map(|r| rule_row(p, r)).collect();
        d.table(
            &[
                "Evidence (suite · metric)",
                "Alert line",
                "Line",
                "Confidence",
                "Elicitation required",
                "Margin",
            ],
            &rows,
        );
    }

    d.heading(2, "Safeguard standards");
    for s in &p.standards {
        d.heading(3, &format!("{} — {}", s.id, s.name));
        if let Some(desc) = &s.description {
            d.para(desc);
        }
        if !s.includes.is_empty() {
            d.para(&format!(
                "Includes everything in: {}.",
                s.includes
                    .iter()
                    .map(|i| format!("`{i}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !s.threat_actors_in_scope.is_empty() {
            d.para(&format!(
                "Meant to stop: {}.",
                s.threat_actors_in_scope.join("; ")
            ));
        }
        if !s.threat_actors_out_of_scope.is_empty() {
            d.para(&format!(
                "Not meant to stop: {}.",
                s.threat_actors_out_of_scope.join("; ")
            ));
        }
        let rows: Vec<Vec<String>> = s
            .safeguards
            .iter()
            .map(|g| {
                vec![
                    format!("`{}`", g.id),
                    g.kind.to_string(),
                    g.description.clone(),
                    evidence_text(p, &g.evidence),
                ]
            })
            .collect();
        if !rows.is_empty() {
            d.table(&["Safeguard", "Kind", "What", "Proven by"], &rows);
        }
    }

    d.heading(2, "What happens when a line is crossed");
    let mut acts = Vec::new();
    for a in &p.actions {
        let mut effects = Vec::new();
        if a.block_deployment {
            effects.push("deployment is **blocked**".to_owned());
        }
        if a.cap_training_compute {
            effects.push("training is **capped** at the compute of the last checkpoint assessed without this problem".to_owned());
        }
        if !a.notify.is_empty() {
            effects.push(format!(
                "{} are notified",
                a.notify
                    .iter()
                    .map(|r| role_name(p, r))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let mut line = format!("When {}: {}.", a.when, effects.join("; "));
        if let Some(desc) = &a.description {
            line.push(' ');
            line.push_str(desc);
        }
        acts.push(line);
    }
    if !p
        .actions
        .iter()
        .any(|a| a.when == ActionWhen::SafeguardsMissing && a.block_deployment)
    {
        acts.push(
            "**Note:** no action blocks deployment when required safeguards are missing.".into(),
        );
    }
    d.list(&acts);

    d.heading(2, "Who decides");
    let mut who = Vec::new();
    for kind in [
        DecisionKind::Deploy,
        DecisionKind::Train,
        DecisionKind::PolicyUpdate,
    ] {
        let signers: Vec<String> = p
            .signers(kind)
            .map(|r| format!("{} (`{}`)", r.name, r.id))
            .collect();
        let informed: Vec<String> = p
            .roles
            .iter()
            .filter(|r| r.informed.contains(&kind))
            .map(|r| r.name.clone())
            .collect();
        let what = match kind {
            DecisionKind::Deploy => "A **deployment** decision",
            DecisionKind::Train => "A decision to **continue training**",
            DecisionKind::PolicyUpdate => "A **new version of this policy**",
        };
        let mut line = if signers.is_empty() {
            format!("{what} needs no signature (nobody is named).")
        } else {
            format!(
                "{what} is final only when signed by {}.",
                signers.join(" and ")
            )
        };
        if !informed.is_empty() {
            let _ = write!(line, " {} must be informed first.", informed.join(", "));
        }
        who.push(line);
    }
    d.list(&who);

    if !p.suites.is_empty() {
        d.heading(
            2,
            "Evaluations this policy relies on that rsp does not ship",
        );
        d.list(
            &p.suites
                .iter()
                .map(|s| {
                    format!(
                        "`{}`{}: {}",
                        s.id,
                        if s.placeholder {
                            " (placeholder, still to be supplied)"
                        } else {
                            ""
                        },
                        s.description
                    )
                })
                .collect::<Vec<_>>(),
        );
    }

    if !m.changelog.is_empty() {
        d.heading(2, "Changelog");
        d.table(
            &["Version", "Date", "Change"],
            &m.changelog
                .iter()
                .map(|c| vec![c.version.clone(), c.date.to_string(), c.summary.clone()])
                .collect::<Vec<_>>(),
        );
    }
}

fn rule_row(p: &Policy, r: &EvidenceRule) -> Vec<String> {
    let arrow = match r.direction {
        Direction::Higher => "≥",
        Direction::Lower => "≤",
    };
    vec![
        format!("`{}` · `{}`", r.suite, r.metric),
        format!("{arrow} {}", fmt_num(r.alert)),
        format!("{arrow} {}", fmt_num(r.line)),
        format!("{}%", fmt_num(p.confidence_of(r) * 100.0)),
        r.elicitation.summary(),
        if r.elicitation_margin > 0.0 {
            format!("+{}", fmt_num(r.elicitation_margin))
        } else {
            "none".into()
        },
    ]
}

fn evidence_text(p: &Policy, e: &SafeguardEvidence) -> String {
    match e {
        SafeguardEvidence::Attestation { by, valid_days } => {
            format!(
                "an attestation by {}, valid {valid_days} days",
                role_name(p, by)
            )
        }
        SafeguardEvidence::Metric {
            suite,
            metric,
            max,
            min,
            confidence,
            valid_days,
        } => {
            let conf = fmt_num(confidence.unwrap_or(p.defaults.confidence) * 100.0);
            let mut bounds = Vec::new();
            if let Some(hi) = max {
                bounds.push(format!("upper {conf}% bound ≤ {}", fmt_num(*hi)));
            }
            if let Some(lo) = min {
                bounds.push(format!("lower {conf}% bound ≥ {}", fmt_num(*lo)));
            }
            format!(
                "`{metric}` from `{suite}` with {}, valid {valid_days} days",
                bounds.join(" and ")
            )
        }
    }
}
