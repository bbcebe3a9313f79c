//! Built-in policy templates for `rsp init --template NAME`.
//!
//! `example` runs end to end on rsp's built-in benign suites. The other
//! three encode public frontier safety frameworks in their own vocabulary;
//! their evals point at placeholder suites the user must supply, and
//! `rsp policy check` says so.

/// One template.
#[derive(Debug, Clone, Copy)]
pub struct Template {
    /// Name given to `--template`.
    pub name: &'static str,
    /// One-line description for `--help` and listings.
    pub summary: &'static str,
    /// The TOML text.
    pub text: &'static str,
}

/// All templates, the default first.
pub const TEMPLATES: &[Template] = &[
    Template {
        name: "example",
        summary: "runnable example policy on rsp's built-in benign proxy suites (default)",
        text: include_str!("../templates/example.toml"),
    },
    Template {
        name: "anthropic-rsp-v2.2",
        summary: "structure of Anthropic's Responsible Scaling Policy v2.2 (ASL standards)",
        text: include_str!("../templates/anthropic-rsp-v2.2.toml"),
    },
    Template {
        name: "openai-pf-v2",
        summary: "structure of OpenAI's Preparedness Framework v2 (High / Critical)",
        text: include_str!("../templates/openai-pf-v2.toml"),
    },
    Template {
        name: "gdm-fsf-v3",
        summary: "structure of Google DeepMind's Frontier Safety Framework v3 (CCLs, alert thresholds)",
        text: include_str!("../templates/gdm-fsf-v3.toml"),
    },
];

/// Find a template by name.
#[must_use]
pub fn template(name: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.name == name)
}
