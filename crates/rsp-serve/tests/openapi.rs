//! OpenAPI conformance: every route the router serves under /api/v1 is documented, every
//! documented path answers (no fallback 404), and live responses validate against the
//! schemas the document gives for them.
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

async fn get(f: &common::Fixture, uri: &str) -> (StatusCode, Value) {
    let res = rsp_serve::router(f.state.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let s = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (s, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// A validator for `schema` (a `$ref` into the document's components).
fn validator(doc: &Value, schema: &Value) -> jsonschema::Validator {
    let mut root = json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "components": doc["components"].clone()});
    if let (Value::Object(r), Value::Object(s)) = (&mut root, schema) {
        for (k, v) in s {
            r.insert(k.clone(), v.clone());
        }
    }
    jsonschema::validator_for(&root).unwrap()
}

fn response_schema<'a>(doc: &'a Value, path: &str, method: &str, status: &str) -> &'a Value {
    &doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]
}

#[tokio::test]
async fn document_is_served_and_lists_every_api_route() {
    let f = common::fixture().await;
    let (s, doc) = get(&f, "/api/v1/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc, rsp_serve::openapi_document());
    let paths = doc["paths"].as_object().unwrap();
    let expected = [
        ("/api/v1/health", "get"),
        ("/api/v1/overview", "get"),
        ("/api/v1/models", "get"),
        ("/api/v1/models/{name}", "get"),
        ("/api/v1/assessments/{id}", "get"),
        ("/api/v1/runs", "get"),
        ("/api/v1/runs", "post"),
        ("/api/v1/runs/{id}", "get"),
        ("/api/v1/runs/{id}/samples", "get"),
        ("/api/v1/runs/{id}/samples/{sample}/{epoch}", "get"),
        ("/api/v1/compare", "get"),
        ("/api/v1/policy", "get"),
        ("/api/v1/policy/versions", "get"),
        ("/api/v1/policy/diff", "get"),
        ("/api/v1/ledger", "get"),
        ("/api/v1/ledger/verify", "get"),
        ("/api/v1/decisions", "get"),
        ("/api/v1/decisions/{id}/signatures", "post"),
        ("/api/v1/attestations", "post"),
        ("/api/v1/live", "get"),
        ("/api/v1/live/events", "get"),
        ("/api/v1/openapi.json", "get"),
    ];
    let documented: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(p, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (p.clone(), m.clone()))
        })
        .collect();
    assert_eq!(documented.len(), expected.len(), "{documented:?}");
    for (p, m) in expected {
        assert!(
            documented.contains(&(p.to_owned(), m.to_owned())),
            "{m} {p} undocumented"
        );
    }
    // Every documented path is routed: a request never reaches the fallback. Path
    // parameters get dummy values; the answer may be 404 *for the record*, which carries
    // the record's name, unlike the fallback's message.
    for (p, ops) in paths {
        let uri = p
            .replace("{name}", "x")
            .replace("{id}", "x")
            .replace("{sample}", "x")
            .replace("{epoch}", "0");
        for m in ops.as_object().unwrap().keys() {
            let req = Request::builder()
                .method(m.to_uppercase().as_str())
                .uri(&uri)
                .body(Body::empty())
                .unwrap();
            let res = rsp_serve::router(f.state.clone())
                .oneshot(req)
                .await
                .unwrap();
            assert_ne!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{m} {uri}");
            if res.status() == StatusCode::NOT_FOUND {
                let b = res.into_body().collect().await.unwrap().to_bytes();
                assert!(
                    !String::from_utf8_lossy(&b).contains("no such page"),
                    "{m} {uri} is not routed"
                );
            }
        }
    }
    // Writes declare their roles and bearer security.
    let att = &doc["paths"]["/api/v1/attestations"]["post"];
    assert_eq!(att["x-rsp-roles"], json!(["rso", "admin"]));
    assert_eq!(att["security"], json!([{"bearer": []}]));
}

#[tokio::test]
async fn responses_validate_against_their_schemas() {
    let f = common::fixture().await;
    let doc = rsp_serve::openapi_document();
    let cases = [
        ("/api/v1/overview".to_owned(), "/api/v1/overview"),
        (
            format!("/api/v1/models/{}", common::MODEL),
            "/api/v1/models/{name}",
        ),
        ("/api/v1/runs".to_owned(), "/api/v1/runs"),
        (
            format!("/api/v1/runs/{}/samples?limit=5", f.run_a),
            "/api/v1/runs/{id}/samples",
        ),
        (
            format!("/api/v1/runs/{}/samples/q003/0", f.run_a),
            "/api/v1/runs/{id}/samples/{sample}/{epoch}",
        ),
        (
            format!("/api/v1/compare?a={}&b={}", f.run_a, f.run_b),
            "/api/v1/compare",
        ),
        ("/api/v1/ledger".to_owned(), "/api/v1/ledger"),
        ("/api/v1/decisions".to_owned(), "/api/v1/decisions"),
        (
            "/api/v1/policy/versions".to_owned(),
            "/api/v1/policy/versions",
        ),
        ("/api/v1/health".to_owned(), "/api/v1/health"),
    ];
    for (uri, path) in cases {
        let (s, body) = get(&f, &uri).await;
        assert_eq!(s, StatusCode::OK, "{uri}");
        let v = validator(&doc, response_schema(&doc, path, "get", "200"));
        let errors: Vec<String> = v
            .iter_errors(&body)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{uri}: {errors:?}");
    }
    // Errors match the documented error body, and a wrong shape is caught (the check
    // can fail).
    let (s, body) = get(&f, "/api/v1/runs/nope").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let v = validator(
        &doc,
        response_schema(&doc, "/api/v1/runs/{id}", "get", "404"),
    );
    assert!(v.is_valid(&body), "{body}");
    assert!(!v.is_valid(&json!({"error": "text"})));
    let runs = validator(&doc, response_schema(&doc, "/api/v1/runs", "get", "200"));
    assert!(!runs.is_valid(&json!([{"id": 1}])));
}
