//! One sample: transcript, scorer explanations, judge output.

use axum::extract::State;
use maud::{Markup, html};
use serde_json::Value;

use super::{PageResult, enc, layout, num, pretty};
use crate::api::read::get_sample;
use crate::extract::P;
use crate::state::AppState;

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => pretty(other),
    }
}

/// A chat transcript when the output holds `messages`, else the raw JSON.
fn transcript(output: &Value) -> Markup {
    let messages = output.get("messages").and_then(Value::as_array);
    html! {
        @if let Some(ms) = messages.filter(|m| !m.is_empty()) {
            ol.transcript {
                @for m in ms {
                    @let role = m.get("role").and_then(Value::as_str).unwrap_or("message");
                    li class={ "msg role-" (role) } {
                        div.role { (role) }
                        pre.content { (m.get("content").map(text_of).unwrap_or_default()) }
                    }
                }
            }
        }
        @if let Some(c) = output.get("completion").filter(|c| !c.is_null()) {
            h3 { "Final completion" }
            pre.content #completion { (text_of(c)) }
        }
        details { summary { "Raw output JSON" } pre { (pretty(output)) } }
    }
}

fn scores(scores: &Value) -> Markup {
    let Some(map) = scores.as_object() else {
        return html! { pre { (pretty(scores)) } };
    };
    html! {
        @for (name, s) in map {
            section.score {
                h3 { "Scorer " code { (name) } }
                dl.facts {
                    dt { "Value" } dd { (s.get("value").map(text_of).unwrap_or_default()) }
                    @if let Some(a) = s.get("answer").filter(|a| !a.is_null()) { dt { "Answer read" } dd { (text_of(a)) } }
                    @if let Some(e) = s.get("explanation").filter(|e| !e.is_null()) { dt { "Explanation" } dd.explanation { (text_of(e)) } }
                }
                @if let Some(meta) = s.get("metadata").and_then(Value::as_object) {
                    @if let Some(raw) = meta.get("judge_raw") {
                        h4 { "Judge raw output" @if let Some(m) = meta.get("judge_model") { " (" (text_of(m)) ")" } }
                        pre.judge { (text_of(raw)) }
                    }
                    @if let Some(p) = meta.get("judge_prompt") {
                        details { summary { "Judge prompt" } pre { (text_of(p)) } }
                    }
                }
            }
        }
    }
}

/// `GET /runs/{id}/samples/{sample}/{epoch}`.
pub(crate) async fn page(
    State(s): State<AppState>,
    P((run, sample, epoch)): P<(String, String, u32)>,
) -> PageResult {
    let x = get_sample(&s, &run, &sample, epoch).await?;
    Ok(layout(
        &format!("Sample {sample}"),
        "runs",
        &html! {
            p.crumbs { a href="/runs" { "Runs" } " › " a href={ "/runs/" (enc(&run)) } { code { (run) } } " › " (sample) " epoch " (epoch) }
            h1 { "Sample " (sample) }
            dl.facts {
                dt { "Score" } dd #score { (num(x.value)) }
                @if let Some(e) = &x.error { dt { "Error" } dd { span class="badge st-failed" { "error" } " " (e) } }
                dt { "Retries" } dd { (x.retries) }
                dt { "Time" } dd { (format!("{:.0} ms", x.timing_ms)) }
                dt { "Metadata" } dd { code { (x.metadata.to_string()) } }
            }
            h2 { "Input" }
            pre.content #input { (text_of(&x.input)) }
            h2 { "Target" }
            pre.content { (text_of(&x.target)) }
            h2 { "Transcript" }
            (transcript(&x.output))
            h2 { "Scores" }
            (scores(&x.scores))
            details { summary { "Usage" } pre { (pretty(&x.usage)) } }
        },
    ))
}
