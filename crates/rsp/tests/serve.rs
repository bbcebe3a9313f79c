//! `rsp serve` and `rsp token new` through the real binary: the server reads the project
//! store, "verify now" runs the project's ledger verification through the CLI's hook, and
//! writes need a token of the right role.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{rsp, stdout};
use serde_json::Value;

#[test]
fn serve_shows_the_project_and_guards_writes() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    let o = rsp(dir, &["init"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = rsp(dir, &["token", "new", "--role", "viewer"]);
    assert_eq!(o.status.code(), Some(0));
    let viewer = stdout(&o).trim().to_owned();
    assert!(!viewer.is_empty());
    let o = rsp(dir, &["token", "new", "--role", "pope"]);
    assert_ne!(o.status.code(), Some(0), "an unknown role is refused");

    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let bind = format!("127.0.0.1:{port}");
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_rsp"))
            .current_dir(dir)
            .args(["serve", "--bind", &bind])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn");
        let base = format!("http://{bind}");
        let client = reqwest::Client::new();
        let mut health = None;
        for _ in 0..200 {
            if let Ok(r) = client.get(format!("{base}/api/v1/health")).send().await {
                health = Some(r.status());
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            health.map(|s| s.as_u16()),
            Some(200),
            "the server did not come up"
        );

        // The overview is server-rendered HTML with a strict CSP.
        let r = client
            .get(format!("{base}/"))
            .send()
            .await
            .expect("overview");
        assert_eq!(r.status(), 200);
        let csp = r
            .headers()
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(
            csp.contains("default-src") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        let html = r.text().await.expect("html");
        assert!(
            html.contains("smollm2-135m"),
            "the registered model is listed"
        );

        // "Verify now" runs the project's own verification: policy + model registration.
        let v: Value = client
            .get(format!("{base}/api/v1/ledger/verify"))
            .send()
            .await
            .expect("verify")
            .json()
            .await
            .expect("json");
        assert_eq!(v["ok"], true, "{v:#}");
        assert_eq!(v["leaves"], 2, "{v:#}");

        // Writes: no token → 401, a viewer → 403.
        let body = serde_json::json!({"safeguard": "model-card", "model": "smollm2-135m"});
        let r = client
            .post(format!("{base}/api/v1/attestations"))
            .json(&body)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 401);
        let r = client
            .post(format!("{base}/api/v1/attestations"))
            .bearer_auth(&viewer)
            .json(&body)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 403);

        child.start_kill().expect("kill");
        let out = child.wait_with_output().await.expect("output");
        let logs = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            logs.contains("rsp dashboard on http://127.0.0.1:"),
            "{logs}"
        );
        assert!(!logs.contains(&viewer), "tokens never appear in logs");
    });
}
