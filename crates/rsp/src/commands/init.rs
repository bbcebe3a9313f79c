//! `rsp init`: create a project.

use std::io::Write as _;

use anyhow::{Context as _, Result, bail};

use super::key::runtime;
use super::model::{register_embedded, sci};
use crate::cli::InitArgs;
use crate::exit::Code;
use crate::project::{POLICY_FILE, STATE_DIR, SUITES_DIR};

pub fn run(args: &InitArgs) -> Result<Code> {
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => std::env::current_dir().context("cannot read the current directory")?,
    };
    let template = rsp_policy::templates::template(&args.template)
        .with_context(|| format!("unknown template `{}`", args.template))?;
    fs_err::create_dir_all(&dir)?;
    let policy = dir.join(POLICY_FILE);
    if policy.exists() && !args.force {
        bail!(
            "{} already exists; pass --force to overwrite it",
            policy.display()
        );
    }
    // Write to a temporary file and rename, so an interrupted init never
    // leaves a half-written policy behind.
    let tmp = dir.join(format!(".{POLICY_FILE}.tmp"));
    fs_err::write(&tmp, template.text)?;
    fs_err::rename(&tmp, &policy)?;
    fs_err::create_dir_all(dir.join(STATE_DIR))?;
    fs_err::write(
        dir.join(STATE_DIR).join(".gitignore"),
        "# rsp state: store, keys, cache and reports\n*\n",
    )?;
    fs_err::create_dir_all(dir.join(SUITES_DIR))?;
    // The audit log starts here: its key, and the first policy version.
    let project = crate::project::Project { root: dir.clone() };
    let log_key = super::store_runtime()?.block_on(crate::audit::record_init(&project))?;
    // The embedded model is registered with its published facts, so triggers and forecasts
    // have its compute from the start.
    let registered = runtime()?.block_on(register_embedded(&project))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "Created rsp project in {}", dir.display())?;
    writeln!(
        out,
        "  {POLICY_FILE}   policy ({}: {})",
        template.name, template.summary
    )?;
    writeln!(out, "  {SUITES_DIR}/     your own eval suites")?;
    writeln!(
        out,
        "  {STATE_DIR}/       store, keys and reports (git-ignored)"
    )?;
    writeln!(out, "  audit log key: {}", log_key.to_vkey())?;
    if let Some(m) = registered {
        writeln!(
            out,
            "  model       {} registered ({}, {} FLOP = 6·N·D)",
            m.name,
            m.spec,
            m.effective_compute_flop.map_or_else(|| "?".to_owned(), sci)
        )?;
    }
    writeln!(out, "Next: rsp policy check && rsp policy explain")?;
    Ok(Code::Ok)
}
