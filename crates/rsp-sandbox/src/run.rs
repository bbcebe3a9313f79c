//! Launching one tool command under an isolation, with limits, a wall-clock timeout and
//! output caps.
//!
//! The launcher chain (outermost first):
//! 1. `setpriv --pdeathsig KILL`: if rsp dies, the kernel kills the launcher;
//! 2. `unshare --net --pid --ipc --uts --fork --kill-child` (with `--user --map-root-user`
//!    when unprivileged): the command's own namespaces. `--kill-child` kills the
//!    namespace's first process when the launcher dies, and the kernel then kills every
//!    process left in the pid namespace, so a fork bomb or a background job cannot outlive
//!    the command;
//! 3. `prlimit`: CPU, address space, process count, file size, open files, no core dumps;
//! 4. `setpriv --reuid --regid --clear-groups --no-new-privs` (as root): the workspace's
//!    own unprivileged user;
//! 5. `sh -c '"$@"; exit $?'`: a tiny first process, so the tool itself is not the
//!    namespace's init (which ignores default-fatal signals like `SIGXCPU`) and its exit
//!    status comes back as a plain exit code (128 + signal when it was killed).
//!
//! The launcher runs in its own process group; on timeout the group is killed, which
//! takes the namespace with it. Without isolation (`--unsafe-local-tools`) steps 2 and 4
//! are skipped and the process group is all that holds the tree together.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::limits::Limits;
use crate::probe::Isolation;

/// `PATH` inside the sandbox: system directories only, so a user's shims (pyenv, asdf)
/// that live under a private home are not needed.
pub const SANDBOX_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "tool", content = "source", rename_all = "snake_case")]
pub enum Program {
    /// A bash script (`bash --noprofile --norc -c`).
    Bash(String),
    /// Python 3 code (`python3 -B -c`).
    Python(String),
    /// A POSIX shell command (`sh -c`), as used by end-state checks.
    Shell(String),
}

impl Program {
    fn argv(&self) -> Vec<String> {
        match self {
            Program::Bash(s) => vec![
                "bash".into(),
                "--noprofile".into(),
                "--norc".into(),
                "-c".into(),
                s.clone(),
            ],
            Program::Python(s) => vec!["python3".into(), "-B".into(), "-c".into(), s.clone()],
            Program::Shell(s) => vec!["sh".into(), "-c".into(), s.clone()],
        }
    }
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Output {
    /// Exit code (`128 + n` when the tool was killed by signal `n`); `None` when the
    /// launcher itself was killed (timeout).
    pub exit_code: Option<i32>,
    /// Standard output, at most `output_bytes` (lossy UTF-8).
    pub stdout: String,
    /// Standard error, at most `output_bytes` (lossy UTF-8).
    pub stderr: String,
    /// Bytes written to stdout in total.
    pub stdout_bytes: u64,
    /// Bytes written to stderr in total.
    pub stderr_bytes: u64,
    /// True when the wall-clock timeout killed the command.
    pub timed_out: bool,
    /// Wall time, in milliseconds.
    pub duration_ms: f64,
}

impl Output {
    /// True when the command exited with status 0 in time.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out
    }

    /// True when some output was dropped by the cap.
    pub fn truncated(&self) -> bool {
        self.stdout_bytes > self.stdout.len() as u64 || self.stderr_bytes > self.stderr.len() as u64
    }
}

fn launcher_argv(
    iso: Isolation,
    limits: &Limits,
    uid: Option<u32>,
    program: &Program,
) -> Vec<String> {
    let mut argv: Vec<String> = vec![
        "setpriv".into(),
        "--pdeathsig".into(),
        "KILL".into(),
        "--".into(),
    ];
    let ns = ["--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child"];
    match iso {
        Isolation::Namespaces => {
            argv.push("unshare".into());
            argv.extend(ns.iter().map(|s| (*s).to_owned()));
            argv.push("--".into());
        }
        Isolation::UserNamespace => {
            argv.extend(["unshare".into(), "--user".into(), "--map-root-user".into()]);
            argv.extend(ns.iter().map(|s| (*s).to_owned()));
            argv.push("--".into());
        }
        Isolation::None => {}
    }
    argv.push("prlimit".into());
    argv.extend(limits.prlimit_args(uid.is_some()));
    argv.push("--".into());
    if let Some(uid) = uid {
        argv.extend([
            "setpriv".into(),
            format!("--reuid={uid}"),
            format!("--regid={uid}"),
            "--clear-groups".into(),
            "--no-new-privs".into(),
            "--".into(),
        ]);
    }
    argv.extend([
        "sh".into(),
        "-c".into(),
        "\"$@\"; exit $?".into(),
        "rsp-tool".into(),
    ]);
    argv.extend(program.argv());
    argv
}

/// Runs `program` in `cwd` and waits for it (blocking), killing it at the timeout.
pub(crate) fn launch(
    iso: Isolation,
    limits: &Limits,
    uid: Option<u32>,
    cwd: &Path,
    program: &Program,
) -> Result<Output, Error> {
    launch_with(iso, limits, uid, cwd, program, &mut |_| {}, &mut |_| {})
}

/// [`launch`], telling the caller the process group while it runs (for the marker file).
pub(crate) fn launch_with(
    iso: Isolation,
    limits: &Limits,
    uid: Option<u32>,
    cwd: &Path,
    program: &Program,
    started: &mut dyn FnMut(u32),
    finished: &mut dyn FnMut(u32),
) -> Result<Output, Error> {
    use std::os::unix::process::CommandExt;

    let argv = launcher_argv(iso, limits, uid, program);
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .current_dir(cwd)
        .env_clear()
        .env("PATH", SANDBOX_PATH)
        .env("HOME", cwd)
        .env("TMPDIR", cwd)
        .env("LANG", "C.UTF-8")
        .env("LC_ALL", "C.UTF-8")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let clock = Instant::now();
    let mut child = cmd.spawn().map_err(|source| Error::Spawn {
        program: argv[0].clone(),
        source,
    })?;
    let pgid = child.id();
    started(pgid);
    let (tx, rx) = mpsc::channel();
    let cap = limits.output_bytes;
    let readers = [
        child
            .stdout
            .take()
            .map(|r| spawn_reader(r, cap, 0, tx.clone())),
        child
            .stderr
            .take()
            .map(|r| spawn_reader(r, cap, 1, tx.clone())),
    ];
    drop(tx);
    let (status, timed_out) = wait_or_kill(&mut child, pgid, limits.timeout())?;
    if iso == Isolation::None {
        // Background jobs of an unisolated command share its process group; the leader
        // was just reaped, so its id cannot have been reused by a new group yet.
        kill_group(pgid);
    }
    finished(pgid);
    let mut streams = [(Vec::new(), 0u64), (Vec::new(), 0u64)];
    let deadline = Instant::now() + Duration::from_secs(2);
    for _ in readers.iter().flatten() {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok((i, buf, total)) => streams[i] = (buf, total),
            Err(_) => break,
        }
    }
    let [(out, out_n), (err, err_n)] = streams;
    Ok(Output {
        exit_code: if timed_out { None } else { status.code() },
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
        stdout_bytes: out_n,
        stderr_bytes: err_n,
        timed_out,
        duration_ms: clock.elapsed().as_secs_f64() * 1000.0,
    })
}

type Captured = (usize, Vec<u8>, u64);

fn spawn_reader(
    mut r: impl Read + Send + 'static,
    cap: usize,
    index: usize,
    tx: mpsc::Sender<Captured>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut total = 0u64;
        let mut buf = [0u8; 8192];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    total += n as u64;
                    let room = cap.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
        // The receiver may have given up waiting; nothing else to do then.
        let _ = tx.send((index, kept, total));
    })
}

fn wait_or_kill(
    child: &mut Child,
    pgid: u32,
    timeout: Duration,
) -> Result<(std::process::ExitStatus, bool), Error> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok((status, false)),
            Ok(None) => {}
            Err(e) => return Err(Error::io("wait for", "tool process", e)),
        }
        if start.elapsed() >= timeout {
            // The leader is not reaped yet, so the group id is still ours.
            kill_group(pgid);
            let _ = child.kill();
            let status = child
                .wait()
                .map_err(|e| Error::io("wait for", "tool process", e))?;
            return Ok((status, true));
        }
        thread::sleep(pause.min(timeout.saturating_sub(start.elapsed())));
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}

/// Sends `SIGKILL` to process group `pgid`, never to init's group or our own.
pub(crate) fn kill_group(pgid: u32) {
    if let Some(pid) = safe_group(pgid, std::process::id()) {
        // ESRCH (already gone) is the common, expected case.
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

/// The group to signal, or `None` for ids that must never be signalled: 0 and 1 (`kill(-1)`
/// would reach every process) and our own group.
fn safe_group(pgid: u32, own: u32) -> Option<rustix::process::Pid> {
    if pgid <= 1 || pgid == own {
        return None;
    }
    rustix::process::Pid::from_raw(i32::try_from(pgid).ok()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launcher_chains_namespaces_limits_and_user() {
        let l = Limits::default();
        let a = launcher_argv(
            Isolation::Namespaces,
            &l,
            Some(61000),
            &Program::Bash("ls".into()),
        );
        let pos = |s: &str| a.iter().position(|x| x == s).unwrap();
        assert!(pos("setpriv") < pos("unshare") && pos("unshare") < pos("prlimit"));
        assert!(a.contains(&"--reuid=61000".to_owned()) && a.contains(&"--nproc=64".to_owned()));
        assert_eq!(a.last().map(String::as_str), Some("ls"));
        let n = launcher_argv(Isolation::None, &l, None, &Program::Python("1".into()));
        assert!(!n.contains(&"unshare".to_owned()) && !n.iter().any(|x| x.starts_with("--reuid")));
        let u = launcher_argv(
            Isolation::UserNamespace,
            &l,
            None,
            &Program::Shell("x".into()),
        );
        assert!(u.contains(&"--map-root-user".to_owned()));
    }

    #[test]
    fn never_signals_init_everyone_or_ourselves() {
        assert!(safe_group(0, 500).is_none());
        assert!(safe_group(1, 500).is_none());
        assert!(safe_group(500, 500).is_none());
        assert!(safe_group(u32::MAX, 500).is_none());
        assert_eq!(
            safe_group(42, 500).map(|p| p.as_raw_nonzero().get()),
            Some(42)
        );
    }
}
