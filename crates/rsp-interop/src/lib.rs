//! Interop with other eval harnesses: Inspect AI and lm-evaluation-harness.
//!
//! Serious evaluators already run Inspect or lm-eval; rsp accepts their logs as evidence
//! and writes logs Inspect's viewer opens. This crate is the pure part of that: bytes in,
//! a harness-neutral [`ImportedLog`] out (and back to an Inspect `.eval` archive). It knows
//! nothing of rsp's store or policy; the CLI maps an [`ImportedLog`] to an rsp run.
//!
//! # Design
//!
//! * **One neutral model** ([`model`]): task, model, status, every sample-epoch with every
//!   scorer's raw value, the harness's *reported* metrics kept verbatim, provenance, and
//!   the sha256 of the original file. Nothing is recomputed at read time.
//! * **Trust, but verify** ([`recompute`]): rsp recomputes `accuracy`, `mean` and
//!   `stderr` from the samples with Inspect's exact pipeline (value → float, per-sample
//!   epoch reduction with the score's reducer, then the metric) and [`verify`] compares
//!   with the reported values to [`recompute::TOLERANCE`] (1e-9). Disagreements and
//!   metrics rsp cannot reproduce are listed, never hidden or silently "fixed".
//! * **Readers are total**: any input gives `Ok` or an [`InteropError`], never a panic
//!   (the `import_inspect` fuzz target checks this). Python's bare `NaN`/`Infinity` are
//!   handled by [`lenient`]; zip entries are size-capped.
//! * **Formats**: Inspect `.eval` (zstd or deflate; monolith and chunked sample layouts;
//!   `attachment://` references; journal rebuild when `header.json` is missing) and `.json`
//!   (including the legacy `results.scorer`/`results.metrics` shape) in [`inspect`];
//!   lm-eval `results_*.json` + `samples_*.jsonl` in [`lmeval`].
#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

mod error;
pub mod inspect;
pub mod lenient;
pub mod lmeval;
pub mod model;
pub mod recompute;

pub use error::InteropError;
pub use inspect::writer::{WriteOptions, write_eval};
pub use model::{
    Harness, ImportedLog, ImportedSample, LogFormat, Message, Provenance, ReportedMetric,
    ReportedScore, SampleId, SampleLayout, SampleScore, ScoreValue,
};
pub use recompute::{MetricCheck, verify};

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn read_file(path: &Path) -> Result<Vec<u8>, InteropError> {
    std::fs::read(path).map_err(|source| InteropError::Io {
        path: path.to_owned(),
        source,
    })
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Reads one Inspect log file (`.eval` or `.json`, chosen by content) and records its
/// name and sha256 in the provenance.
pub fn read_inspect_file(path: &Path) -> Result<ImportedLog, InteropError> {
    let bytes = read_file(path)?;
    let mut log = inspect::read(&bytes)?;
    log.provenance
        .files
        .insert(file_name(path), log.source_sha256.clone());
    Ok(log)
}

/// The Inspect logs under `path`: the file itself, or every `.eval` / `.json` file in a
/// directory tree (sorted, so imports happen in a stable order).
pub fn inspect_log_files(path: &Path) -> Result<Vec<PathBuf>, InteropError> {
    let io = |source| InteropError::Io {
        path: path.to_owned(),
        source,
    };
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).map_err(io)? {
            let p = entry.map_err(io)?.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("eval" | "json")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads lm-eval output: a `results_*.json` file, or a directory holding one or more
/// (searched recursively), each with the `samples_*.jsonl` files beside it.
pub fn read_lm_eval_path(path: &Path) -> Result<Vec<ImportedLog>, InteropError> {
    let mut results = Vec::new();
    let mut stack = vec![path.to_owned()];
    let io = |p: &Path, source| InteropError::Io {
        path: p.to_owned(),
        source,
    };
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            for entry in std::fs::read_dir(&p).map_err(|e| io(&p, e))? {
                stack.push(entry.map_err(|e| io(&p, e))?.path());
            }
        } else {
            let name = file_name(&p);
            if p == path || (name.starts_with("results_") && name.ends_with(".json")) {
                results.push(p);
            }
        }
    }
    results.sort();
    if results.is_empty() {
        return Err(InteropError::UnknownFormat {
            path: path.to_owned(),
        });
    }
    let mut out = Vec::new();
    for r in results {
        let dir = r.parent().map(Path::to_owned).unwrap_or_default();
        let mut samples = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).map_err(|e| io(&dir, e))? {
            let p = entry.map_err(|e| io(&dir, e))?.path();
            let name = file_name(&p);
            if name.starts_with("samples_") && name.ends_with(".jsonl") {
                samples.insert(name, read_file(&p)?);
            }
        }
        out.extend(lmeval::read(&file_name(&r), &read_file(&r)?, &samples)?);
    }
    Ok(out)
}
