//! The typed constitution: plain data, no spans.
//!
//! Spans live only in the parser ([`super::parse`]), so these types serve the classifier,
//! the CAI generators, the plain-language rendering and JSON output alike.

use serde::{Deserialize, Serialize};

/// Default block threshold on P(restricted).
pub const DEFAULT_THRESHOLD: f64 = 0.5;
/// Default number of sampled votes for judges that cannot score.
pub const DEFAULT_VOTES: u32 = 5;
/// Default text of the "allowed" option (option A of the classifier's question).
pub const DEFAULT_ALLOW_OPTION: &str = "none of the restricted classes: the content is allowed";
/// Default refusal shown for a blocked request.
pub const DEFAULT_REFUSAL: &str = "I can't help with that request.";
/// At most this many restricted classes: options are lettered B..Z after the allow option A.
pub const MAX_RESTRICTED: usize = 25;

/// A parsed, validated constitution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Constitution {
    /// Name, version and description (`[constitution]`).
    pub meta: Meta,
    /// Critique/revision pairs for SL-CAI (`[[principle]]`).
    pub principles: Vec<Principle>,
    /// "Choose the response that is more …" principles for AI preference labels
    /// (`[[comparison]]`).
    pub comparisons: Vec<ComparisonPrinciple>,
    /// Content the classifier blocks (`[[restricted]]`).
    pub restricted: Vec<ContentClass>,
    /// Content the classifier must let through even when it sounds sensitive
    /// (`[[permitted]]`); listed in the judge prompt to limit over-refusal.
    pub permitted: Vec<ContentClass>,
    /// How the classifier asks and decides (`[verdict]`).
    pub verdict: VerdictFormat,
}

/// `[constitution]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// Short name, recorded with every verdict and CAI record.
    pub name: String,
    /// Bump when the meaning changes.
    pub version: u32,
    /// What the constitution is for.
    pub description: Option<String>,
}

/// One SL-CAI principle: a critique request and its paired revision request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principle {
    /// Stable id, recorded in CAI output so a revision can be traced to its principle.
    pub id: String,
    /// The critique request ("Identify specific ways in which …").
    pub critique: String,
    /// The revision request ("Please rewrite the response …").
    pub revision: String,
}

/// One comparison principle for RL-CAI labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComparisonPrinciple {
    /// Stable id.
    pub id: String,
    /// The question ("Please choose the response that is …").
    pub text: String,
}

/// A restricted or permitted content class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentClass {
    /// Unique name (lowercase, digits, `-`, `_`), reported in verdicts.
    pub name: String,
    /// What belongs to the class, in plain language.
    pub description: String,
    /// Example requests. Only benign examples belong in a shared file, so examples of a
    /// restricted class draw a warning.
    pub examples: Vec<String>,
}

/// `[verdict]`: how the classifier asks and decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictFormat {
    /// Text of option (A), "allowed"; each restricted class is one further option.
    pub allow_option: String,
    /// Block when P(restricted) ≥ this (callers may override per run).
    pub threshold: f64,
    /// Sampled votes when the judge cannot score log-likelihoods.
    pub votes: u32,
    /// Message returned in place of a blocked answer.
    pub refusal: String,
}

impl Default for VerdictFormat {
    fn default() -> Self {
        Self {
            allow_option: DEFAULT_ALLOW_OPTION.to_owned(),
            threshold: DEFAULT_THRESHOLD,
            votes: DEFAULT_VOTES,
            refusal: DEFAULT_REFUSAL.to_owned(),
        }
    }
}

impl Constitution {
    /// The restricted class with this name.
    pub fn restricted_class(&self, name: &str) -> Option<&ContentClass> {
        self.restricted.iter().find(|c| c.name == name)
    }
}
