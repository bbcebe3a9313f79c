//! Shared state: the store, the dashboard's own read pool, the policy and the hooks.

use std::sync::Arc;
use std::time::Duration;

use rsp_policy::Policy;
use rsp_store::SqliteStore;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

use crate::config::{PolicySource, ServeConfig};
use crate::error::{ApiError, ErrorCode, ServeError};
use crate::hooks::Hooks;

/// Read connections of the dashboard's own pool (filtered sample pages, ledger and policy
/// listings). Two cores: more would only cost memory.
const READERS: u32 = 4;

/// A loaded policy with its text and digest.
#[derive(Debug, Clone)]
pub struct LoadedPolicy {
    /// The TOML text.
    pub text: String,
    /// SHA-256 (hex) of the text.
    pub sha256: String,
    /// The parsed policy.
    pub policy: Policy,
}

/// Everything a handler can reach. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: SqliteStore,
    db: SqlitePool,
    policy: PolicySource,
    hooks: Hooks,
    live_poll: Duration,
    loopback_only: bool,
}

impl AppState {
    /// Opens the store named by `config` (applying its migrations, which include the
    /// indexes the dashboard's queries need) and opens the dashboard's read pool.
    pub async fn open(config: &ServeConfig) -> Result<Self, ServeError> {
        let store = SqliteStore::open(&config.database)
            .await
            .map_err(ServeError::Store)?;
        let prepare = |source| ServeError::Prepare {
            location: config.database.display().to_string(),
            source,
        };
        let base = SqliteConnectOptions::new()
            .filename(&config.database)
            .busy_timeout(Duration::from_secs(30));
        let db = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(base.read_only(true))
            .await
            .map_err(prepare)?;
        let mut state = Self::from_parts(
            store,
            db,
            config.policy.clone(),
            config.hooks.clone(),
            config.live_poll,
        );
        if let Some(inner) = Arc::get_mut(&mut state.inner) {
            inner.loopback_only = config.bind.ip().is_loopback();
        }
        Ok(state)
    }

    /// State over an already open store and pool (tests use an in-memory store, whose
    /// single connection is shared as the pool). It accepts any `Host` header; state from
    /// [`AppState::open`] on a loopback address accepts only loopback names.
    pub fn from_parts(
        store: SqliteStore,
        db: SqlitePool,
        policy: PolicySource,
        hooks: Hooks,
        live_poll: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                db,
                policy,
                hooks,
                live_poll,
                loopback_only: false,
            }),
        }
    }

    /// True when only loopback `Host` names are answered (see [`crate::security`]).
    pub fn loopback_only(&self) -> bool {
        self.inner.loopback_only
    }

    /// The project store.
    pub fn store(&self) -> &SqliteStore {
        &self.inner.store
    }

    /// The dashboard's read pool on the same database.
    pub fn db(&self) -> &SqlitePool {
        &self.inner.db
    }

    /// The hooks.
    pub fn hooks(&self) -> &Hooks {
        &self.inner.hooks
    }

    /// Live poll interval.
    pub fn live_poll(&self) -> Duration {
        self.inner.live_poll
    }

    /// The current policy, or `None` when none is configured. Re-read from its file each
    /// call, so the dashboard never shows a stale policy.
    pub fn policy(&self) -> Result<Option<LoadedPolicy>, ApiError> {
        let text = match &self.inner.policy {
            PolicySource::None => return Ok(None),
            PolicySource::Text(t) => t.clone(),
            PolicySource::File(path) => std::fs::read_to_string(path)
                .map_err(|e| ApiError::internal("reading the policy file", &e))?,
        };
        Ok(Some(parse_policy(text)?))
    }

    /// The current policy, or 503 when none is configured.
    pub fn require_policy(&self) -> Result<LoadedPolicy, ApiError> {
        self.policy()?.ok_or_else(|| {
            ApiError::new(
                ErrorCode::NoPolicy,
                "the server was started without a policy; run `rsp serve` inside a project",
            )
        })
    }
}

/// Parses policy text. Diagnostics that still yield a policy (an unknown suite, say) do
/// not stop the dashboard from showing it; `rsp policy check` is where they are fixed.
pub fn parse_policy(text: String) -> Result<LoadedPolicy, ApiError> {
    let report = rsp_policy::check(
        text.as_bytes(),
        &rsp_policy::Catalog::new(Vec::<String>::new()),
    );
    let policy = report.policy.ok_or_else(|| {
        let first = report
            .diagnostics
            .first()
            .map_or_else(|| "unknown problem".to_owned(), |d| d.message.clone());
        ApiError::unprocessable(format!("the policy does not parse: {first}"))
    })?;
    Ok(LoadedPolicy {
        sha256: rsp_ledger::sha256(text.as_bytes()).to_hex(),
        text,
        policy,
    })
}
