//! Router tests without a socket: the auth matrix, error shapes, security headers, and the
//! read endpoints on a realistic store.
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt as _;
use rsp_serve::Role;
use rsp_store::prelude::*;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use common::{Fixture, fixture};

async fn call(f: &Fixture, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let res = rsp_serve::router(f.state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, headers, body)
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn post(uri: &str, token: Option<&str>, body: &Value) -> Request<Body> {
    let mut b = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b.body(Body::from(body.to_string())).unwrap()
}

fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

fn attestation() -> Value {
    json!({"safeguard": "model-card", "by_role": "rso", "evidence_sha256": "ab".repeat(32), "evidence_path": "docs/model-card.pdf"})
}

#[tokio::test]
async fn auth_matrix_every_role_against_every_write_endpoint() {
    let f = fixture().await;
    let sig_uri = format!("/api/v1/decisions/{}/signatures", f.decision_id);
    // (endpoint, roles allowed, status when allowed)
    let cases: [(&str, &[Role], StatusCode); 3] = [
        (
            "/api/v1/attestations",
            &[Role::Rso, Role::Admin],
            StatusCode::CREATED,
        ),
        (&sig_uri, &[Role::Rso, Role::Admin], StatusCode::CREATED),
        (
            "/api/v1/runs",
            &[Role::Evaluator, Role::Rso, Role::Admin],
            StatusCode::NOT_IMPLEMENTED,
        ),
    ];
    for (uri, allowed, ok) in cases {
        let body = if uri.ends_with("attestations") {
            attestation()
        } else if uri.ends_with("signatures") {
            // Signing twice as the same role is idempotent (200), so the rso and admin
            // tokens submit the two different roles' signatures.
            json!({})
        } else {
            json!({"suite": "knowledge-proxy", "model": "smol-135m"})
        };
        let (s, _, b) = call(&f, post(uri, None, &body)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{uri} without a token");
        assert_error(&b, "unauthorized");
        let (s, _, b) = call(&f, post(uri, Some("rsp_not-a-real-token"), &body)).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{uri} with an unknown token");
        assert_error(&b, "unauthorized");
        for role in Role::ALL {
            let body = if uri.ends_with("signatures") {
                let policy_role = if role == Role::Admin { "ceo" } else { "rso" };
                f.signature_body(policy_role).await
            } else {
                body.clone()
            };
            let (s, _, b) = call(&f, post(uri, Some(f.token(role)), &body)).await;
            if allowed.contains(&role) {
                assert_eq!(s, ok, "{role} on {uri}: {b}");
            } else {
                assert_eq!(s, StatusCode::FORBIDDEN, "{role} on {uri}: {b}");
                assert_error(&b, "forbidden");
            }
        }
    }
    // A malformed header is 401 too, and never echoes the token.
    let req = Request::post("/api/v1/attestations")
        .header(header::AUTHORIZATION, "Token rsp_secret_value")
        .body(Body::from(attestation().to_string()))
        .unwrap();
    let (s, _, b) = call(&f, req).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(!b.to_string().contains("rsp_secret_value"));
}

#[tokio::test]
async fn signatures_finalize_the_decision_and_are_audited() {
    let f = fixture().await;
    let uri = format!("/api/v1/decisions/{}/signatures", f.decision_id);
    let (s, _, b) = call(
        &f,
        post(
            &uri,
            Some(f.token(Role::Rso)),
            &f.signature_body("rso").await,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["status"], "draft");
    assert_eq!(b["missing_signers"], json!(["ceo"]));
    // A signature by the wrong key for the role is refused.
    let mut forged = f.signature_body("ceo").await;
    forged["role"] = json!("rso");
    let (s, _, b) = call(&f, post(&uri, Some(f.token(Role::Rso)), &forged)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    assert_error(&b, "unprocessable");
    // A tampered signature is refused.
    let mut bad = f.signature_body("ceo").await;
    bad["signature"] = json!("00".repeat(64));
    let (s, _, b) = call(&f, post(&uri, Some(f.token(Role::Admin)), &bad)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{b}");
    let (s, _, b) = call(
        &f,
        post(
            &uri,
            Some(f.token(Role::Admin)),
            &f.signature_body("ceo").await,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    assert_eq!(b["status"], "final");
    let d = f.store.get_decision(&f.decision_id).await.unwrap().unwrap();
    assert_eq!(d.status, rsp_store::DecisionStatus::Final);
    let kinds: Vec<&str> = f
        .audit
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.kind.as_str())
        .collect::<Vec<_>>()
        .into_iter()
        .collect();
    assert_eq!(kinds, ["signature", "signature", "decision"]);
    // Final decisions never change.
    let (s, _, b) = call(
        &f,
        post(
            &uri,
            Some(f.token(Role::Rso)),
            &f.signature_body("rso").await,
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT, "{b}");
    assert_error(&b, "conflict");
}

#[tokio::test]
async fn attestations_are_checked_against_the_policy() {
    let f = fixture().await;
    let rso = Some(f.token(Role::Rso));
    let mut wrong_role = attestation();
    wrong_role["by_role"] = json!("ceo");
    let (s, _, b) = call(&f, post("/api/v1/attestations", rso, &wrong_role)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("must be attested by role `rso`"),
        "{b}"
    );
    let mut unknown = attestation();
    unknown["safeguard"] = json!("moat");
    let (s, _, _) = call(&f, post("/api/v1/attestations", rso, &unknown)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let mut too_long = attestation();
    too_long["expires"] = json!("2999-01-01");
    let (s, _, _) = call(&f, post("/api/v1/attestations", rso, &too_long)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _, b) = call(
        &f,
        post("/api/v1/attestations", rso, &json!({"safeguard": 3})),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&b, "bad_request");
    let (s, _, b) = call(&f, post("/api/v1/attestations", rso, &attestation())).await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let stored = f.store.list_attestations(Some("model-card")).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].by_role, "rso");
    assert_eq!(f.audit.0.lock().unwrap()[0].kind.as_str(), "attestation");
}

#[tokio::test]
async fn errors_are_json_with_a_stable_code() {
    let f = fixture().await;
    for (uri, status, code) in [
        ("/api/v1/runs/nope", StatusCode::NOT_FOUND, "not_found"),
        ("/api/v1/models/nope", StatusCode::NOT_FOUND, "not_found"),
        ("/api/v1/no/such/route", StatusCode::NOT_FOUND, "not_found"),
        (
            "/api/v1/runs?status=sleeping",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/runs?bogus=1",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/compare?a=x",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/v1/runs/x/samples/s/notanumber",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
    ] {
        let (s, h, b) = call(&f, get(uri)).await;
        assert_eq!(s, status, "{uri}: {b}");
        assert_error(&b, code);
        assert!(
            h[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{uri}"
        );
    }
    let sample_uri = format!("/api/v1/runs/{}/samples?after=banana", f.run_a);
    let (s, _, b) = call(&f, get(&sample_uri)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_error(&b, "bad_request");
}

#[tokio::test]
async fn every_response_has_the_security_headers() {
    let f = fixture().await;
    for uri in ["/", "/api/v1/overview", "/assets/app.css", "/nope"] {
        let (_, h, _) = call(&f, get(uri)).await;
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{uri}: {csp}"
        );
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
    }
}

#[tokio::test]
async fn overview_and_model_show_the_assessment() {
    let f = fixture().await;
    let (s, _, b) = call(&f, get("/api/v1/overview")).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let row = &b[0];
    assert_eq!(row["model"], common::MODEL);
    assert_eq!(row["assessment"], f.assessment_id.as_str());
    assert_eq!(row["nearest"]["threshold"], "KNOW-1", "{row}");
    assert!((row["nearest"]["estimate"].as_f64().unwrap() - 0.34).abs() < 1e-9);
    assert_eq!(row["deploy"]["awaiting"], json!(["rso", "ceo"]), "{row}");
    let (s, _, b) = call(&f, get(&format!("/api/v1/models/{}", common::MODEL))).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let know = b["thresholds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["threshold"] == "KNOW-1")
        .unwrap();
    assert_eq!(know["run_id"], f.run_a.as_str());
    assert_eq!(know["line"], 0.8);
    let hist = b["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["threshold"] == "KNOW-1")
        .unwrap();
    assert_eq!(
        hist["points"].as_array().unwrap().len(),
        2,
        "two assessments"
    );
}

#[tokio::test]
async fn run_browser_pages_with_cursors_and_filters() {
    let f = fixture().await;
    let base = format!("/api/v1/runs/{}/samples", f.run_a);
    let (_, _, p1) = call(&f, get(&format!("{base}?limit=50"))).await;
    assert_eq!(p1["samples"].as_array().unwrap().len(), 50);
    assert_eq!(p1["next"], "49.0");
    let (_, _, p3) = call(&f, get(&format!("{base}?limit=50&after=99.0"))).await;
    assert_eq!(p3["samples"].as_array().unwrap().len(), 20);
    assert!(p3["next"].is_null());
    let (_, _, errs) = call(&f, get(&format!("{base}?error=yes"))).await;
    let errs = errs["samples"].as_array().unwrap();
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0]["sample_id"], "q007");
    let (_, _, right) = call(
        &f,
        get(&format!("{base}?min_value=1&meta=domain%3Dbio&limit=500")),
    )
    .await;
    // Correct every 3rd (i % 3 == 0) and bio on even i: i % 6 == 0 → 20 of 120.
    assert_eq!(right["samples"].as_array().unwrap().len(), 20, "{right}");
    let (s, _, one) = call(&f, get(&format!("{base}/q003/0"))).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        one["scores"]["judge"]["metadata"]["judge_raw"]
            .as_str()
            .unwrap()
            .contains("GRADE: C")
    );
}

#[tokio::test]
async fn compare_pairs_runs_and_policy_diff_flags_weakening() {
    let f = fixture().await;
    let (s, _, c) = call(
        &f,
        get(&format!("/api/v1/compare?a={}&b={}", f.run_a, f.run_b)),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["n_paired"], 120);
    // A is right on i % 3 == 0 (40), B on i % 2 == 0 (60): both on i % 6 == 0 (20).
    assert_eq!(
        c["table"],
        json!({"both": 20, "only_a": 20, "only_b": 40, "neither": 40})
    );
    assert!((c["difference"].as_f64().unwrap() - (40.0 - 60.0) / 120.0).abs() < 1e-9);
    assert!(c["test"].as_str().unwrap().contains("McNemar"), "{c}");
    let (_, _, versions) = call(&f, get("/api/v1/policy/versions")).await;
    let v = versions.as_array().unwrap();
    assert_eq!(v.len(), 2);
    assert_eq!(v[1]["version"], "1.1.0");
    let (s, _, d) = call(
        &f,
        get(&format!(
            "/api/v1/policy/diff?from={}&to={}",
            v[0]["idx"], v[1]["idx"]
        )),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert!(d["weakening"].as_u64().unwrap() >= 1, "{d}");
    assert!(
        d["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["weakens"].is_string())
    );
}

#[tokio::test]
async fn pages_render_and_escape() {
    let f = fixture().await;
    let (s, h, body) = call(&f, get("/")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = body.as_str().unwrap();
    assert!(
        html.contains("smol-135m") && html.contains("KNOW-1"),
        "{html}"
    );
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "no inline script or style"
    );
    for uri in [
        format!("/models/{}", common::MODEL),
        format!("/runs/{}", f.run_a),
        format!("/runs/{}/samples/q003/0", f.run_a),
        format!("/compare?a={}&b={}", f.run_a, f.run_b),
        "/policy".to_owned(),
        "/ledger".to_owned(),
        "/ledger/verify".to_owned(),
        "/live".to_owned(),
        "/runs".to_owned(),
    ] {
        let (s, _, body) = call(&f, get(&uri)).await;
        assert_eq!(s, StatusCode::OK, "{uri}: {body}");
        let html = body.as_str().unwrap();
        assert!(!html.contains("style=\""), "{uri} has an inline style");
    }
    let (_, _, p) = call(&f, get("/policy")).await;
    assert!(
        p.as_str().unwrap().contains("weaken"),
        "policy page flags weakening"
    );
    let (_, _, v) = call(&f, get("/ledger/verify")).await;
    assert!(v.as_str().unwrap().contains("verified"));
    let (s, _, e) = call(&f, get("/models/%3Cscript%3E")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(
        e.as_str().unwrap().contains("&lt;script&gt;"),
        "error page escapes"
    );
}

#[tokio::test]
async fn live_events_stream_progress() {
    let f = fixture().await;
    let run = f
        .store
        .create_run(&rsp_store::NewRun {
            model: common::SPEC.into(),
            model_name: Some(common::MODEL.into()),
            suite: "cyber-proxy".into(),
            task: "puzzles".into(),
            task_hash: "h".into(),
            config: json!({}),
            provenance: json!({}),
            total_samples: 10,
            source: rsp_store::RunSource::Native,
            source_sha256: None,
        })
        .await
        .unwrap();
    let (_, _, live) = call(&f, get("/api/v1/live")).await;
    assert_eq!(live[0]["id"], run.id.as_str());
    assert_eq!(live[0]["done"], 0);
    let res = rsp_serve::router(f.state.clone())
        .oneshot(get("/api/v1/live/events"))
        .await
        .unwrap();
    assert_eq!(res.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut body = res.into_body();
    let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
    let text = String::from_utf8_lossy(&frame);
    assert!(
        text.starts_with("event: progress") && text.contains(&run.id),
        "{text}"
    );
}

#[tokio::test]
async fn a_rare_filter_stops_at_the_scan_budget_and_says_where() {
    let f = fixture().await;
    let run = f
        .store
        .create_run(&rsp_store::NewRun {
            model: common::SPEC.into(),
            model_name: None,
            suite: "big".into(),
            task: "t".into(),
            task_hash: "h".into(),
            config: json!({}),
            provenance: json!({}),
            total_samples: 25_000,
            source: rsp_store::RunSource::Native,
            source_sha256: None,
        })
        .await
        .unwrap();
    let samples: Vec<rsp_store::SampleRecord> = (0..25_000u32)
        .map(|i| rsp_store::SampleRecord {
            run_id: run.id.clone(),
            sample_id: format!("s{i:05}"),
            epoch: 0,
            position: i,
            input: json!("q"),
            target: json!("a"),
            output: json!({}),
            scores: json!({}),
            value: Some(0.0),
            error: (i == 24_000).then(|| "boom".to_owned()),
            retries: 0,
            usage: json!({}),
            timing_ms: 1.0,
            metadata: json!({}),
            completed_at: chrono::Utc::now(),
        })
        .collect();
    f.store.record_samples(&samples).await.unwrap();
    let base = format!("/api/v1/runs/{}/samples?error=yes", run.id);
    let (_, _, first) = call(&f, get(&base)).await;
    assert_eq!(first["samples"].as_array().unwrap().len(), 0, "{first}");
    assert_eq!(first["scanned_through"], 20_000);
    let next = first["next"].as_str().unwrap().to_owned();
    let (_, _, second) = call(&f, get(&format!("{base}&after={next}"))).await;
    let found = second["samples"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{second}");
    assert_eq!(found[0]["position"], 24_000);
    assert!(second["next"].is_null(), "the run is exhausted: {second}");
    // The page says why it is short.
    let (_, _, html) = call(&f, get(&format!("/runs/{}?error=yes", run.id))).await;
    assert!(html.as_str().unwrap().contains("scan-budget"));
}

#[tokio::test]
async fn a_foreign_host_header_is_refused_on_loopback() {
    let f = fixture().await;
    let req = |host: &str| {
        Request::get("/api/v1/overview")
            .header(header::HOST, host)
            .body(Body::empty())
            .unwrap()
    };
    let (s, h, b) = call(&f, req("evil.example:8719")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{b}");
    assert_error(&b, "forbidden");
    assert!(
        h.contains_key(header::CONTENT_SECURITY_POLICY),
        "headers on refusals too"
    );
    let (s, _, _) = call(&f, req("127.0.0.1:8719")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = call(&f, req("localhost")).await;
    assert_eq!(s, StatusCode::OK);
}
