//! Exit codes, in one place so scripts and docs agree.

use std::process::ExitCode;

/// What `rsp` exits with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Success; for `check`, valid; for `diff`, nothing weakens.
    Ok = 0,
    /// The input is invalid, or (for `diff`) the policy is weakened.
    Fail = 1,
    /// A usage or I/O error.
    Usage = 2,
    /// `rsp assess`: the requested action is blocked by the policy.
    Blocked = 3,
    /// `rsp assess`: the action would be allowed but the decision awaits signatures.
    Awaiting = 4,
}

impl From<Code> for ExitCode {
    fn from(c: Code) -> Self {
        ExitCode::from(c as u8)
    }
}

/// Writing to a closed pipe (`rsp policy explain | head`) is not an error.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
