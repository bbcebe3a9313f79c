//! What every CLI test needs: run the real binary in a directory, read its output.
#![allow(dead_code, reason = "each test binary uses its own subset")]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `rsp ARGS` in `dir`, ignoring any project from the environment.
pub fn rsp(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rsp"))
        .args(args)
        .current_dir(dir)
        .env_remove("RSP_PROJECT")
        .env("NO_COLOR", "1")
        .output()
        .expect("run rsp")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
