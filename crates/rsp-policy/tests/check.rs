//! Diagnostics for invalid policies, snapshot-tested: each case is the
//! example policy with one kind of mistake, and the snapshot is exactly
//! what a user sees (file, line, column, caret, help).

use rsp_policy::diag::{Style, render};
use rsp_policy::{Catalog, Severity, check};

const EXAMPLE: &str = include_str!("../templates/example.toml");

fn catalog() -> Catalog {
    Catalog::new([
        "knowledge-proxy",
        "cyber-proxy",
        "refusal-calibration",
        "autonomy-proxy",
        "guard-eval",
    ])
}

/// Replace `from` with `to` in the example, asserting the edit applies.
fn edit(src: &str, from: &str, to: &str) -> String {
    assert!(src.contains(from), "fixture edit does not apply: {from:?}");
    src.replacen(from, to, 1)
}

fn diagnose(bytes: &[u8]) -> (String, bool) {
    let report = check(bytes, &catalog());
    let text = String::from_utf8_lossy(bytes);
    (
        render(&report.diagnostics, "rsp.toml", &text, Style::Plain),
        report.is_valid(),
    )
}

macro_rules! invalid {
    ($name:ident, $src:expr) => {
        #[test]
        fn $name() {
            let src: Vec<u8> = $src.into();
            let (out, valid) = diagnose(&src);
            assert!(!valid, "expected an invalid policy");
            insta::assert_snapshot!(out);
        }
    };
}

#[test]
fn example_is_valid_without_warnings() {
    let report = check(EXAMPLE.as_bytes(), &catalog());
    assert!(report.is_valid());
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
}

invalid!(empty_file, "  \n\n");
invalid!(not_utf8, b"[policy]\nname = \"\xff\xfe\"\n".to_vec());
invalid!(
    syntax_errors_all_reported,
    "[policy\nname = 1\n[x]\ny = [1,\n"
);
invalid!(unknown_section, edit(EXAMPLE, "[triggers]", "[trigger]"));
invalid!(
    missing_section,
    edit(
        EXAMPLE,
        "[triggers]\ncompute_ratio = 4.0\nmax_interval_days = 180\non_deployment = true\n",
        ""
    )
);
invalid!(
    type_errors_all_reported,
    edit(
        &edit(
            &edit(EXAMPLE, "line = 0.80", "line = \"high\""),
            "metric = \"accuracy\"",
            "metric = 3"
        ),
        "status = \"research\"",
        "status = \"maybe\""
    )
);
invalid!(
    unknown_field,
    edit(EXAMPLE, "min_samples = 100", "min_sample = 100")
);
invalid!(
    unknown_domain,
    edit(EXAMPLE, "domain = \"cyber\"", "domain = \"cyber-ops\"")
);
invalid!(
    unknown_standard,
    edit(EXAMPLE, "requires = \"ASL-3\"", "requires = \"ASL-4\"")
);
invalid!(
    unknown_suite,
    edit(
        EXAMPLE,
        "suite = \"cyber-proxy\"",
        "suite = \"cyber-range\""
    )
);
invalid!(
    alert_not_below_line,
    edit(EXAMPLE, "alert = 0.60", "alert = 0.80")
);
invalid!(
    alert_wrong_side_when_lower_is_more_capable,
    edit(
        EXAMPLE,
        "line = 0.50\nalert = 0.30",
        "line = 0.50\nalert = 0.30\ndirection = \"lower\""
    )
);
invalid!(
    cyclic_includes,
    edit(
        EXAMPLE,
        "name = \"Baseline safeguards\"",
        "name = \"Baseline safeguards\"\nincludes = [\"ASL-3\"]"
    )
);
invalid!(
    duplicate_ids,
    edit(
        &edit(EXAMPLE, "id = \"CYBER-1\"", "id = \"KNOW-1\""),
        "id = \"security-hardening\"",
        "id = \"model-card\""
    )
);
invalid!(
    confidence_out_of_range,
    edit(
        &edit(
            EXAMPLE,
            "[defaults]\nconfidence = 0.95",
            "[defaults]\nconfidence = 0"
        ),
        "alert = 0.30\nconfidence = 0.95",
        "alert = 0.30\nconfidence = 1.0"
    )
);
invalid!(
    empty_required_lists,
    edit(
        &edit(
            EXAMPLE,
            "approvers = [\"ceo\", \"board\"]",
            "approvers = []"
        ),
        "[[threshold.evidence]]\nsuite = \"autonomy-proxy\"\nmetric = \"accuracy\"\nline = 0.50\nalert = 0.25\nconfidence = 0.95\nelicitation = { tools = true }\nelicitation_margin = 0.05\n",
        ""
    )
);
invalid!(
    unknown_roles,
    edit(
        &edit(
            EXAMPLE,
            "approvers = [\"ceo\", \"board\"]",
            "approvers = [\"ceo\", \"trust\"]"
        ),
        "notify = [\"rso\", \"ceo\", \"board\"]",
        "notify = [\"rso\", \"cfo\"]"
    )
);
invalid!(
    metric_safeguard_without_bound,
    edit(
        EXAMPLE,
        "metric = \"attack_success_rate\", max = 0.05,",
        "metric = \"attack_success_rate\","
    )
);
invalid!(
    bad_triggers,
    edit(
        EXAMPLE,
        "compute_ratio = 4.0\nmax_interval_days = 180",
        "compute_ratio = 0.5\nmax_interval_days = 0"
    )
);
invalid!(
    no_trigger_at_all,
    edit(
        EXAMPLE,
        "compute_ratio = 4.0\nmax_interval_days = 180\non_deployment = true\n",
        "on_deployment = false\n"
    )
);
invalid!(non_finite_line, edit(EXAMPLE, "line = 0.80", "line = nan"));
invalid!(
    bad_date,
    edit(
        EXAMPLE,
        "effective = 2026-11-01",
        "effective = \"1 Nov 2026\""
    )
);
invalid!(
    datetime_instead_of_date,
    edit(
        EXAMPLE,
        "effective = 2026-11-01",
        "effective = 2026-11-01T10:00:00Z"
    )
);
invalid!(
    deep_nesting,
    format!("x = {}{}", "[".repeat(70), "]".repeat(70))
);

#[test]
fn hostile_inputs_do_not_panic() {
    let cases: Vec<Vec<u8>> = vec![
        format!("x = {}", "[".repeat(1_000_000)).into_bytes(),
        format!("x = {}", "{a=".repeat(100_000)).into_bytes(),
        (0u8..=255).cycle().take(100_000).collect(),
        "[[threshold]]\n".repeat(50_000).into_bytes(),
        b"\x00\x00\x00".to_vec(),
        b"[policy]\nname = '''".to_vec(),
    ];
    for c in cases {
        let report = check(&c, &catalog());
        assert!(!report.is_valid());
        assert!(!report.diagnostics.is_empty());
    }
}
invalid!(
    negative_margin_and_zero_best_of,
    edit(
        EXAMPLE,
        "best_of_n = 4 }\nelicitation_margin = 0.05",
        "best_of_n = 0 }\nelicitation_margin = -0.1"
    )
);

#[test]
fn oversized_file_is_rejected_without_parsing() {
    let big = vec![b'#'; rsp_policy::parse::MAX_POLICY_BYTES + 1];
    let report = check(&big, &catalog());
    assert!(!report.is_valid());
    assert_eq!(report.diagnostics[0].code, "policy::too-large");
}

#[test]
fn placeholder_suite_is_a_warning_not_an_error() {
    let src = edit(
        EXAMPLE,
        "suite = \"cyber-proxy\"",
        "suite = \"cyber-range\"",
    ) + "\n[[suite]]\nid = \"cyber-range\"\ndescription = \"A cyber range the lab must supply.\"\nplaceholder = true\n";
    let report = check(src.as_bytes(), &catalog());
    assert!(report.is_valid(), "{:?}", report.diagnostics);
    assert_eq!(report.warnings(), 1);
    assert_eq!(report.diagnostics[0].code, "policy::placeholder-suite");
    let (out, _) = diagnose(src.as_bytes());
    insta::assert_snapshot!(out);
}

#[test]
fn every_error_has_a_location() {
    let src = edit(
        &edit(EXAMPLE, "domain = \"cyber\"", "domain = \"x\""),
        "alert = 0.60",
        "alert = 0.9",
    );
    let report = check(src.as_bytes(), &catalog());
    assert_eq!(report.errors(), 2);
    for d in report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
    {
        let span = d.span.clone().expect("span");
        let (line, _) = rsp_policy::diag::line_col(&src, span.start);
        assert!(line > 100, "{} points at line {line}", d.code);
    }
}

#[test]
fn templates_are_valid_apart_from_placeholder_warnings() {
    for t in rsp_policy::templates::TEMPLATES {
        let report = check(t.text.as_bytes(), &catalog());
        assert!(
            report.is_valid(),
            "template {} is invalid: {:#?}",
            t.name,
            report.diagnostics
        );
        for d in &report.diagnostics {
            assert_eq!(
                d.code, "policy::placeholder-suite",
                "template {}: unexpected {d:?}",
                t.name
            );
        }
        if t.name != "example" {
            assert!(
                report.warnings() > 0,
                "template {} should point at placeholder suites",
                t.name
            );
        }
    }
}

/// Found by the fuzzer: two standards with the same id. The policy
/// deserialises, but it is invalid, and `diff` must only ever see valid
/// policies (its matching assumes unique ids).
#[test]
fn fuzz_regression_duplicate_standard_ids_are_invalid() {
    let src = edit(
        EXAMPLE,
        "id = \"ASL-2\"\nname = \"Baseline safeguards\"",
        "id = \"ASL-3\"\nname = \"Baseline safeguards\"",
    );
    let report = check(src.as_bytes(), &catalog());
    assert!(report.policy.is_some());
    assert!(!report.is_valid());
    assert!(
        report
            .diagnostics
            .iter()
            .any(|d| d.code == "policy::duplicate-id")
    );
}
