//! `rsp key new|list`: Ed25519 signing keys for the policy's roles, and the project context
//! (store, policy, key files) the governance commands (`model`, `key`, `safeguard`, `sign`,
//! `decisions`) share.
//!
//! A role key is two things: a private file `.rsp/keys/<role>.key` that only its holder
//! keeps (created 0600 from the moment it exists, never overwritten without `--force`), and
//! its public half registered in the project store. A signature counts only when it
//! verifies under a public key registered for the signing role, so copying another role's
//! key file gets a signer nowhere.
//!
//! Key file format (text, documented in `docs/governance.md`): comment lines starting with
//! `#`, then `ed25519-seed:` followed by the 32-byte Ed25519 seed in lowercase hex.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use ed25519_dalek::SigningKey;
use rsp_policy::{Policy, Role};
use rsp_store::{GovernanceStore as _, KeyRecord, SqliteStore};

use crate::cli::KeyCommand;
use crate::exit::Code;
use crate::project::{Project, STATE_DIR};
use crate::settings::Settings;

/// Folder of role keys, under `.rsp/`.
const KEYS_DIR: &str = "keys";
/// The line prefix that holds the seed in a key file.
const SEED_PREFIX: &str = "ed25519-seed:";

pub fn run(cmd: KeyCommand, settings: &Settings) -> Result<Code> {
    let project = Project::find(settings.project.as_deref())?;
    match cmd {
        KeyCommand::New { role, force } => runtime()?.block_on(new(&project, &role, force)),
        KeyCommand::List { json } => runtime()?.block_on(list(&project, json)),
    }
}

/// A single-threaded runtime: the governance commands make a handful of store calls.
pub(super) use super::store_runtime as runtime;

/// The project's store (`.rsp/rsp.db`), created if needed.
pub(super) async fn open_store(project: &Project) -> Result<SqliteStore> {
    let path = SqliteStore::default_path(&project.root);
    let store = SqliteStore::open(&path)
        .await
        .with_context(|| format!("cannot open the project store {}", path.display()))?;
    // Runs left `running` by a killed process are marked `interrupted` on the way in.
    crate::run_lock::reap_orphans(&store).await?;
    Ok(store)
}

/// The project's policy, which must be valid: roles, signers and safeguards are read from
/// it, and acting on a policy with errors could grant what the author did not mean to.
pub(super) fn load_policy(project: &Project) -> Result<Policy> {
    let path = project.policy_path();
    let bytes = fs_err::read(&path)?;
    // The same catalog as `rsp policy check`, so both agree on what is valid.
    let mut suites: Vec<String> = super::policy::BUILTIN_SUITES
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    suites.extend(project.suite_ids());
    let report = rsp_policy::check(&bytes, &rsp_policy::Catalog::new(suites));
    match report.policy {
        Some(p) if report.is_valid() => Ok(p),
        _ => bail!(
            "{} has {} error(s); run `rsp policy check` and fix them first",
            path.display(),
            report.errors().max(1)
        ),
    }
}

/// The policy's role `id`, or an error naming the roles there are.
pub(super) fn policy_role<'p>(policy: &'p Policy, id: &str) -> Result<&'p Role> {
    policy.roles.iter().find(|r| r.id == id).with_context(|| {
        let known: Vec<&str> = policy.roles.iter().map(|r| r.id.as_str()).collect();
        format!(
            "the policy has no role `{id}` (roles: {})",
            known.join(", ")
        )
    })
}

/// Records a governance artifact in the project's audit log: the canonical JSON of
/// `artifact` as a `kind` leaf that depends on the current policy version, then a signed
/// checkpoint. Callers open the log (which needs the log key) *before* changing the store,
/// so a project without a log key fails before anything happens rather than after.
pub(super) async fn audit(
    project: &Project,
    log: &crate::audit::ProjectLog<'_>,
    kind: rsp_ledger::LeafKind,
    artifact: &serde_json::Value,
    meta: serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let policy = crate::audit::log_policy(log, project).await?;
    let bytes = rsp_ledger::canonical_json(artifact).context("cannot encode the audit record")?;
    log.append(kind, &bytes, "application/json", &[policy], meta)
        .await?;
    log.checkpoint().await?;
    Ok(())
}

/// `.rsp/keys/<role>.key`. Role ids become file names, so only safe characters pass.
pub(super) fn key_path(project: &Project, role: &str) -> Result<PathBuf> {
    if role.is_empty()
        || !role
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        || role.starts_with('.')
    {
        bail!("role id `{role}` cannot name a key file (use letters, digits, `-`, `_`, `.`)");
    }
    Ok(project
        .root
        .join(STATE_DIR)
        .join(KEYS_DIR)
        .join(format!("{role}.key")))
}

/// Lowercase hex of a key's public half, as the store records it.
pub(super) fn public_hex(key: &SigningKey) -> String {
    hex::encode(key.verifying_key().as_bytes())
}

/// Reads a role key file.
pub(super) fn read_key(path: &Path) -> Result<SigningKey> {
    let text = match fs_err::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!(
                "no key file {}; the role's key holder creates it with `rsp key new --role ROLE`",
                path.display()
            )
        }
        Err(e) => return Err(e.into()),
    };
    let seed = text
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix(SEED_PREFIX))
        .and_then(|h| hex::decode(h.trim()).ok())
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .with_context(|| format!("{} is not an rsp role key file", path.display()))?;
    Ok(SigningKey::from_bytes(&seed))
}

fn key_file_text(role: &str, key: &SigningKey) -> String {
    format!(
        "# rsp signing key of role `{role}` (Ed25519). Private: never share or commit it.\n\
         # public key: {}\n\
         {SEED_PREFIX}{}\n",
        public_hex(key),
        hex::encode(key.to_bytes())
    )
}

async fn new(project: &Project, role: &str, force: bool) -> Result<Code> {
    let policy = load_policy(project)?;
    let r = policy_role(&policy, role)?;
    let path = key_path(project, role)?;
    if path.exists() && !force {
        bail!(
            "{} already exists; pass --force to replace it (the old public key stays registered)",
            path.display()
        );
    }
    let dir = path
        .parent()
        .context("the key path has no parent directory")?;
    fs_err::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs_err::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let store = open_store(project).await?;
    let log = crate::audit::ProjectLog::open(project, &store)?;
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
    let key = SigningKey::from_bytes(&seed);
    // Written under a temporary name first, then linked (or, with --force, renamed) into
    // place: the key file appears whole, and a concurrent `key new` cannot be overwritten.
    let tmp = dir.join(format!(".{role}.key.{}.tmp", hex::encode(&seed[..4])));
    crate::audit::write_private(&tmp, key_file_text(role, &key).as_bytes())?;
    let placed = if force {
        std::fs::rename(&tmp, &path)
    } else {
        std::fs::hard_link(&tmp, &path).and_then(|()| std::fs::remove_file(&tmp))
    };
    if let Err(e) = placed {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot create {}", path.display()));
    }
    let public_key = public_hex(&key);
    let record = KeyRecord {
        role: role.to_owned(),
        public_key: public_key.clone(),
        created_at: chrono::Utc::now(),
    };
    store
        .insert_key(&record)
        .await
        .context("cannot register the public key")?;
    audit(
        project,
        &log,
        rsp_ledger::LeafKind::KeyRegistration,
        &serde_json::to_value(&record)?,
        crate::audit::meta([("id", public_key.clone().into()), ("role", role.into())]),
    )
    .await?;
    let signs: Vec<String> = r.signs.iter().map(ToString::to_string).collect();
    let mut out = std::io::stdout().lock();
    writeln!(out, "created {} (mode 0600)", display(project, &path))?;
    writeln!(out, "role:       {} ({})", r.id, r.name)?;
    writeln!(out, "public key: {public_key} (registered)")?;
    if signs.is_empty() {
        writeln!(out, "signs:      nothing in this policy")?;
    } else {
        writeln!(out, "signs:      {} decisions", signs.join(", "))?;
    }
    Ok(Code::Ok)
}

/// A path relative to the project root when it is inside it.
pub(super) fn display(project: &Project, path: &Path) -> String {
    path.strip_prefix(&project.root)
        .unwrap_or(path)
        .display()
        .to_string()
}

async fn list(project: &Project, json: bool) -> Result<Code> {
    let store = open_store(project).await?;
    let keys = store.list_keys(None).await?;
    let mut rows = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        // The newest key of a role is the one that signs; older ones still verify old
        // signatures.
        let active = !keys[i + 1..].iter().any(|later| later.role == k.role);
        let local = match key_path(project, &k.role).ok().filter(|p| p.exists()) {
            None => "absent",
            Some(p) => match read_key(&p) {
                Ok(sk) if public_hex(&sk) == k.public_key => "here",
                Ok(_) => "other key",
                Err(_) => "unreadable",
            },
        };
        rows.push((k, active, local));
    }
    let mut out = std::io::stdout().lock();
    if json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(k, active, local)| {
                serde_json::json!({
                    "role": k.role,
                    "public_key": k.public_key,
                    "created_at": k.created_at,
                    "active": active,
                    "private_key": local,
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        return Ok(Code::Ok);
    }
    if rows.is_empty() {
        writeln!(
            out,
            "no role keys registered; create one with `rsp key new --role ROLE`"
        )?;
        return Ok(Code::Ok);
    }
    writeln!(
        out,
        "{:<12} {:<18} {:<8} {:<12} registered",
        "ROLE", "PUBLIC KEY", "STATUS", "PRIVATE KEY"
    )?;
    for (k, active, local) in rows {
        writeln!(
            out,
            "{:<12} {:<18} {:<8} {:<12} {}",
            k.role,
            format!("{}…", &k.public_key[..k.public_key.len().min(16)]),
            if active { "active" } else { "retired" },
            local,
            k.created_at.format("%Y-%m-%d %H:%M UTC")
        )?;
    }
    Ok(Code::Ok)
}
