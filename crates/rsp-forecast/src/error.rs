//! The crate's error type.
//!
//! Every degenerate input is reported as a typed error *before* any arithmetic
//! runs, so a fit never returns NaN parameters and never panics: the caller
//! learns which column, row or option was at fault.

use std::path::PathBuf;

use chrono::NaiveDate;

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while loading data, fitting or charting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Fewer data points than the model needs (its parameter count plus one, so
    /// that residuals have at least one degree of freedom).
    #[error("{model} needs at least {needed} data points, got {got}")]
    TooFewPoints {
        /// Which model was being fitted.
        model: &'static str,
        /// Minimum number of points.
        needed: usize,
        /// Number supplied.
        got: usize,
    },
    /// Two input columns that must pair up have different lengths.
    #[error("{left} has {left_len} values but {right} has {right_len}")]
    LengthMismatch {
        /// Name of the first input.
        left: &'static str,
        /// Its length.
        left_len: usize,
        /// Name of the second input.
        right: &'static str,
        /// Its length.
        right_len: usize,
    },
    /// A value is NaN or infinite.
    #[error("{what}[{index}] is not finite ({value})")]
    NonFinite {
        /// Which input.
        what: &'static str,
        /// Zero-based position in that input.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// A value that is taken the logarithm of is zero or negative.
    #[error("{what}[{index}] = {value}, but it must be > 0 because the model takes its logarithm")]
    NonPositive {
        /// Which input.
        what: &'static str,
        /// Zero-based position in that input.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// An input has a single distinct value, so the model is not identifiable.
    #[error("{what} is constant ({value}); the fit is not identifiable")]
    Constant {
        /// Which input.
        what: &'static str,
        /// Its only value.
        value: f64,
    },
    /// Two points share a date and the caller asked for that to be an error.
    #[error("two data points share the date {date}")]
    DuplicateDate {
        /// The repeated date.
        date: NaiveDate,
    },
    /// An option is out of its valid range.
    #[error("invalid option `{name}`: {reason}")]
    InvalidOption {
        /// Option name.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No start of the optimiser reached a finite objective.
    #[error("{model}: the optimiser found no finite optimum from {starts} starting points")]
    NoOptimum {
        /// Which model was being fitted.
        model: &'static str,
        /// How many starts were tried.
        starts: usize,
    },
    /// Too many bootstrap resamples could not be refitted.
    #[error("{model}: only {succeeded} of {requested} bootstrap resamples could be refitted")]
    BootstrapFailed {
        /// Which model was being bootstrapped.
        model: &'static str,
        /// Successful refits.
        succeeded: usize,
        /// Requested resamples.
        requested: usize,
    },
    /// The data file could not be opened or read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The CSV is malformed (bad quoting, ragged row, invalid UTF-8).
    #[error("{}: malformed CSV", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The parser's complaint, which carries the line.
        #[source]
        source: csv::Error,
    },
    /// A requested column is not in the header.
    #[error("{}: no column named {column:?} (the header has: {available})", path.display())]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The requested column.
        column: String,
        /// The header, comma separated.
        available: String,
    },
    /// A required cell is empty.
    #[error("{}, line {line}, column {column:?}: empty value", path.display())]
    EmptyCell {
        /// The file.
        path: PathBuf,
        /// One-based line number in the file.
        line: u64,
        /// Column name.
        column: String,
    },
    /// A cell is not a number.
    #[error("{}, line {line}, column {column:?}: cannot parse {value:?} as a number", path.display())]
    ParseNumber {
        /// The file.
        path: PathBuf,
        /// One-based line number in the file.
        line: u64,
        /// Column name.
        column: String,
        /// The cell text.
        value: String,
        /// The parser's complaint.
        #[source]
        source: std::num::ParseFloatError,
    },
    /// A cell is a number but not a finite one (`nan`, `inf`).
    #[error("{}, line {line}, column {column:?}: {value:?} is not a finite number", path.display())]
    NonFiniteCell {
        /// The file.
        path: PathBuf,
        /// One-based line number in the file.
        line: u64,
        /// Column name.
        column: String,
        /// The cell text.
        value: String,
    },
    /// A cell is not a `YYYY-MM-DD` date.
    #[error("{}, line {line}, column {column:?}: cannot parse {value:?} as a YYYY-MM-DD date", path.display())]
    ParseDate {
        /// The file.
        path: PathBuf,
        /// One-based line number in the file.
        line: u64,
        /// Column name.
        column: String,
        /// The cell text.
        value: String,
        /// The parser's complaint.
        #[source]
        source: chrono::ParseError,
    },
    /// The chart could not be drawn (for example an empty or degenerate range).
    #[error("cannot draw the chart")]
    Chart {
        /// The plotting library's complaint.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The chart has nothing with a finite coordinate to draw.
    #[error("the chart has no finite data to draw")]
    EmptyChart,
}
