//! The `.eval` zip archive.
//!
//! Entries (schema 2): `header.json` (the log without samples, written last),
//! `_journal/start.json` (`{version, eval, plan}`, written first), `_journal/summaries/N.json`,
//! `summaries.json`, `reductions.json`, and the samples in one of two shapes, classified
//! per sample from the entry names exactly as Inspect does:
//!
//! * **monolith**: `samples/{id}_epoch_{n}.json`, one `EvalSample` with its own
//!   `attachments` table keyed by content hash;
//! * **chunked** (newer): `samples/{id}_epoch_{n}/sample.json` (the "shell": the sample
//!   without messages, events, attachments and metadata, plus `message_refs`, half-open
//!   index ranges into the message sequence), `metadata.json` when non-empty, and the
//!   sequences `messages/{start}.json`, `attachments/{start}.json` (…, `events/`, `calls/`,
//!   not needed here). Attachment references there are `attachment://<index>` into the
//!   attachments sequence.
//!
//! An archive without `header.json` is a run still in progress or one that died. It is
//! rebuilt from `_journal/start.json` plus whatever samples were flushed; the status stays
//! `started`, there are no reported metrics, and the log is marked
//! [`ImportedLog::rebuilt_from_journal`].

use std::collections::{BTreeMap, HashSet};
use std::io::{Cursor, Read};

use serde_json::Value;
use zip::ZipArchive;

use super::parse;
use crate::model::{ImportedLog, LogFormat, SampleLayout};
use crate::{InteropError, lenient, sha256_hex};

/// Largest entry read (uncompressed): a guard against zip bombs in hostile files.
const MAX_ENTRY_BYTES: u64 = 1 << 30;

struct Archive<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
}

impl Archive<'_> {
    fn bytes(&mut self, name: &str) -> Result<Option<Vec<u8>>, InteropError> {
        let mut file = match self.zip.by_name(name) {
            Ok(f) => f,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let err = |source| InteropError::Entry {
            entry: name.to_owned(),
            source,
        };
        if file.size() > MAX_ENTRY_BYTES {
            return Err(err(std::io::Error::other("entry larger than 1 GiB")));
        }
        let mut buf = Vec::with_capacity(usize::try_from(file.size().min(1 << 24)).unwrap_or(0));
        (&mut file)
            .take(MAX_ENTRY_BYTES)
            .read_to_end(&mut buf)
            .map_err(err)?;
        Ok(Some(buf))
    }

    fn json(&mut self, name: &str) -> Result<Option<Value>, InteropError> {
        match self.bytes(name)? {
            Some(b) => lenient::parse(&b, name).map(Some),
            None => Ok(None),
        }
    }
}

/// A sample entry's shape.
enum Entry {
    Monolith,
    Chunked(String),
}

/// Classifies the sample entries of an archive, as Inspect does: a chunked sample is a
/// `samples/{id}_epoch_{n}/sample.json` shell; every other `samples/….json` entry with
/// `_epoch_` in its name and outside a chunked sample's folder is a monolith sample (ids
/// may contain `/`, so the folder test is by prefix, not by counting slashes).
fn classify(names: &[String]) -> Vec<(String, Entry)> {
    let chunked: HashSet<String> = names
        .iter()
        .filter_map(|n| n.strip_prefix("samples/")?.strip_suffix("/sample.json"))
        .filter(|p| p.contains("_epoch_"))
        .map(str::to_owned)
        .collect();
    names
        .iter()
        .filter_map(|n| {
            let rest = n.strip_prefix("samples/")?;
            if let Some(p) = rest.strip_suffix("/sample.json")
                && chunked.contains(p)
            {
                return Some((n.clone(), Entry::Chunked(p.to_owned())));
            }
            let inside_chunked = rest
                .match_indices('/')
                .any(|(i, _)| chunked.contains(&rest[..i]));
            let stem = rest.strip_suffix(".json")?;
            (!inside_chunked && stem.contains("_epoch_")).then(|| (n.clone(), Entry::Monolith))
        })
        .collect()
}

pub(crate) fn read(bytes: &[u8]) -> Result<ImportedLog, InteropError> {
    let zip = ZipArchive::new(Cursor::new(bytes))?;
    let names: Vec<String> = zip
        .file_names()
        .map(|n| n.map(std::borrow::Cow::into_owned))
        .collect::<Result<_, _>>()?;
    let mut ar = Archive { zip };
    let mut log = parse::empty_log(LogFormat::InspectEval, sha256_hex(bytes));
    if let Some(header) = ar.json("header.json")? {
        parse::apply_header(&mut log, &header, "header.json")?;
    } else if let Some(start) = ar.json("_journal/start.json")? {
        parse::apply_header(&mut log, &start, "_journal/start.json")?;
        log.status = "started".into();
        log.rebuilt_from_journal = true;
        log.warnings.push(
            "no header.json (run still in progress, or it died): rebuilt from the journal; \
             no reported metrics to check against"
                .into(),
        );
    } else {
        return Err(InteropError::shape(
            "archive",
            "neither header.json nor _journal/start.json: not an Inspect .eval log",
        ));
    }

    let (mut monolith, mut chunked) = (0usize, 0usize);
    for (name, entry) in classify(&names) {
        let value = match entry {
            Entry::Monolith => {
                monolith += 1;
                let Some(mut v) = ar.json(&name)? else {
                    continue;
                };
                super::resolve_monolith_attachments(&mut v);
                v
            }
            Entry::Chunked(prefix) => {
                chunked += 1;
                chunked_sample(&mut ar, &names, &prefix)?
            }
        };
        log.samples.push(parse::sample(&value, &name)?);
    }
    log.layout = Some(match (monolith, chunked) {
        (0, 0) => SampleLayout::Empty,
        (_, 0) => SampleLayout::Monolith,
        (0, _) => SampleLayout::Chunked,
        _ => SampleLayout::Mixed,
    });
    parse::sort_samples(&mut log.samples);
    parse::scorers_from_samples(&mut log);
    Ok(log)
}

/// The chunks of one sequence (`messages`, `attachments`) of a chunked sample, in order.
fn sequence(
    ar: &mut Archive<'_>,
    names: &[String],
    prefix: &str,
    seq: &str,
) -> Result<Vec<Value>, InteropError> {
    let dir = format!("samples/{prefix}/{seq}/");
    let mut chunks: BTreeMap<u64, &String> = BTreeMap::new();
    for n in names {
        if let Some(start) = n
            .strip_prefix(&dir)
            .and_then(|f| f.strip_suffix(".json"))
            .and_then(|s| s.parse::<u64>().ok())
        {
            chunks.insert(start, n);
        }
    }
    let mut out = Vec::new();
    for name in chunks.into_values() {
        match ar.json(name)? {
            Some(Value::Array(items)) => out.extend(items),
            Some(_) => {
                return Err(InteropError::shape(
                    name.as_str(),
                    "a chunk must be a JSON array",
                ));
            }
            None => {}
        }
    }
    Ok(out)
}

/// Reassembles a chunked sample into the monolith `EvalSample` shape (messages from the
/// shell's `message_refs`, metadata from `metadata.json`, attachments resolved by index).
fn chunked_sample(
    ar: &mut Archive<'_>,
    names: &[String],
    prefix: &str,
) -> Result<Value, InteropError> {
    let shell_name = format!("samples/{prefix}/sample.json");
    let mut shell = ar
        .json(&shell_name)?
        .ok_or_else(|| InteropError::shape(shell_name.as_str(), "missing"))?;
    let messages = sequence(ar, names, prefix, "messages")?;
    let attachments: Vec<String> = sequence(ar, names, prefix, "attachments")?
        .into_iter()
        .map(|v| v.as_str().map(str::to_owned).unwrap_or_default())
        .collect();
    let metadata = ar.json(&format!("samples/{prefix}/metadata.json"))?;
    let Some(obj) = shell.as_object_mut() else {
        return Err(InteropError::shape(
            shell_name.as_str(),
            "expected a JSON object",
        ));
    };
    let mut final_messages = Vec::new();
    if let Some(refs) = obj.get("message_refs").and_then(Value::as_array) {
        for r in refs {
            let bounds = r.as_array().map(|p| {
                (
                    p.first().and_then(Value::as_u64).unwrap_or(0),
                    p.get(1).and_then(Value::as_u64).unwrap_or(0),
                )
            });
            let Some((start, end)) = bounds else { continue };
            let len = messages.len() as u64;
            for i in start.min(len)..end.min(len) {
                if let Some(m) = usize::try_from(i).ok().and_then(|i| messages.get(i)) {
                    final_messages.push(m.clone());
                }
            }
        }
    }
    obj.insert("messages".into(), Value::Array(final_messages));
    if let Some(m) = metadata {
        obj.insert("metadata".into(), m);
    }
    let lookup = |key: &str| {
        key.parse::<usize>()
            .ok()
            .and_then(|i| attachments.get(i))
            .cloned()
    };
    parse::resolve_attachments(&mut shell, &lookup);
    Ok(shell)
}
