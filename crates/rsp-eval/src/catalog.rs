//! Suites: the built-in ones compiled into the binary, and the project's own in `suites/`.
//!
//! A suite is a folder with a `suite.toml` (name, description, task files, optionally
//! `unavailable = "reason"`) next to its task files and data. Built-in suites are the
//! folders under this crate's `suites/`, embedded with `include_str!` so the binary needs
//! no data files at run time; their diagnostics name files as `builtin:<suite>/<file>`.
//! A user suite may not reuse a built-in name: results must never depend on which of two
//! same-named suites was found first.
//!
//! Select a suite with `name` (all its tasks) or `name/task` (one task).

use std::path::{Path, PathBuf};

use rsp_policy::diag::Diagnostic;
use serde::Deserialize;

use crate::error::{Error, FileDiagnostics};
use crate::task::{SourceFile, Task, load_task};

/// Built-in suite files, by path under `suites/`.
const BUILTIN: &[(&str, &str)] = &[
    (
        "knowledge-proxy/suite.toml",
        include_str!("../suites/knowledge-proxy/suite.toml"),
    ),
    (
        "knowledge-proxy/mc.toml",
        include_str!("../suites/knowledge-proxy/mc.toml"),
    ),
    (
        "knowledge-proxy/logprob.toml",
        include_str!("../suites/knowledge-proxy/logprob.toml"),
    ),
    (
        "knowledge-proxy/test.jsonl",
        include_str!("../suites/knowledge-proxy/test.jsonl"),
    ),
    (
        "knowledge-proxy/dev.jsonl",
        include_str!("../suites/knowledge-proxy/dev.jsonl"),
    ),
    (
        "cyber-proxy/suite.toml",
        include_str!("../suites/cyber-proxy/suite.toml"),
    ),
    (
        "cyber-proxy/ctf.toml",
        include_str!("../suites/cyber-proxy/ctf.toml"),
    ),
    (
        "cyber-proxy/test.jsonl",
        include_str!("../suites/cyber-proxy/test.jsonl"),
    ),
    (
        "cyber-proxy/dev.jsonl",
        include_str!("../suites/cyber-proxy/dev.jsonl"),
    ),
    (
        "refusal-calibration/suite.toml",
        include_str!("../suites/refusal-calibration/suite.toml"),
    ),
    (
        "refusal-calibration/benign.toml",
        include_str!("../suites/refusal-calibration/benign.toml"),
    ),
    (
        "refusal-calibration/test.jsonl",
        include_str!("../suites/refusal-calibration/test.jsonl"),
    ),
    (
        "autonomy-proxy/suite.toml",
        include_str!("../suites/autonomy-proxy/suite.toml"),
    ),
    (
        "autonomy-proxy/agent.toml",
        include_str!("../suites/autonomy-proxy/agent.toml"),
    ),
    (
        "autonomy-proxy/tasks.jsonl",
        include_str!("../suites/autonomy-proxy/tasks.jsonl"),
    ),
];

/// Reads a file of one suite by its path relative to the suite folder.
type Reader = dyn Fn(&str) -> Result<SourceFile, Error>;

/// Names of the built-in suites.
pub const BUILTIN_SUITES: [&str; 4] = [
    "knowledge-proxy",
    "cyber-proxy",
    "refusal-calibration",
    "autonomy-proxy",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuiteFile {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    tasks: Vec<String>,
    #[serde(default)]
    unavailable: Option<String>,
}

/// Where a suite comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuiteOrigin {
    /// Compiled into rsp.
    Builtin,
    /// A folder in the project.
    Folder(PathBuf),
}

/// A suite as listed (its tasks are not loaded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteInfo {
    /// Suite name.
    pub name: String,
    /// What it measures.
    pub description: Option<String>,
    /// Task names (file stems).
    pub tasks: Vec<String>,
    /// Why it cannot run, if it cannot.
    pub unavailable: Option<String>,
    /// Built in or a project folder.
    pub origin: SuiteOrigin,
}

/// Finds and loads suites.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    user_dir: Option<PathBuf>,
}

impl Catalog {
    /// Built-in suites only.
    pub fn builtin() -> Self {
        Self { user_dir: None }
    }

    /// Built-in suites plus the suites in `dir` (the project's `suites/` folder; a missing
    /// folder means none).
    pub fn with_user_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            user_dir: Some(dir.into()),
        }
    }

    fn read_builtin(suite: &str, rel: &str) -> Result<SourceFile, Error> {
        let key = format!("{suite}/{rel}");
        BUILTIN
            .iter()
            .find(|(p, _)| *p == key)
            .map(|(_, text)| SourceFile {
                name: format!("builtin:{key}"),
                text: (*text).to_owned(),
            })
            .ok_or_else(|| Error::Read {
                path: format!("builtin:{key}"),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            })
    }

    fn read_folder(dir: &Path, rel: &str) -> Result<SourceFile, Error> {
        let path = dir.join(rel);
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
            path: path.display().to_string(),
            source,
        })?;
        Ok(SourceFile {
            name: path.display().to_string(),
            text,
        })
    }

    fn user_suite_dirs(&self) -> Result<Vec<PathBuf>, Error> {
        let Some(dir) = &self.user_dir else {
            return Ok(Vec::new());
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(Error::Read {
                    path: dir.display().to_string(),
                    source,
                });
            }
        };
        let mut out: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join("suite.toml").is_file())
            .collect();
        out.sort();
        Ok(out)
    }

    fn parse_suite(src: &SourceFile, origin: SuiteOrigin) -> Result<SuiteInfo, Error> {
        let f: SuiteFile = toml::from_str(&src.text).map_err(|e| {
            Error::Invalid(vec![FileDiagnostics {
                file: src.name.clone(),
                source: src.text.clone(),
                diagnostics: vec![
                    Diagnostic::error("suite::schema", e.message().to_owned()).at(e.span()),
                ],
            }])
        })?;
        Ok(SuiteInfo {
            name: f.name,
            description: f.description,
            tasks: f
                .tasks
                .iter()
                .map(|t| t.strip_suffix(".toml").unwrap_or(t).to_owned())
                .collect(),
            unavailable: f.unavailable,
            origin,
        })
    }

    /// Every suite, built-in first, then the project's in folder order.
    pub fn list(&self) -> Result<Vec<SuiteInfo>, Error> {
        let mut out = Vec::new();
        for name in BUILTIN_SUITES {
            let src = Self::read_builtin(name, "suite.toml")?;
            out.push(Self::parse_suite(&src, SuiteOrigin::Builtin)?);
        }
        for dir in self.user_suite_dirs()? {
            let src = Self::read_folder(&dir, "suite.toml")?;
            let info = Self::parse_suite(&src, SuiteOrigin::Folder(dir.clone()))?;
            if BUILTIN_SUITES.contains(&info.name.as_str()) {
                return Err(Error::ShadowsBuiltin(info.name));
            }
            let folder = dir.file_name().map(|n| n.to_string_lossy().into_owned());
            if folder.as_deref() != Some(info.name.as_str()) {
                return Err(Error::Invalid(vec![FileDiagnostics {
                    file: src.name,
                    source: src.text,
                    diagnostics: vec![Diagnostic::error(
                        "suite::name",
                        format!(
                            "suite name `{}` differs from its folder name {folder:?}",
                            info.name
                        ),
                    )],
                }]));
            }
            out.push(info);
        }
        Ok(out)
    }

    /// Suite names, for `rsp_policy::Catalog` (policy checks that named suites exist).
    pub fn suite_names(&self) -> Result<Vec<String>, Error> {
        Ok(self.list()?.into_iter().map(|s| s.name).collect())
    }

    /// Loads the tasks a selector names: `suite` (all its tasks) or `suite/task`.
    ///
    /// A suite marked `unavailable` returns [`Error::SuiteUnavailable`] with its reason.
    pub fn load(&self, selector: &str) -> Result<Vec<Task>, Error> {
        let (suite_name, task_name) = match selector.split_once('/') {
            Some((s, t)) => (s, Some(t)),
            None => (selector, None),
        };
        let suites = self.list()?;
        let Some(info) = suites.iter().find(|s| s.name == suite_name) else {
            return Err(Error::UnknownSuite {
                name: suite_name.to_owned(),
                known: suites
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        if let Some(reason) = &info.unavailable {
            return Err(Error::SuiteUnavailable {
                suite: info.name.clone(),
                reason: reason.clone(),
            });
        }
        let wanted: Vec<&String> = match task_name {
            Some(t) => {
                let found: Vec<&String> = info.tasks.iter().filter(|n| n.as_str() == t).collect();
                if found.is_empty() {
                    return Err(Error::UnknownTask {
                        suite: info.name.clone(),
                        task: t.to_owned(),
                        known: info.tasks.join(", "),
                    });
                }
                found
            }
            None => info.tasks.iter().collect(),
        };
        let read: Box<Reader> = match &info.origin {
            SuiteOrigin::Builtin => {
                let name = info.name.clone();
                Box::new(move |rel: &str| Self::read_builtin(&name, rel))
            }
            SuiteOrigin::Folder(dir) => {
                let dir = dir.clone();
                Box::new(move |rel: &str| Self::read_folder(&dir, rel))
            }
        };
        let mut tasks = Vec::new();
        let mut problems = Vec::new();
        for t in wanted {
            match load_task(&info.name, &format!("{t}.toml"), &*read) {
                Ok(task) => {
                    if task.name != *t {
                        problems.push(FileDiagnostics {
                            file: task.file.clone(),
                            source: String::new(),
                            diagnostics: vec![Diagnostic::error(
                                "task::name",
                                format!(
                                    "task name `{}` differs from its file name `{t}.toml`",
                                    task.name
                                ),
                            )],
                        });
                    }
                    tasks.push(task);
                }
                Err(Error::Invalid(mut f)) => problems.append(&mut f),
                Err(e) => return Err(e),
            }
        }
        if problems.is_empty() {
            Ok(tasks)
        } else {
            Err(Error::Invalid(problems))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_suite_loads_or_says_why_not() {
        let c = Catalog::builtin();
        let list = c.list().unwrap();
        assert_eq!(list.len(), 4);
        let kp = c.load("knowledge-proxy").unwrap();
        let names: Vec<_> = kp.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(names, ["knowledge-proxy/mc", "knowledge-proxy/logprob"]);
        assert_eq!(kp[0].samples.len(), 237);
        assert_eq!(kp[0].dev.len(), 10);
        assert!(kp[1].needs_loglikelihood());
        let cp = c.load("cyber-proxy/ctf").unwrap();
        assert_eq!(cp[0].samples.len(), 68);
        let rc = c.load("refusal-calibration").unwrap();
        assert_eq!(rc[0].metric_defs()[0].name, "refusal_rate");
        assert!(rc[0].metric_defs()[0].lower_is_better);
        let ap = c.load("autonomy-proxy").unwrap();
        assert_eq!(ap[0].samples.len(), 22);
        assert!(ap[0].needs_sandbox() && !kp[0].needs_sandbox());
        assert!(ap[0].samples.iter().all(|s| s.check.is_some()));
        assert_eq!(ap[0].samples[0].files.len(), 5);
        assert!(matches!(c.load("nope"), Err(Error::UnknownSuite { .. })));
        assert!(matches!(
            c.load("knowledge-proxy/zzz"),
            Err(Error::UnknownTask { .. })
        ));
    }

    #[test]
    fn user_suites_load_from_folders_and_cannot_shadow_builtins() {
        let dir = tempfile::tempdir().unwrap();
        let s = dir.path().join("mine");
        std::fs::create_dir_all(&s).unwrap();
        std::fs::write(
            s.join("suite.toml"),
            "name = \"mine\"\ntasks = [\"qa.toml\"]\n",
        )
        .unwrap();
        std::fs::write(
            s.join("qa.toml"),
            "name = \"qa\"\nversion = 1\n[dataset]\npath = \"data.csv\"\n[dataset.fields]\nid = \"n\"\ninput = \"q\"\ntarget = \"a\"\n[[solver]]\nkind = \"generate\"\n[[scorer]]\nkind = \"match\"\n",
        )
        .unwrap();
        std::fs::write(
            s.join("data.csv"),
            "n,q,a\n1,Capital of France?,Paris\n2,2+2?,4\n",
        )
        .unwrap();
        let c = Catalog::with_user_dir(dir.path());
        let t = c.load("mine/qa").unwrap();
        assert_eq!(t[0].samples.len(), 2);
        assert_eq!(
            c.suite_names().unwrap().last().map(String::as_str),
            Some("mine")
        );

        std::fs::write(s.join("data.csv"), "n,q\n1,Capital of France?\n").unwrap();
        match c.load("mine") {
            Err(Error::Invalid(f)) => {
                assert!(f[0].file.ends_with("data.csv"));
                assert_eq!(f[0].diagnostics[0].code, "dataset::missing-field");
            }
            other => panic!("{other:?}"),
        }

        let k = dir.path().join("knowledge-proxy");
        std::fs::create_dir_all(&k).unwrap();
        std::fs::write(k.join("suite.toml"), "name = \"knowledge-proxy\"\n").unwrap();
        assert!(matches!(c.list(), Err(Error::ShadowsBuiltin(_))));
    }
}
