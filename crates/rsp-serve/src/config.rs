//! What `rsp serve` passes in: where to listen, the store file, the policy, the hooks.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::hooks::Hooks;

/// The default listening address: loopback only, so nothing is exposed by accident.
pub const DEFAULT_BIND: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8719);

/// Where the policy text comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    /// No policy: pages that need one say so, writes that need one answer 503.
    None,
    /// A file, re-read on every request so an edited policy shows without a restart.
    File(PathBuf),
    /// Fixed text (tests, embedding).
    Text(String),
}

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Listening address (`--bind`); [`DEFAULT_BIND`] by default.
    pub bind: SocketAddr,
    /// The project's SQLite store file.
    pub database: PathBuf,
    /// The project's policy.
    pub policy: PolicySource,
    /// How often live-run progress is polled from the store.
    pub live_poll: Duration,
    /// Verifier, audit log and forecasts implemented by the binary.
    pub hooks: Hooks,
}

impl ServeConfig {
    /// Settings with the default bind address and a one-second live poll.
    pub fn new(database: impl Into<PathBuf>, policy: PolicySource, hooks: Hooks) -> Self {
        Self {
            bind: DEFAULT_BIND,
            database: database.into(),
            policy,
            live_poll: Duration::from_secs(1),
            hooks,
        }
    }

    /// The warning to print when the bind address is reachable from other machines, or
    /// `None` for a loopback address. The CLI prints it; [`crate::serve`] also logs it.
    pub fn exposure_warning(&self) -> Option<String> {
        (!self.bind.ip().is_loopback()).then(|| {
            format!(
                "warning: rsp serve is listening on {}, which is reachable from other machines; \
                 every read is unauthenticated, so anyone who can reach it can see every run, \
                 transcript and decision",
                self.bind
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::{AuditEntry, AuditLog, LedgerVerifier, VerifySummary};
    use std::sync::Arc;

    struct Nop;
    #[async_trait::async_trait]
    impl LedgerVerifier for Nop {
        async fn verify(&self) -> Result<VerifySummary, String> {
            Err("nop".into())
        }
    }
    #[async_trait::async_trait]
    impl AuditLog for Nop {
        async fn append(&self, _: AuditEntry) -> Result<(), String> {
            Ok(())
        }
    }

    #[test]
    fn only_non_loopback_binds_warn() {
        let hooks = Hooks {
            verifier: Arc::new(Nop),
            audit: Arc::new(Nop),
            forecasts: None,
        };
        let mut c = ServeConfig::new("x.db", PolicySource::None, hooks);
        assert_eq!(c.bind.to_string(), "127.0.0.1:8719");
        assert!(c.exposure_warning().is_none());
        c.bind = "[::1]:9000".parse().unwrap();
        assert!(c.exposure_warning().is_none());
        c.bind = "0.0.0.0:8719".parse().unwrap();
        let w = c.exposure_warning().unwrap();
        assert!(w.contains("0.0.0.0:8719") && w.contains("reachable"), "{w}");
    }
}
