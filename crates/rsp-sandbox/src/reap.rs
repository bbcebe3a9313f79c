//! Markers and reaping: what a killed rsp leaves behind is removed at the next start.
//!
//! Every workspace has a marker file next to it (`<root>/<name>.marker`, JSON) naming its
//! owner (pid and kernel start time, so a recycled pid is not mistaken for the owner) and
//! the process groups of commands currently running in it (again with start times). The
//! marker is written before the directory is created and removed after it is gone, and
//! rewritten atomically (write, then rename) as commands start and finish.
//!
//! [`reap`] looks at every marker under the root: if its owner is gone, it kills the
//! recorded process groups whose leaders are still the same processes, removes the
//! directory and then the marker. Normally there is nothing to kill: launchers carry a
//! parent-death signal and take their namespaces with them when rsp dies.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::run::kill_group;

/// A process (or group leader) identified robustly: pid plus kernel start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessId {
    /// Process id.
    pub pid: u32,
    /// Start time in clock ticks since boot (`/proc/<pid>/stat` field 22).
    pub start: u64,
}

impl ProcessId {
    /// This process.
    pub fn current() -> Option<Self> {
        Self::of(std::process::id())
    }

    /// The process with this pid, if it exists.
    pub fn of(pid: u32) -> Option<Self> {
        start_time(pid).map(|start| Self { pid, start })
    }

    /// True when this very process still runs.
    pub fn alive(&self) -> bool {
        start_time(self.pid) == Some(self.start)
    }
}

/// `/proc/<pid>/stat` field 22. The command name (field 2) may contain spaces and
/// parentheses, so fields are counted after its closing parenthesis.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// The marker of one workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// The rsp process that owns the workspace.
    pub owner: ProcessId,
    /// The working directory.
    pub dir: PathBuf,
    /// Process groups of commands running now.
    pub groups: Vec<ProcessId>,
}

impl Marker {
    /// Writes the marker atomically.
    pub fn store(&self, path: &Path) -> Result<(), Error> {
        let text = serde_json::to_vec(self).map_err(|source| Error::Marker {
            path: path.to_path_buf(),
            source,
        })?;
        let tmp = path.with_extension("marker-tmp");
        std::fs::write(&tmp, text).map_err(|e| Error::io("write", &tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io("rename", path, e))
    }

    fn load(path: &Path) -> Option<Self> {
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    }
}

/// What [`reap`] cleaned up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReapReport {
    /// Working directories removed.
    pub dirs: usize,
    /// Process groups killed.
    pub groups: usize,
    /// Markers that could not be read (left alone).
    pub unreadable: usize,
}

/// Cleans up after every dead owner under `root`.
pub fn reap(root: &Path) -> Result<ReapReport, Error> {
    let mut report = ReapReport::default();
    let entries = match std::fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(report),
        Err(e) => return Err(Error::io("list", root, e)),
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("marker") {
            continue;
        }
        let Some(marker) = Marker::load(&path) else {
            report.unreadable += 1;
            continue;
        };
        if marker.owner.alive() {
            continue;
        }
        for g in &marker.groups {
            if g.alive() {
                kill_group(g.pid);
                report.groups += 1;
            }
        }
        // Only directories inside the root are ever removed, whatever the marker says.
        if marker.dir.parent() == Some(root) && marker.dir.exists() {
            std::fs::remove_dir_all(&marker.dir)
                .map_err(|e| Error::io("remove", &marker.dir, e))?;
            report.dirs += 1;
        }
        std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_process_is_alive_and_a_recycled_pid_is_not() {
        let me = ProcessId::current().unwrap();
        assert!(me.alive());
        let impostor = ProcessId {
            start: me.start + 1,
            ..me
        };
        assert!(!impostor.alive());
        assert!(ProcessId::of(u32::MAX).is_none());
    }
}
