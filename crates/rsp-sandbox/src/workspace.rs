//! The per-run [`Sandbox`] and the per-sample [`Workspace`].

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Error;
use crate::limits::Limits;
use crate::paths::confine;
use crate::probe::{Isolation, probe};
use crate::reap::{Marker, ProcessId, ReapReport, reap};
use crate::run::{Output, Program, kill_group, launch_with};

/// The user the capability probe runs as.
pub(crate) const PROBE_UID: u32 = 60_999;
/// Workspaces run as users `FIRST_UID .. FIRST_UID + UID_SPAN`.
const FIRST_UID: u32 = 61_000;
const UID_SPAN: u64 = 4_000;
/// Entries [`Workspace::list_files`] returns at most.
pub const MAX_LISTED: usize = 500;

/// Where tool runs of one rsp process live, and how they are isolated.
///
/// Creating a sandbox reaps what dead rsp processes left under the same root.
#[derive(Debug)]
pub struct Sandbox {
    root: PathBuf,
    isolation: Isolation,
    limits: Limits,
    owner: ProcessId,
    nonce: u64,
    next: AtomicU64,
    reaped: ReapReport,
}

impl Sandbox {
    /// The default root: `$TMPDIR/rsp-sandbox`.
    pub fn default_root() -> PathBuf {
        std::env::temp_dir().join("rsp-sandbox")
    }

    /// Probes isolation and opens a sandbox under the default root. Without isolation it
    /// refuses unless `allow_unsafe_local` (the `--unsafe-local-tools` flag) is set, and
    /// then runs tools with [`Isolation::None`].
    pub fn open(allow_unsafe_local: bool, limits: Limits) -> Result<Self, Error> {
        let p = probe();
        let isolation = match (p.isolation, allow_unsafe_local) {
            (Some(i), _) => i,
            (None, true) => Isolation::None,
            (None, false) => return Err(Error::Unavailable { reason: p.reason() }),
        };
        Self::new(Self::default_root(), isolation, limits)
    }

    /// A sandbox under `root` with a known isolation (tests, or a caller that probed).
    pub fn new(root: PathBuf, isolation: Isolation, limits: Limits) -> Result<Self, Error> {
        std::fs::create_dir_all(&root).map_err(|e| Error::io("create", &root, e))?;
        // Sandbox users must traverse the root to reach their own (0700) directory.
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o711))
            .map_err(|e| Error::io("chmod", &root, e))?;
        let owner = ProcessId::current().ok_or_else(|| {
            Error::io(
                "read",
                "/proc/self/stat",
                std::io::Error::from(std::io::ErrorKind::NotFound),
            )
        })?;
        let reaped = reap(&root)?;
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::from(d.subsec_nanos()) ^ d.as_secs());
        Ok(Self {
            root,
            isolation,
            limits,
            owner,
            nonce,
            next: AtomicU64::new(0),
            reaped,
        })
    }

    /// The isolation in use.
    pub fn isolation(&self) -> Isolation {
        self.isolation
    }

    /// The limits every command gets.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// What was reaped when the sandbox opened.
    pub fn reaped(&self) -> &ReapReport {
        &self.reaped
    }

    /// A fresh, empty working directory (owned by its own user when isolated as root).
    pub fn workspace(&self) -> Result<Workspace, Error> {
        loop {
            let n = self.next.fetch_add(1, Ordering::Relaxed);
            let name = format!("ws-{}-{:x}-{n}", self.owner.pid, self.nonce);
            let dir = self.root.join(&name);
            let marker_path = self.root.join(format!("{name}.marker"));
            if marker_path.exists() || dir.exists() {
                continue;
            }
            let marker = Marker {
                owner: self.owner,
                dir: dir.clone(),
                groups: Vec::new(),
            };
            marker.store(&marker_path)?;
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    let _ = std::fs::remove_file(&marker_path);
                    return Err(Error::io("create", &dir, e));
                }
            }
            let uid = (self.isolation == Isolation::Namespaces).then(|| {
                let slot = (u64::from(self.owner.pid) * 7919 + n) % UID_SPAN;
                FIRST_UID + u32::try_from(slot).unwrap_or(0)
            });
            let ws = Workspace {
                dir,
                marker_path,
                marker: Mutex::new(marker),
                uid,
                isolation: self.isolation,
                limits: self.limits,
            };
            std::fs::set_permissions(&ws.dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| Error::io("chmod", &ws.dir, e))?;
            ws.give(&ws.dir)?;
            return Ok(ws);
        }
    }
}

/// One sample's working directory. Dropping it kills anything still running in it and
/// removes the directory and its marker.
#[derive(Debug)]
pub struct Workspace {
    dir: PathBuf,
    marker_path: PathBuf,
    marker: Mutex<Marker>,
    uid: Option<u32>,
    isolation: Isolation,
    limits: Limits,
}

/// One entry of [`Workspace::list_files`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path relative to the working directory (`/`-separated).
    pub path: String,
    /// What it is.
    pub kind: EntryKind,
    /// Size in bytes (files).
    pub size: u64,
}

/// File, directory or symbolic link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file (or other non-directory).
    File,
    /// A directory.
    Dir,
    /// A symbolic link (never followed).
    Symlink,
}

impl Workspace {
    /// The working directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The isolation commands run under.
    pub fn isolation(&self) -> Isolation {
        self.isolation
    }

    /// The limits [`Workspace::run`] applies.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The user commands run as, when isolated as root.
    pub fn uid(&self) -> Option<u32> {
        self.uid
    }

    /// Hands a path to the workspace's user, so its commands can change what rsp wrote.
    fn give(&self, path: &Path) -> Result<(), Error> {
        match self.uid {
            Some(uid) => std::os::unix::fs::chown(path, Some(uid), Some(uid))
                .map_err(|e| Error::io("chown", path, e)),
            None => Ok(()),
        }
    }

    /// Lays out a sample's initial files (relative paths; parents are created).
    pub fn write_files(&self, files: &BTreeMap<String, String>) -> Result<(), Error> {
        for (rel, text) in files {
            self.write_file(rel, text)?;
        }
        Ok(())
    }

    /// Runs a command with the sandbox's limits (blocking).
    pub fn run(&self, program: &Program) -> Result<Output, Error> {
        self.run_with(program, &self.limits)
    }

    /// Runs a command with other limits (end-state checks get a longer timeout).
    pub fn run_with(&self, program: &Program, limits: &Limits) -> Result<Output, Error> {
        let mut started = |pgid: u32| self.track(pgid, true);
        let mut finished = |pgid: u32| self.track(pgid, false);
        launch_with(
            self.isolation,
            limits,
            self.uid,
            &self.dir,
            program,
            &mut started,
            &mut finished,
        )
    }

    /// Records a running process group in the marker (best effort: a marker that cannot
    /// be updated only weakens reaping, which parent-death signals already cover).
    fn track(&self, pgid: u32, running: bool) {
        let Ok(mut m) = self.marker.lock() else {
            return;
        };
        if running {
            m.groups.extend(ProcessId::of(pgid));
        } else {
            m.groups.retain(|g| g.pid != pgid);
        }
        let _ = m.store(&self.marker_path);
    }

    /// Reads a text file (lossy UTF-8), at most `max_bytes` of it; the flag says whether
    /// it was cut.
    pub fn read_file(&self, rel: &str, max_bytes: usize) -> Result<(String, bool), Error> {
        let path = confine(&self.dir, rel)?;
        let meta = std::fs::metadata(&path).map_err(|_| Error::BadPath {
            path: rel.to_owned(),
            reason: "no such file",
        })?;
        if !meta.is_file() {
            return Err(Error::BadPath {
                path: rel.to_owned(),
                reason: "not a regular file",
            });
        }
        let bytes = std::fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
        let cut = bytes.len() > max_bytes;
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(max_bytes)]).into_owned();
        Ok((text, cut))
    }

    /// Writes a text file, creating parent directories.
    pub fn write_file(&self, rel: &str, text: &str) -> Result<(), Error> {
        let path = confine(&self.dir, rel)?;
        if path == self.dir || path.is_dir() {
            return Err(Error::BadPath {
                path: rel.to_owned(),
                reason: "is a directory",
            });
        }
        let mut missing = Vec::new();
        let mut p = path.parent();
        while let Some(d) = p {
            if d == self.dir || d.exists() {
                break;
            }
            missing.push(d.to_path_buf());
            p = d.parent();
        }
        for d in missing.iter().rev() {
            std::fs::create_dir(d).map_err(|e| Error::io("create", d, e))?;
            self.give(d)?;
        }
        std::fs::write(&path, text).map_err(|e| Error::io("write", &path, e))?;
        self.give(&path)
    }

    /// Lists `rel` (a directory, `.` for the root) recursively without following links,
    /// sorted, at most [`MAX_LISTED`] entries.
    pub fn list_files(&self, rel: &str) -> Result<Vec<Entry>, Error> {
        let start = confine(&self.dir, rel)?;
        if !start.is_dir() {
            return Err(Error::BadPath {
                path: rel.to_owned(),
                reason: "not a directory",
            });
        }
        let mut out = Vec::new();
        let mut stack = vec![start];
        while let Some(d) = stack.pop() {
            let entries = std::fs::read_dir(&d).map_err(|e| Error::io("list", &d, e))?;
            for e in entries.filter_map(Result::ok) {
                let p = e.path();
                let Ok(meta) = std::fs::symlink_metadata(&p) else {
                    continue;
                };
                let kind = if meta.file_type().is_symlink() {
                    EntryKind::Symlink
                } else if meta.is_dir() {
                    stack.push(p.clone());
                    EntryKind::Dir
                } else {
                    EntryKind::File
                };
                let path = p
                    .strip_prefix(&self.dir)
                    .map(|r| r.to_string_lossy().into_owned())
                    .unwrap_or_default();
                out.push(Entry {
                    path,
                    kind,
                    size: meta.len(),
                });
            }
            if out.len() > MAX_LISTED {
                break;
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out.truncate(MAX_LISTED);
        Ok(out)
    }

    /// Kills leftovers, removes the directory and the marker, reporting failures (drop
    /// does the same silently).
    pub fn close(self) -> Result<(), Error> {
        self.cleanup()
    }

    fn cleanup(&self) -> Result<(), Error> {
        if let Ok(m) = self.marker.lock() {
            for g in m.groups.iter().filter(|g| g.alive()) {
                kill_group(g.pid);
            }
        }
        if self.dir.exists() {
            std::fs::remove_dir_all(&self.dir).map_err(|e| Error::io("remove", &self.dir, e))?;
        }
        match std::fs::remove_file(&self.marker_path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", &self.marker_path, e)),
        }
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        // Errors here have nowhere to go; a leftover is reaped at the next start.
        let _ = self.cleanup();
    }
}
