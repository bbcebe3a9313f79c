//! Provenance: what exactly ran, recorded with every run, and the seeds that make it
//! reproducible.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Hex sha256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The seed of one sample-epoch: the first 8 bytes of
/// `sha256(run_seed (8 bytes LE) ‖ sample id ‖ 0x00 ‖ epoch (4 bytes LE))`.
///
/// Derived, not drawn from a running RNG, so it depends only on its key: a resumed run,
/// a run with another concurrency, or a run over a subset reproduces it exactly.
pub fn sample_seed(run_seed: u64, sample_id: &str, epoch: u32) -> u64 {
    let mut h = Sha256::new();
    h.update(run_seed.to_le_bytes());
    h.update(sample_id.as_bytes());
    h.update([0u8]);
    h.update(epoch.to_le_bytes());
    let d = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    u64::from_le_bytes(b)
}

/// The machine's host name (`/proc/sys/kernel/hostname`, then `HOSTNAME`), or `unknown`.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

/// Everything needed to say what a run was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// rsp version (the workspace version).
    pub rsp_version: String,
    /// sha256 of the task file.
    pub task_sha256: String,
    /// sha256 of the dataset file.
    pub dataset_sha256: String,
    /// sha256 of the dev split, when the task has one.
    pub dev_sha256: Option<String>,
    /// sha256 of every prompt text the solvers and judges use, by name.
    pub templates_sha256: BTreeMap<String, String>,
    /// Model spec of the model under test.
    pub model: String,
    /// Judge model spec, if any.
    pub judge: Option<String>,
    /// Generation settings (as JSON).
    pub generate_config: serde_json::Value,
    /// The run seed.
    pub seed: u64,
    /// Host the run (or this part of it) ran on.
    pub host: String,
    /// When the run was created (RFC 3339, UTC).
    pub created_at: String,
    /// How tool calls were isolated, for tasks with tools
    /// (`unshare(net,pid,ipc,uts)+setpriv(uid)+prlimit`, or `none (unsafe-local-tools)`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_depend_only_on_their_key() {
        let a = sample_seed(1, "kp-0001", 1);
        assert_eq!(a, sample_seed(1, "kp-0001", 1));
        assert_ne!(a, sample_seed(2, "kp-0001", 1));
        assert_ne!(a, sample_seed(1, "kp-0002", 1));
        assert_ne!(a, sample_seed(1, "kp-0001", 2));
        // The separator keeps ("a", epoch) and ("a\0…") apart.
        assert_ne!(sample_seed(1, "ab", 1), sample_seed(1, "a", 1));
        assert_eq!(sha256_hex(b"abc").len(), 64);
        assert!(!host_name().is_empty());
    }
}
