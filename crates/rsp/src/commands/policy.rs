//! `rsp policy check|explain|diff|schema|templates`.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use rsp_policy::diag::{self, Style};
use rsp_policy::explain::Format;
use rsp_policy::{Catalog, CheckReport, Policy, Severity};

use crate::cli::{CheckFormat, DiffFormat, ExplainFormat, PolicyCommand};
use crate::exit::Code;
use crate::project::Project;
use crate::settings::Settings;

/// Suites compiled into rsp. Policies may name these without declaring them.
pub const BUILTIN_SUITES: &[&str] = &[
    "knowledge-proxy",
    "cyber-proxy",
    "refusal-calibration",
    "autonomy-proxy",
    "guard-eval",
];

pub fn run(cmd: PolicyCommand, settings: &Settings) -> Result<Code> {
    match cmd {
        PolicyCommand::Check { file, format } => check(file, format, settings),
        PolicyCommand::Explain {
            file,
            format,
            output,
        } => explain(file, format, output, settings),
        PolicyCommand::Diff { old, new, format } => diff(&old, &new, format, settings),
        PolicyCommand::Schema => {
            writeln!(
                std::io::stdout().lock(),
                "{}",
                rsp_policy::schema::json_schema()
            )?;
            Ok(Code::Ok)
        }
        PolicyCommand::Templates => {
            let mut out = std::io::stdout().lock();
            for t in rsp_policy::templates::TEMPLATES {
                writeln!(out, "{:<20} {}", t.name, t.summary)?;
            }
            Ok(Code::Ok)
        }
    }
}

/// A policy file read and checked, with the context needed to print it.
struct Loaded {
    path: PathBuf,
    text: String,
    report: CheckReport,
}

/// Resolve the file (explicit or the project's), and the suite catalog.
fn locate(file: Option<PathBuf>, settings: &Settings) -> Result<(PathBuf, Catalog)> {
    let mut suites: Vec<String> = BUILTIN_SUITES.iter().map(|s| (*s).to_owned()).collect();
    let path = match file {
        Some(f) => {
            // A project around the file (or the cwd) contributes its suites.
            let dir = f
                .parent()
                .map(Path::to_path_buf)
                .filter(|p| !p.as_os_str().is_empty());
            if let Ok(p) = Project::find(dir.as_deref().or(settings.project.as_deref())) {
                suites.extend(p.suite_ids());
            }
            f
        }
        None => {
            let p = Project::find(settings.project.as_deref())?;
            suites.extend(p.suite_ids());
            p.policy_path()
        }
    };
    Ok((path, Catalog::new(suites)))
}

fn load(path: &Path, catalog: &Catalog) -> Result<Loaded> {
    let bytes = fs_err::read(path)?;
    let report = rsp_policy::check(&bytes, catalog);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Ok(Loaded {
        path: path.to_path_buf(),
        text,
        report,
    })
}

fn render(l: &Loaded, style: Style) -> String {
    diag::render(
        &l.report.diagnostics,
        &l.path.display().to_string(),
        &l.text,
        style,
    )
}

fn summary(l: &Loaded) -> String {
    let (e, w) = (l.report.errors(), l.report.warnings());
    let plural = |n: usize, s: &str| format!("{n} {s}{}", if n == 1 { "" } else { "s" });
    if l.report.is_valid() {
        if w == 0 {
            format!("{}: valid", l.path.display())
        } else {
            format!("{}: valid, with {}", l.path.display(), plural(w, "warning"))
        }
    } else {
        format!(
            "{}: invalid: {}, {}",
            l.path.display(),
            plural(e, "error"),
            plural(w, "warning")
        )
    }
}

fn check(file: Option<PathBuf>, format: CheckFormat, settings: &Settings) -> Result<Code> {
    let (path, catalog) = locate(file, settings)?;
    let l = load(&path, &catalog)?;
    let mut out = std::io::stdout().lock();
    match format {
        CheckFormat::Text => {
            write!(out, "{}", render(&l, settings.style))?;
            writeln!(out, "{}", summary(&l))?;
        }
        CheckFormat::Json => {
            let diags: Vec<serde_json::Value> = l
                .report
                .diagnostics
                .iter()
                .map(|d| {
                    let (line, column) = d.span.as_ref().map_or((None, None), |s| {
                        let (l2, c) = diag::line_col(&l.text, s.start);
                        (Some(l2), Some(c))
                    });
                    serde_json::json!({
                        "severity": d.severity, "code": d.code, "message": d.message,
                        "line": line, "column": column, "help": d.help,
                    })
                })
                .collect();
            let v = serde_json::json!({
                "file": l.path.display().to_string(),
                "valid": l.report.is_valid(),
                "errors": l.report.errors(),
                "warnings": l.report.warnings(),
                "diagnostics": diags,
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
    }
    Ok(if l.report.is_valid() {
        Code::Ok
    } else {
        Code::Fail
    })
}

/// Load a policy that must be valid; print its diagnostics to stderr when
/// it is not.
fn load_valid(path: &Path, catalog: &Catalog, settings: &Settings) -> Result<Option<Policy>> {
    let l = load(path, catalog)?;
    let warnings_only = l
        .report
        .diagnostics
        .iter()
        .all(|d| d.severity == Severity::Warning);
    if !warnings_only || !l.report.is_valid() {
        eprint!("{}", render(&l, settings.style));
        eprintln!("{}", summary(&l));
        return Ok(None);
    }
    Ok(l.report.policy)
}

fn explain(
    file: Option<PathBuf>,
    format: ExplainFormat,
    output: Option<PathBuf>,
    settings: &Settings,
) -> Result<Code> {
    let (path, catalog) = locate(file, settings)?;
    let Some(policy) = load_valid(&path, &catalog, settings)? else {
        return Ok(Code::Fail);
    };
    let fmt = match format {
        ExplainFormat::Md => Format::Markdown,
        ExplainFormat::Html => Format::Html,
    };
    let text = rsp_policy::explain::explain(&policy, fmt);
    match output {
        Some(o) => {
            fs_err::write(&o, text).with_context(|| format!("cannot write {}", o.display()))?;
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(Code::Ok)
}

fn diff(old: &Path, new: &Path, format: DiffFormat, settings: &Settings) -> Result<Code> {
    let (_, catalog) = locate(Some(new.to_path_buf()), settings)?;
    let a = load_valid(old, &catalog, settings)?;
    let b = load_valid(new, &catalog, settings)?;
    let (Some(a), Some(b)) = (a, b) else {
        return Ok(Code::Usage);
    };
    let d = rsp_policy::diff::diff(&a, &b);
    let mut out = std::io::stdout().lock();
    match format {
        DiffFormat::Text => write!(out, "{}", d.to_text())?,
        DiffFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&d)?)?,
    }
    Ok(if d.weakens() { Code::Fail } else { Code::Ok })
}
