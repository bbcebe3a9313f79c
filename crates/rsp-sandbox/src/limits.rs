//! Resource limits of one tool command.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Limits applied to every command run in a workspace (the task file's `[sandbox]` table).
///
/// CPU, memory, process count, file size and open files are kernel rlimits set by
/// `prlimit` on the command's process tree; the wall-clock timeout is enforced by the
/// caller, which kills the whole process group (and with it the pid namespace). The
/// defaults are small on purpose: proxy tasks need a few seconds of a shell, and a runaway
/// command must not slow down the other samples of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// CPU seconds per process (`RLIMIT_CPU`).
    pub cpu_secs: u64,
    /// Address space per process, in MiB (`RLIMIT_AS`).
    pub memory_mb: u64,
    /// Processes of the sandbox user (`RLIMIT_NPROC`; enforced when the sandbox can switch
    /// to its own user, that is when rsp runs as root).
    pub processes: u64,
    /// Largest file a process may write, in MiB (`RLIMIT_FSIZE`).
    pub file_size_mb: u64,
    /// Open file descriptors per process (`RLIMIT_NOFILE`).
    pub open_files: u64,
    /// Wall-clock seconds before the whole command is killed.
    pub timeout_secs: f64,
    /// Bytes of stdout and of stderr kept (the rest is counted and dropped).
    pub output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            cpu_secs: 10,
            memory_mb: 512,
            processes: 64,
            file_size_mb: 16,
            open_files: 256,
            timeout_secs: 20.0,
            output_bytes: 64 * 1024,
        }
    }
}

impl Limits {
    /// The wall-clock timeout (at least 10 ms).
    pub fn timeout(&self) -> Duration {
        if self.timeout_secs.is_finite() && self.timeout_secs > 0.01 {
            Duration::from_secs_f64(self.timeout_secs)
        } else {
            Duration::from_millis(10)
        }
    }

    /// The `prlimit` options for these limits (`nproc` only when it is enforceable).
    pub(crate) fn prlimit_args(&self, with_nproc: bool) -> Vec<String> {
        let mib = 1024 * 1024;
        let mut out = vec![
            format!("--cpu={}", self.cpu_secs.max(1)),
            format!("--as={}", self.memory_mb.max(16).saturating_mul(mib)),
            format!("--fsize={}", self.file_size_mb.max(1).saturating_mul(mib)),
            format!("--nofile={}", self.open_files.max(16)),
            "--core=0".to_owned(),
        ];
        if with_nproc {
            out.push(format!("--nproc={}", self.processes.max(4)));
        }
        out
    }

    /// Problems with the values (zero limits), for task-file validation.
    pub fn problems(&self) -> Vec<&'static str> {
        let mut p = Vec::new();
        if self.cpu_secs == 0 || self.memory_mb == 0 || self.processes == 0 {
            p.push("cpu_secs, memory_mb and processes must be positive");
        }
        if self.file_size_mb == 0 || self.open_files == 0 || self.output_bytes == 0 {
            p.push("file_size_mb, open_files and output_bytes must be positive");
        }
        if !(self.timeout_secs.is_finite() && self.timeout_secs > 0.0) {
            p.push("timeout_secs must be a positive number");
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_map_to_prlimit() {
        let l = Limits::default();
        assert!(l.problems().is_empty());
        let args = l.prlimit_args(true);
        assert!(args.contains(&"--as=536870912".to_owned()), "{args:?}");
        assert!(args.contains(&"--nproc=64".to_owned()));
        assert!(
            !l.prlimit_args(false)
                .iter()
                .any(|a| a.starts_with("--nproc"))
        );
        let bad = Limits {
            timeout_secs: f64::NAN,
            processes: 0,
            ..l
        };
        assert_eq!(bad.problems().len(), 2);
        assert_eq!(bad.timeout(), Duration::from_millis(10));
    }
}
