//! From bytes to a [`Policy`], collecting every problem on the way.
//!
//! Parsing happens in three layers so that one pass reports as much as it
//! can:
//! 1. the TOML syntax, with recovery, so several syntax errors show at once;
//! 2. each section, and each item of each array of tables, is deserialised
//!    on its own, so a type error in one threshold does not hide another;
//! 3. semantic validation ([`crate::validate`]) on the assembled model.
//!
//! The spanned TOML tree from layer 1 is kept as a [`Locator`] so that
//! validation can point at any field by its path.

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::diag::Diagnostic;
use crate::model::{
    Action, Defaults, Domain, Metadata, Policy, Role, Standard, SuiteDecl, Threshold, Triggers,
};

/// Largest policy file accepted. Real policies are a few hundred lines; the
/// cap keeps a mistaken path (a model file, a log) from eating memory.
pub const MAX_POLICY_BYTES: usize = 8 * 1024 * 1024;

/// Deepest bracket nesting accepted. The TOML parser recurses on nested
/// arrays and inline tables; this keeps hostile input from exhausting the
/// stack.
pub const MAX_NESTING: usize = 64;

/// One step of a path into the TOML tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// An array index.
    Index(usize),
}

/// A path into the TOML tree, such as `threshold[2].evidence[0].alert`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path(pub Vec<Seg>);

impl Path {
    /// The root.
    #[must_use]
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// Extend with a key.
    #[must_use]
    pub fn key(&self, k: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_owned()));
        p
    }

    /// Extend with an index.
    #[must_use]
    pub fn idx(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                Seg::Key(k) if first => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

/// Finds the source span of any path in the parsed TOML tree.
#[derive(Debug)]
pub struct Locator<'a> {
    root: Option<&'a Spanned<DeTable<'a>>>,
}

impl<'a> Locator<'a> {
    /// A locator that knows no spans (for policies built in code).
    #[must_use]
    pub fn none() -> Self {
        Self { root: None }
    }

    /// The span of the value at `path`, or of the deepest existing parent
    /// when the path runs out (a missing field points at its table).
    #[must_use]
    pub fn span(&self, path: &Path) -> Option<Range<usize>> {
        let root = self.root?;
        let mut span = root.span();
        let mut table: Option<&DeTable<'a>> = Some(root.get_ref());
        let mut array: Option<&toml::de::DeArray<'a>> = None;
        for seg in &path.0 {
            let next: Option<&Spanned<DeValue<'a>>> = match seg {
                Seg::Key(k) => table.and_then(|t| t.get(k.as_str())),
                Seg::Index(i) => array.and_then(|a| a.get(*i)),
            };
            let Some(next) = next else { break };
            span = next.span();
            table = next.get_ref().as_table();
            array = next.get_ref().as_array();
        }
        Some(span)
    }
}

/// The result of parsing: the policy when it deserialised, and everything
/// found wrong on the way.
#[derive(Debug)]
pub struct Parsed {
    /// The policy, when every section deserialised.
    pub policy: Option<Policy>,
    /// Syntax and type problems, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Decode raw bytes, reporting non-UTF-8 and oversized input as diagnostics
/// rather than failing, because both are properties of a bad file.
pub fn decode(bytes: &[u8]) -> Result<&str, Diagnostic> {
    if bytes.len() > MAX_POLICY_BYTES {
        return Err(Diagnostic::error(
            "policy::too-large",
            format!(
                "the file is {} bytes; a policy may be at most {} bytes",
                bytes.len(),
                MAX_POLICY_BYTES
            ),
        )
        .help("check the path: this does not look like a policy file"));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        Diagnostic::error(
            "policy::not-utf8",
            format!("the file is not valid UTF-8 (byte {at})"),
        )
        .help("policy files must be UTF-8 text")
    })
}

/// Reject nesting deeper than [`MAX_NESTING`] before the recursive parser
/// sees it. Brackets inside strings and comments are skipped.
fn nesting_error(text: &str) -> Option<Diagnostic> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            q @ (b'"' | b'\'') => {
                let triple = bytes.get(i..i + 3) == Some(&[q, q, q][..]);
                let step = if triple { 3 } else { 1 };
                i += step;
                while i < bytes.len() {
                    if q == b'"' && bytes[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if !triple && bytes[i] == b'\n' {
                        break;
                    }
                    if bytes[i] == q && (!triple || bytes.get(i..i + 3) == Some(&[q, q, q][..])) {
                        i += step - 1;
                        break;
                    }
                    i += 1;
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(
                        Diagnostic::error(
                            "policy::too-deep",
                            format!("brackets nest deeper than {MAX_NESTING} levels"),
                        )
                        .at(Some(i..i + 1))
                        .label("too deep"),
                    );
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'\n' => {}
            _ => {}
        }
        i += 1;
    }
    None
}

/// Parse policy text. Calls `with_locator` with the assembled policy (if
/// any) and a [`Locator`] over the source, so that validation can run while
/// the borrowed tree is alive.
pub fn parse_with<R>(
    text: &str,
    with_locator: impl FnOnce(&Parsed, &Locator<'_>) -> R,
) -> (Parsed, R) {
    if let Some(d) = nesting_error(text) {
        let parsed = Parsed {
            policy: None,
            diagnostics: vec![d],
        };
        let r = with_locator(&parsed, &Locator::none());
        return (parsed, r);
    }
    let (root, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        let diagnostics = errors
            .iter()
            .map(|e| {
                Diagnostic::error("policy::syntax", first_line(e.message()))
                    .at(e.span())
                    .label("here")
            })
            .collect();
        let parsed = Parsed {
            policy: None,
            diagnostics,
        };
        let r = with_locator(&parsed, &Locator::none());
        return (parsed, r);
    }
    let mut diagnostics = Vec::new();
    let policy = assemble(&root, &mut diagnostics);
    diagnostics.sort_by_key(|d| d.span.as_ref().map_or(0, |s| s.start));
    let parsed = Parsed {
        policy,
        diagnostics,
    };
    let locator = Locator { root: Some(&root) };
    let r = with_locator(&parsed, &locator);
    (parsed, r)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).trim().to_owned()
}

/// Deserialise one value, turning failures into diagnostics that name the
/// section they happened in.
///
/// serde stops at the first error, so after each failure the offending
/// entry is removed from a copy of the tree and deserialisation is tried
/// again. This reports every type error in one pass. A "missing field"
/// caused by such a removal is not reported, since it is not the user's.
fn de<T: DeserializeOwned>(
    value: &Spanned<DeValue<'_>>,
    what: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<T> {
    let mut v = value.clone();
    let mut removed: Vec<String> = Vec::new();
    let mut failed = false;
    for _ in 0..MAX_ERRORS_PER_ITEM {
        let err = match T::deserialize(ValueDeserializer::from(v.clone())) {
            Ok(x) => return (!failed).then_some(x),
            Err(e) => e,
        };
        failed = true;
        let msg = first_line(err.message());
        let span = err.span().unwrap_or_else(|| value.span());
        let code = if msg.starts_with("unknown field") {
            "policy::unknown-field"
        } else if msg.starts_with("missing field") {
            "policy::missing-field"
        } else {
            "policy::type"
        };
        let caused_by_us = code == "policy::missing-field"
            && removed
                .iter()
                .any(|k| msg.starts_with(&format!("missing field `{k}`")));
        if !caused_by_us {
            let d = Diagnostic::error(code, format!("{what}: {msg}"))
                .at(Some(span.clone()))
                .label(label_for(code));
            if !diags.iter().any(|x| x.span == d.span && x.code == d.code) {
                diags.push(d);
            }
        }
        if code == "policy::missing-field" {
            return None;
        }
        // A wrong-typed value is replaced by a placeholder of a type that
        // deserialises, so the fields after it are still checked; an
        // unknown key (or a value no placeholder fits) is removed.
        let placeholder_fix = (code == "policy::type").then(|| {
            PLACEHOLDERS.iter().find_map(|p| {
                let mut w = v.clone();
                replace_at(&mut w, &span, p)?;
                let next = T::deserialize(ValueDeserializer::from(w.clone()));
                (next.as_ref().err().and_then(toml::de::Error::span) != Some(span.clone()))
                    .then_some(w)
            })
        });
        if let Some(fixed) = placeholder_fix.flatten() {
            v = fixed;
            continue;
        }
        match remove_at(&mut v, &span) {
            Some(key) => removed.push(key),
            None => return None,
        }
    }
    None
}

/// Values tried in place of a wrongly typed one.
const PLACEHOLDERS: &[&str] = &["\"\"", "0", "0.5", "false", "[]", "{}", "2000-01-01"];

/// Replace the value whose span is exactly `span` with `placeholder`
/// (TOML text), keeping the span. Returns `None` when no value matches.
fn replace_at(v: &mut Spanned<DeValue<'_>>, span: &Range<usize>, placeholder: &str) -> Option<()> {
    if v.span() == *span {
        let doc = format!("x = {placeholder}");
        let parsed = DeTable::parse(&doc).ok()?;
        let mut value = parsed.get_ref().get("x")?.get_ref().clone();
        value.make_owned();
        *v = Spanned::new(span.clone(), value_into_static(value));
        return Some(());
    }
    // Spans of arrays of tables cover only their headers, so search every
    // child rather than trusting containment.
    match v.get_mut() {
        DeValue::Table(t) => t
            .iter_mut()
            .find_map(|(_, x)| replace_at(x, span, placeholder)),
        DeValue::Array(a) => a.iter_mut().find_map(|x| replace_at(x, span, placeholder)),
        _ => None,
    }
}

/// Re-own a value so it no longer borrows the placeholder text.
fn value_into_static(v: DeValue<'_>) -> DeValue<'static> {
    match v {
        DeValue::String(s) => DeValue::String(std::borrow::Cow::Owned(s.into_owned())),
        DeValue::Boolean(b) => DeValue::Boolean(b),
        DeValue::Datetime(d) => DeValue::Datetime(d),
        DeValue::Array(_) => DeValue::Array(toml::de::DeArray::new()),
        DeValue::Table(_) => DeValue::Table(DeTable::new()),
        DeValue::Integer(_) | DeValue::Float(_) => {
            // Integers and floats borrow their digits; re-parse from a
            // static string to get an owned 'static value.
            static_number(matches!(v, DeValue::Float(_)))
        }
    }
}

fn static_number(float: bool) -> DeValue<'static> {
    let text: &'static str = if float { "x = 0.5" } else { "x = 0" };
    DeTable::parse(text)
        .ok()
        .and_then(|t| t.get_ref().get("x").map(|x| x.get_ref().clone()))
        .unwrap_or(DeValue::Boolean(false))
}

/// Remove the innermost table entry whose key or value covers `span`;
/// returns its key.
fn remove_at(v: &mut Spanned<DeValue<'_>>, span: &Range<usize>) -> Option<String> {
    match v.get_mut() {
        DeValue::Table(t) => {
            let hit = t
                .iter()
                .find(|(k, val)| val.span() == *span || contains(&k.span(), span))
                .map(|(k, _)| k.get_ref().to_string());
            if let Some(key) = hit {
                t.remove(key.as_str());
                return Some(key);
            }
            t.iter_mut().find_map(|(_, x)| remove_at(x, span))
        }
        DeValue::Array(a) => a.iter_mut().find_map(|x| remove_at(x, span)),
        _ => None,
    }
}

fn label_for(code: &str) -> &'static str {
    match code {
        "policy::unknown-field" => "not a known field",
        "policy::missing-field" => "in this table",
        _ => "wrong value",
    }
}

/// Describe an item of an array of tables by its id when it has one.
fn item_name(section: &str, i: usize, value: &Spanned<DeValue<'_>>) -> String {
    let id = value
        .get_ref()
        .as_table()
        .and_then(|t| t.get("id"))
        .and_then(|v| v.get_ref().as_str());
    match id {
        Some(id) => format!("[[{section}]] `{id}`"),
        None => format!("[[{section}]] #{}", i + 1),
    }
}

fn de_array<T: DeserializeOwned>(
    value: &Spanned<DeValue<'_>>,
    section: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<Vec<T>> {
    let Some(items) = value.get_ref().as_array() else {
        diags.push(
            Diagnostic::error(
                "policy::type",
                format!("`{section}` must be an array of tables, written [[{section}]]"),
            )
            .at(Some(value.span()))
            .label("not an array of tables"),
        );
        return None;
    };
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        match de::<T>(item, &item_name(section, i, item), diags) {
            Some(v) => out.push(v),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

const SECTIONS: &[&str] = &[
    "policy",
    "defaults",
    "role",
    "domain",
    "standard",
    "threshold",
    "suite",
    "triggers",
    "action",
];

fn assemble(root: &Spanned<DeTable<'_>>, diags: &mut Vec<Diagnostic>) -> Option<Policy> {
    let table = root.get_ref();
    for (key, _) in table {
        if !SECTIONS.contains(&key.get_ref().as_ref()) {
            let mut d = Diagnostic::error(
                "policy::unknown-section",
                format!("unknown section `{}`", key.get_ref()),
            )
            .at(Some(key.span()))
            .label("not a policy section");
            d = d.help(format!("known sections: {}", SECTIONS.join(", ")));
            diags.push(d);
        }
    }
    let get = |k: &str| table.get(k);
    let missing = |k: &str, diags: &mut Vec<Diagnostic>| {
        diags.push(
            Diagnostic::error(
                "policy::missing-section",
                format!("the policy has no [{k}] section"),
            )
            .at(Some(0..0))
            .help(format!(
                "add a [{k}] table; see `rsp policy schema` or docs/policy.md"
            )),
        );
    };
    let mut ok = true;
    let meta: Option<Metadata> = match get("policy") {
        Some(v) => de(v, "[policy]", diags),
        None => {
            missing("policy", diags);
            None
        }
    };
    let triggers: Option<Triggers> = match get("triggers") {
        Some(v) => de(v, "[triggers]", diags),
        None => {
            missing("triggers", diags);
            None
        }
    };
    let defaults: Option<Defaults> =
        get("defaults").map_or(Some(Defaults::default()), |v| de(v, "[defaults]", diags));
    let arr = get;
    let roles: Option<Vec<Role>> =
        arr("role").map_or(Some(Vec::new()), |v| de_array(v, "role", diags));
    let domains: Option<Vec<Domain>> =
        arr("domain").map_or(Some(Vec::new()), |v| de_array(v, "domain", diags));
    let standards: Option<Vec<Standard>> =
        arr("standard").map_or(Some(Vec::new()), |v| de_array(v, "standard", diags));
    let thresholds: Option<Vec<Threshold>> =
        arr("threshold").map_or(Some(Vec::new()), |v| de_array(v, "threshold", diags));
    let suites: Option<Vec<SuiteDecl>> =
        arr("suite").map_or(Some(Vec::new()), |v| de_array(v, "suite", diags));
    let actions: Option<Vec<Action>> =
        arr("action").map_or(Some(Vec::new()), |v| de_array(v, "action", diags));
    ok &= diags.is_empty();
    Some(Policy {
        policy: meta?,
        defaults: defaults?,
        roles: roles?,
        domains: domains?,
        standards: standards?,
        thresholds: thresholds?,
        suites: suites?,
        triggers: triggers?,
        actions: actions?,
    })
    .filter(|_| ok)
}

/// Most errors reported for one item before giving up on it.
const MAX_ERRORS_PER_ITEM: usize = 32;

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}
