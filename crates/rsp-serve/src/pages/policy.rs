//! Policy: plain-language rendering, versions from the ledger, semantic diffs with
//! weakening highlighted.

use axum::extract::State;
use maud::{PreEscaped, html};
use serde::Deserialize;

use super::{PageResult, layout};
use crate::api::read::diff_versions;
use crate::extract::Q;
use crate::queries;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PolicyForm {
    from: Option<u64>,
    to: Option<u64>,
}

/// The body of `rsp-policy`'s HTML rendering (its page frame carries an inline style,
/// which the CSP forbids; the content itself is escaped by `rsp-policy`).
fn explain_body(policy: &rsp_policy::Policy) -> String {
    let html = rsp_policy::explain::explain(policy, rsp_policy::explain::Format::Html);
    match (html.find("<main>"), html.rfind("</main>")) {
        (Some(a), Some(b)) if a < b => html[a + "<main>".len()..b].to_owned(),
        _ => String::new(),
    }
}

/// `GET /policy`.
pub(crate) async fn page(State(s): State<AppState>, Q(f): Q<PolicyForm>) -> PageResult {
    let current = s.policy()?;
    let versions = queries::policy_versions(&s).await?;
    let pair = match (f.from, f.to) {
        (Some(a), Some(b)) => Some((a, b)),
        _ if versions.len() >= 2 => Some((
            versions[versions.len() - 2].idx,
            versions[versions.len() - 1].idx,
        )),
        _ => None,
    };
    let diff = match pair {
        Some((a, b)) => Some(diff_versions(&s, a, b).await?),
        None => None,
    };
    Ok(layout(
        "Policy",
        "policy",
        &html! {
            h1 { "Policy" }
            h2 { "Versions" }
            @if versions.is_empty() { p.muted { "No policy version is recorded in the ledger yet." } } @else {
                table #versions {
                    thead { tr { th scope="col" { "Ledger #" } th scope="col" { "Name" } th scope="col" { "Version" } th scope="col" { "Recorded" } th scope="col" { "SHA-256" } } }
                    tbody { @for v in versions.iter().rev() { tr {
                        td.num { (v.idx) }
                        td { (v.name.as_deref().unwrap_or("(does not parse)")) }
                        td { (v.version.as_deref().unwrap_or("—")) @if current.as_ref().is_some_and(|c| c.sha256 == v.sha256) { " " span.badge.st-ok { "in force" } } }
                        td { (v.recorded_at.format("%Y-%m-%d %H:%M")) }
                        td { code { (v.sha256.get(..16).unwrap_or(&v.sha256)) "…" } }
                    } } }
                }
                @if versions.len() >= 2 {
                    form.filters method="get" action="/policy" {
                        fieldset { legend { "Compare versions" }
                            @for (name, label, sel) in [("from", "Old ", pair.map(|p| p.0)), ("to", "New ", pair.map(|p| p.1))] {
                                label { (label) select name=(name) {
                                    @for v in &versions {
                                        @let t = format!("#{} {}", v.idx, v.version.as_deref().unwrap_or("?"));
                                        @if Some(v.idx) == sel { option value=(v.idx) selected { (t) } } @else { option value=(v.idx) { (t) } }
                                    }
                                } }
                            }
                            button type="submit" { "Diff" }
                        }
                    }
                }
            }
            @if let Some(d) = &diff {
                h2 { "Changes from " (d.old_version) " to " (d.new_version) }
                @if d.weakening > 0 {
                    p.warning #weakening { strong { "⚠ " (d.weakening) " change(s) weaken the policy." } }
                } @else { p { "No change weakens the policy." } }
                @if d.changes.is_empty() { p.muted { "No semantic changes." } } @else {
                    table #diff {
                        thead { tr { th scope="col" { "Change" } th scope="col" { "Item" } th scope="col" { "Old → new" } th scope="col" { "Weakens?" } } }
                        tbody { @for c in &d.changes {
                            tr class=[c.weakens.as_ref().map(|_| "weakens")] {
                                td { (c.kind) " " (c.area) }
                                td { (c.item) @if let Some(fld) = &c.field { " · " code { (fld) } } }
                                td { code { (c.old.as_ref().map_or("—".to_owned(), ToString::to_string)) } " → " code { (c.new.as_ref().map_or("—".to_owned(), ToString::to_string)) } }
                                td { @if let Some(w) = &c.weakens { span class="badge st-crossed" { "✕ weakens" } " " (w) } @else { "no" } }
                            }
                        } }
                    }
                }
            }
            h2 { "In force, in plain language" }
            @if let Some(p) = &current {
                p { "SHA-256 " code { (p.sha256) } }
                article.explain { (PreEscaped(explain_body(&p.policy))) }
            } @else { p.warning { "No policy is configured for this server." } }
        },
    ))
}
