//! The constitution in plain language, for reviewers who do not read TOML.

use std::fmt::Write;

use super::model::Constitution;

/// Renders `c` as plain-language Markdown: what is blocked, what is explicitly allowed,
/// how the classifier decides, and the principles used for CAI data.
pub fn explain(c: &Constitution) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail; the results are ignored on purpose.
    let _ = writeln!(
        out,
        "# Constitution `{}` (version {})\n",
        c.meta.name, c.meta.version
    );
    if let Some(d) = &c.meta.description {
        let _ = writeln!(out, "{d}\n");
    }
    let _ = writeln!(out, "## What the classifier blocks\n");
    if c.restricted.is_empty() {
        let _ = writeln!(out, "Nothing: there are no restricted classes.\n");
    }
    for r in &c.restricted {
        let _ = writeln!(out, "- **{}**: {}", r.name, r.description);
    }
    let _ = writeln!(out, "\n## What it must let through\n");
    if c.permitted.is_empty() {
        let _ = writeln!(out, "No permitted classes are listed.\n");
    }
    for p in &c.permitted {
        let _ = writeln!(out, "- **{}**: {}", p.name, p.description);
        for e in &p.examples {
            let _ = writeln!(out, "  - e.g. \u{201c}{e}\u{201d}");
        }
    }
    let v = &c.verdict;
    let _ = writeln!(
        out,
        "\n## How it decides\n\nA judge model answers a multiple-choice question: (A) {}, or one \
         option per restricted class. A request is blocked when the probability of the \
         restricted options reaches {:.2}; that probability comes from the judge's \
         log-likelihoods of the options, or from {} sampled votes when the judge cannot score. \
         A blocked request is told: \u{201c}{}\u{201d}",
        v.allow_option, v.threshold, v.votes, v.refusal
    );
    let _ = writeln!(out, "\n## Principles for critique and revision\n");
    for p in &c.principles {
        let _ = writeln!(out, "- **{}**: {} Then: {}", p.id, p.critique, p.revision);
    }
    let _ = writeln!(out, "\n## Principles for comparing responses\n");
    for p in &c.comparisons {
        let _ = writeln!(out, "- **{}**: {}", p.id, p.text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_class_and_principle() {
        let c = crate::constitution::parse("x", crate::example_constitution()).unwrap();
        let text = explain(&c);
        for r in &c.restricted {
            assert!(text.contains(&r.name), "{}", r.name);
        }
        for p in &c.principles {
            assert!(text.contains(&p.id));
        }
        assert!(text.contains("0.50"));
    }
}
