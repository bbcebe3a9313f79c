//! A [`RunSink`] that appends one JSON line per record to a file, one file per run.
//!
//! Line types (field `record`): `run` (the [`RunSpec`], first line), `sample` (a
//! [`SampleResult`]), `summary` (a [`RunSummary`]; the last one wins). Every append is
//! followed by `fsync`, so a committed sample survives a crash or a killed process.
//!
//! **Crash tolerance.** A process killed mid-write can leave a partial last line. On open,
//! a last line that does not end in a newline and does not parse is cut off (it was never
//! committed: its `record_sample` never returned); a damaged line anywhere else is an
//! error naming its line number, because that is corruption, not an interrupted append.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{RunSink, merge_latest};
use crate::error::SinkError;
use crate::metrics::RunSummary;
use crate::record::{RunId, RunSpec, SampleKey, SampleResult};

/// Errors of the JSONL sink.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JsonlError {
    /// The file could not be read, written or synced.
    #[error("{}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A line other than an interrupted last one is not a valid record.
    #[error("{}:{line}: damaged record", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// The file holds another run.
    #[error("{} holds run {existing}, not {requested}", path.display())]
    OtherRun {
        /// The file.
        path: PathBuf,
        /// Key in the file.
        existing: String,
        /// Key requested.
        requested: String,
    },
    /// The file has no `run` line.
    #[error("{} has no run record", path.display())]
    NoRun {
        /// The file.
        path: PathBuf,
    },
    /// A record could not be serialised.
    #[error("could not serialise a record")]
    Serialise(#[source] serde_json::Error),
    /// The writer task panicked.
    #[error("the writer task failed")]
    Join(#[source] tokio::task::JoinError),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
enum Line {
    Run { spec: Box<RunSpec> },
    Sample { sample: Box<SampleResult> },
    Summary { summary: Box<RunSummary> },
}

/// A run read back from its file.
#[derive(Debug, Clone)]
pub struct RunLog {
    /// The run.
    pub spec: RunSpec,
    /// Latest record per sample-epoch, in key order.
    pub samples: Vec<SampleResult>,
    /// The last summary written, if the run finished.
    pub summary: Option<RunSummary>,
    /// Sample lines in the file (retried errors make this exceed `samples.len()`).
    pub sample_records: usize,
    /// True when an interrupted last line was found (and, when opened for writing, cut).
    pub truncated_tail: bool,
}

#[derive(Debug, Default)]
struct State {
    spec: Option<RunSpec>,
    samples: BTreeMap<SampleKey, SampleResult>,
    summary: Option<RunSummary>,
    sample_records: usize,
    truncated_tail: bool,
}

/// Parses a whole file. Returns the state and the byte length of the valid prefix.
fn parse(path: &Path, text: &str) -> Result<(State, usize), JsonlError> {
    let mut st = State::default();
    let mut valid = 0;
    let mut offset = 0;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        offset += raw.len();
        let complete = raw.ends_with('\n');
        let line = raw.trim_end();
        if line.is_empty() {
            valid = offset;
            continue;
        }
        match serde_json::from_str::<Line>(line) {
            Ok(Line::Run { spec }) => st.spec = Some(*spec),
            Ok(Line::Sample { sample }) => {
                st.sample_records += 1;
                merge_latest(&mut st.samples, *sample);
            }
            Ok(Line::Summary { summary }) => st.summary = Some(*summary),
            Err(_) if !complete && offset == text.len() => {
                st.truncated_tail = true;
                break;
            }
            Err(source) => {
                return Err(JsonlError::Corrupt {
                    path: path.to_path_buf(),
                    line: i + 1,
                    source,
                });
            }
        }
        valid = offset;
    }
    Ok((st, valid))
}

/// One run in one JSONL file.
#[derive(Debug)]
pub struct JsonlSink {
    path: PathBuf,
    state: Mutex<State>,
    file: Arc<Mutex<File>>,
}

impl JsonlSink {
    /// Opens (or creates) the run file, cutting an interrupted last line.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, JsonlError> {
        let path = path.into();
        let io = |source| JsonlError::Io {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let text = match std::fs::read(&path) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(io(e)),
        };
        let (state, valid) = parse(&path, &text)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        if valid < text.len() {
            file.set_len(valid as u64).map_err(io)?;
            file.sync_data().map_err(io)?;
        } else if !text.is_empty() && !text.ends_with('\n') {
            // A complete last record missing only its newline: finish the line.
            (&file).write_all(b"\n").map_err(io)?;
        }
        Ok(Self {
            path,
            state: Mutex::new(state),
            file: Arc::new(Mutex::new(file)),
        })
    }

    /// Reads a run file without modifying it.
    pub fn read(path: impl AsRef<Path>) -> Result<RunLog, JsonlError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| JsonlError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let (st, _) = parse(path, &String::from_utf8_lossy(&bytes))?;
        let spec = st.spec.ok_or_else(|| JsonlError::NoRun {
            path: path.to_path_buf(),
        })?;
        Ok(RunLog {
            spec,
            samples: st.samples.into_values().collect(),
            summary: st.summary,
            sample_records: st.sample_records,
            truncated_tail: st.truncated_tail,
        })
    }

    /// The conventional file for a run inside `dir`: `<task with / as __>-<key[..16]>.jsonl`.
    pub fn path_for(dir: &Path, spec: &RunSpec) -> PathBuf {
        let task = spec.task.replace('/', "__");
        let key = spec.key.get(..16).unwrap_or(&spec.key);
        dir.join(format!("{task}-{key}.jsonl"))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn append(&self, line: &Line) -> Result<(), JsonlError> {
        self.append_all(std::slice::from_ref(line)).await
    }

    /// Appends lines with one write and one `fsync`.
    async fn append_all(&self, lines: &[Line]) -> Result<(), JsonlError> {
        let mut text = String::new();
        for line in lines {
            text.push_str(&serde_json::to_string(line).map_err(JsonlError::Serialise)?);
            text.push('\n');
        }
        let file = Arc::clone(&self.file);
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let f = file.lock().unwrap_or_else(PoisonError::into_inner);
            (&*f)
                .write_all(text.as_bytes())
                .and_then(|()| f.sync_data())
                .map_err(|source| JsonlError::Io { path, source })
        })
        .await
        .map_err(JsonlError::Join)?
    }
}

#[async_trait]
impl RunSink for JsonlSink {
    async fn create_or_resume_run(&self, spec: &RunSpec) -> Result<RunId, SinkError> {
        let existing = self.lock().spec.as_ref().map(|s| s.key.clone());
        match existing {
            Some(key) if key == spec.key => Ok(RunId(key)),
            Some(key) => Err(Box::new(JsonlError::OtherRun {
                path: self.path.clone(),
                existing: key,
                requested: spec.key.clone(),
            })),
            None => {
                self.append(&Line::Run {
                    spec: Box::new(spec.clone()),
                })
                .await?;
                self.lock().spec = Some(spec.clone());
                Ok(RunId(spec.key.clone()))
            }
        }
    }

    async fn samples(&self, _run: &RunId) -> Result<Vec<SampleResult>, SinkError> {
        Ok(self.lock().samples.values().cloned().collect())
    }

    async fn record_sample(&self, _run: &RunId, sample: &SampleResult) -> Result<(), SinkError> {
        self.append(&Line::Sample {
            sample: Box::new(sample.clone()),
        })
        .await?;
        let mut st = self.lock();
        st.sample_records += 1;
        merge_latest(&mut st.samples, sample.clone());
        Ok(())
    }

    async fn record_samples(
        &self,
        _run: &RunId,
        samples: &[SampleResult],
    ) -> Result<(), SinkError> {
        let lines: Vec<Line> = samples
            .iter()
            .map(|s| Line::Sample {
                sample: Box::new(s.clone()),
            })
            .collect();
        self.append_all(&lines).await?;
        let mut st = self.lock();
        for s in samples {
            st.sample_records += 1;
            merge_latest(&mut st.samples, s.clone());
        }
        Ok(())
    }

    async fn finish_run(&self, _run: &RunId, summary: &RunSummary) -> Result<(), SinkError> {
        self.append(&Line::Summary {
            summary: Box::new(summary.clone()),
        })
        .await?;
        self.lock().summary = Some(summary.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{result, spec};

    #[tokio::test]
    async fn appends_resumes_and_cuts_an_interrupted_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs/r.jsonl");
        let sink = JsonlSink::open(&path).unwrap();
        let run = sink.create_or_resume_run(&spec("k1")).await.unwrap();
        sink.record_sample(&run, &result("a", 1, None))
            .await
            .unwrap();
        sink.record_sample(&run, &result("b", 1, Some("boom")))
            .await
            .unwrap();
        drop(sink);
        // Simulate a crash in the middle of the next append.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"record":"sample","sample":{"sample_id":"c""#)
            .unwrap();
        drop(f);

        let sink = JsonlSink::open(&path).unwrap();
        let run2 = sink.create_or_resume_run(&spec("k1")).await.unwrap();
        assert_eq!(run, run2);
        let keys = sink.completed_keys(&run).await.unwrap();
        assert_eq!(keys.len(), 1, "the errored sample is not complete");
        sink.record_sample(&run, &result("b", 1, None))
            .await
            .unwrap();
        sink.record_sample(&run, &result("b", 1, Some("late error")))
            .await
            .unwrap();
        drop(sink);

        let log = JsonlSink::read(&path).unwrap();
        assert!(!log.truncated_tail, "the tail was cut on open");
        assert_eq!(log.sample_records, 4);
        let ids: Vec<_> = log
            .samples
            .iter()
            .map(|s| (s.sample_id.as_str(), s.is_ok()))
            .collect();
        assert_eq!(
            ids,
            [("a", true), ("b", true)],
            "success is never replaced by an error"
        );
        assert!(matches!(
            JsonlSink::open(&path).unwrap().create_or_resume_run(&spec("other")).await,
            Err(e) if e.to_string().contains("holds run k1")
        ));
    }

    #[test]
    fn damage_before_the_last_line_is_an_error_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        std::fs::write(&path, "{\"record\":\"nope\"}\n{}\n").unwrap();
        let err = JsonlSink::open(&path).unwrap_err();
        assert!(matches!(err, JsonlError::Corrupt { line: 1, .. }), "{err}");
        assert!(matches!(
            JsonlSink::read(dir.path().join("missing")),
            Err(JsonlError::Io { .. })
        ));
    }
}
