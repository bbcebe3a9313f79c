//! The sandbox against hostile commands: network, fork bomb, memory hog, infinite loop,
//! timeouts, output and file-size caps, cleanup, reaping and path escapes.
//!
//! Tests that need isolation skip (with a message) where the probe finds none; CI runs
//! as root, where it is available.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rsp_sandbox::{
    EntryKind, Error, Isolation, Limits, Marker, ProcessId, Program, Sandbox, probe,
};

/// A private root per test, removed at the end.
struct Root(PathBuf);

impl Root {
    fn new(name: &str) -> Self {
        let p =
            std::env::temp_dir().join(format!("rsp-sandbox-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        Root(p)
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn isolated(name: &str, limits: Limits) -> Option<(Sandbox, Root)> {
    let p = probe();
    let Some(iso) = p.isolation else {
        eprintln!("SKIPPED: no isolation here: {}", p.reason());
        return None;
    };
    let root = Root::new(name);
    Some((Sandbox::new(root.0.clone(), iso, limits).unwrap(), root))
}

fn processes_of(uid: u32) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| std::fs::read_to_string(e.path().join("status")).ok())
        .filter(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1))
                == Some(uid.to_string().as_str())
        })
        .count()
}

#[test]
fn network_is_unreachable() {
    let Some((sb, _root)) = isolated("net", Limits::default()) else {
        return;
    };
    let ws = sb.workspace().unwrap();
    let out = ws
        .run(&Program::Python(
            "import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=3)".into(),
        ))
        .unwrap();
    assert!(!out.success(), "{out:?}");
    assert!(out.stderr.contains("unreachable"), "{}", out.stderr);
    let dev = ws
        .run(&Program::Shell("cat /proc/self/net/dev".into()))
        .unwrap();
    let ifaces: Vec<&str> = dev
        .stdout
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(ifaces, ["lo"]);
}

#[test]
fn fork_bomb_is_contained_and_killed_at_the_timeout() {
    let limits = Limits {
        processes: 32,
        timeout_secs: 2.0,
        ..Limits::default()
    };
    let Some((sb, _root)) = isolated("fork", limits) else {
        return;
    };
    let ws = sb.workspace().unwrap();
    let t = Instant::now();
    let out = ws.run(&Program::Bash(":(){ :|:& };:".into())).unwrap();
    let took = t.elapsed();
    eprintln!(
        "fork bomb stopped after {took:?} (timed out: {})",
        out.timed_out
    );
    assert!(took < Duration::from_secs(4), "{took:?}");
    if let Some(uid) = ws.uid() {
        // The kernel tears the pid namespace down asynchronously; give it a moment.
        let gone = Instant::now();
        while processes_of(uid) > 0 && gone.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(10));
        }
        eprintln!(
            "all fork bomb processes gone {:?} after the return",
            gone.elapsed()
        );
        assert_eq!(processes_of(uid), 0, "fork bomb processes survived");
    }
}

#[test]
fn memory_hog_fails_fast() {
    let limits = Limits {
        memory_mb: 128,
        ..Limits::default()
    };
    let Some((sb, _root)) = isolated("mem", limits) else {
        return;
    };
    let ws = sb.workspace().unwrap();
    let t = Instant::now();
    let out = ws
        .run(&Program::Python(
            "x = bytearray(1024 * 1024 * 1024)\nprint('allocated')".into(),
        ))
        .unwrap();
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(!out.success() && !out.timed_out, "{out:?}");
    assert!(out.stderr.contains("MemoryError"), "{}", out.stderr);
    assert!(!out.stdout.contains("allocated"));
}

#[test]
fn infinite_loop_dies_at_its_cpu_limit_and_sleepers_at_the_timeout() {
    let limits = Limits {
        cpu_secs: 1,
        timeout_secs: 10.0,
        ..Limits::default()
    };
    let Some((sb, _root)) = isolated("loop", limits) else {
        return;
    };
    let ws = sb.workspace().unwrap();
    let t = Instant::now();
    let out = ws
        .run(&Program::Bash("while :; do :; done".into()))
        .unwrap();
    let took = t.elapsed();
    eprintln!("busy loop stopped after {took:?}: exit {:?}", out.exit_code);
    assert!(!out.timed_out && took < Duration::from_secs(5), "{took:?}");
    // 128 + SIGXCPU (24) or 128 + SIGKILL (9).
    assert!(matches!(out.exit_code, Some(152 | 137)), "{out:?}");

    let short = Limits {
        timeout_secs: 0.5,
        ..Limits::default()
    };
    let t = Instant::now();
    let out = ws
        .run_with(&Program::Bash("sleep 100 & sleep 100".into()), &short)
        .unwrap();
    assert!(out.timed_out && out.exit_code.is_none());
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[test]
fn output_and_file_size_are_capped() {
    let limits = Limits {
        output_bytes: 1000,
        file_size_mb: 1,
        ..Limits::default()
    };
    let Some((sb, _root)) = isolated("caps", limits) else {
        return;
    };
    let ws = sb.workspace().unwrap();
    let out = ws
        .run(&Program::Shell(
            "head -c 1000000 /dev/zero | tr '\\0' x".into(),
        ))
        .unwrap();
    assert!(out.success());
    assert_eq!((out.stdout.len(), out.stdout_bytes), (1000, 1_000_000));
    assert!(out.truncated());
    let out = ws
        .run(&Program::Shell(
            "head -c 3000000 /dev/zero > big; echo done".into(),
        ))
        .unwrap();
    let size = std::fs::metadata(ws.path().join("big")).unwrap().len();
    assert!(size <= 1024 * 1024, "{size}");
    assert!(!out.stderr.is_empty() || out.stdout.contains("done"));
}

#[test]
fn files_are_laid_out_and_the_directory_is_gone_afterwards() {
    let Some((sb, _root)) = isolated("files", Limits::default()) else {
        return;
    };
    let ws = sb.workspace().unwrap();
    let files = BTreeMap::from([
        ("notes/a.txt".to_owned(), "alpha\n".to_owned()),
        ("b.txt".to_owned(), "beta\n".to_owned()),
    ]);
    ws.write_files(&files).unwrap();
    let out = ws
        .run(&Program::Bash(
            "cat notes/a.txt && echo gamma > notes/c.txt && pwd".into(),
        ))
        .unwrap();
    assert!(out.success(), "{out:?}");
    assert_eq!(out.stdout.lines().next(), Some("alpha"));
    assert_eq!(ws.read_file("notes/c.txt", 100).unwrap().0, "gamma\n");
    let listed: Vec<String> = ws
        .list_files(".")
        .unwrap()
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_eq!(listed, ["b.txt", "notes", "notes/a.txt", "notes/c.txt"]);
    let dir = ws.path().to_path_buf();
    let markers = || {
        std::fs::read_dir(sb.root())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "marker")
            })
            .count()
    };
    assert_eq!(markers(), 1);
    drop(ws);
    assert!(!dir.exists(), "workspace survived");
    assert_eq!(markers(), 0);
}

#[test]
fn path_escapes_are_rejected_including_symlinks_made_by_tools() {
    let Some((sb, _root)) = isolated("paths", Limits::default()) else {
        return;
    };
    let ws = sb.workspace().unwrap();
    let out = ws
        .run(&Program::Shell(
            "ln -s /etc link && ln -s /etc/hostname host".into(),
        ))
        .unwrap();
    assert!(out.success(), "{out:?}");
    let escape = |r: Result<(), Error>| matches!(r, Err(Error::PathEscape { .. }));
    assert!(escape(ws.read_file("/etc/hostname", 10).map(drop)));
    assert!(escape(ws.read_file("../x", 10).map(drop)));
    assert!(escape(ws.read_file("link/hostname", 10).map(drop)));
    assert!(escape(ws.read_file("host", 10).map(drop)));
    assert!(escape(ws.write_file("link/evil", "x")));
    assert!(escape(ws.write_file("sub/../../evil", "x")));
    assert!(escape(ws.list_files("link").map(drop)));
    let kinds: Vec<_> = ws
        .list_files(".")
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, [EntryKind::Symlink, EntryKind::Symlink]);
}

#[test]
fn leftovers_of_a_killed_run_are_reaped_at_the_next_start() {
    let root = Root::new("reap");
    // A live owner's workspace must survive the reaping.
    let live = Sandbox::new(root.0.clone(), Isolation::None, Limits::default()).unwrap();
    let kept = live.workspace().unwrap();
    // The "killed rsp": a process that existed and is gone.
    let mut owner = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let owner_id = ProcessId::of(owner.id()).unwrap();
    owner.kill().unwrap();
    owner.wait().unwrap();
    // What it left: a working directory and a tool process in its own group.
    let dir = root.0.join("ws-dead-0");
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/f"), "x").unwrap();
    let mut leftover = {
        use std::os::unix::process::CommandExt;
        std::process::Command::new("sleep")
            .arg("300")
            .process_group(0)
            .spawn()
            .unwrap()
    };
    let marker = Marker {
        owner: owner_id,
        dir: dir.clone(),
        groups: vec![ProcessId::of(leftover.id()).unwrap()],
    };
    marker.store(&root.0.join("ws-dead-0.marker")).unwrap();

    let t = Instant::now();
    let next = Sandbox::new(root.0.clone(), Isolation::None, Limits::default()).unwrap();
    assert_eq!((next.reaped().dirs, next.reaped().groups), (1, 1));
    assert!(!dir.exists() && !root.0.join("ws-dead-0.marker").exists());
    let status = leftover.wait().unwrap();
    eprintln!("reaped in {:?}", t.elapsed());
    assert!(!status.success(), "the leftover process was not killed");
    assert!(kept.path().exists());
}

#[test]
fn unsafe_local_mode_still_limits_and_cleans_up() {
    let root = Root::new("unsafe");
    let limits = Limits {
        timeout_secs: 0.5,
        ..Limits::default()
    };
    let sb = Sandbox::new(root.0.clone(), Isolation::None, limits).unwrap();
    let ws = sb.workspace().unwrap();
    let out = ws.run(&Program::Bash("echo hi".into())).unwrap();
    assert_eq!((out.exit_code, out.stdout.as_str()), (Some(0), "hi\n"));
    let t = Instant::now();
    let out = ws
        .run(&Program::Bash("sleep 100 & sleep 100".into()))
        .unwrap();
    assert!(out.timed_out && t.elapsed() < Duration::from_secs(2));
    assert_eq!(Isolation::None.describe(), "none (unsafe-local-tools)");
}
