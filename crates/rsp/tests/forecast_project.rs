//! `rsp forecast` on a project, end to end: the real binary on a project made by
//! `rsp init`, one real assessment of a mock model, and further checkpoints whose stored
//! assessments are that real report with its numbers edited (running real evals that
//! rise on cue is not possible with mock models).

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use chrono::{NaiveDate, TimeDelta};
use common::{rsp, stderr, stdout};
use rsp_store::{AssessmentRecord, AssessmentStore as _, SqliteStore};
use serde_json::{Value, json};

const MOCK: &str = "mock/text:ANSWER: A";

fn expect(dir: &Path, args: &[&str], code: i32) -> String {
    let o = rsp(dir, args);
    assert_eq!(
        o.status.code(),
        Some(code),
        "{args:?}\nstdout:\n{}\nstderr:\n{}",
        stdout(&o),
        stderr(&o)
    );
    stdout(&o)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn store(dir: &Path) -> SqliteStore {
    runtime()
        .block_on(SqliteStore::open(SqliteStore::default_path(dir)))
        .unwrap()
}

/// A project with checkpoint `m1` (1e21 FLOP, 2026-01-01) really assessed; returns the
/// stored record, the template for the others. Its KNOW-1 estimate is about 0.25.
fn project(dir: &Path) -> AssessmentRecord {
    expect(dir, &["init"], 0);
    expect(
        dir,
        &[
            "model",
            "add",
            "m1",
            "--spec",
            MOCK,
            "--compute",
            "1e21",
            "--date",
            "2026-01-01",
        ],
        0,
    );
    // Blocked (the ASL-2 safeguards have no evidence), but the assessment is stored.
    expect(dir, &["assess", "--model", "m1"], 3);
    let rt = runtime();
    let s = store(dir);
    let mut all = rt.block_on(s.list_assessments(Some("m1"))).unwrap();
    assert_eq!(all.len(), 1);
    all.remove(0)
}

/// Registers checkpoint `name` (parent `parent`) and stores an assessment of it: the
/// template with KNOW-1's raw estimate set to `know` ± 0.06, made `seq` seconds after
/// the real one so the last one added is the lineage's latest.
#[allow(clippy::too_many_arguments)]
fn checkpoint(
    dir: &Path,
    template: &AssessmentRecord,
    name: &str,
    parent: &str,
    compute: f64,
    date: &str,
    know: f64,
    seq: i64,
) {
    let c = format!("{compute:e}");
    expect(
        dir,
        &[
            "model",
            "add",
            name,
            "--spec",
            MOCK,
            "--compute",
            &c,
            "--date",
            date,
            "--parent",
            parent,
        ],
        0,
    );
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
    let mut report: Value = template.report.clone();
    let id = rsp_store::new_id();
    report["id"] = json!(id);
    report["model"]["name"] = json!(name);
    report["model"]["effective_compute_flop"] = json!(compute);
    report["model"]["date"] = json!(date);
    report["model"]["parent"] = json!(parent);
    // The policy's compute ratio is 4 and its interval 180 days.
    report["next"] = json!({
        "at_flop": 4.0 * compute,
        "by_date": (day + TimeDelta::days(180)).to_string(),
    });
    let know_rule = report["findings"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|f| f["id"] == "KNOW-1")
        .unwrap()["rules"][0]
        .as_object_mut()
        .unwrap();
    let margin = know_rule["margin"].as_f64().unwrap();
    for (key, shift) in [("raw", 0.0), ("adjusted", margin)] {
        know_rule[key]["value"] = json!(know + shift);
        know_rule[key]["lower"] = json!(know - 0.06 + shift);
        know_rule[key]["upper"] = json!(know + 0.06 + shift);
    }
    let record = AssessmentRecord {
        id,
        model: name.to_owned(),
        created_at: template.created_at + TimeDelta::seconds(seq),
        compute_flop: Some(compute),
        comprehensive: true,
        policy_sha256: template.policy_sha256.clone(),
        decision_id: None,
        report,
    };
    runtime()
        .block_on(store(dir).insert_assessment(&record))
        .unwrap();
}

fn rule<'a>(lineage: &'a Value, threshold: &str) -> &'a Value {
    lineage["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["threshold"] == threshold)
        .unwrap()
}

#[test]
fn fewer_than_three_checkpoints_are_not_extrapolated() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let template = project(dir);
    checkpoint(dir, &template, "m2", "m1", 2e21, "2026-03-01", 0.33, 1);

    let out = expect(dir, &["forecast"], 0);
    assert!(
        out.contains("Lineage m1: 2 assessed checkpoint(s): m1, m2"),
        "{out}"
    );
    assert!(
        out.contains(
            "2 checkpoint(s) with an estimate; at least 3 are needed to forecast, so nothing is extrapolated"
        ),
        "{out}"
    );
    assert!(!out.contains("RECOMMENDATION"), "{out}");

    let v: Value = serde_json::from_str(&expect(dir, &["forecast", "--json"], 0)).unwrap();
    let know = rule(&v["lineages"][0], "KNOW-1");
    assert_eq!(know["status"], "too-few-checkpoints");
    assert!(know["alert"].is_null() && know["fit"].is_null() && know["recommendation"].is_null());
    assert_eq!(know["points"].as_array().unwrap().len(), 2);
    // The history is still drawn, without a fit.
    let svg = fs_err::read_to_string(dir.join("reports/forecast/m1-KNOW-1-1.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("line 0.8"));

    // Too few checkpoints: `rsp status` adds nothing.
    let status = expect(dir, &["status"], 0);
    assert!(!status.contains("forecast:"), "{status}");
}

#[test]
fn assessment_reports_carry_the_lineage_forecast() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // m1 alone: one checkpoint, so every rule says why nothing is forecast.
    let template = project(dir);
    let reports = dir.join("reports/m1").join(&template.id);
    let html = fs_err::read_to_string(reports.join("capability-report.html")).unwrap();
    let at = html.find("<h2>Forecast</h2>").expect("a Forecast section");
    let section = &html[at..];
    assert!(
        section.contains(
            "No forecast: fewer than 3 checkpoints of this lineage have an estimate for this \
             rule (found 1), so nothing is extrapolated."
        ),
        "{section}"
    );
    assert!(!section.contains("Assess earlier"), "{section}");
    // The one point is still charted, inline in HTML and as a file Markdown links to.
    assert!(
        section.contains("<figure class=\"chart\">\n<svg"),
        "{section}"
    );
    assert!(reports.join("forecast-KNOW-1-1.svg").is_file());
    let md = fs_err::read_to_string(reports.join("capability-report.md")).unwrap();
    assert!(md.contains("## Forecast"), "{md}");
    assert!(md.contains("](forecast-KNOW-1-1.svg)"), "{md}");
    let json: Value = serde_json::from_str(
        &fs_err::read_to_string(reports.join("capability-report.json")).unwrap(),
    )
    .unwrap();
    let notes = json["extras"]["forecasts"].as_array().unwrap();
    assert!(notes.iter().any(|n| n["threshold"] == "KNOW-1"));
}

#[test]
fn a_rising_trend_forecasts_crossings_and_recommends_an_earlier_assessment() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let template = project(dir);
    // KNOW-1 rises about 0.08 per doubling of compute; compute doubles every two months.
    checkpoint(dir, &template, "m2", "m1", 2e21, "2026-03-01", 0.33, 1);
    checkpoint(dir, &template, "m3", "m2", 4e21, "2026-05-01", 0.41, 2);
    checkpoint(dir, &template, "m4", "m3", 8e21, "2026-07-01", 0.49, 3);
    // An unrelated model is its own lineage, with one point.
    expect(
        dir,
        &["model", "add", "solo", "--spec", MOCK, "--compute", "5e20"],
        0,
    );

    let out = expect(dir, &["forecast", "--seed", "3", "--bootstrap", "500"], 0);
    assert!(
        out.contains("Lineage m1: 4 assessed checkpoint(s): m1, m2, m3, m4"),
        "{out}"
    );
    assert!(
        out.contains("next scheduled assessment: at 3.2e22 FLOP or by 2026-12-28"),
        "{out}"
    );
    assert!(
        out.contains("fit: log-linear: 4 checkpoints, a sigmoid needs at least 7"),
        "{out}"
    );
    assert!(
        out.contains("RECOMMENDATION: assess earlier, at 1."),
        "the alert crossing (~1.4e22) comes before 3.2e22 FLOP:\n{out}"
    );
    assert!(
        out.contains(
            "where the adjusted estimate is forecast to reach the alert line 0.6; the next \
             assessment is only scheduled at 3.2e22 FLOP or by 2026-12-28"
        ),
        "{out}"
    );
    assert!(
        out.contains("Lineage solo: 0 assessed checkpoint(s)"),
        "{out}"
    );
    assert!(
        out.contains("solo contributes no point: no assessment"),
        "{out}"
    );
    assert!(
        out.contains("nothing to forecast: assess its checkpoints first"),
        "{out}"
    );

    // `rsp status` shows the recommendation on every checkpoint of the lineage, and not
    // on the unrelated model.
    let status = expect(dir, &["status"], 0);
    let line = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap()
            .to_owned()
    };
    for m in ["m1", "m4"] {
        assert!(
            line(m).contains(
                " · forecast: assess earlier: KNOW-1 forecast to reach the alert line 0.6 at 1."
            ),
            "{status}"
        );
    }
    assert!(!line("solo").contains("forecast:"), "{status}");
    let v: Value = serde_json::from_str(&expect(dir, &["status", "--json"], 0)).unwrap();
    let by = |name: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|s| s["model"] == name)
            .unwrap()
            .clone()
    };
    let rec = by("m4")["forecast"].as_str().unwrap().to_owned();
    assert!(rec.starts_with("assess earlier: KNOW-1"), "{rec}");
    assert!(by("solo").get("forecast").is_none());

    let json = expect(
        dir,
        &[
            "forecast",
            "project",
            "--model-lineage",
            "m4",
            "--json",
            "--seed",
            "3",
            "--bootstrap",
            "500",
        ],
        0,
    );
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["lineages"].as_array().unwrap().len(), 1);
    let l = &v["lineages"][0];
    assert_eq!(l["checkpoints"].as_array().unwrap().len(), 4);
    let know = rule(l, "KNOW-1");
    assert_eq!(know["status"], "forecast");
    assert_eq!(know["fit"]["model"], "log-linear");
    let alert = &know["alert"]["compute_flop"];
    assert_eq!(alert["when"], "forecast", "{alert}");
    let x = alert["value"].as_f64().unwrap();
    assert!(x > 8e21 && x < 3.2e22, "{x}");
    assert_eq!(alert["lower"]["kind"], "at", "{alert}");
    let lo = alert["lower"]["value"].as_f64().unwrap();
    assert!(lo < x, "{lo} {x}");
    assert!(
        alert["upper"]["kind"] == "never" || alert["upper"]["value"].as_f64().unwrap() > x,
        "{alert}"
    );
    let date = &know["alert"]["date"];
    assert_eq!(date["when"], "forecast", "{date}");
    let d = NaiveDate::parse_from_str(date["value"].as_str().unwrap(), "%Y-%m-%d").unwrap();
    assert!(
        d > NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()
            && d < NaiveDate::from_ymd_opt(2026, 12, 28).unwrap(),
        "{d}"
    );
    // The line is further out than the alert.
    let line = know["line"]["compute_flop"]["value"].as_f64().unwrap();
    assert!(line > x, "{line} {x}");
    let rec = &know["recommendation"];
    assert_eq!(rec["crossing"], "alert");
    assert_eq!(rec["scheduled_at_flop"].as_f64(), Some(3.2e22));
    // A flat metric (CYBER-1 stays at 0) never gets there.
    let cyber = rule(l, "CYBER-1");
    assert_eq!(cyber["alert"]["compute_flop"]["when"], "never", "{cyber}");
    // Replicates that cross only far out are not reported as numbers.
    assert_ne!(
        cyber["alert"]["compute_flop"]["lower"]["kind"], "at",
        "{cyber}"
    );
    assert!(cyber["recommendation"].is_null());
    // AUTO-1 (the sandboxed agent suite) is measured too, and as flat as CYBER-1.
    let auto = rule(l, "AUTO-1");
    assert_eq!(auto["status"], "forecast", "{auto}");
    assert_eq!(auto["alert"]["compute_flop"]["when"], "never", "{auto}");

    let chart = know["chart"].as_str().unwrap();
    let svg = fs_err::read_to_string(chart).unwrap();
    assert!(svg.starts_with("<svg"), "{chart}");
    assert!(svg.contains("alert 0.6") && svg.contains("line 0.8") && svg.contains("KNOW-1"));
    assert!(svg.matches("<circle").count() >= 4);

    // Seeded: the same seed gives the same numbers.
    let again = expect(
        dir,
        &[
            "forecast",
            "project",
            "--model-lineage",
            "m4",
            "--json",
            "--seed",
            "3",
            "--bootstrap",
            "500",
        ],
        0,
    );
    assert_eq!(json, again);
    // `--plot-dir` moves the charts.
    let plots = dir.join("plots");
    expect(
        dir,
        &[
            "forecast",
            "--all",
            "--bootstrap",
            "100",
            "--plot-dir",
            plots.to_str().unwrap(),
        ],
        0,
    );
    assert!(plots.join("all-KNOW-1-1.svg").is_file());
}
