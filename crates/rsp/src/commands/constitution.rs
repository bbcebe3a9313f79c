//! `rsp constitution check|init|explain`: the constitution file gets the same
//! diagnostics as the policy (file, line, column, field, all problems at once).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use rsp_guard::constitution::{self, CONSTITUTION_FILE};
use rsp_policy::diag;

use crate::cli_guard::ConstitutionCommand;
use crate::exit::Code;
use crate::project::Project;
use crate::settings::Settings;

pub fn run(cmd: ConstitutionCommand, settings: &Settings) -> Result<Code> {
    match cmd {
        ConstitutionCommand::Check { file, json } => {
            check(&locate(file, settings)?, json, settings)
        }
        ConstitutionCommand::Init { force } => init(settings, force),
        ConstitutionCommand::Explain { file } => {
            let path = locate(file, settings)?;
            let c = load(&path, settings)?;
            print!("{}", constitution::explain(&c));
            Ok(Code::Ok)
        }
    }
}

/// The named file, else the project's `constitution.toml`.
fn locate(file: Option<PathBuf>, settings: &Settings) -> Result<PathBuf> {
    if let Some(f) = file {
        return Ok(f);
    }
    let p = Project::find(settings.project.as_deref())?;
    let path = p.root.join(CONSTITUTION_FILE);
    if !path.exists() {
        bail!(
            "no {CONSTITUTION_FILE} in the project {}; `rsp constitution init` writes the example one",
            p.root.display()
        );
    }
    Ok(path)
}

/// A constitution that must be valid: on errors the diagnostics go to stderr and the
/// command fails, as with the policy.
pub(crate) fn load(path: &Path, settings: &Settings) -> Result<rsp_guard::Constitution> {
    let text = fs_err::read_to_string(path)?;
    let report = constitution::check(&text);
    let file = path.display().to_string();
    match report.constitution {
        Some(c) if report.errors() == 0 => Ok(c),
        _ => {
            eprint!("{}", report.render(&file, &text, settings.style));
            bail!(
                "{file}: invalid constitution: {} error(s); `rsp constitution check` lists them",
                report.errors()
            )
        }
    }
}

fn check(path: &Path, json: bool, settings: &Settings) -> Result<Code> {
    let text = fs_err::read_to_string(path)?;
    let report = constitution::check(&text);
    let file = path.display().to_string();
    let mut out = std::io::stdout().lock();
    let valid = report.errors() == 0 && report.constitution.is_some();
    if json {
        let diags: Vec<serde_json::Value> = report
            .diagnostics
            .iter()
            .map(|d| {
                let (line, column) = d.span.as_ref().map_or((None, None), |s| {
                    let (l, c) = diag::line_col(&text, s.start);
                    (Some(l), Some(c))
                });
                serde_json::json!({
                    "severity": d.severity, "code": d.code, "message": d.message,
                    "line": line, "column": column, "help": d.help,
                })
            })
            .collect();
        let v = serde_json::json!({
            "file": file, "valid": valid, "errors": report.errors(),
            "warnings": report.warnings(), "diagnostics": diags,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        write!(out, "{}", report.render(&file, &text, settings.style))?;
        let (e, w) = (report.errors(), report.warnings());
        if valid {
            let classes = report
                .constitution
                .as_ref()
                .map_or(0, |c| c.restricted.len());
            writeln!(
                out,
                "{file}: valid ({classes} restricted classes, {w} warning(s))"
            )?;
        } else {
            writeln!(out, "{file}: invalid: {e} error(s), {w} warning(s)")?;
        }
    }
    Ok(if valid { Code::Ok } else { Code::Fail })
}

fn init(settings: &Settings, force: bool) -> Result<Code> {
    let p = Project::find(settings.project.as_deref())?;
    let path = p.root.join(CONSTITUTION_FILE);
    if path.exists() && !force {
        bail!("{} exists; pass --force to overwrite it", path.display());
    }
    let tmp = p.root.join(format!(".{CONSTITUTION_FILE}.tmp"));
    fs_err::write(&tmp, constitution::example_constitution())?;
    fs_err::rename(&tmp, &path).with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "wrote {} (the example constitution; edit it, then `rsp constitution check`)",
        path.display()
    );
    Ok(Code::Ok)
}
