//! Model: thresholds table, history and forecast charts, runs.

use axum::extract::State;
use maud::{PreEscaped, html};
use rsp_store::RunFilter;
use rsp_store::prelude::*;

use super::{PageError, PageResult, chart, ci, enc, layout, num, status_badge};
use crate::extract::P;
use crate::state::AppState;
use crate::view;

/// `GET /models/{name}`.
pub(crate) async fn page(State(s): State<AppState>, P(name): P<String>) -> PageResult {
    let d = view::model_detail(&s, &name).await?;
    let runs = s
        .store()
        .list_runs(&RunFilter {
            model: Some(d.model.spec.clone()),
            limit: Some(50),
            ..RunFilter::default()
        })
        .await
        .map_err(PageError::from)?;
    let forecasts = match &s.hooks().forecasts {
        Some(f) => Some(f.charts(&name).await),
        None => None,
    };
    let st = &d.status;
    Ok(layout(
        &name,
        "overview",
        &html! {
            p.crumbs { a href="/" { "Overview" } " › " (name) }
            h1 { (name) }
            dl.facts {
                dt { "Provider" } dd { code { (d.model.spec) } }
                dt { "Effective compute" } dd { (d.model.effective_compute_flop.map_or("unknown".to_owned(), |f| format!("{f:.2e} FLOP"))) }
                dt { "Required standard" } dd { (st.required.as_deref().unwrap_or("none")) }
                dt { "In place" } dd { (st.in_place.as_deref().unwrap_or("none")) " (" (st.safeguards_in_place) " of " (st.safeguards_required) " required safeguards)" }
                dt { "Latest assessment" } dd {
                    @if let Some(id) = &st.assessment {
                        a href={ "/api/v1/assessments/" (enc(id)) } { code { (id) } }
                        @if let Some(at) = st.assessed_at { " · " (at.format("%Y-%m-%d %H:%M UTC")) }
                    } @else { "never" }
                }
            }
            h2 { "Thresholds" }
            @if d.thresholds.is_empty() {
                p.muted { "No assessment yet: " code { "rsp assess --model " (name) } }
            } @else {
                table #thresholds {
                    caption { "Latest determination of each evidence rule" }
                    thead { tr {
                        th scope="col" { "Threshold" } th scope="col" { "Rule" }
                        th scope="col" { "Estimate" } th scope="col" { "CI" }
                        th scope="col" { "Alert / line" } th scope="col" { "Status" }
                        th scope="col" { "Elicitation gap" } th scope="col" { "Evidence" }
                    } }
                    tbody {
                        @for t in &d.thresholds {
                            tr {
                                th scope="row" { (t.threshold) @if let Some(n) = &t.name { br; small { (n) } } }
                                td { (t.suite) " · " (t.metric) br; small { (t.domain) } }
                                td.num { (num(t.estimate)) }
                                td.num { (ci(t.lower, t.upper)) br; small { (format!("{:.0}%", t.confidence * 100.0)) @if let Some(n) = t.n { ", n=" (n) } } }
                                td.num { (format!("{:.2}", t.alert)) " / " (format!("{:.2}", t.line)) @if t.margin != 0.0 { br; small { "+" (format!("{:.2}", t.margin)) " margin" } } }
                                td { (status_badge(&t.status)) @if let Some(n) = &t.note { br; small { (n) } } }
                                td.num { (t.elicitation_gap.map_or("—".to_owned(), |g| format!("{g:+.3}"))) }
                                td { @if let Some(r) = &t.run_id { a href={ "/runs/" (enc(r)) } { "run" } } @else { "—" } }
                            }
                        }
                    }
                }
            }
            h2 { "History" }
            @if d.history.iter().all(|h| h.points.is_empty()) {
                p.muted { "No measured rule yet." }
            } @else {
                div.charts {
                    @for h in d.history.iter().filter(|h| !h.points.is_empty()) {
                        figure {
                            (PreEscaped(chart::history_svg(h)))
                            figcaption { (h.threshold) " · " (h.suite) " " (h.metric) ": estimate and CI per assessment; dashed: alert line, solid: line" }
                        }
                    }
                }
            }
            h2 { "Forecast" }
            @match &forecasts {
                None => p.muted { "Forecasts are not available in this server." },
                Some(Err(e)) => p.warning { "Forecast failed: " (e) },
                Some(Ok(charts)) if charts.is_empty() => p.muted { "Too few checkpoints in this model's lineage to forecast." },
                Some(Ok(charts)) => div.charts { @for c in charts { figure { (PreEscaped(chart::sanitize_svg(&c.svg))) figcaption { (c.title) } } } },
            }
            h2 { "Runs" }
            @if runs.is_empty() { p.muted { "No runs." } } @else {
                table {
                    thead { tr { th scope="col" { "Run" } th scope="col" { "Suite / task" } th scope="col" { "Status" } th scope="col" { "Samples" } th scope="col" { "Created" } } }
                    tbody { @for r in &runs {
                        tr {
                            td { a href={ "/runs/" (enc(&r.id)) } { code { (r.id) } } }
                            td { (r.suite) " / " (r.task) }
                            td { (status_badge(r.status.as_str())) }
                            td.num { (r.total_samples) }
                            td { (r.created_at.format("%Y-%m-%d %H:%M")) }
                        }
                    } }
                }
            }
        },
    ))
}
