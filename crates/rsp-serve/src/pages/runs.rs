//! Run browser: recent runs, and one run's samples with filters and keyset pages.

use axum::extract::State;
use maud::html;

use super::{PageResult, enc, layout, num, status_badge};
use crate::api::read::{RunsQuery, SamplesQuery, get_run, list_runs, sample_page};
use crate::extract::{P, Q};
use crate::state::AppState;

/// `GET /runs`.
pub(crate) async fn index(State(s): State<AppState>, Q(q): Q<RunsQuery>) -> PageResult {
    let runs = list_runs(&s, &q).await?;
    Ok(layout(
        "Runs",
        "runs",
        &html! {
            h1 { "Runs" }
            @if runs.is_empty() { p { "No runs yet: " code { "rsp eval SUITE --model M" } } } @else {
                table #runs {
                    thead { tr {
                        th scope="col" { "Run" } th scope="col" { "Model" } th scope="col" { "Suite / task" }
                        th scope="col" { "Status" } th scope="col" { "Samples" } th scope="col" { "Source" } th scope="col" { "Created" }
                    } }
                    tbody { @for r in &runs { tr {
                        td { a href={ "/runs/" (enc(&r.id)) } { code { (r.id) } } }
                        td { (r.model_name.as_deref().unwrap_or(&r.model)) }
                        td { (r.suite) " / " (r.task) }
                        td { (status_badge(&r.status)) }
                        td.num { (r.total_samples) }
                        td { (r.source) }
                        td { (r.created_at.format("%Y-%m-%d %H:%M")) }
                    } } }
                }
            }
        },
    ))
}

fn filter_link(run: &str, q: &SamplesQuery, after: &str) -> String {
    let mut parts = vec![format!("after={}", enc(after))];
    if let Some(v) = q.min_value {
        parts.push(format!("min_value={v}"));
    }
    if let Some(v) = q.max_value {
        parts.push(format!("max_value={v}"));
    }
    if let Some(e) = q.error.as_deref().filter(|e| !e.is_empty()) {
        parts.push(format!("error={}", enc(e)));
    }
    if let Some(m) = q.meta.as_deref().filter(|m| !m.is_empty()) {
        parts.push(format!("meta={}", enc(m)));
    }
    if let Some(l) = q.limit {
        parts.push(format!("limit={l}"));
    }
    format!("/runs/{}?{}", enc(run), parts.join("&"))
}

/// `GET /runs/{id}`.
pub(crate) async fn run(
    State(s): State<AppState>,
    P(id): P<String>,
    Q(q): Q<SamplesQuery>,
) -> PageResult {
    let r = get_run(&s, &id).await?;
    let page = sample_page(&s, &id, &q).await?;
    let err_sel = q.error.clone().unwrap_or_default();
    Ok(layout(
        &format!("Run {id}"),
        "runs",
        &html! {
            p.crumbs { a href="/runs" { "Runs" } " › " code { (id) } }
            h1 { (r.suite) " / " (r.task) }
            dl.facts {
                dt { "Model" } dd { (r.model_name.as_deref().unwrap_or(&r.model)) " (" code { (r.model) } ")" }
                dt { "Status" } dd { (status_badge(&r.status)) }
                dt { "Samples" } dd { (r.total_samples) " expected" }
                dt { "Source" } dd { (r.source) }
                @if let Some(sum) = &r.summary { dt { "Summary" } dd { details { summary { "metrics" } pre { (super::pretty(sum)) } } } }
            }
            form.filters method="get" action={ "/runs/" (enc(&id)) } {
                fieldset {
                    legend { "Filter samples" }
                    label { "Score ≥ " input type="number" step="any" name="min_value" value=[q.min_value]; }
                    label { "Score ≤ " input type="number" step="any" name="max_value" value=[q.max_value]; }
                    label { "Errors "
                        select name="error" {
                            @for (v, l) in [("any", "any"), ("yes", "only errored"), ("no", "no errors")] {
                                @if err_sel == v { option value=(v) selected { (l) } } @else { option value=(v) { (l) } }
                            }
                        }
                    }
                    label { "Metadata " input type="text" name="meta" placeholder="field=value" value=[q.meta.as_deref()]; }
                    button type="submit" { "Apply" }
                    " " a href={ "/runs/" (enc(&id)) } { "clear" }
                }
            }
            @if let Some(through) = page.scanned_through.filter(|_| page.next.is_some()) {
                p.warning #scan-budget { "Searched through position " (through) " and found "
                    (page.samples.len()) " match(es) so far; each page examines at most "
                    (crate::queries::SCAN_WINDOW) " positions so a rare filter stays fast. Follow “next page” to keep searching." }
            }
            @if page.samples.is_empty() { p.muted { "No sample matches here." } } @else {
                table #samples {
                    thead { tr {
                        th scope="col" { "#" } th scope="col" { "Sample" } th scope="col" { "Epoch" }
                        th scope="col" { "Score" } th scope="col" { "Error" } th scope="col" { "Metadata" } th scope="col" { "Time (ms)" }
                    } }
                    tbody { @for x in &page.samples { tr {
                        td.num { (x.position) }
                        td { a href={ "/runs/" (enc(&id)) "/samples/" (enc(&x.sample_id)) "/" (x.epoch) } { (x.sample_id) } }
                        td.num { (x.epoch) }
                        td.num { (num(x.value)) }
                        td { @if let Some(e) = &x.error { span class="badge st-failed" { "error" } " " (e.chars().take(80).collect::<String>()) } }
                        td { small { (x.metadata.to_string().chars().take(120).collect::<String>()) } }
                        td.num { (format!("{:.0}", x.timing_ms)) }
                    } } }
                }
            }
            nav.pager aria-label="Pages" {
                @if q.after.as_deref().is_some_and(|a| !a.is_empty()) { a href={ "/runs/" (enc(&id)) } { "« first page" } " " }
                @if let Some(next) = &page.next { a rel="next" href=(filter_link(&id, &q, next)) { "next page »" } }
            }
        },
    ))
}
