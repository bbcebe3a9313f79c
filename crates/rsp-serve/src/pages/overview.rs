//! Overview: "what level is each model at, and why?" in one table.

use axum::extract::State;
use maud::{Markup, html};

use super::{PageResult, ci, enc, layout, num, status_badge};
use crate::api::types::{DeployInfo, ModelStatus};
use crate::state::AppState;
use crate::view;

fn deploy_cell(d: Option<&DeployInfo>) -> Markup {
    let Some(d) = d else {
        return html! { span.muted { "no decision" } };
    };
    html! {
        @if !d.allowed {
            (status_badge("blocked"))
            @if !d.blocked_by.is_empty() { " by " (d.blocked_by.join(", ")) }
        } @else if d.awaiting.is_empty() {
            (status_badge("allowed"))
        } @else {
            (status_badge("awaiting"))
        }
        @if let Some(s) = &d.decision_status { " · " (s) }
        br;
        small {
            @if d.signed.is_empty() { "no signatures" } @else { "signed: " (d.signed.join(", ")) }
            @if !d.awaiting.is_empty() { " · awaiting: " (d.awaiting.join(", ")) }
        }
    }
}

fn row(m: &ModelStatus) -> Markup {
    html! {
        tr {
            th scope="row" { a href={ "/models/" (enc(&m.model)) } { (m.model) } }
            @if m.assessment.is_none() {
                td colspan="4" { span.muted { "not assessed" } }
            } @else {
                td { (m.required.as_deref().unwrap_or("none required")) }
                td {
                    (m.in_place.as_deref().unwrap_or("none"))
                    br;
                    small { (m.safeguards_in_place) " of " (m.safeguards_required) " required safeguards in place" }
                }
                td { (deploy_cell(m.deploy.as_ref())) }
                td {
                    @if let Some(n) = &m.nearest {
                        (status_badge(&n.status)) " "
                        strong { (n.threshold) } " · " (n.suite) " " (n.metric)
                        br;
                        small {
                            (num(Some(n.estimate))) " " (ci(Some(n.lower), Some(n.upper)))
                            @if n.margin != 0.0 { " +" (format!("{:.2}", n.margin)) " margin" }
                            " vs " (n.against) " " (format!("{:.2}", n.line))
                        }
                    } @else { span.muted { "no rule measured" } }
                }
            }
            td { (next_text(m)) }
        }
    }
}

fn next_text(m: &ModelStatus) -> String {
    match (m.next.at_flop, &m.next.by_date) {
        (Some(f), Some(d)) => format!("at {f:.1e} FLOP or by {d}"),
        (Some(f), None) => format!("at {f:.1e} FLOP"),
        (None, Some(d)) => format!("by {d}"),
        (None, None) => "not scheduled".to_owned(),
    }
}

/// `GET /`.
pub(crate) async fn page(State(s): State<AppState>) -> PageResult {
    let rows = view::overview(&s).await?;
    let policy = s.policy()?;
    Ok(layout(
        "Overview",
        "overview",
        &html! {
            h1 { "Overview" }
            @if let Some(p) = &policy {
                p.lead { "Policy " strong { (p.policy.policy.name) } " version " (p.policy.policy.version) " · " a href="/policy" { "read it" } }
            } @else {
                p.warning { "No policy is configured, so required signers and the schedule of unassessed models are unknown." }
            }
            @if rows.is_empty() {
                p { "No registered models yet: " code { "rsp model add" } " registers one, " code { "rsp assess --model M" } " assesses it." }
            } @else {
                table #overview {
                    caption { "One row per model, from its latest assessment" }
                    thead { tr {
                        th scope="col" { "Model" }
                        th scope="col" { "Required standard" }
                        th scope="col" { "Safeguards in place" }
                        th scope="col" { "Deploy decision" }
                        th scope="col" { "Nearest line (95% CI)" }
                        th scope="col" { "Next assessment" }
                    } }
                    tbody { @for m in &rows { (row(m)) } }
                }
            }
        },
    ))
}
