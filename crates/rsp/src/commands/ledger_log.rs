//! The project-log half of `rsp ledger`: verify the project's own log, print
//! its checkpoint, prove inclusion and consistency, export an auditor bundle,
//! list entries and countersign as a witness.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use rsp_ledger::{
    BundleInput, ConsistencyProofJson, InclusionProofJson, KeyAlg, LeafDocument, SignerKey,
    VerifierKey,
};
use rsp_store::{GovernanceStore as _, LedgerStore as _, SqliteStore};

use crate::audit;
use crate::exit::Code;
use crate::project::Project;
use crate::settings::Settings;

pub(crate) async fn open(settings: &Settings) -> Result<(Project, SqliteStore)> {
    let project = Project::find(settings.project.as_deref())?;
    let store = SqliteStore::open(SqliteStore::default_path(&project.root)).await?;
    Ok((project, store))
}

/// `rsp ledger verify` without `--bundle`.
pub async fn verify(settings: &Settings, pinned: Option<VerifierKey>) -> Result<Code> {
    let (project, store) = open(settings).await?;
    let key = match pinned {
        Some(k) => k,
        None => audit::load_verifier(&project)?,
    };
    let mut out = std::io::stdout().lock();
    match audit::verify(&store, &key).await? {
        Ok(r) => {
            writeln!(out, "the project log verifies")?;
            writeln!(out, "  log key:     {}", key.to_vkey())?;
            writeln!(out, "  leaves:      {}", r.tree_size)?;
            writeln!(out, "  root:        {}", r.root.to_hex())?;
            writeln!(
                out,
                "  checkpoints: {} (latest signed size {})",
                r.checkpoints.len(),
                r.signed_size
            )?;
            if r.signed_size < r.tree_size {
                writeln!(
                    out,
                    "  note: leaves {}..{} are not yet covered by a checkpoint (`rsp ledger checkpoint --sign`)",
                    r.signed_size, r.tree_size
                )?;
            }
            writeln!(out, "  artifacts:   {} checked", r.artifacts_checked)?;
            Ok(Code::Ok)
        }
        Err(e) => {
            writeln!(
                out,
                "the project log does NOT verify: {}",
                super::ledger::error_chain(&e)
            )?;
            Ok(Code::Fail)
        }
    }
}

/// `rsp ledger checkpoint`: print the latest signed tree head (signing a new one first with `--sign`).
pub async fn checkpoint(settings: &Settings, sign: bool) -> Result<Code> {
    let (project, store) = open(settings).await?;
    if sign {
        audit::ProjectLog::open(&project, &store)?
            .checkpoint()
            .await?;
    }
    let mut out = std::io::stdout().lock();
    match store.latest_checkpoint().await? {
        Some(c) => write!(out, "{}", c.text)?,
        None => writeln!(out, "the log has no checkpoint yet")?,
    }
    Ok(Code::Ok)
}

/// `rsp ledger prove ARTIFACT` / `--consistency OLD_SIZE`.
pub async fn prove(
    settings: &Settings,
    artifact: Option<&str>,
    consistency: Option<u64>,
) -> Result<Code> {
    let (_, store) = open(settings).await?;
    // Prove against the latest signed checkpoint: its (size, root) is what an
    // auditor can trust; leaves after it are not signed yet.
    let Some(latest) = store.latest_checkpoint().await? else {
        bail!("the log has no checkpoint yet, so there is no signed root to prove against")
    };
    let size = latest.size;
    let tree = audit::tree(&store, size).await?;
    let mut out = std::io::stdout().lock();
    if let Some(old) = consistency {
        if old == 0 || old > size {
            bail!("--consistency needs an old size between 1 and the signed size {size}");
        }
        let proof = tree.consistency_proof(old, size)?;
        let json = ConsistencyProofJson::new(old, size, tree.root_at(old)?, tree.root(), &proof);
        writeln!(out, "{}", json.to_json())?;
        return Ok(Code::Ok);
    }
    let Some(wanted) = artifact else {
        bail!("give an ARTIFACT (sha256 prefix or id) or --consistency OLD_SIZE")
    };
    let index = find_leaf(&store, wanted, size).await?;
    let proof = tree.inclusion_proof(index, size)?;
    let leaf_hash = tree
        .leaf_hash(index)
        .context("leaf index outside the tree")?;
    let json = InclusionProofJson::new(index, size, tree.root(), leaf_hash, &proof);
    writeln!(out, "{}", json.to_json())?;
    Ok(Code::Ok)
}

/// The first leaf whose artifact digest starts with `wanted` (at least 8 hex
/// digits) or whose `meta.id` starts with it.
async fn find_leaf(store: &SqliteStore, wanted: &str, size: u64) -> Result<u64> {
    let hexish = wanted.len() >= 8 && wanted.bytes().all(|b| b.is_ascii_hexdigit());
    let mut hits = Vec::new();
    for leaf in store.leaves(0..size).await? {
        let Ok(doc) = LeafDocument::from_canonical_bytes(&leaf.leaf) else {
            continue;
        };
        let by_hash = hexish
            && doc
                .artifact_sha256
                .to_hex()
                .starts_with(&wanted.to_lowercase());
        let by_id = doc
            .meta
            .get("id")
            .and_then(|v| v.as_str())
            .is_some_and(|id| id.starts_with(wanted));
        if by_hash || by_id {
            hits.push((leaf.idx, doc));
        }
    }
    match hits.as_slice() {
        [] => bail!(
            "no signed leaf describes an artifact `{wanted}` (give a sha256 prefix of 8+ hex digits or an id; see `rsp ledger log`)"
        ),
        [(idx, _)] => Ok(*idx),
        many => {
            // Several leaves may log the same artifact id (a decision and its
            // signatures name it); prove the first, which is the artifact itself.
            let first = many[0].0;
            if many
                .iter()
                .all(|(_, d)| d.artifact_sha256 == many[0].1.artifact_sha256)
            {
                Ok(first)
            } else {
                bail!(
                    "{} leaves match `{wanted}`; give more of the sha256",
                    many.len()
                )
            }
        }
    }
}

/// `rsp ledger log`: the entries, one line each.
pub async fn list(settings: &Settings, json: bool, last: Option<u64>) -> Result<Code> {
    let (_, store) = open(settings).await?;
    let size = store.leaf_count().await?;
    let start = last.map_or(0, |n| size.saturating_sub(n));
    let mut out = std::io::stdout().lock();
    for leaf in store.leaves(start..size).await? {
        let doc = LeafDocument::from_canonical_bytes(&leaf.leaf).ok();
        if json {
            let v = serde_json::json!({
                "index": leaf.idx,
                "leaf_hash": hex(&leaf.leaf_hash),
                "leaf": doc.as_ref().map(|_| serde_json::from_slice::<serde_json::Value>(&leaf.leaf).ok()),
            });
            writeln!(out, "{v}")?;
        } else if let Some(d) = doc {
            let id = d.meta.get("id").and_then(|v| v.as_str()).unwrap_or("");
            writeln!(
                out,
                "{:>6}  {}  {:<16} {}  {id}",
                leaf.idx,
                d.time,
                d.kind.as_str(),
                &d.artifact_sha256.to_hex()[..16]
            )?;
        } else {
            writeln!(out, "{:>6}  (not a valid leaf document)", leaf.idx)?;
        }
    }
    Ok(Code::Ok)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `rsp ledger export -o FILE.tar`: leaves, artifacts, checkpoints and public keys.
pub async fn export(settings: &Settings, out_path: &Path) -> Result<Code> {
    let (project, store) = open(settings).await?;
    let log_key = audit::load_verifier(&project)?;
    let entries = audit::entries(&store).await?;
    let checkpoints: Vec<String> = store
        .checkpoints()
        .await?
        .into_iter()
        .map(|c| c.text)
        .collect();
    let mut extra = Vec::new();
    for k in store.list_keys(None).await? {
        if let Ok(v) = VerifierKey::from_vkey(&k.public_key) {
            extra.push((format!("role-{}", k.role), v));
        }
    }
    let lookup = audit::artifact_lookup(&store);
    let input = BundleInput {
        entries: &entries,
        artifacts: &lookup,
        checkpoints: &checkpoints,
        log_key: &log_key,
        extra_keys: &extra,
    };
    // Write next to the target and rename, so a failed export never leaves a
    // truncated bundle under the requested name.
    let tmp = out_path.with_extension("tar.partial");
    let file = fs_err::File::create(&tmp)?;
    let file = rsp_ledger::export_bundle(std::io::BufWriter::new(file), &input)
        .context("cannot write the bundle")?;
    file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    fs_err::rename(&tmp, out_path)?;
    writeln!(
        std::io::stdout().lock(),
        "wrote {} ({} leaves, {} checkpoints); verify it anywhere with `rsp ledger verify --bundle {}`",
        out_path.display(),
        entries.len(),
        checkpoints.len(),
        out_path.display()
    )?;
    Ok(Code::Ok)
}

/// `rsp ledger witness-key NAME -o PREFIX`: a witness (auditor) cosignature key pair.
pub fn witness_key(name: &str, prefix: &Path) -> Result<Code> {
    let key = SignerKey::generate(name, KeyAlg::CosignatureV1, &mut rand::rngs::OsRng)
        .context("cannot create the witness key")?;
    let skey = prefix.with_extension("skey");
    let vkey = prefix.with_extension("vkey");
    audit::write_private(&skey, key.to_skey().as_bytes())?;
    fs_err::write(&vkey, format!("{}\n", key.verifier().to_vkey()))?;
    writeln!(
        std::io::stdout().lock(),
        "wrote {} (private, 0600) and {}",
        skey.display(),
        vkey.display()
    )?;
    Ok(Code::Ok)
}

/// `rsp ledger cosign --key WITNESS.skey`: verify the whole log, then countersign
/// the latest checkpoint (a witness signs only what it has checked).
pub async fn cosign(settings: &Settings, key_path: &Path) -> Result<Code> {
    let (project, store) = open(settings).await?;
    let text = fs_err::read_to_string(key_path)?;
    let witness = SignerKey::from_skey(text.trim())
        .with_context(|| format!("{} is not a witness signing key", key_path.display()))?;
    let log_key = audit::load_verifier(&project)?;
    if let Err(e) = audit::verify(&store, &log_key).await? {
        writeln!(
            std::io::stdout().lock(),
            "refusing to cosign: the log does not verify: {}",
            super::ledger::error_chain(&e)
        )?;
        return Ok(Code::Fail);
    }
    let Some(latest) = store.latest_checkpoint().await? else {
        bail!("the log has no checkpoint to cosign")
    };
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0);
    let note = rsp_ledger::cosign(&latest.text, &witness, now).context("cannot cosign")?;
    store.put_checkpoint(latest.size, &note).await?;
    write!(std::io::stdout().lock(), "{note}")?;
    Ok(Code::Ok)
}

/// `rsp ledger init-key`: create the log key of a project that has none.
pub fn init_key(settings: &Settings) -> Result<Code> {
    let project = Project::find(settings.project.as_deref())?;
    let v = audit::ensure_log_key(&project)?;
    writeln!(std::io::stdout().lock(), "log key: {}", v.to_vkey())?;
    Ok(Code::Ok)
}
