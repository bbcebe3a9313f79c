//! Append-only JSONL output that survives `kill -9` and resumes.
//!
//! One line per finished prompt, each written with a single `write_all`, then flushed and
//! `fsync`ed before the prompt counts as done. A kill can therefore leave at most one
//! partial line, at the end and without its newline; [`ResumableJsonl::open`] truncates it
//! and collects the `id` of every complete line, so a restart skips exactly the prompts
//! already written. A complete line that is not JSON is corruption, not a crash artefact,
//! and is reported rather than silently dropped.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Error;

/// An open, resumable JSONL output file.
#[derive(Debug)]
pub struct ResumableJsonl {
    path: PathBuf,
    file: fs_err::File,
    done: HashSet<String>,
    repaired: u64,
}

impl ResumableJsonl {
    /// Opens (creating) `path`, truncating a partial last line, and reads the ids done.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let bytes = match fs_err::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::Io(e)),
        };
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let repaired = (bytes.len() - complete) as u64;
        let mut done = HashSet::new();
        for (i, line) in bytes[..complete].split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let v: serde_json::Value =
                serde_json::from_slice(line).map_err(|source| Error::Json {
                    path: path.to_owned(),
                    line: i + 1,
                    source,
                })?;
            let Some(id) = v.get("id").and_then(serde_json::Value::as_str) else {
                return Err(Error::BadInput {
                    path: path.to_owned(),
                    reason: format!("line {}: output record has no string `id`", i + 1),
                });
            };
            done.insert(id.to_owned());
        }
        let file = fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(Error::Io)?;
        if repaired > 0 {
            file.set_len(complete as u64).map_err(Error::Io)?;
        }
        Ok(Self {
            path: path.to_owned(),
            file,
            done,
            repaired,
        })
    }

    /// True when a record with this id is already in the file.
    pub fn is_done(&self, id: &str) -> bool {
        self.done.contains(id)
    }

    /// Records already in the file.
    pub fn done(&self) -> usize {
        self.done.len()
    }

    /// Bytes of a partial last line removed on open (0 after a clean stop).
    pub fn repaired_bytes(&self) -> u64 {
        self.repaired
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record (which must serialise with `"id": id`) as one line, durably.
    pub fn append<T: Serialize>(&mut self, id: &str, record: &T) -> Result<(), Error> {
        let mut line = serde_json::to_vec(record).map_err(|source| Error::Json {
            path: self.path.clone(),
            line: self.done.len() + 1,
            source,
        })?;
        line.push(b'\n');
        self.file.write_all(&line).map_err(Error::Io)?;
        self.file.flush().map_err(Error::Io)?;
        self.file.sync_data().map_err(Error::Io)?;
        self.done.insert(id.to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn truncates_a_partial_last_line_and_resumes() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("out.jsonl");
        let mut w = ResumableJsonl::open(&p).unwrap();
        assert_eq!(w.done(), 0);
        w.append("a", &json!({"id": "a", "x": 1})).unwrap();
        w.append("b", &json!({"id": "b", "x": 2})).unwrap();
        drop(w);
        // Simulate kill -9 in the middle of the third write.
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(br#"{"id": "c", "x"#).unwrap();
        drop(f);
        let mut w = ResumableJsonl::open(&p).unwrap();
        assert_eq!(w.repaired_bytes(), 14);
        assert!(w.is_done("a") && w.is_done("b") && !w.is_done("c"));
        w.append("c", &json!({"id": "c", "x": 3})).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(text.lines().count(), 3);
        for l in text.lines() {
            serde_json::from_str::<serde_json::Value>(l).unwrap();
        }
    }

    #[test]
    fn corrupt_complete_lines_and_missing_ids_are_errors() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("bad.jsonl");
        std::fs::write(&p, "{\"id\":\"a\"}\nnot json\n").unwrap();
        assert!(matches!(
            ResumableJsonl::open(&p),
            Err(Error::Json { line: 2, .. })
        ));
        std::fs::write(&p, "{\"x\":1}\n").unwrap();
        assert!(matches!(
            ResumableJsonl::open(&p),
            Err(Error::BadInput { .. })
        ));
    }
}
