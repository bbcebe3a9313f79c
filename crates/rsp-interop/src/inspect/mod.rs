//! Inspect AI logs: reading `.eval` archives and `.json` logs, writing `.eval` archives.
//!
//! Both formats carry the same pydantic models (schema version 2); see [`parse`] for the
//! field mapping, [`eval_zip`] for the archive layouts and the journal rebuild, and
//! [`writer`] for export.

use serde_json::Value;

use crate::model::{ImportedLog, LogFormat};
use crate::{InteropError, lenient, sha256_hex};

pub(crate) mod eval_zip;
pub(crate) mod parse;
pub mod writer;

/// Reads an Inspect `.json` log from its bytes.
///
/// Accepts bare `NaN` / `Infinity` (as Python writes them) and the legacy
/// `results.scorer` / `results.metrics` shape. Attachment references in samples are
/// resolved from each sample's `attachments` table.
pub fn read_json(bytes: &[u8]) -> Result<ImportedLog, InteropError> {
    let doc = lenient::parse(bytes, "log")?;
    let mut log = parse::empty_log(LogFormat::InspectJson, sha256_hex(bytes));
    parse::apply_header(&mut log, &doc, "log")?;
    if let Some(samples) = doc.get("samples").and_then(Value::as_array) {
        for (i, s) in samples.iter().enumerate() {
            let mut s = s.clone();
            resolve_monolith_attachments(&mut s);
            log.samples
                .push(parse::sample(&s, &format!("samples[{i}]"))?);
        }
    }
    parse::sort_samples(&mut log.samples);
    parse::scorers_from_samples(&mut log);
    Ok(log)
}

/// Reads an Inspect `.eval` archive from its bytes (see [`eval_zip`] for the layouts).
pub fn read_eval(bytes: &[u8]) -> Result<ImportedLog, InteropError> {
    eval_zip::read(bytes)
}

/// Reads either format, choosing by content: a zip archive starts with `PK`.
pub fn read(bytes: &[u8]) -> Result<ImportedLog, InteropError> {
    if bytes.starts_with(b"PK") {
        read_eval(bytes)
    } else {
        read_json(bytes)
    }
}

/// Resolves `attachment://<hash>` references from the sample's own `attachments` table.
pub(crate) fn resolve_monolith_attachments(sample: &mut Value) {
    let table = sample
        .get("attachments")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if table.is_empty() {
        return;
    }
    let lookup = |key: &str| table.get(key).and_then(Value::as_str).map(str::to_owned);
    if let Some(o) = sample.as_object_mut() {
        for (k, v) in o.iter_mut() {
            if k != "attachments" {
                parse::resolve_attachments(v, &lookup);
            }
        }
    }
}
