//! Ledger: entries, latest checkpoint, verify now.

use axum::extract::State;
use maud::{Markup, html};

use super::{PageResult, layout, status_badge};
use crate::api::read::{LedgerQuery, ledger_page, run_verifier};
use crate::extract::Q;
use crate::hooks::VerifySummary;
use crate::state::AppState;

fn verify_result(v: &VerifySummary) -> Markup {
    html! {
        section #verify-result {
            h2 { "Verification" }
            p { (status_badge(if v.ok { "ok" } else { "bad" })) " "
                (v.leaves) " leaves and " (v.checkpoints) " checkpoints checked"
                @if let Some(r) = &v.root { " · root " code { (r) } } }
            @if !v.problems.is_empty() { ul.problems { @for p in &v.problems { li { (p) } } } }
        }
    }
}

async fn render(s: &AppState, q: &LedgerQuery, verified: Option<VerifySummary>) -> PageResult {
    let page = ledger_page(s, q).await?;
    Ok(layout(
        "Ledger",
        "ledger",
        &html! {
            h1 { "Audit ledger" }
            p { (page.size) " entries. "
                a.button href="/ledger/verify" { "Verify now" } }
            @if let Some(v) = &verified { (verify_result(v)) }
            h2 { "Latest checkpoint" }
            @if let Some(c) = &page.checkpoint {
                p { "Covers " (c.size) " entries · stored " (c.created_at.format("%Y-%m-%d %H:%M:%S UTC")) }
                pre #checkpoint { (c.text) }
            } @else { p.muted { "No checkpoint yet." } }
            h2 { "Entries" }
            table #entries {
                thead { tr { th scope="col" { "#" } th scope="col" { "Kind" } th scope="col" { "Appended" } th scope="col" { "Artifact" } th scope="col" { "Meta" } } }
                tbody { @for e in &page.entries { tr {
                    td.num { (e.idx) }
                    td { (e.kind) }
                    td { (e.created_at.format("%Y-%m-%d %H:%M:%S")) }
                    td { @if let Some(a) = &e.artifact_sha256 { code { (a.get(..16).unwrap_or(a)) "…" } } }
                    td { small { (e.leaf.get("meta").map(ToString::to_string).unwrap_or_default()) } }
                } } }
            }
            @if let Some(b) = page.next_before { nav.pager { a rel="next" href={ "/ledger?before=" (b) } { "older »" } } }
        },
    ))
}

/// `GET /ledger`.
pub(crate) async fn page(State(s): State<AppState>, Q(q): Q<LedgerQuery>) -> PageResult {
    render(&s, &q, None).await
}

/// `GET /ledger/verify`: verifying changes nothing, so it is a plain link, not a form.
pub(crate) async fn verify(State(s): State<AppState>) -> PageResult {
    let v = run_verifier(&s).await?;
    render(&s, &LedgerQuery::default(), Some(v)).await
}
