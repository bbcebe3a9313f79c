//! The Capability and Safeguards reports rendered from a hand-built
//! assessment (see `report/fixture.rs`) that covers every determination
//! status, every safeguard status and every kind of decision reason.
#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

#[path = "report/fixture.rs"]
mod fixture;

use fixture::{HOSTILE, assessment, extras};
use rsp_assess::report::{ForecastNote, Format, ReportJson, ReportKind, parse_json, render};

fn md(kind: ReportKind) -> String {
    render(kind, Format::Markdown, &assessment(), &extras()).unwrap()
}

fn html(kind: ReportKind) -> String {
    render(kind, Format::Html, &assessment(), &extras()).unwrap()
}

#[test]
fn capability_report_markdown() {
    insta::assert_snapshot!("capability_md", md(ReportKind::Capability));
}

#[test]
fn safeguards_report_markdown() {
    insta::assert_snapshot!("safeguards_md", md(ReportKind::Safeguards));
}

#[test]
fn html_has_an_anchor_for_every_threshold_and_escapes_transcripts() {
    let a = assessment();
    let page = html(ReportKind::Capability);
    for f in &a.findings {
        assert!(
            page.contains(&format!("id=\"threshold-{}\"", f.id)),
            "no anchor for {}",
            f.id
        );
        assert!(page.contains(&format!("href=\"#threshold-{}\"", f.id)));
    }
    for page in [page, html(ReportKind::Safeguards)] {
        assert!(!page.contains("<script"), "unescaped script tag");
        assert!(
            !page.contains("href=\"http") && !page.contains("src="),
            "external asset"
        );
        assert!(page.starts_with("<!doctype html>") && page.contains("<style>"));
    }
    assert!(
        html(ReportKind::Capability).contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;")
    );
}

#[test]
fn markdown_escapes_hostile_text_outside_verbatim_blocks() {
    let m = md(ReportKind::Capability);
    assert!(m.contains("hostile note \\<script\\>"), "note not escaped");
    // Inside a fenced block the transcript is verbatim, fenced apart.
    assert!(m.contains("```text\n<script>alert('x')</script>"));
}

#[test]
fn every_status_shows_as_text_with_its_class() {
    let page = html(ReportKind::Capability);
    for (class, text) in [
        ("ruled-out", "ruled out"),
        ("alert", "alert"),
        ("no-evidence", "no evidence"),
        ("cannot-rule-out", "cannot rule out"),
        ("crossed", "crossed"),
    ] {
        assert!(
            page.contains(&format!("status-{class}\">{text}</span>")),
            "{class}"
        );
    }
    let page = html(ReportKind::Safeguards);
    for (class, text) in [
        ("in-place", "in place"),
        ("missing", "missing"),
        ("expired", "expired"),
        ("failing-bound", "failing its bound"),
        ("unverified", "unverified"),
    ] {
        assert!(
            page.contains(&format!("safeguard-{class}\">{text}</span>")),
            "{class}"
        );
    }
    for id in [
        "decision-deploy",
        "decision-train-1e22",
        "decision-train-1e21",
        "safeguard-red-team",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
    }
}

#[test]
fn transcripts_are_sampled_to_five_and_short_runs_say_so() {
    let m = md(ReportKind::Capability);
    let section = |run: &str| {
        let start = m.find(&format!("### Run `{run}`")).unwrap();
        let rest = &m[start + 4..];
        rest[..rest.find("\n### ").unwrap_or(rest.len())].to_owned()
    };
    assert_eq!(section("r-know").matches("#### Sample").count(), 5);
    assert!(section("r-know").contains("5 of 12 samples"));
    let bio = section("r-bio");
    assert_eq!(bio.matches("#### Sample").count(), 3);
    assert!(bio.contains("Only 3 samples exist for this run"));
    assert!(bio.contains("… [truncated: 100 more characters]"));
    assert!(section("r-cyber").contains("No transcripts"));
    assert!(section("r-know-plain").contains("No transcripts"));
    assert_eq!(md(ReportKind::Safeguards).matches("#### Sample").count(), 5);
}

#[test]
fn calibration_warnings_flag_only_the_bad_rules() {
    let m = md(ReportKind::Capability);
    assert_eq!(m.matches("**Frequent false alarms:**").count(), 1);
    assert!(m.contains("BIO-1 rule 1 (bio-proxy · accuracy): a model whose true score is 0.500"));
    assert_eq!(m.matches("**Frequent misses:**").count(), 1);
    assert!(m.contains("AUTO-1 rule 1 (agent-tasks · accuracy): a model exactly at the line"));
}

#[test]
fn a_changed_policy_file_is_flagged() {
    assert!(!md(ReportKind::Capability).contains("Policy changed"));
    let mut x = extras();
    x.policy_sha256 = Some("cd".repeat(32));
    let m = render(ReportKind::Safeguards, Format::Markdown, &assessment(), &x).unwrap();
    assert!(m.contains("**Policy changed:**"));
}

#[test]
fn json_round_trips_to_the_same_assessment() {
    let (a, x) = (assessment(), extras());
    for kind in [ReportKind::Capability, ReportKind::Safeguards] {
        let json = render(kind, Format::Json, &a, &x).unwrap();
        let back: ReportJson = parse_json(&json).unwrap();
        // Adjusted bounds such as 0.45 + 0.02 = 0.47000000000000003 only
        // parse back exactly with serde_json's `float_roundtrip` feature.
        assert!(
            back == ReportJson {
                kind,
                assessment: a.clone(),
                extras: x.clone()
            },
            "JSON did not round-trip; is serde_json's float_roundtrip feature enabled for rsp-assess?"
        );
        let pos = |k: &str| json.find(&format!("\n  \"{k}\": ")).unwrap();
        assert!(pos("kind") < pos("assessment") && pos("assessment") < pos("extras"));
    }
    assert!(
        render(ReportKind::Capability, Format::Json, &a, &x)
            .unwrap()
            .contains("\"kind\": \"capability\"")
    );
    assert!(parse_json("{}").is_err());
}

/// Extras with two forecast notes: KNOW-1 with a recommendation and a chart,
/// and a rule with a hostile suite name and too few checkpoints.
fn with_forecasts() -> rsp_assess::report::ReportExtras {
    let mut x = extras();
    x.forecasts = vec![
        ForecastNote {
            threshold: "KNOW-1".into(),
            rule: 0,
            suite: "knowledge-proxy".into(),
            metric: "accuracy".into(),
            summary: "Log-linear fit to 4 checkpoints: the alert line 0.6 is forecast at 1.4e22 FLOP [1.1e22, 2.9e22].".into(),
            recommendation: Some("Assess at 1.4e22 FLOP, before the scheduled 3.2e22 FLOP.".into()),
            svg: Some(
                "<svg width=\"8\" height=\"8\" viewBox=\"0 0 8 8\" xmlns=\"http://www.w3.org/2000/svg\">\n<circle cx=\"1\" cy=\"1\" r=\"1\"/>\n</svg>\n".into(),
            ),
            chart_file: Some("forecast-KNOW-1-1.svg".into()),
        },
        ForecastNote {
            threshold: "BIO-1".into(),
            rule: 0,
            suite: HOSTILE.into(),
            metric: "accuracy".into(),
            summary: "No forecast: fewer than 3 checkpoints have an estimate (1 has).".into(),
            recommendation: None,
            svg: None,
            chart_file: None,
        },
    ];
    x
}

#[test]
fn forecast_notes_embed_the_chart_in_html_and_link_it_from_markdown() {
    let (a, x) = (assessment(), with_forecasts());
    let page = render(ReportKind::Capability, Format::Html, &a, &x).unwrap();
    let at = page.find("<h2>Forecast</h2>").expect("a Forecast section");
    // After the calibration, before the transcripts.
    assert!(page.find("Calibration of the lines").unwrap() < at);
    assert!(at < page.find("<h2>Sampled transcripts</h2>").unwrap());
    let section = &page[at..];
    assert!(section.contains("<figure class=\"chart\">\n<svg width=\"8\""));
    assert!(section.contains("<strong>Assess earlier:</strong> Assess at 1.4e22 FLOP"));
    assert!(section.contains("fewer than 3 checkpoints"));
    // The hostile suite name reaches headings and captions escaped only.
    assert!(!page.contains("<script"), "unescaped script tag");
    assert!(section.contains("BIO-1 rule 1 (&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(section.contains(
        "<figcaption>Forecast chart of KNOW-1 rule 1 (knowledge-proxy · accuracy)</figcaption>"
    ));

    let m = render(ReportKind::Capability, Format::Markdown, &a, &x).unwrap();
    assert!(m.contains("## Forecast"));
    assert!(
        m.contains(
            "[Forecast chart of KNOW-1 rule 1 (knowledge-proxy · accuracy)](forecast-KNOW-1-1.svg)"
        ),
        "{m}"
    );
    assert!(m.contains("> **Assess earlier:** Assess at 1.4e22 FLOP"));
    assert!(
        !m.contains("<svg"),
        "Markdown links the chart, never inlines it"
    );
    assert!(m.contains("### BIO-1 rule 1 (\\<script\\>"));
    // Without notes there is no section at all, and the Safeguards Report never has one.
    assert!(!md(ReportKind::Capability).contains("## Forecast"));
    assert!(
        !render(ReportKind::Safeguards, Format::Markdown, &a, &x)
            .unwrap()
            .contains("## Forecast")
    );
    // The notes survive the JSON round trip.
    let json = render(ReportKind::Capability, Format::Json, &a, &x).unwrap();
    assert_eq!(parse_json(&json).unwrap().extras.forecasts, x.forecasts);
}
