//! The constitution: a TOML file of principles, comparison principles, restricted and
//! permitted content classes, and the verdict format.
//!
//! See `docs/constitution.md` for the format. [`check`] reports every problem at once;
//! [`parse`] and [`load`] return the constitution or the problems as
//! [`rsp_eval::FileDiagnostics`] (rendered with carets like policy diagnostics).

mod explain;
mod model;
mod parse;

use std::path::Path;

pub use explain::explain;
pub use model::{
    ComparisonPrinciple, Constitution, ContentClass, DEFAULT_ALLOW_OPTION, DEFAULT_REFUSAL,
    DEFAULT_THRESHOLD, DEFAULT_VOTES, MAX_RESTRICTED, Meta, Principle, VerdictFormat,
};
pub use parse::{CheckReport, MAX_CONSTITUTION_BYTES, check};

use crate::Error;

/// The file name `rsp constitution init` writes.
pub const CONSTITUTION_FILE: &str = "constitution.toml";

const EXAMPLE: &str = include_str!("../../assets/example-constitution.toml");

/// The shipped example constitution (original text; restricted classes described only
/// abstractly, examples only for permitted classes). `rsp constitution init` writes it.
pub fn example_constitution() -> &'static str {
    EXAMPLE
}

/// Parses constitution text; `file` names it in diagnostics.
pub fn parse(file: &str, text: &str) -> Result<Constitution, Error> {
    let report = check(text);
    report.constitution.ok_or_else(|| {
        Error::Invalid(rsp_eval::FileDiagnostics {
            file: file.to_owned(),
            source: text.to_owned(),
            diagnostics: report.diagnostics,
        })
    })
}

/// Reads and parses a constitution file.
pub fn load(path: &Path) -> Result<Constitution, Error> {
    let text = fs_err::read_to_string(path).map_err(Error::Io)?;
    parse(&path.display().to_string(), &text)
}
