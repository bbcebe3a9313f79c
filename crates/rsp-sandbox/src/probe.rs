//! Which isolation works on this machine.
//!
//! The probe does not trust `which`: it runs a real command under each candidate
//! launcher and checks from inside that the network namespace holds only the loopback
//! interface. The first candidate that passes wins; the reasons the others failed are
//! kept for the error message.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::limits::Limits;
use crate::run::{Program, launch};

/// How tool commands are isolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// rsp runs as root: new network, pid, IPC and UTS namespaces (`unshare`), a
    /// per-workspace unprivileged user (`setpriv`) so `RLIMIT_NPROC` bounds fork bombs and
    /// nothing outside the working directory is writable except world-writable scratch
    /// directories, and rlimits (`prlimit`).
    Namespaces,
    /// rsp runs unprivileged but user namespaces work: the same namespaces inside a new
    /// user namespace. No separate user, so the process count is bounded only by the pid
    /// namespace being killed at the timeout.
    UserNamespace,
    /// No isolation (`--unsafe-local-tools`): commands run as rsp's user with rlimits and
    /// their own process group, and can reach the network.
    None,
}

impl Isolation {
    /// How a run records it in its provenance.
    pub fn describe(self) -> &'static str {
        match self {
            Isolation::Namespaces => "unshare(net,pid,ipc,uts)+setpriv(uid)+prlimit",
            Isolation::UserNamespace => "unshare(user,net,pid,ipc,uts)+prlimit",
            Isolation::None => "none (unsafe-local-tools)",
        }
    }

    /// True when the network is cut off.
    pub fn is_isolated(self) -> bool {
        self != Isolation::None
    }
}

/// What [`probe`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The best isolation that works, if any.
    pub isolation: Option<Isolation>,
    /// Why the stronger candidates did not work (empty when the first one did).
    pub reasons: Vec<String>,
}

impl Probe {
    /// One line explaining why no isolation is available.
    pub fn reason(&self) -> String {
        if self.reasons.is_empty() {
            "no isolation candidate was tried".to_owned()
        } else {
            self.reasons.join("; ")
        }
    }
}

/// True when rsp runs as root (needed to create namespaces without a user namespace and
/// to switch to the sandbox user).
pub fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Tries the isolation candidates in order of strength.
pub fn probe() -> Probe {
    let mut reasons = Vec::new();
    let candidates: &[Isolation] = if running_as_root() {
        &[Isolation::Namespaces, Isolation::UserNamespace]
    } else {
        &[Isolation::UserNamespace]
    };
    for &iso in candidates {
        match try_isolation(iso) {
            Ok(()) => {
                return Probe {
                    isolation: Some(iso),
                    reasons,
                };
            }
            Err(why) => reasons.push(format!("{}: {why}", iso.describe())),
        }
    }
    Probe {
        isolation: None,
        reasons,
    }
}

fn try_isolation(iso: Isolation) -> Result<(), String> {
    let limits = Limits {
        timeout_secs: 10.0,
        output_bytes: 4096,
        ..Limits::default()
    };
    let uid = (iso == Isolation::Namespaces).then_some(crate::workspace::PROBE_UID);
    let program = Program::Shell("cat /proc/self/net/dev".into());
    let out =
        launch(iso, &limits, uid, Path::new("/"), &program).map_err(|e| crate::error_chain(&e))?;
    if out.exit_code != Some(0) {
        return Err(format!(
            "exit code {:?}: {}",
            out.exit_code,
            out.stderr.trim()
        ));
    }
    let interfaces: Vec<&str> = out
        .stdout
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    if interfaces == ["lo"] {
        Ok(())
    } else {
        Err(format!("network interfaces visible: {interfaces:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_distinct_and_none_is_not_isolated() {
        assert!(!Isolation::None.is_isolated());
        assert!(Isolation::Namespaces.is_isolated());
        assert_eq!(Isolation::None.describe(), "none (unsafe-local-tools)");
        let p = Probe {
            isolation: None,
            reasons: vec!["a: x".into(), "b: y".into()],
        };
        assert_eq!(p.reason(), "a: x; b: y");
    }
}
