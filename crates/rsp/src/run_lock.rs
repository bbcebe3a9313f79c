//! Liveness of `running` runs.
//!
//! A run is stored `running` while a process records its samples. SIGINT and SIGTERM
//! mark it `interrupted`, but a process killed with SIGKILL (or by the OOM killer, or a
//! power cut) cannot, and its run would read `running` forever. So the process that runs
//! a run holds an exclusive OS file lock on `<store>.locks/run-<id>.lock` for as long as
//! it runs: the kernel drops the lock when the process dies, however it dies. A `running`
//! run whose lock file exists but can be locked has no live owner and is marked
//! `interrupted` the next time anyone lists runs (`--resume` then continues it).
//!
//! The same lock stops two processes from running one run at once, which would
//! otherwise race to record the same samples.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use rsp_store::{RunFilter, RunStatus, RunStore as _, SqliteStore};

/// An exclusive hold on a run; released when dropped or when the process dies.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

fn lock_path(store: &SqliteStore, run: &str) -> Option<PathBuf> {
    let db = store.file()?;
    let mut dir = db.as_os_str().to_owned();
    dir.push(".locks");
    Some(Path::new(&dir).join(format!("run-{run}.lock")))
}

/// Takes the run's lock, or fails if another live process holds it. An in-memory store
/// has no other process to guard against, so it needs no lock.
pub fn acquire(store: &SqliteStore, run: &str) -> Result<Option<RunLock>> {
    let Some(path) = lock_path(store, run) else {
        return Ok(None);
    };
    if let Some(dir) = path.parent() {
        fs_err::create_dir_all(dir)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open the run lock {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(RunLock { _file: file })),
        Err(TryLockError::WouldBlock) => bail!(
            "run {run} is being run by another rsp process right now; wait for it or stop it first"
        ),
        Err(TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// True when the run has a lock file that nobody holds: its process is gone.
///
/// A run with no lock file is given the benefit of the doubt (its process may be between
/// creating the run and taking the lock, or it predates locks).
fn orphaned(store: &SqliteStore, run: &str) -> bool {
    let Some(path) = lock_path(store, run) else {
        return false;
    };
    let Ok(file) = OpenOptions::new().write(true).open(&path) else {
        return false;
    };
    file.try_lock().is_ok()
}

/// Marks every `running` run without a live owner `interrupted`; returns their ids.
pub async fn reap_orphans(store: &SqliteStore) -> Result<Vec<String>> {
    let running = store
        .list_runs(&RunFilter {
            status: Some(RunStatus::Running),
            ..RunFilter::default()
        })
        .await?;
    let mut reaped = Vec::new();
    for run in running {
        if orphaned(store, &run.id) {
            store
                .set_run_status(&run.id, RunStatus::Interrupted)
                .await?;
            if let Some(path) = lock_path(store, &run.id) {
                // Best effort: a stale lock file is harmless, it only costs an inode.
                let _ = fs_err::remove_file(path);
            }
            reaped.push(run.id);
        }
    }
    Ok(reaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread")]
    async fn a_held_lock_blocks_a_second_owner_and_a_released_one_is_reaped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path().join("rsp.db"))
            .await
            .expect("store");
        let held = acquire(&store, "r1").expect("first lock");
        assert!(held.is_some());
        let second = acquire(&store, "r1").expect_err("second owner must be refused");
        assert!(
            second.to_string().contains("another rsp process"),
            "{second}"
        );
        assert!(!orphaned(&store, "r1"));
        drop(held);
        assert!(orphaned(&store, "r1"));
        assert!(!orphaned(&store, "never-locked"));
    }
}
