//! From TOML text to a [`Constitution`], reporting every problem at once with its place.
//!
//! The file is parsed into toml's spanned tree ([`DeTable`]) with syntax-error recovery,
//! then walked by hand rather than deserialised with serde: serde stops at the first
//! unknown key or wrong type, while a hand walk reports all of them in one pass, each with
//! the exact span of the key or value (so `miette` can print file, line, column and a
//! caret). Semantic checks (duplicates, ranges, empty sections) run on the same walk.
//! Diagnostics are [`rsp_policy::diag::Diagnostic`]s, rendered exactly like the policy's.

use std::collections::HashMap;
use std::ops::Range;

use rsp_policy::diag::Diagnostic;
use serde::Serialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::model::{
    ComparisonPrinciple, Constitution, ContentClass, MAX_RESTRICTED, Meta, Principle, VerdictFormat,
};

/// Largest constitution accepted; a real one is a few hundred lines, and the cap keeps a
/// mistaken path (a model file) from eating memory.
pub const MAX_CONSTITUTION_BYTES: usize = 4 * 1024 * 1024;

const ROOT_KEYS: &[&str] = &[
    "constitution",
    "principle",
    "comparison",
    "restricted",
    "permitted",
    "verdict",
];
const META_KEYS: &[&str] = &["name", "version", "description"];
const PRINCIPLE_KEYS: &[&str] = &["id", "critique", "revision"];
const COMPARISON_KEYS: &[&str] = &["id", "text"];
const CLASS_KEYS: &[&str] = &["name", "description", "examples"];
const VERDICT_KEYS: &[&str] = &["allow_option", "threshold", "votes", "refusal"];

/// Everything `check` found: the constitution when there is no error, and every
/// diagnostic (errors and warnings) in source order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// The constitution, present exactly when no diagnostic is an error.
    pub constitution: Option<Constitution>,
    /// Problems, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckReport {
    /// Number of errors (warnings excluded).
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == rsp_policy::Severity::Error)
            .count()
    }

    /// Number of warnings.
    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }

    /// Renders every diagnostic against `source` with file, line, column and caret.
    pub fn render(&self, file: &str, source: &str, style: rsp_policy::diag::Style) -> String {
        rsp_policy::diag::render(&self.diagnostics, file, source, style)
    }
}

/// Parses and validates a constitution's text.
pub fn check(text: &str) -> CheckReport {
    if text.len() > MAX_CONSTITUTION_BYTES {
        return failed(vec![
            Diagnostic::error(
                "constitution::too-large",
                format!(
                    "the file is {} bytes; a constitution may be at most {MAX_CONSTITUTION_BYTES}",
                    text.len()
                ),
            )
            .help("check the path: this does not look like a constitution"),
        ]);
    }
    let (root, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        return failed(
            errors
                .iter()
                .map(|e| {
                    let msg = e.message().lines().next().unwrap_or("").trim().to_owned();
                    Diagnostic::error("constitution::syntax", msg)
                        .at(e.span())
                        .label("here")
                })
                .collect(),
        );
    }
    let mut w = Walker {
        text,
        diags: Vec::new(),
        class_names: Vec::new(),
    };
    let constitution = w.constitution(root.get_ref(), root.span());
    let mut diagnostics = w.diags;
    diagnostics.sort_by_key(|d| d.span.as_ref().map_or(0, |s| s.start));
    let ok = !diagnostics
        .iter()
        .any(|d| d.severity == rsp_policy::Severity::Error);
    CheckReport {
        constitution: constitution.filter(|_| ok),
        diagnostics,
    }
}

fn failed(diagnostics: Vec<Diagnostic>) -> CheckReport {
    CheckReport {
        constitution: None,
        diagnostics,
    }
}

type Item<'a, 'i> = (&'a DeTable<'i>, Range<usize>, String);

struct Walker<'t> {
    text: &'t str,
    diags: Vec<Diagnostic>,
    /// Every class name seen in either list, for the cross-list duplicate check.
    class_names: Vec<(String, Range<usize>)>,
}

impl Walker<'_> {
    fn err(&mut self, code: &'static str, msg: String, span: Range<usize>, label: &str) {
        self.diags
            .push(Diagnostic::error(code, msg).at(Some(span)).label(label));
    }

    fn constitution(&mut self, root: &DeTable<'_>, span: Range<usize>) -> Option<Constitution> {
        self.keys(root, ROOT_KEYS, "");
        let meta = self.meta(root, &span);
        let principles = self.principles(root);
        let comparisons = self.comparisons(root);
        let restricted = self.classes(root, "restricted");
        let permitted = self.classes(root, "permitted");
        let verdict = self.verdict(root);
        self.cross_checks(root, &span, &principles, &comparisons, &restricted);
        let strip = |v: Vec<(ContentClass, Range<usize>)>| -> Vec<ContentClass> {
            v.into_iter().map(|(c, _)| c).collect()
        };
        Some(Constitution {
            meta: meta?,
            principles,
            comparisons,
            restricted: strip(restricted),
            permitted: strip(permitted),
            verdict,
        })
    }

    fn meta(&mut self, root: &DeTable<'_>, span: &Range<usize>) -> Option<Meta> {
        let Some(v) = root.get("constitution") else {
            self.diags.push(
                Diagnostic::error(
                    "constitution::missing-field",
                    "the `[constitution]` table is missing",
                )
                .at(Some(span.start..span.start))
                .help("start the file with `[constitution]` and `name = \"…\"`"),
            );
            return None;
        };
        let t = self.table(v, "constitution")?;
        self.keys(t, META_KEYS, "constitution");
        let name = self.string(t, "name", "constitution", &v.span(), true);
        let version = match t.get("version") {
            None => Some(1),
            Some(x) => self.positive_int(x, "constitution.version", u32::MAX),
        };
        let description = self.string(t, "description", "constitution", &v.span(), false);
        Some(Meta {
            name: name?.0,
            version: version?,
            description: description.map(|d| d.0),
        })
    }

    fn principles(&mut self, root: &DeTable<'_>) -> Vec<Principle> {
        let mut out = Vec::new();
        let mut ids = Vec::new();
        for (t, span, path) in self.tables(root, "principle") {
            self.keys(t, PRINCIPLE_KEYS, &path);
            let id = self.string(t, "id", &path, &span, true);
            let critique = self.string(t, "critique", &path, &span, true);
            let revision = self.string(t, "revision", &path, &span, true);
            if let Some(id) = &id {
                ids.push(id.clone());
            }
            if let (Some(id), Some(c), Some(r)) = (id, critique, revision) {
                out.push(Principle {
                    id: id.0,
                    critique: c.0,
                    revision: r.0,
                });
            }
        }
        self.duplicates(ids.iter().map(|(n, s)| (n.as_str(), s)), "principle id");
        out
    }

    fn comparisons(&mut self, root: &DeTable<'_>) -> Vec<ComparisonPrinciple> {
        let mut out = Vec::new();
        let mut ids = Vec::new();
        for (t, span, path) in self.tables(root, "comparison") {
            self.keys(t, COMPARISON_KEYS, &path);
            let id = self.string(t, "id", &path, &span, true);
            let text = self.string(t, "text", &path, &span, true);
            if let Some(id) = &id {
                ids.push(id.clone());
            }
            if let (Some(id), Some(text)) = (id, text) {
                out.push(ComparisonPrinciple {
                    id: id.0,
                    text: text.0,
                });
            }
        }
        self.duplicates(ids.iter().map(|(n, s)| (n.as_str(), s)), "comparison id");
        out
    }

    fn classes(&mut self, root: &DeTable<'_>, key: &str) -> Vec<(ContentClass, Range<usize>)> {
        let mut out = Vec::new();
        for (t, span, path) in self.tables(root, key) {
            self.keys(t, CLASS_KEYS, &path);
            let name = self.string(t, "name", &path, &span, true);
            let description = self.string(t, "description", &path, &span, true);
            let examples = self.strings(t, "examples", &path);
            if let Some((n, s)) = &name
                && !is_slug(n)
            {
                self.diags.push(
                    Diagnostic::error(
                        "constitution::class-name",
                        format!("`{path}.name` must be lowercase letters, digits, `-` or `_`"),
                    )
                    .at(Some(s.clone()))
                    .label("not a class name")
                    .help("class names appear in verdicts and metrics: `cyberattack-uplift`"),
                );
            }
            if key == "restricted"
                && let Some(v) = t.get("examples")
                && examples.as_ref().is_some_and(|e| !e.is_empty())
            {
                self.diags.push(
                    Diagnostic::warning(
                        "constitution::restricted-examples",
                        format!("`{path}` has examples of restricted content"),
                    )
                    .at(Some(v.span()))
                    .label("shipped with the file")
                    .help(
                        "a constitution is shared and committed: describe restricted classes \
                         abstractly and give examples only for permitted classes",
                    ),
                );
            }
            if let Some(n) = &name {
                self.class_names.push(n.clone());
            }
            if let (Some(name), Some(d)) = (name, description) {
                out.push((
                    ContentClass {
                        name: name.0,
                        description: d.0,
                        examples: examples.unwrap_or_default(),
                    },
                    name.1,
                ));
            }
        }
        if key == "restricted"
            && let Some((_, span)) = out.get(MAX_RESTRICTED)
        {
            self.err(
                "constitution::too-many-classes",
                format!(
                    "at most {MAX_RESTRICTED} restricted classes fit the lettered options (B..Z)"
                ),
                span.clone(),
                "one too many",
            );
        }
        out
    }

    fn verdict(&mut self, root: &DeTable<'_>) -> VerdictFormat {
        let mut f = VerdictFormat::default();
        let Some(v) = root.get("verdict") else {
            return f;
        };
        let Some(t) = self.table(v, "verdict") else {
            return f;
        };
        self.keys(t, VERDICT_KEYS, "verdict");
        if let Some(s) = self.string(t, "allow_option", "verdict", &v.span(), false) {
            f.allow_option = s.0;
        }
        if let Some(s) = self.string(t, "refusal", "verdict", &v.span(), false) {
            f.refusal = s.0;
        }
        if let Some(x) = t.get("votes")
            && let Some(n) = self.positive_int(x, "verdict.votes", 100)
        {
            f.votes = n;
        }
        if let Some(x) = t.get("threshold")
            && let Some(p) = self.number(x, "verdict.threshold")
        {
            if p > 0.0 && p <= 1.0 {
                f.threshold = p;
            } else {
                self.err(
                    "constitution::range",
                    format!("`verdict.threshold` must be in (0, 1], got {p}"),
                    x.span(),
                    "out of range",
                );
            }
        }
        f
    }

    fn cross_checks(
        &mut self,
        root: &DeTable<'_>,
        span: &Range<usize>,
        principles: &[Principle],
        comparisons: &[ComparisonPrinciple],
        restricted: &[(ContentClass, Range<usize>)],
    ) {
        let names = std::mem::take(&mut self.class_names);
        self.duplicates(names.iter().map(|(n, s)| (n.as_str(), s)), "class name");
        let present = |k: &str| root.get(k).is_some();
        let empty = [
            ("principle", principles.is_empty(), "`rsp cai revise`"),
            ("comparison", comparisons.is_empty(), "`rsp cai label`"),
            ("restricted", restricted.is_empty(), "the classifier"),
        ];
        if empty.iter().all(|(_, e, _)| *e) && self.diags.is_empty() {
            self.diags.push(
                Diagnostic::error(
                    "constitution::empty",
                    "the constitution has no principles, comparisons or restricted classes",
                )
                .at(Some(span.start..span.start))
                .help("add at least one `[[principle]]`, `[[comparison]]` or `[[restricted]]`"),
            );
            return;
        }
        for (key, is_empty, user) in empty {
            if is_empty && !present(key) {
                self.diags.push(
                    Diagnostic::warning(
                        "constitution::no-section",
                        format!("no `[[{key}]]` entries: {user} cannot use this constitution"),
                    )
                    .at(Some(span.start..span.start)),
                );
            }
        }
    }

    fn duplicates<'a>(
        &mut self,
        items: impl Iterator<Item = (&'a str, &'a Range<usize>)>,
        what: &str,
    ) {
        let mut seen: HashMap<&str, Range<usize>> = HashMap::new();
        for (name, span) in items {
            if let Some(first) = seen.get(name) {
                let (line, _) = rsp_policy::diag::line_col(self.text, first.start);
                self.diags.push(
                    Diagnostic::error(
                        "constitution::duplicate",
                        format!("duplicate {what} `{name}`"),
                    )
                    .at(Some(span.clone()))
                    .label("defined again here")
                    .help(format!(
                        "each {what} must be unique; the first is on line {line}"
                    )),
                );
            } else {
                seen.insert(name, span.clone());
            }
        }
    }

    // ---- typed access with diagnostics ----

    fn keys(&mut self, t: &DeTable<'_>, allowed: &[&str], path: &str) {
        for (k, _) in t {
            let key: &str = k.get_ref().as_ref();
            if allowed.contains(&key) {
                continue;
            }
            let full = join(path, key);
            let mut d =
                Diagnostic::error("constitution::unknown-key", format!("unknown key `{full}`"))
                    .at(Some(k.span()))
                    .label("not a known key");
            d = match closest(key, allowed) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help(format!("expected one of: {}", allowed.join(", "))),
            };
            self.diags.push(d);
        }
    }

    fn table<'a, 'i>(
        &mut self,
        v: &'a Spanned<DeValue<'i>>,
        path: &str,
    ) -> Option<&'a DeTable<'i>> {
        if let Some(t) = v.get_ref().as_table() {
            return Some(t);
        }
        self.type_error(v, path, "a table");
        None
    }

    fn tables<'a, 'i>(&mut self, root: &'a DeTable<'i>, key: &str) -> Vec<Item<'a, 'i>> {
        let Some(v) = root.get(key) else {
            return Vec::new();
        };
        let Some(items) = v.get_ref().as_array() else {
            self.diags.push(
                Diagnostic::error(
                    "constitution::type",
                    format!("`{key}` must be an array of tables"),
                )
                .at(Some(v.span()))
                .label(format!("found {}", v.get_ref().type_str()))
                .help(format!("write each entry under its own `[[{key}]]` header")),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = format!("{key}[{i}]");
            if let Some(t) = self.table(item, &path) {
                out.push((t, item.span(), path));
            }
        }
        out
    }

    fn type_error(&mut self, v: &Spanned<DeValue<'_>>, path: &str, expected: &str) {
        self.err(
            "constitution::type",
            format!("`{path}` must be {expected}"),
            v.span(),
            &format!("found {}", v.get_ref().type_str()),
        );
    }

    /// A string field; empty or blank strings are errors, missing required ones too.
    fn string(
        &mut self,
        t: &DeTable<'_>,
        key: &str,
        path: &str,
        parent: &Range<usize>,
        required: bool,
    ) -> Option<(String, Range<usize>)> {
        let full = join(path, key);
        let Some(v) = t.get(key) else {
            if required {
                self.diags.push(
                    Diagnostic::error(
                        "constitution::missing-field",
                        format!("`{full}` is missing"),
                    )
                    .at(Some(parent.clone()))
                    .label(format!("this table needs `{key}`")),
                );
            }
            return None;
        };
        let Some(s) = v.get_ref().as_str() else {
            self.type_error(v, &full, "a string");
            return None;
        };
        if s.trim().is_empty() {
            self.err(
                "constitution::empty-field",
                format!("`{full}` is empty"),
                v.span(),
                "empty",
            );
            return None;
        }
        Some((s.trim().to_owned(), v.span()))
    }

    fn strings(&mut self, t: &DeTable<'_>, key: &str, path: &str) -> Option<Vec<String>> {
        let full = join(path, key);
        let v = t.get(key)?;
        let Some(items) = v.get_ref().as_array() else {
            self.type_error(v, &full, "an array of strings");
            return None;
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.get_ref().as_str() {
                Some(s) if !s.trim().is_empty() => out.push(s.trim().to_owned()),
                Some(_) => self.err(
                    "constitution::empty-field",
                    format!("`{full}[{i}]` is empty"),
                    item.span(),
                    "empty",
                ),
                None => self.type_error(item, &format!("{full}[{i}]"), "a string"),
            }
        }
        Some(out)
    }

    fn positive_int(&mut self, v: &Spanned<DeValue<'_>>, path: &str, max: u32) -> Option<u32> {
        let Some(i) = v.get_ref().as_integer() else {
            self.type_error(v, path, "an integer");
            return None;
        };
        let n = i64::from_str_radix(i.as_str(), i.radix()).ok();
        match n
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| (1..=max).contains(n))
        {
            Some(n) => Some(n),
            None => {
                self.err(
                    "constitution::range",
                    format!("`{path}` must be between 1 and {max}"),
                    v.span(),
                    "out of range",
                );
                None
            }
        }
    }

    fn number(&mut self, v: &Spanned<DeValue<'_>>, path: &str) -> Option<f64> {
        let parsed = match v.get_ref() {
            DeValue::Float(f) => f.as_str().replace('_', "").parse::<f64>().ok(),
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .ok()
                .map(|n| n as f64),
            _ => None,
        };
        if parsed.is_none() {
            self.type_error(v, path, "a number");
        }
        parsed.filter(|p| p.is_finite())
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// The allowed key within edit distance 2 of `key`, for "did you mean".
fn closest<'a>(key: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed
        .iter()
        .map(|a| (levenshtein(key, a), *a))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsp_policy::diag::{Style, render};

    fn rendered(text: &str) -> String {
        let r = check(text);
        render(&r.diagnostics, "constitution.toml", text, Style::Plain)
    }

    #[test]
    fn the_example_is_clean() {
        let r = check(crate::example_constitution());
        assert!(r.diagnostics.is_empty(), "{:#?}", r.diagnostics);
        let c = r.constitution.unwrap();
        assert_eq!(c.meta.name, "rsp-example");
        assert!(c.principles.len() >= 4 && c.comparisons.len() >= 2);
        assert!(c.restricted.iter().all(|r| r.examples.is_empty()));
        assert_eq!(c.verdict.votes, 5);
    }

    #[test]
    fn every_problem_is_reported_in_one_pass() {
        let text = r#"[constitution]
name = "t"
verison = 2

[[principle]]
id = "a"
critique = "Find harm."

[[principle]]
id = "a"
critique = ""
revision = 3

[[restricted]]
name = "Weapons!"
description = "Abstract description."
examples = ["x"]

[[permitted]]
name = "weapons2"
description = "d"
colour = "blue"

[[permitted]]
name = "weapons2"
description = "again"

[verdict]
threshold = 1.5
votes = 0
"#;
        let r = check(text);
        assert!(r.constitution.is_none());
        let codes: Vec<&str> = r.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [
                "constitution::no-section",
                "constitution::unknown-key",
                "constitution::missing-field",
                "constitution::duplicate",
                "constitution::empty-field",
                "constitution::type",
                "constitution::class-name",
                "constitution::restricted-examples",
                "constitution::unknown-key",
                "constitution::duplicate",
                "constitution::range",
                "constitution::range",
            ]
        );
        insta::assert_snapshot!(rendered(text));
    }

    #[test]
    fn syntax_errors_and_wrong_shapes_point_at_the_place() {
        insta::assert_snapshot!(
            "syntax",
            rendered("[constitution]\nname = \"x\nversion = 1\n")
        );
        let shape = "[constitution]\nname = \"x\"\n[principle]\nid = \"a\"\n";
        let r = check(shape);
        let d = r
            .diagnostics
            .iter()
            .find(|d| d.code == "constitution::type")
            .unwrap();
        let (line, col) = rsp_policy::diag::line_col(shape, d.span.clone().unwrap().start);
        assert_eq!((line, col), (3, 1));
    }

    #[test]
    fn empty_and_partial_constitutions() {
        let r = check("[constitution]\nname = \"x\"\n");
        assert_eq!(r.errors(), 1);
        assert_eq!(r.diagnostics[0].code, "constitution::empty");
        let r =
            check("[constitution]\nname = \"x\"\n[[comparison]]\nid = \"c\"\ntext = \"Pick.\"\n");
        assert_eq!((r.errors(), r.warnings()), (0, 2));
        assert!(r.constitution.is_some());
        let r = check("name = \"x\"\n");
        assert!(
            r.diagnostics
                .iter()
                .any(|d| d.code == "constitution::missing-field")
        );
    }

    #[test]
    fn closest_key_suggestions() {
        assert_eq!(closest("critque", PRINCIPLE_KEYS), Some("critique"));
        assert_eq!(closest("zzz", PRINCIPLE_KEYS), None);
    }
}
