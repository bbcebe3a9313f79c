//! `rsp ledger`: dispatch, plus `verify-proof` and `verify --bundle`, the parts
//! of the audit ledger an auditor runs with no project at all (the project-log
//! commands are in `ledger_log`).

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result};
use rsp_ledger::{BundleError, ProofJsonError, ProofKind, VerifierKey};

use super::ledger_log;
use crate::cli::LedgerCommand;
use crate::exit::Code;
use crate::settings::Settings;

pub fn run(cmd: LedgerCommand, settings: &Settings) -> Result<Code> {
    let runtime = super::runtime;
    match cmd {
        LedgerCommand::VerifyProof { file } => verify_proof(&file),
        LedgerCommand::Verify {
            bundle: Some(bundle),
            log_key,
        } => verify_bundle(&bundle, log_key.as_deref()),
        LedgerCommand::Verify {
            bundle: None,
            log_key,
        } => {
            let pinned = log_key.as_deref().map(read_vkey).transpose()?;
            runtime()?.block_on(ledger_log::verify(settings, pinned))
        }
        LedgerCommand::Checkpoint { sign } => {
            runtime()?.block_on(ledger_log::checkpoint(settings, sign))
        }
        LedgerCommand::Prove {
            artifact,
            consistency,
        } => runtime()?.block_on(ledger_log::prove(
            settings,
            artifact.as_deref(),
            consistency,
        )),
        LedgerCommand::Log { json, last } => {
            runtime()?.block_on(ledger_log::list(settings, json, last))
        }
        LedgerCommand::Export { out } => runtime()?.block_on(ledger_log::export(settings, &out)),
        LedgerCommand::Cosign { key } => runtime()?.block_on(ledger_log::cosign(settings, &key)),
        LedgerCommand::WitnessKey { name, out } => ledger_log::witness_key(&name, &out),
        LedgerCommand::InitKey => ledger_log::init_key(settings),
    }
}

fn read_vkey(p: &Path) -> Result<VerifierKey> {
    let text = fs_err::read_to_string(p)?;
    VerifierKey::from_vkey(text.trim())
        .with_context(|| format!("{} is not a log verifier key", p.display()))
}

fn verify_proof(file: &Path) -> Result<Code> {
    let text = fs_err::read_to_string(file)?;
    let mut out = std::io::stdout().lock();
    match rsp_ledger::verify_proof_json(&text) {
        Ok(ProofKind::Inclusion {
            leaf_index,
            tree_size,
        }) => {
            writeln!(
                out,
                "valid inclusion proof: leaf {leaf_index} is in the tree of size {tree_size}"
            )?;
            Ok(Code::Ok)
        }
        Ok(ProofKind::Consistency { size1, size2 }) => {
            writeln!(
                out,
                "valid consistency proof: the tree of size {size2} extends the tree of size {size1}"
            )?;
            Ok(Code::Ok)
        }
        Err(ProofJsonError::Rejected(e)) => {
            writeln!(out, "INVALID proof in {}: {e}", file.display())?;
            Ok(Code::Fail)
        }
        Err(e) => {
            Err(anyhow::Error::new(e)
                .context(format!("cannot read the proof in {}", file.display())))
        }
    }
}

fn verify_bundle(bundle: &Path, log_key: Option<&Path>) -> Result<Code> {
    let pinned = log_key.map(read_vkey).transpose()?;
    let file = fs_err::File::open(bundle)?;
    let mut out = std::io::stdout().lock();
    match rsp_ledger::verify_bundle(std::io::BufReader::new(file), pinned.as_ref()) {
        Ok(r) => {
            writeln!(out, "bundle {} verifies", bundle.display())?;
            writeln!(out, "  log key:     {}", r.log_key.to_vkey())?;
            if pinned.is_none() {
                writeln!(
                    out,
                    "  (the key was taken from the bundle: compare it with the published key, or pass --log-key)"
                )?;
            }
            writeln!(
                out,
                "  leaves:      {} (all covered by a signed checkpoint)",
                r.log.tree_size
            )?;
            writeln!(out, "  root:        {}", r.log.root.to_hex())?;
            writeln!(out, "  checkpoints: {}", r.log.checkpoints.len())?;
            writeln!(out, "  artifacts:   {} checked", r.log.artifacts_checked)?;
            if !r.cosignatures.is_empty() {
                writeln!(out, "  witness cosignatures: {}", r.cosignatures.len())?;
            }
            Ok(Code::Ok)
        }
        Err(BundleError::Io(e)) => {
            Err(anyhow::Error::new(e).context(format!("cannot read {}", bundle.display())))
        }
        Err(e) => {
            writeln!(
                out,
                "bundle {} does NOT verify: {}",
                bundle.display(),
                error_chain(&e)
            )?;
            Ok(Code::Fail)
        }
    }
}

pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
