//! Semantic checks of a task file's solver chain and scorers, each diagnostic pointing at
//! its `[[solver]]` or `[[scorer]]` table.

use std::collections::BTreeMap;
use std::ops::Range;

use regex::Regex;
use rsp_policy::diag::Diagnostic;

use crate::scorer::{ChoiceSource, GRADER_PLACEHOLDERS, ScorerSpec};
use crate::solver::self_critique::CRITIQUE_PLACEHOLDERS;
use crate::solver::{ChoiceMode, Phase, PromptTemplate, SolverSpec};
use crate::task::{TaskFile, spanned_err};

/// Semantic checks of the chain and scorers, each pointing at its `[[solver]]` or
/// `[[scorer]]` table.
pub(crate) fn check_chain(file: &TaskFile) -> Vec<Diagnostic> {
    let mut d = Vec::new();
    let name = file.name.get_ref();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        d.push(spanned_err(
            "task::name",
            file.name.span(),
            "task names use lowercase letters, digits, `-` and `_`",
        ));
    }
    if file.solver.is_empty() {
        d.push(
            spanned_err("task::no-answer-step", 0..0, "the task has no solver chain")
                .help("add [[solver]] kind = \"generate\" (or multiple_choice with mode = \"loglikelihood\")"),
        );
    }
    let mut phase = Phase::Prompt;
    let mut answers = 0;
    let mut loglikelihood = false;
    let mut has_cot = None;
    for s in &file.solver {
        let spec = s.get_ref();
        let p = spec.phase();
        if p < phase {
            d.push(
                spanned_err(
                    "task::solver-order",
                    s.span(),
                    format!(
                        "`{}` shapes the prompt but comes after the model was called",
                        spec.kind()
                    ),
                )
                .help("order the chain: prompt steps, then one answer step, then follow-ups"),
            );
        }
        if p == Phase::FollowUp && answers == 0 {
            d.push(spanned_err(
                "task::solver-order",
                s.span(),
                format!(
                    "`{}` needs an answer, but no answer step comes before it",
                    spec.kind()
                ),
            ));
        }
        if p == Phase::Answer {
            answers += 1;
            if answers > 1 {
                d.push(spanned_err(
                    "task::two-answer-steps",
                    s.span(),
                    "a chain has exactly one answer step (generate, best_of_n, or multiple_choice in loglikelihood mode)",
                ));
            }
        }
        phase = phase.max(p);
        match spec {
            SolverSpec::PromptTemplate(t) => {
                for u in PromptTemplate::unknown_placeholders(&t.template) {
                    d.push(spanned_err(
                        "task::placeholder",
                        s.span(),
                        format!("unknown placeholder `{{{u}}}` (known: {{input}}, {{choices}}, {{letters}})"),
                    ));
                }
            }
            SolverSpec::SelfCritique(c) => {
                for t in [c.critique_template(), c.revise_template()] {
                    for u in unknown(t, &CRITIQUE_PLACEHOLDERS) {
                        d.push(spanned_err(
                            "task::placeholder",
                            s.span(),
                            format!("unknown placeholder `{{{u}}}` (known: {{question}}, {{answer}}, {{critique}})"),
                        ));
                    }
                }
            }
            SolverSpec::FewShot(f) if f.k == 0 => {
                d.push(spanned_err(
                    "task::few-shot",
                    s.span(),
                    "few_shot k must be at least 1",
                ));
            }
            SolverSpec::BestOfN(b) if b.n < 2 => {
                d.push(spanned_err(
                    "task::best-of-n",
                    s.span(),
                    "best_of_n n must be at least 2",
                ));
            }
            SolverSpec::MultipleChoice(m) if m.mode == ChoiceMode::Loglikelihood => {
                loglikelihood = true;
            }
            SolverSpec::ChainOfThought(_) => has_cot = Some(s.span()),
            _ => {}
        }
    }
    if !file.solver.is_empty() && answers == 0 {
        d.push(
            spanned_err(
                "task::no-answer-step",
                file.solver[file.solver.len() - 1].span(),
                "the chain never asks the model for an answer",
            )
            .help("end the prompt steps with [[solver]] kind = \"generate\""),
        );
    }
    let tools_at = file
        .solver
        .iter()
        .position(|s| matches!(s.get_ref(), SolverSpec::UseTools(_)));
    for (i, s) in file.solver.iter().enumerate() {
        match s.get_ref() {
            SolverSpec::React(_) if tools_at.is_none_or(|t| t > i) => d.push(
                spanned_err(
                    "task::react-needs-tools",
                    s.span(),
                    "react needs a use_tools step before it",
                )
                .help("add [[solver]] kind = \"use_tools\" before the react step"),
            ),
            SolverSpec::UseTools(_)
                if !file
                    .solver
                    .iter()
                    .any(|x| matches!(x.get_ref(), SolverSpec::React(_))) =>
            {
                d.push(spanned_err(
                    "task::tools-unused",
                    s.span(),
                    "use_tools enables tools, but only the react step calls them",
                ));
            }
            _ => {}
        }
    }
    if let (true, Some(span)) = (loglikelihood, has_cot) {
        d.push(spanned_err(
            "task::cot-loglikelihood",
            span,
            "chain_of_thought has no effect when choices are ranked by log-likelihood",
        ));
    }
    if file.scorer.is_empty() {
        d.push(
            spanned_err("task::no-scorer", 0..0, "the task has no scorer")
                .help("add [[scorer]] kind = \"...\""),
        );
    }
    let mut seen = BTreeMap::new();
    for s in &file.scorer {
        let spec = s.get_ref();
        if seen.insert(spec.name().to_owned(), ()).is_some() {
            d.push(
                spanned_err(
                    "task::duplicate-metric",
                    s.span(),
                    format!("two scorers are named `{}`", spec.name()),
                )
                .help("give one a distinct name = \"...\""),
            );
        }
        check_scorer(spec, s.span(), loglikelihood, &mut d);
    }
    d
}

fn check_scorer(
    spec: &ScorerSpec,
    span: Range<usize>,
    loglikelihood: bool,
    d: &mut Vec<Diagnostic>,
) {
    match spec {
        ScorerSpec::Pattern(p) => {
            if let Err(e) = Regex::new(&p.pattern) {
                d.push(spanned_err(
                    "task::pattern",
                    span,
                    format!("invalid regex: {e}"),
                ));
            }
        }
        ScorerSpec::Choice(c) => {
            let wants_ll = c.source != ChoiceSource::Completion;
            if wants_ll != loglikelihood {
                let msg = if wants_ll {
                    "source = loglikelihood needs multiple_choice with mode = \"loglikelihood\""
                } else {
                    "with log-likelihood ranking, read the pick: source = \"loglikelihood\" or \"loglikelihood_norm\""
                };
                d.push(spanned_err("task::choice-source", span, msg));
            }
        }
        ScorerSpec::ModelGraded(m) => {
            for u in unknown(m.template(), &GRADER_PLACEHOLDERS) {
                d.push(spanned_err(
                    "task::placeholder",
                    span.clone(),
                    format!("unknown placeholder `{{{u}}}` (known: {{question}}, {{answer}}, {{criterion}})"),
                ));
            }
        }
        ScorerSpec::Switch(s) => {
            for inner in s.cases.values().chain(s.default.as_deref()) {
                if matches!(inner, ScorerSpec::Switch(_)) {
                    d.push(spanned_err(
                        "task::switch",
                        span.clone(),
                        "switch cases cannot be switches",
                    ));
                }
                check_scorer(inner, span.clone(), loglikelihood, d);
            }
        }
        _ => {}
    }
}

fn unknown(template: &str, known: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let name = &after[..close];
        if !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !known.contains(&name)
        {
            out.push(name.to_owned());
        }
        rest = &after[close + 1..];
    }
    out
}
