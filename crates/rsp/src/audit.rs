//! The project's audit log: every artifact a command produces becomes a leaf of
//! the RFC 9162 Merkle log in the project store, and every command that appends
//! ends by signing a checkpoint with the project's log key.
//!
//! The log key is created by `rsp init` and kept in `.rsp/ledger/`: the private
//! half (`log.skey`, mode 0600) never leaves the project, the public half
//! (`log.vkey`) is what a lab publishes so auditors can pin it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use chrono::Utc;
use rsp_ledger::{
    Checkpoint, Hash, KeyAlg, LeafDocument, LeafKind, LogEntry, MerkleTree, SignerKey, VerifierKey,
    VerifyError, VerifyReport,
};
use rsp_store::{Artifact, LedgerStore as _, SqliteStore};
use serde_json::{Map, Value};

use crate::project::{Project, STATE_DIR};

/// Folder of the log key, under `.rsp/`.
const LEDGER_DIR: &str = "ledger";
const SKEY_FILE: &str = "log.skey";
const VKEY_FILE: &str = "log.vkey";

/// Where the project's log key lives.
#[derive(Debug, Clone)]
pub struct KeyPaths {
    pub skey: PathBuf,
    pub vkey: PathBuf,
}

impl KeyPaths {
    pub fn of(project: &Project) -> Self {
        let dir = project.root.join(STATE_DIR).join(LEDGER_DIR);
        Self {
            skey: dir.join(SKEY_FILE),
            vkey: dir.join(VKEY_FILE),
        }
    }
}

/// Creates the project's log key unless one exists; returns its public half.
///
/// The origin (key name) embeds a random suffix so two projects never share a
/// log identity even when their folders have the same name.
pub fn ensure_log_key(project: &Project) -> Result<VerifierKey> {
    let paths = KeyPaths::of(project);
    if paths.skey.exists() {
        return Ok(load_signer(project)?.verifier());
    }
    let slug: String = project
        .root
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("project")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut suffix = [0u8; 4];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut suffix);
    let name = format!("rsp.local/{slug}/{}", hex_lower(&suffix));
    let key = SignerKey::generate(&name, KeyAlg::Ed25519, &mut rand::rngs::OsRng)
        .context("cannot create the log key")?;
    write_private(&paths.skey, key.to_skey().as_bytes())?;
    let vkey = key.verifier();
    fs_err::write(&paths.vkey, format!("{}\n", vkey.to_vkey()))?;
    Ok(vkey)
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a secret file that is 0600 from the moment it exists (never
/// world-readable, even briefly), refusing to replace an existing one.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        fs_err::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// The project's private log key, with an error that says how to fix a missing one.
pub fn load_signer(project: &Project) -> Result<SignerKey> {
    let paths = KeyPaths::of(project);
    let text = match fs_err::read_to_string(&paths.skey) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "the project's log key {} is missing; `rsp ledger init-key` creates one for a project made before the ledger existed",
            paths.skey.display()
        ),
        Err(e) => return Err(e.into()),
    };
    SignerKey::from_skey(text.trim())
        .with_context(|| format!("{} is not a valid log signing key", paths.skey.display()))
}

/// The project's public log key.
pub fn load_verifier(project: &Project) -> Result<VerifierKey> {
    let paths = KeyPaths::of(project);
    let text = fs_err::read_to_string(&paths.vkey)
        .with_context(|| format!("cannot read the log's public key {}", paths.vkey.display()))?;
    VerifierKey::from_vkey(text.trim())
        .with_context(|| format!("{} is not a valid log verifier key", paths.vkey.display()))
}

/// What an append produced.
#[derive(Debug, Clone, Copy)]
pub struct Appended {
    pub artifact: Hash,
}

/// An open project log: a store plus the key that signs its checkpoints.
pub struct ProjectLog<'a> {
    store: &'a SqliteStore,
    key: SignerKey,
}

impl<'a> ProjectLog<'a> {
    pub fn open(project: &Project, store: &'a SqliteStore) -> Result<Self> {
        Ok(Self {
            store,
            key: load_signer(project)?,
        })
    }

    /// Appends one artifact (stored content-addressed) and the leaf describing it.
    pub async fn append(
        &self,
        kind: LeafKind,
        artifact: &[u8],
        media_type: &str,
        depends_on: &[Hash],
        meta: Map<String, Value>,
    ) -> Result<Appended> {
        let mut doc = LeafDocument::new(kind, Utc::now(), artifact);
        doc.depends_on = depends_on.to_vec();
        doc.meta = meta;
        let leaf = doc
            .to_canonical_bytes()
            .context("cannot encode the ledger leaf")?;
        let hash = rsp_ledger::leaf_hash(&leaf);
        let stored = Artifact::new(artifact.to_vec(), media_type);
        self.store
            .append_leaf(&leaf, hash.as_bytes(), kind.as_str(), Some(&stored))
            .await?;
        Ok(Appended {
            artifact: doc.artifact_sha256,
        })
    }

    /// Logs `artifact` unless a leaf already describes the same bytes; returns its digest.
    /// Used for things many commands depend on, like the policy text.
    pub async fn ensure(
        &self,
        kind: LeafKind,
        artifact: &[u8],
        media_type: &str,
        meta: Map<String, Value>,
    ) -> Result<Hash> {
        let digest = rsp_ledger::sha256(artifact);
        if self.store.artifact(&digest.to_hex()).await?.is_some() {
            return Ok(digest);
        }
        Ok(self
            .append(kind, artifact, media_type, &[], meta)
            .await?
            .artifact)
    }

    /// Signs and stores a checkpoint of the current tree, unless the latest
    /// checkpoint already covers it. Returns the note text when one was written.
    pub async fn checkpoint(&self) -> Result<Option<String>> {
        let size = self.store.leaf_count().await?;
        if let Some(latest) = self.store.latest_checkpoint().await?
            && latest.size >= size
        {
            return Ok(None);
        }
        let tree = tree(self.store, size).await?;
        let note = Checkpoint::new(self.key.name(), size, tree.root())
            .sign(&self.key)
            .context("cannot sign the checkpoint")?;
        self.store.put_checkpoint(size, &note).await?;
        Ok(Some(note))
    }
}

/// The Merkle tree over the first `size` leaves of the store.
pub async fn tree(store: &SqliteStore, size: u64) -> Result<MerkleTree> {
    let hashes = store.leaf_hashes(0..size).await?;
    Ok(MerkleTree::from_leaf_hashes(hashes.into_iter().map(Hash)))
}

/// Every stored leaf as a [`LogEntry`] with the hash recorded at append time.
pub async fn entries(store: &SqliteStore) -> Result<Vec<LogEntry>> {
    let size = store.leaf_count().await?;
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    let mut start = 0;
    while start < size {
        let batch = store.leaves(start..size.min(start + 10_000)).await?;
        if batch.is_empty() {
            break;
        }
        start += batch.len() as u64;
        out.extend(batch.into_iter().map(|l| LogEntry {
            leaf: l.leaf,
            recorded_hash: Some(Hash(l.leaf_hash)),
        }));
    }
    Ok(out)
}

/// Artifacts as the verifier wants them: fetched lazily, one by one, from the store.
///
/// The verifier's lookup is synchronous; this runs on a blocking-capable thread
/// of the multi-threaded runtime, so `block_in_place` is sound here.
pub fn artifact_lookup(
    store: &SqliteStore,
) -> impl Fn(&Hash) -> Result<Option<Vec<u8>>, rsp_ledger::LookupError> + '_ {
    move |h: &Hash| {
        let hex = h.to_hex();
        tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async { store.artifact(&hex).await })
        })
        .map(|a| a.map(|a| a.bytes))
        .map_err(|e| Box::new(e) as rsp_ledger::LookupError)
    }
}

/// Verifies the whole project log: every leaf, artifact and checkpoint.
pub async fn verify(
    store: &SqliteStore,
    key: &VerifierKey,
) -> Result<std::result::Result<VerifyReport, VerifyError>> {
    let entries = entries(store).await?;
    let checkpoints: Vec<String> = store
        .checkpoints()
        .await?
        .into_iter()
        .map(|c| c.text)
        .collect();
    let lookup = artifact_lookup(store);
    Ok(rsp_ledger::verify_log(&entries, &lookup, &checkpoints, key))
}

/// Meta map from `(key, value)` pairs.
pub fn meta<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// Logs the project's current policy text unless that exact version is
/// already in the log; returns its digest (what later leaves depend on).
pub async fn log_policy(log: &ProjectLog<'_>, project: &Project) -> Result<Hash> {
    let path = project.policy_path();
    let text = fs_err::read(&path)?;
    let parsed = rsp_policy::check(&text, &rsp_policy::Catalog::new(Vec::<String>::new())).policy;
    let mut m = Map::new();
    m.insert("id".into(), Value::from(rsp_ledger::sha256(&text).to_hex()));
    if let Some(p) = &parsed {
        m.insert("name".into(), Value::from(p.policy.name.clone()));
        m.insert("version".into(), Value::from(p.policy.version.clone()));
    }
    log.ensure(LeafKind::PolicyVersion, &text, "application/toml", m)
        .await
}

/// What `rsp init` records: the log key, and the first policy version under a
/// signed checkpoint.
pub async fn record_init(project: &Project) -> Result<VerifierKey> {
    let vkey = ensure_log_key(project)?;
    let store = SqliteStore::open(SqliteStore::default_path(&project.root)).await?;
    let log = ProjectLog::open(project, &store)?;
    log_policy(&log, project).await?;
    log.checkpoint().await?;
    Ok(vkey)
}

/// Logs a run once: its spec, summary and the SHA-256 of the JCS form of its
/// whole sample list, so any later edit of a stored sample is detectable.
pub async fn log_run(
    log: &ProjectLog<'_>,
    store: &SqliteStore,
    run: &crate::store_sink::StoredRun,
) -> Result<Hash> {
    let samples = crate::store_sink::samples(store, &run.record.id).await?;
    let samples_json = serde_json::to_value(&samples)?;
    let samples_sha256 = rsp_ledger::sha256(&canonical(&samples_json)?);
    // The summary without the time it was (re)computed: a resumed run that ran
    // nothing new is the same artifact, not a new leaf.
    let mut summary = serde_json::to_value(&run.summary)?;
    if let Value::Object(m) = &mut summary {
        m.remove("finished_at");
    }
    let doc = serde_json::json!({
        "type": "rsp.run/v1",
        "id": run.record.id,
        "spec": run.spec,
        "summary": summary,
        "samples": samples.len(),
        "samples_sha256": samples_sha256.to_hex(),
    });
    log.ensure(
        LeafKind::Run,
        &canonical(&doc)?,
        "application/json",
        meta([
            ("id", run.record.id.clone().into()),
            ("task", run.spec.task.clone().into()),
            ("model", run.spec.model.clone().into()),
        ]),
    )
    .await
}

/// Logs a model registration (and every later change to it): triggers and
/// forecasts read the registered compute and dates, so an auditor must be able
/// to see which facts they were computed from, and when those facts changed.
/// `created_at` is left out so re-recording identical facts is not a new leaf.
pub async fn log_model(log: &ProjectLog<'_>, record: &rsp_store::ModelRecord) -> Result<Hash> {
    let mut doc = serde_json::to_value(record)?;
    if let Value::Object(m) = &mut doc {
        m.remove("created_at");
        m.insert("type".into(), Value::from("rsp.model/v1"));
    }
    log.ensure(
        LeafKind::Other,
        &canonical(&doc)?,
        "application/json",
        meta([
            ("type", "model_registration".into()),
            ("name", record.name.clone().into()),
        ]),
    )
    .await
}

/// The RFC 8785 form of a JSON artifact: the bytes that are hashed and stored.
pub fn canonical(v: &Value) -> Result<Vec<u8>> {
    rsp_ledger::canonical_json(v).context("an artifact holds a non-finite number")
}
