//! Compare: two runs side by side on the same sample ids.

use axum::extract::State;
use maud::html;
use serde::Deserialize;

use super::{PageResult, enc, layout};
use crate::api::read::{RunsQuery, list_runs};
use crate::extract::Q;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct CompareForm {
    a: Option<String>,
    b: Option<String>,
}

/// `GET /compare?a=&b=`.
pub(crate) async fn page(State(s): State<AppState>, Q(f): Q<CompareForm>) -> PageResult {
    let runs = list_runs(&s, &RunsQuery::default()).await?;
    let (a, b) = (f.a.unwrap_or_default(), f.b.unwrap_or_default());
    let result = if a.is_empty() || b.is_empty() {
        None
    } else {
        Some(crate::compare::compare(&s, &a, &b).await?)
    };
    Ok(layout(
        "Compare",
        "compare",
        &html! {
            h1 { "Compare two runs" }
            form.filters method="get" action="/compare" {
                fieldset {
                    legend { "Runs to pair on sample id" }
                    @for (name, label, current) in [("a", "Run A ", &a), ("b", "Run B ", &b)] {
                        label { (label)
                            select name=(name) {
                                option value="" { "—" }
                                @for r in &runs {
                                    @let text = format!("{} · {} / {} · {}", r.model_name.as_deref().unwrap_or(&r.model), r.suite, r.task, &r.id);
                                    @if &r.id == current { option value=(r.id) selected { (text) } } @else { option value=(r.id) { (text) } }
                                }
                            }
                        }
                    }
                    button type="submit" { "Compare" }
                }
            }
            @if let Some(c) = &result {
                table #comparison {
                    caption { "A − B on " (c.n_paired) " paired samples" }
                    tbody {
                        tr { th scope="row" { "Run A" } td { a href={ "/runs/" (enc(&c.a.id)) } { (c.a.suite) " / " (c.a.task) } " · " (c.a.model) " · mean " (format!("{:.3}", c.mean_a)) } }
                        tr { th scope="row" { "Run B" } td { a href={ "/runs/" (enc(&c.b.id)) } { (c.b.suite) " / " (c.b.task) } " · " (c.b.model) " · mean " (format!("{:.3}", c.mean_b)) } }
                        tr { th scope="row" { "Difference" } td { strong { (format!("{:+.3}", c.difference)) } " [" (format!("{:.3}, {:.3}", c.lower, c.upper)) "] at " (format!("{:.0}%", c.confidence * 100.0)) } }
                        tr { th scope="row" { "Test" } td { (c.test) } }
                        tr { th scope="row" { "p-value" } td { (format!("{:.4}", c.p_value)) } }
                        @if let Some(t) = &c.table {
                            tr { th scope="row" { "2×2" } td { "both right " (t.both) " · only A " (t.only_a) " · only B " (t.only_b) " · neither " (t.neither) } }
                        }
                        tr { th scope="row" { "Unpaired" } td { (c.only_in_a) " only in A, " (c.only_in_b) " only in B" } }
                    }
                }
                h2 { "Samples that differ" }
                @if c.differing.is_empty() { p.muted { "None: both runs score every paired sample the same." } } @else {
                    table {
                        thead { tr { th scope="col" { "Sample" } th scope="col" { "A" } th scope="col" { "B" } } }
                        tbody { @for d in &c.differing { tr {
                            td { (d.sample_id) " · " a href={ "/runs/" (enc(&c.a.id)) "/samples/" (enc(&d.sample_id)) "/0" } { "A" } " · " a href={ "/runs/" (enc(&c.b.id)) "/samples/" (enc(&d.sample_id)) "/0" } { "B" } }
                            td.num { (format!("{:.3}", d.a)) }
                            td.num { (format!("{:.3}", d.b)) }
                        } } }
                    }
                }
            }
        },
    ))
}
