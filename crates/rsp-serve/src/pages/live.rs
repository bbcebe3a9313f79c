//! Live runs: rendered on the server, then kept current by `/assets/live.js` over SSE.

use axum::extract::State;
use maud::html;

use super::{PageResult, enc, layout};
use crate::queries;
use crate::state::AppState;

/// `GET /live`.
pub(crate) async fn page(State(s): State<AppState>) -> PageResult {
    let runs = queries::live_runs(&s).await?;
    Ok(layout(
        "Live runs",
        "live",
        &html! {
            h1 { "Live runs" }
            p #live-status role="status" { "Showing runs in flight; this page updates itself while open." }
            table #live-runs data-events="/api/v1/live/events" {
                thead { tr { th scope="col" { "Run" } th scope="col" { "Model" } th scope="col" { "Suite / task" } th scope="col" { "Progress" } th scope="col" { "Errors" } } }
                tbody {
                    @if runs.is_empty() { tr.empty { td colspan="5" { "No run in flight." } } }
                    @for r in &runs { tr {
                        td { a href={ "/runs/" (enc(&r.id)) } { code { (r.id) } } }
                        td { (r.model) }
                        td { (r.suite) " / " (r.task) }
                        td { progress max=(r.total.max(1)) value=(r.done) {} " " (r.done) " / " (r.total) }
                        td.num { (r.errors) }
                    } }
                }
            }
        },
    ))
}
