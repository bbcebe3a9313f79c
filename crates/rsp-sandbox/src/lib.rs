//! Sandboxed tool execution for rsp's agentic evals.
//!
//! # Design
//!
//! An agent's tool calls (`bash`, `python`, file tools) and a task's end-state checks run
//! inside a [`Workspace`]: a fresh directory per sample under a per-process [`Sandbox`]
//! root. Each command gets
//!
//! - **no network**: new network, pid, IPC and UTS namespaces (`unshare` from util-linux;
//!   inside a user namespace when rsp is not root);
//! - **its own user** when rsp runs as root (`setpriv`), so `RLIMIT_NPROC` caps a fork
//!   bomb and nothing outside the workspace is writable but world-writable scratch space;
//! - **rlimits** (`prlimit`): CPU seconds, address space, processes, file size, open files;
//! - **a wall-clock timeout** that kills the launcher's process group, and with the
//!   namespace's first process the whole pid namespace;
//! - **output caps**: at most [`Limits::output_bytes`] of stdout and of stderr are kept;
//! - **cleanup**: dropping the workspace kills anything left and removes the directory.
//!
//! Everything is built from util-linux command-line tools rather than `pre_exec` hooks,
//! because the workspace denies `unsafe` code; the tools are in every Debian base image.
//!
//! **Crashes.** If rsp itself is killed, the launchers die with it (parent-death signal)
//! and take their namespaces along. Directories are recorded in marker files with their
//! owner's pid and start time; [`Sandbox::new`] reaps what dead owners left (see
//! [`reap`]).
//!
//! **Capability detection.** [`probe`] runs a real command under each candidate isolation
//! and checks from inside that only the loopback interface is visible. When none works,
//! [`Sandbox::open`] refuses unless the caller allows unsandboxed tools
//! ([`Isolation::None`], recorded as `none (unsafe-local-tools)`).
//!
//! **File tools.** [`Workspace::read_file`], [`Workspace::write_file`] and
//! [`Workspace::list_files`] work in-process, confined to the directory: absolute paths,
//! `..` and paths through symbolic links are rejected ([`confine`]).
//!
//! Not covered: the file system outside the workspace stays readable (world-readable
//! files only, when a separate user is used), `/tmp` stays writable, and disk use is
//! bounded per file, not per workspace.

#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod error;
pub mod limits;
pub mod paths;
pub mod probe;
pub mod reap;
pub mod run;
pub mod workspace;

pub use error::Error;
pub use limits::Limits;
pub use paths::confine;
pub use probe::{Isolation, Probe, probe, running_as_root};
pub use reap::{Marker, ProcessId, ReapReport, reap};
pub use run::{Output, Program, SANDBOX_PATH};
pub use workspace::{Entry, EntryKind, MAX_LISTED, Sandbox, Workspace};

/// The error and its causes on one line.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}
