//! `rsp safeguard attest|list`: attestation evidence for the policy's safeguards.
//!
//! An attestation binds a safeguard, the role the policy names for it, an expiry and the
//! SHA-256 of an evidence document. The document is copied into the project,
//! content-addressed (`.rsp/evidence/<sha256>`), so the record and the bytes it vouches for
//! cannot drift apart unnoticed: `list` re-hashes every stored copy, and a file edited after
//! the fact shows as `hash mismatch` (and makes the command exit 1).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use chrono::{Days, NaiveDate, Utc};
use rsp_policy::{Policy, Safeguard, SafeguardEvidence};
use rsp_store::{AttestationRecord, GovernanceStore as _};
use serde_json::json;

use super::key::{audit, display, load_policy, open_store, policy_role, runtime};
use crate::cli::SafeguardCommand;
use crate::exit::Code;
use crate::project::{Project, STATE_DIR};
use crate::settings::Settings;

/// Folder of evidence copies, under `.rsp/`.
const EVIDENCE_DIR: &str = "evidence";

pub fn run(cmd: SafeguardCommand, settings: &Settings) -> Result<Code> {
    let project = Project::find(settings.project.as_deref())?;
    let rt = runtime()?;
    match cmd {
        SafeguardCommand::Attest {
            id,
            evidence,
            by,
            expires,
        } => rt.block_on(attest(&project, &id, &evidence, &by, expires.as_deref())),
        SafeguardCommand::List { json } => rt.block_on(list(&project, json)),
    }
}

/// Every safeguard of the policy with the standard that lists it, in policy order (a
/// safeguard listed by two standards appears once, under the first).
fn safeguards(policy: &Policy) -> Vec<(&str, &Safeguard)> {
    let mut out: Vec<(&str, &Safeguard)> = Vec::new();
    for st in &policy.standards {
        for sg in &st.safeguards {
            if !out.iter().any(|(_, s)| s.id == sg.id) {
                out.push((st.id.as_str(), sg));
            }
        }
    }
    out
}

/// Where the content-addressed copy of evidence with this digest lives.
pub(super) fn evidence_path(project: &Project, sha256: &str) -> PathBuf {
    project.root.join(STATE_DIR).join(EVIDENCE_DIR).join(sha256)
}

/// Copies `bytes` to `.rsp/evidence/<sha256>` (write to a temporary file, then rename, so
/// a copy is never half-written). An existing copy is kept when it still matches.
fn store_evidence(project: &Project, sha256: &str, bytes: &[u8]) -> Result<PathBuf> {
    let path = evidence_path(project, sha256);
    if fs_err::read(&path).is_ok_and(|b| rsp_ledger::sha256(&b).to_hex() == sha256) {
        return Ok(path);
    }
    let dir = path.parent().context("evidence path has no parent")?;
    fs_err::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{sha256}.tmp"));
    fs_err::write(&tmp, bytes)?;
    fs_err::File::open(&tmp)?.sync_all()?;
    fs_err::rename(&tmp, &path)?;
    Ok(path)
}

async fn attest(
    project: &Project,
    id: &str,
    evidence: &Path,
    by: &str,
    expires: Option<&str>,
) -> Result<Code> {
    let policy = load_policy(project)?;
    let all = safeguards(&policy);
    let Some((standard, sg)) = all.iter().find(|(_, s)| s.id == id) else {
        let known: Vec<&str> = all.iter().map(|(_, s)| s.id.as_str()).collect();
        bail!(
            "the policy has no safeguard `{id}` (safeguards: {})",
            known.join(", ")
        );
    };
    let (role, valid_days) = match &sg.evidence {
        SafeguardEvidence::Attestation { by, valid_days } => (by.as_str(), *valid_days),
        SafeguardEvidence::Metric { suite, metric, .. } => bail!(
            "safeguard `{id}` is proven by a measured metric ({suite}: {metric}), not an attestation; \
             run that evaluation instead"
        ),
    };
    policy_role(&policy, by)?;
    if by != role {
        bail!("safeguard `{id}` must be attested by role `{role}`, not `{by}`");
    }
    let today = Utc::now().date_naive();
    let latest = today
        .checked_add_days(Days::new(u64::from(valid_days)))
        .context("expiry date out of range")?;
    let expires = match expires {
        None => latest,
        Some(s) => {
            let d = NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .with_context(|| format!("--expires `{s}` is not a date in the form YYYY-MM-DD"))?;
            if d > latest {
                bail!(
                    "--expires {d} is beyond what the policy allows: attestations of `{id}` are valid for {valid_days} days, so at most until {latest}"
                );
            }
            if d < today {
                bail!("--expires {d} is in the past");
            }
            d
        }
    };
    let store = open_store(project).await?;
    let log = crate::audit::ProjectLog::open(project, &store)?;
    let bytes = fs_err::read(evidence)?;
    let sha256 = rsp_ledger::sha256(&bytes).to_hex();
    let copy = store_evidence(project, &sha256, &bytes)?;
    let source = evidence
        .canonicalize()
        .unwrap_or_else(|_| evidence.to_path_buf());
    let record = AttestationRecord {
        id: rsp_store::new_id(),
        safeguard: id.to_owned(),
        evidence_sha256: sha256.clone(),
        evidence_path: source.display().to_string(),
        by_role: by.to_owned(),
        created_at: Utc::now(),
        expires,
    };
    store.insert_attestation(&record).await?;
    audit(
        project,
        &log,
        rsp_ledger::LeafKind::Attestation,
        &serde_json::to_value(&record)?,
        crate::audit::meta([
            ("id", record.id.clone().into()),
            ("safeguard", id.into()),
            ("by", by.into()),
        ]),
    )
    .await?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "attested {id} ({standard}) by {by}, valid until {expires}"
    )?;
    writeln!(out, "evidence: sha256 {sha256}")?;
    writeln!(out, "stored:   {}", display(project, &copy))?;
    Ok(Code::Ok)
}

/// The state of one safeguard's evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    /// Measured by an eval; `rsp assess` checks it.
    Metric(String),
    /// No attestation recorded.
    Missing,
    /// Attested, valid, evidence intact.
    InPlace,
    /// Attested, but past its expiry.
    Expired,
    /// The stored copy of the evidence is gone.
    EvidenceMissing,
    /// The stored copy no longer hashes to the recorded digest.
    HashMismatch,
}

impl Status {
    fn label(&self) -> String {
        match self {
            Self::Metric(m) => format!("metric: {m}"),
            Self::Missing => "missing".into(),
            Self::InPlace => "in place".into(),
            Self::Expired => "expired".into(),
            Self::EvidenceMissing => "evidence missing".into(),
            Self::HashMismatch => "hash mismatch".into(),
        }
    }

    /// Stored evidence that fails its check: something changed files behind rsp's back.
    fn is_tampered(&self) -> bool {
        matches!(self, Self::EvidenceMissing | Self::HashMismatch)
    }
}

fn evidence_status(project: &Project, a: &AttestationRecord, today: NaiveDate) -> Status {
    match fs_err::read(evidence_path(project, &a.evidence_sha256)) {
        Err(_) => Status::EvidenceMissing,
        Ok(b) if rsp_ledger::sha256(&b).to_hex() != a.evidence_sha256 => Status::HashMismatch,
        Ok(_) if a.expires < today => Status::Expired,
        Ok(_) => Status::InPlace,
    }
}

fn metric_summary(e: &SafeguardEvidence) -> String {
    match e {
        SafeguardEvidence::Metric {
            suite,
            metric,
            max,
            min,
            ..
        } => {
            let mut s = format!("{suite} {metric}");
            if let Some(m) = max {
                s.push_str(&format!(" ≤ {m}"));
            }
            if let Some(m) = min {
                s.push_str(&format!(" ≥ {m}"));
            }
            s
        }
        SafeguardEvidence::Attestation { by, .. } => format!("attestation by {by}"),
    }
}

async fn list(project: &Project, json: bool) -> Result<Code> {
    let policy = load_policy(project)?;
    let store = open_store(project).await?;
    let today = Utc::now().date_naive();
    let mut rows = Vec::new();
    for (standard, sg) in safeguards(&policy) {
        let latest = store.list_attestations(Some(&sg.id)).await?.pop();
        let status = match (&sg.evidence, &latest) {
            (SafeguardEvidence::Metric { .. }, _) => Status::Metric(metric_summary(&sg.evidence)),
            (SafeguardEvidence::Attestation { .. }, None) => Status::Missing,
            (SafeguardEvidence::Attestation { .. }, Some(a)) => evidence_status(project, a, today),
        };
        rows.push((standard, sg, latest, status));
    }
    let tampered = rows.iter().any(|(_, _, _, s)| s.is_tampered());
    let mut out = std::io::stdout().lock();
    if json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(standard, sg, latest, status)| {
                json!({
                    "id": sg.id,
                    "standard": standard,
                    "kind": sg.kind.to_string(),
                    "evidence": sg.evidence,
                    "status": status.label(),
                    "attestation": latest,
                })
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        writeln!(
            out,
            "{:<24} {:<8} {:<16} {:<18} DETAIL",
            "SAFEGUARD", "STANDARD", "EVIDENCE", "STATUS"
        )?;
        for (standard, sg, latest, status) in &rows {
            let evidence = match &sg.evidence {
                SafeguardEvidence::Attestation { by, .. } => format!("attest: {by}"),
                SafeguardEvidence::Metric { .. } => "metric".to_owned(),
            };
            let detail = match (status, latest) {
                (Status::Metric(m), _) => m.clone(),
                (Status::Missing, _) => "no attestation recorded".to_owned(),
                (_, Some(a)) => format!(
                    "{} by {}, expires {}, sha256 {}…",
                    a.created_at.format("%Y-%m-%d"),
                    a.by_role,
                    a.expires,
                    &a.evidence_sha256[..12]
                ),
                (_, None) => String::new(),
            };
            let label = match status {
                Status::Metric(_) => "checked by assess".to_owned(),
                s => s.label(),
            };
            writeln!(
                out,
                "{:<24} {:<8} {:<16} {:<18} {detail}",
                sg.id, standard, evidence, label
            )?;
        }
    }
    Ok(if tampered { Code::Fail } else { Code::Ok })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn tampered_expired_and_intact_evidence() {
        let tmp = tempfile::tempdir().unwrap();
        let project = Project {
            root: tmp.path().to_path_buf(),
        };
        let bytes = b"model card v1";
        let sha = rsp_ledger::sha256(bytes).to_hex();
        let path = store_evidence(&project, &sha, bytes).unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let mut a = AttestationRecord {
            id: "a1".into(),
            safeguard: "model-card".into(),
            evidence_sha256: sha,
            evidence_path: "card.md".into(),
            by_role: "rso".into(),
            created_at: Utc::now(),
            expires: today,
        };
        assert_eq!(evidence_status(&project, &a, today), Status::InPlace);
        a.expires = today.pred_opt().unwrap();
        assert_eq!(evidence_status(&project, &a, today), Status::Expired);
        std::fs::write(&path, b"model card v2").unwrap();
        assert_eq!(evidence_status(&project, &a, today), Status::HashMismatch);
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            evidence_status(&project, &a, today),
            Status::EvidenceMissing
        );
    }
}
