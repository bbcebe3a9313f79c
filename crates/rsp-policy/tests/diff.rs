//! The semantic diff: every kind of weakening is caught, strengthening is
//! not flagged, and a policy never differs from itself.

use proptest::prelude::*;
use rsp_policy::diff::{ChangeKind, diff};
use rsp_policy::{Catalog, Policy, check};

const EXAMPLE: &str = include_str!("../templates/example.toml");

fn parse(src: &str) -> Policy {
    let cat = Catalog::new([
        "knowledge-proxy",
        "cyber-proxy",
        "refusal-calibration",
        "autonomy-proxy",
        "guard-eval",
    ]);
    let r = check(src.as_bytes(), &cat);
    assert!(r.is_valid(), "{:#?}", r.diagnostics);
    r.policy.expect("policy")
}

fn edit(from: &str, to: &str) -> Policy {
    assert!(EXAMPLE.contains(from), "edit does not apply: {from:?}");
    parse(&EXAMPLE.replacen(from, to, 1))
}

/// The weakening reasons of `diff(example, edited)`.
fn weakenings(from: &str, to: &str) -> Vec<String> {
    let d = diff(&parse(EXAMPLE), &edit(from, to));
    d.changes.into_iter().filter_map(|c| c.weakens).collect()
}

fn assert_weakens(from: &str, to: &str, expect: &str) {
    let w = weakenings(from, to);
    assert!(
        w.iter().any(|x| x.contains(expect)),
        "expected a weakening containing {expect:?}, got {w:?}"
    );
}

#[test]
fn line_moved_permissively() {
    assert_weakens(
        "line = 0.80",
        "line = 0.85",
        "line moved in the permissive direction",
    );
}

#[test]
fn alert_moved_permissively() {
    assert_weakens("alert = 0.60", "alert = 0.70", "alert line moved");
}

#[test]
fn stricter_line_is_not_a_weakening() {
    assert!(weakenings("line = 0.80", "line = 0.75").is_empty());
}

#[test]
fn lower_direction_is_respected() {
    let old = parse(&EXAMPLE.replacen(
        "line = 0.50\nalert = 0.30",
        "line = 0.30\nalert = 0.50\ndirection = \"lower\"",
        1,
    ));
    let new = parse(&EXAMPLE.replacen(
        "line = 0.50\nalert = 0.30",
        "line = 0.20\nalert = 0.50\ndirection = \"lower\"",
        1,
    ));
    assert!(
        diff(&old, &new).weakens(),
        "for lower-is-more-capable, a lower line is more permissive"
    );
    assert!(!diff(&new, &old).weakens());
}

#[test]
fn lower_confidence() {
    assert_weakens(
        "alert = 0.60\nconfidence = 0.95",
        "alert = 0.60\nconfidence = 0.90",
        "confidence lowered",
    );
    assert_weakens(
        "[defaults]\nconfidence = 0.95",
        "[defaults]\nconfidence = 0.9",
        "lower default confidence",
    );
}

#[test]
fn threshold_removed() {
    let src = EXAMPLE
        .split("[[threshold]]\nid = \"AUTO-1\"")
        .next()
        .expect("split")
        .to_owned()
        + &EXAMPLE[EXAMPLE.find("[triggers]").expect("triggers")..];
    let d = diff(&parse(EXAMPLE), &parse(&src));
    assert!(
        d.changes
            .iter()
            .any(|c| c.kind == ChangeKind::Removed && c.area == "threshold" && c.weakens.is_some())
    );
}

#[test]
fn evidence_rule_removed_or_replaced() {
    assert_weakens(
        "suite = \"cyber-proxy\"",
        "suite = \"knowledge-proxy\"",
        "evidence rule was removed",
    );
}

#[test]
fn safeguard_removed() {
    let from = "[[standard.safeguard]]\nid = \"guard-over-refusal\"\nkind = \"deployment\"\ndescription = \"The guard does not refuse safe requests that merely sound dangerous.\"\nevidence = { type = \"metric\", suite = \"guard-eval\", metric = \"over_refusal_rate\", max = 0.10, valid_days = 90 }\n";
    assert_weakens(from, "", "safeguard `guard-over-refusal` removed");
}

#[test]
fn standard_requirements_reduced() {
    assert_weakens(
        "includes = [\"ASL-2\"]",
        "includes = []",
        "no longer requires",
    );
    assert_weakens(
        "metric = \"attack_success_rate\", max = 0.05",
        "metric = \"attack_success_rate\", max = 0.10",
        "max loosened",
    );
    assert_weakens(
        "by = \"security\", valid_days = 180",
        "by = \"security\", valid_days = 365",
        "valid 365 days",
    );
}

#[test]
fn threshold_requires_a_lower_standard() {
    assert_weakens(
        "requires = \"ASL-3\"",
        "requires = \"ASL-2\"",
        "no longer requires",
    );
}

#[test]
fn triggers_loosened() {
    assert_weakens(
        "compute_ratio = 4.0",
        "compute_ratio = 6.0",
        "6× compute growth instead of 4×",
    );
    assert_weakens(
        "max_interval_days = 180",
        "max_interval_days = 365",
        "longer maximum interval",
    );
    assert_weakens(
        "on_deployment = true",
        "on_deployment = false",
        "deployments no longer trigger",
    );
}

#[test]
fn signer_dropped() {
    assert_weakens(
        "name = \"Chief Executive Officer\"\nsigns = [\"deploy\", \"train\", \"policy-update\"]",
        "name = \"Chief Executive Officer\"\nsigns = [\"train\", \"policy-update\"]",
        "`ceo` no longer signs `deploy`",
    );
}

#[test]
fn elicitation_and_uncertainty_weakened() {
    assert_weakens(
        "elicitation = { chain_of_thought = true, few_shot = 3 }",
        "elicitation = { few_shot = 3 }",
        "less elicitation",
    );
    assert_weakens(
        "elicitation_margin = 0.05\nmin_samples",
        "elicitation_margin = 0.0\nmin_samples",
        "smaller elicitation margin",
    );
    assert_weakens(
        "under_uncertainty = \"treat-as-crossed\"",
        "under_uncertainty = \"judgement\"",
        "no longer treated as crossed",
    );
    assert_weakens(
        "crossed_when = \"estimate\"",
        "crossed_when = \"lower-bound\"",
        "lower bound",
    );
}

#[test]
fn actions_weakened() {
    assert_weakens(
        "block_deployment = true\ncap_training_compute = true",
        "block_deployment = false\ncap_training_compute = true",
        "deployment is no longer blocked",
    );
    assert_weakens(
        "cap_training_compute = true",
        "cap_training_compute = false",
        "no longer capped",
    );
}

#[test]
fn diff_text_snapshot() {
    let new = EXAMPLE
        .replacen("version = \"1.0.0\"", "version = \"1.1.0\"", 1)
        .replacen("line = 0.80", "line = 0.85", 1)
        .replacen("compute_ratio = 4.0", "compute_ratio = 6.0", 1)
        .replacen("alert = 0.30", "alert = 0.25", 1);
    let d = diff(&parse(EXAMPLE), &parse(&new));
    insta::assert_snapshot!(d.to_text());
    insta::assert_json_snapshot!(d);
}

#[test]
fn explain_snapshots() {
    let p = parse(EXAMPLE);
    insta::assert_snapshot!(
        "explain_md",
        rsp_policy::explain::explain(&p, rsp_policy::explain::Format::Markdown)
    );
    let html = rsp_policy::explain::explain(&p, rsp_policy::explain::Format::Html);
    for t in &p.thresholds {
        assert!(html.contains(&t.id));
    }
    insta::assert_snapshot!("explain_html", html);
}

#[test]
fn html_escapes_user_text() {
    let p = parse(&EXAMPLE.replacen(
        "name = \"Expert-level science knowledge\"",
        "name = \"<script>alert(1)</script>\"",
        1,
    ));
    let html = rsp_policy::explain::explain(&p, rsp_policy::explain::Format::Html);
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;"));
}

fn arb_policy() -> impl Strategy<Value = Policy> {
    let base = parse(EXAMPLE);
    (
        prop::collection::vec(
            (
                0.05f64..0.95,
                0.01f64..0.5,
                0.5f64..0.999,
                any::<bool>(),
                0u32..10,
                1u32..16,
            ),
            1..4,
        ),
        1.5f64..20.0,
        1u32..1000,
        any::<bool>(),
        prop::sample::subsequence(vec![0usize, 1, 2, 3], 0..=4),
    )
        .prop_map(move |(rules, ratio, days, deploy, roles)| {
            let mut p = base.clone();
            let template = p.thresholds[0].evidence[0].clone();
            p.thresholds[0].evidence = rules
                .iter()
                .enumerate()
                .map(|(i, (line, gap, conf, cot, shots, bon))| {
                    let mut r = template.clone();
                    r.metric = format!("m{i}");
                    r.line = *line;
                    r.alert = line - gap;
                    r.confidence = Some(*conf);
                    r.elicitation.chain_of_thought = *cot;
                    r.elicitation.few_shot = *shots;
                    r.elicitation.best_of_n = *bon;
                    r
                })
                .collect();
            p.triggers.compute_ratio = Some(ratio);
            p.triggers.max_interval_days = Some(days);
            p.triggers.on_deployment = deploy;
            for i in roles {
                p.roles[i].signs.reverse();
            }
            p
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn a_policy_never_differs_from_itself(p in arb_policy()) {
        let d = diff(&p, &p);
        prop_assert!(d.changes.is_empty(), "{:?}", d.changes);
        prop_assert!(!d.weakens());
    }

    #[test]
    fn serialised_policy_round_trips_through_check(p in arb_policy()) {
        let text = toml::to_string(&p).expect("serialise");
        let back = parse(&text);
        prop_assert!(diff(&p, &back).changes.is_empty());
    }
}

#[test]
fn threat_actor_scope_narrowed() {
    assert_weakens(
        "threat_actors_in_scope = [\"hacktivists\", \"criminal groups\", \"determined individuals\"]",
        "threat_actors_in_scope = [\"hacktivists\", \"criminal groups\"]",
        "no longer in scope",
    );
    assert_weakens(
        "threat_actors_out_of_scope = [\"state programmes\"]",
        "threat_actors_out_of_scope = [\"state programmes\", \"insiders\"]",
        "newly out of scope",
    );
}

#[test]
fn rule_without_elicitation_defaults_to_plain_prompting() {
    let p = edit("elicitation = { tools = true }\n", "");
    let rule = &p.thresholds[2].evidence[0];
    assert_eq!(rule.elicitation.best_of_n, 1);
    assert_eq!(rule.elicitation, rsp_policy::Elicitation::default());
}
