//! `rsp forecast fit` on the real published data in shared/data/scaling.

use std::path::PathBuf;
use std::process::{Command, Output};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/scaling")
        .join(name)
}

fn rsp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rsp"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run rsp")
}

fn json(o: &Output) -> serde_json::Value {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("json")
}

#[test]
fn metr_frontier_doubling_time_matches_published() {
    let f = data("metr_horizons_v1_1_snapshot-2026-01-30.csv");
    let svg = tempfile::NamedTempFile::new().expect("tmp");
    let o = rsp(&[
        "forecast",
        "fit",
        "trend",
        f.to_str().expect("path"),
        "--date",
        "release_date",
        "--value",
        "p50_minutes",
        "--frontier",
        "--since",
        "2023-01-01",
        "--bootstrap",
        "200",
        "--json",
        "--plot",
        svg.path().to_str().expect("p"),
    ]);
    let v = json(&o);
    let d = v["doubling_time_days"].as_f64().expect("doubling");
    // METR Time Horizon 1.1 (2026-01-29): 131 days since 2023; numpy OLS gives 130.801.
    assert!((d - 130.801).abs() < 0.1, "doubling {d}");
    let svg = std::fs::read_to_string(svg.path()).expect("svg");
    assert!(svg.starts_with("<svg") || svg.contains("<svg"));
}

#[test]
fn chinchilla_point_fit_matches_replication() {
    let f = data("chinchilla_svg_extracted_data.csv");
    let o = rsp(&[
        "forecast",
        "fit",
        "chinchilla",
        f.to_str().expect("path"),
        "--n",
        "Model Size",
        "--flop",
        "Training FLOP",
        "--loss",
        "loss",
        "--drop-highest",
        "5",
        "--bootstrap",
        "0",
        "--json",
    ]);
    let v = json(&o);
    let law = &v["fit"]["law"];
    let close = |k: &str, want: f64, tol: f64| {
        let got = law[k].as_f64().expect(k);
        assert!((got - want).abs() / want < tol, "{k}: {got} vs {want}");
    };
    // Besiroglu et al. 2024 (arXiv 2404.10102): E 1.82, A 482.01, B 2085.43, α 0.3478, β 0.3658.
    close("e", 1.82, 0.005);
    close("alpha", 0.3478, 0.005);
    close("beta", 0.3658, 0.005);
    close("a", 482.01, 0.05);
    close("b", 2085.43, 0.05);
}

#[test]
fn bad_column_is_a_clear_error() {
    let f = data("chinchilla_svg_extracted_data.csv");
    let o = rsp(&[
        "forecast",
        "fit",
        "power",
        f.to_str().expect("path"),
        "--flop",
        "Training FLOP",
        "--loss",
        "nope",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("nope"), "{err}");
}

#[test]
fn bad_level_is_a_usage_error() {
    let f = data("chinchilla_svg_extracted_data.csv");
    let o = rsp(&[
        "forecast",
        "fit",
        "power",
        f.to_str().expect("path"),
        "--flop",
        "Training FLOP",
        "--loss",
        "loss",
        "--level",
        "1.5",
    ]);
    assert_eq!(o.status.code(), Some(2));
}
