//! Finding the project: like cargo and git, search upward for `rsp.toml`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

/// The policy file name at a project's root.
pub const POLICY_FILE: &str = "rsp.toml";
/// The project's private state folder.
pub const STATE_DIR: &str = ".rsp";
/// The project's own suites.
pub const SUITES_DIR: &str = "suites";

/// A located project.
#[derive(Debug, Clone)]
pub struct Project {
    pub root: PathBuf,
}

impl Project {
    /// Find the project from an explicit directory or by searching upward
    /// from the current directory.
    pub fn find(explicit: Option<&Path>) -> Result<Self> {
        if let Some(dir) = explicit {
            if dir.join(POLICY_FILE).is_file() {
                return Ok(Self {
                    root: dir.to_path_buf(),
                });
            }
            bail!(
                "{} is not an rsp project (no {POLICY_FILE}); run `rsp init {}` to create one",
                dir.display(),
                dir.display()
            );
        }
        let cwd = std::env::current_dir().context("cannot read the current directory")?;
        let mut dir: Option<&Path> = Some(&cwd);
        while let Some(d) = dir {
            if d.join(POLICY_FILE).is_file() {
                return Ok(Self {
                    root: d.to_path_buf(),
                });
            }
            dir = d.parent();
        }
        bail!(
            "no rsp project found in {} or any parent directory (looked for {POLICY_FILE}); run `rsp init` to create one here",
            cwd.display()
        )
    }

    pub fn policy_path(&self) -> PathBuf {
        self.root.join(POLICY_FILE)
    }

    /// Suite ids in the project's `suites/` folder: each `*.toml` file or
    /// sub-folder is one suite.
    pub fn suite_ids(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.root.join(SUITES_DIR)) else {
            return Vec::new();
        };
        let mut ids: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let p = e.path();
                if p.is_dir() {
                    p.file_name().map(|n| n.to_string_lossy().into_owned())
                } else if p.extension().is_some_and(|x| x == "toml" || x == "yaml") {
                    p.file_stem().map(|n| n.to_string_lossy().into_owned())
                } else {
                    None
                }
            })
            .collect();
        ids.sort();
        ids
    }
}
