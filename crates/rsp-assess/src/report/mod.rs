//! The Capability Report and the Safeguards Report of an assessment, as
//! Markdown, self-contained HTML and JSON.
//!
//! The two reports follow the split the frontier frameworks use (see
//! `docs/frameworks.md`): the **Capability Report** says what the model can
//! do — per threshold, every rule's numbers with their intervals, the
//! elicitation used and its gap, the calibration of the lines, and sampled
//! transcripts as the EU Code of Practice asks — and the **Safeguards
//! Report** says what that requires — the required standards and why, each
//! safeguard's evidence and state, the decisions and their signatures.
//!
//! Design:
//! * everything shown comes from the [`Assessment`] plus [`ReportExtras`]
//!   (facts the assessment does not own: transcripts, signatures, the rsp
//!   version, the lineage forecast), so a report can be re-rendered from the
//!   stored JSON;
//! * the content is written once against a tiny document model
//!   (`report::doc`) and rendered by a Markdown writer and an HTML writer, which
//!   each escape all text in one place;
//! * JSON is the serde serialization of [`ReportJson`]; it round-trips.

mod calibration;
mod capability;
mod decisions;
mod doc;
mod forecast;
mod header;
mod html;
mod markdown;
mod numbers;
mod safeguards;
mod transcripts;

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::types::{Assessment, DecisionAction};

pub use forecast::ForecastNote;
pub use transcripts::{TRANSCRIPT_TEXT_LIMIT, TRANSCRIPTS_PER_RUN, sample_transcripts};

/// A false-alarm rate above this gets a plain-language warning: the line
/// would ring the alarm for a model safely below it more than one time in
/// five.
pub const FALSE_ALARM_WARNING: f64 = 0.20;

/// A miss rate above this gets a plain-language warning: a model exactly
/// at the line would be declared safe more than one time in twenty.
pub const MISS_WARNING: f64 = 0.05;

/// One sample of an evaluation run, as logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// Sample id within the run's dataset.
    pub sample_id: String,
    /// Epoch (repeat) of the sample.
    pub epoch: u32,
    /// The input as given to the model.
    pub input: String,
    /// Target answer(s).
    #[serde(default)]
    pub target: Vec<String>,
    /// The model's final output, when it produced one.
    #[serde(default)]
    pub output: Option<String>,
    /// The conversation as `(role, content)` pairs.
    #[serde(default)]
    pub messages: Vec<(String, String)>,
    /// The score the scorer gave.
    #[serde(default)]
    pub score: Option<f64>,
    /// The scorer's explanation.
    #[serde(default)]
    pub explanation: Option<String>,
    /// The error that ended the sample, if any.
    #[serde(default)]
    pub error: Option<String>,
}

/// A signature found on a decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignatureLine {
    /// Role the signature claims.
    pub role: String,
    /// Key id or public key (hex or base64) that signed.
    pub key_id: String,
    /// When it was signed.
    pub signed_at: DateTime<Utc>,
    /// True when the signature verifies against the role's key.
    pub valid: bool,
}

/// The stored state of one decision of the assessment: it matches the
/// [`crate::DecisionOutcome`] with the same `action`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// The action decided.
    pub action: DecisionAction,
    /// Decision id in the store (what `rsp sign` takes).
    pub id: String,
    /// Its state as the store reports it (`draft`, `signed`, ...).
    pub status: String,
    /// Signatures present, valid or not.
    #[serde(default)]
    pub signatures: Vec<SignatureLine>,
}

/// What a report shows besides the [`Assessment`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportExtras {
    /// Run id → its logged samples. Runs with more than
    /// [`TRANSCRIPTS_PER_RUN`] samples are sampled down, reproducibly.
    #[serde(default)]
    pub transcripts: BTreeMap<String, Vec<Transcript>>,
    /// Decisions as stored, with their signatures.
    #[serde(default)]
    pub decisions: Vec<DecisionRecord>,
    /// Version of rsp that rendered the report.
    pub rsp_version: String,
    /// SHA-256 (hex) of the policy file as found when rendering; a
    /// mismatch with the assessment's is flagged in the report.
    #[serde(default)]
    pub policy_sha256: Option<String>,
    /// One note per evidence rule: the forecast across the model's lineage
    /// of checkpoints (computed by the caller, which can read the other
    /// checkpoints), shown in the Capability Report after the calibration.
    #[serde(default)]
    pub forecasts: Vec<ForecastNote>,
}

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportKind {
    /// What the model can do, with the evidence.
    Capability,
    /// What that requires, what is in place, and the decisions.
    Safeguards,
}

impl ReportKind {
    /// File-name stem (`capability-report`).
    #[must_use]
    pub fn stem(self) -> &'static str {
        match self {
            Self::Capability => "capability-report",
            Self::Safeguards => "safeguards-report",
        }
    }
}

impl fmt::Display for ReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Capability => "Capability Report",
            Self::Safeguards => "Safeguards Report",
        })
    }
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// GitHub-flavoured Markdown.
    Markdown,
    /// One self-contained HTML page (inline CSS, no scripts or assets).
    Html,
    /// Pretty JSON of [`ReportJson`].
    Json,
}

impl Format {
    /// File extension without the dot.
    #[must_use]
    pub fn extension(self) -> &'static str {
        match self {
            Self::Markdown => "md",
            Self::Html => "html",
            Self::Json => "json",
        }
    }
}

/// The JSON report: which report, the assessment, and the extras.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportJson {
    /// Which report.
    pub kind: ReportKind,
    /// The assessment, as [`crate::assess`] produced it.
    pub assessment: Assessment,
    /// Transcripts, signatures and rendering facts.
    pub extras: ReportExtras,
}

/// Borrowed twin of [`ReportJson`] so rendering does not clone the
/// assessment; the field names and order must stay identical.
#[derive(Serialize)]
struct ReportJsonRef<'a> {
    kind: ReportKind,
    assessment: &'a Assessment,
    extras: &'a ReportExtras,
}

/// Why a report could not be rendered or read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The JSON serializer refused the assessment.
    #[error("could not serialize the {kind} as JSON")]
    Serialize {
        /// Which report.
        kind: ReportKind,
        /// Cause.
        #[source]
        source: serde_json::Error,
    },
    /// The text is not a JSON report.
    #[error("not a JSON report")]
    Parse(#[source] serde_json::Error),
}

/// Render one report of `assessment` in `format`.
///
/// Markdown and HTML show the report's own sections; JSON carries the
/// whole assessment and extras whichever `kind` is asked for, tagged with
/// the kind, so either JSON file can re-render both reports.
///
/// # Errors
/// [`ReportError::Serialize`] when JSON serialization fails (it does not for
/// assessments built by this crate, whose numbers are finite).
pub fn render(
    kind: ReportKind,
    format: Format,
    assessment: &Assessment,
    extras: &ReportExtras,
) -> Result<String, ReportError> {
    let doc = || match kind {
        ReportKind::Capability => capability::build(assessment, extras),
        ReportKind::Safeguards => safeguards::build(assessment, extras),
    };
    match format {
        Format::Markdown => Ok(markdown::render(&doc())),
        Format::Html => Ok(html::render(&doc())),
        Format::Json => {
            let json = ReportJsonRef {
                kind,
                assessment,
                extras,
            };
            let mut s = serde_json::to_string_pretty(&json)
                .map_err(|source| ReportError::Serialize { kind, source })?;
            s.push('\n');
            Ok(s)
        }
    }
}

/// Parse a JSON report written by [`render`].
///
/// Exact round trips of computed bounds (`0.45 + 0.02`) need serde_json's
/// `float_roundtrip` feature, which rsp-assess enables.
///
/// # Errors
/// [`ReportError::Parse`] when `json` is not a report.
pub fn parse_json(json: &str) -> Result<ReportJson, ReportError> {
    serde_json::from_str(json).map_err(ReportError::Parse)
}
