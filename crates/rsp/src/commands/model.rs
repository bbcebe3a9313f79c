//! `rsp model add|list|show`: the models registry.
//!
//! A registered model carries the facts triggers and forecasts need: effective training
//! compute (FLOP), parameters N, training tokens D, a date and its parent checkpoint. When
//! only N and D are known, compute is estimated as C ≈ 6·N·D (the standard dense-transformer
//! training cost: 2 FLOP per parameter per token forward, 4 backward), and the command says
//! so rather than storing an estimate silently.

use std::io::Write as _;

use anyhow::{Context as _, Result, bail};
use chrono::NaiveDate;
use rsp_store::{ModelRecord, ModelStore as _};

use super::key::{open_store, runtime};
use crate::cli::{ModelAddArgs, ModelCommand};
use crate::exit::Code;
use crate::project::Project;
use crate::settings::Settings;

/// The model `rsp init` registers: the embedded SmolLM2-135M-Instruct.
pub(super) const EMBEDDED_NAME: &str = "smollm2-135m";
/// Its parameter count (model card: 135M).
const EMBEDDED_PARAMS: f64 = 135e6;
/// Its pre-training tokens (model card: "trained on 2 trillion tokens").
const EMBEDDED_TOKENS: f64 = 2e12;
/// Public release of SmolLM2 (135M, 360M, 1.7B) by Hugging Face.
const EMBEDDED_DATE: &str = "2024-11-01";
const EMBEDDED_NOTES: &str = "SmolLM2-135M-Instruct (Q4_1 GGUF), Hugging Face, Apache-2.0. \
     135M parameters and 2T training tokens from the model card \
     (huggingface.co/HuggingFaceTB/SmolLM2-135M); compute = 6·N·D. \
     Released 2024-11-01 (SmolLM2 announcement; paper arXiv:2502.02737).";

pub fn run(cmd: ModelCommand, settings: &Settings) -> Result<Code> {
    let project = Project::find(settings.project.as_deref())?;
    let rt = runtime()?;
    match cmd {
        ModelCommand::Add(args) => rt.block_on(add(&project, &args)),
        ModelCommand::List { json } => rt.block_on(list(&project, json)),
        ModelCommand::Show { name, json } => rt.block_on(show(&project, &name, json)),
    }
}

/// The record `rsp init` stores for the embedded model.
pub(super) fn embedded_record() -> Result<ModelRecord> {
    Ok(ModelRecord {
        name: EMBEDDED_NAME.to_owned(),
        spec: "embedded".to_owned(),
        base_url: None,
        effective_compute_flop: Some(six_n_d(EMBEDDED_PARAMS, EMBEDDED_TOKENS)),
        parameters: Some(EMBEDDED_PARAMS),
        training_tokens: Some(EMBEDDED_TOKENS),
        date: Some(parse_date(EMBEDDED_DATE)?),
        parent: None,
        notes: Some(EMBEDDED_NOTES.to_owned()),
        created_at: chrono::Utc::now(),
    })
}

/// Registers the embedded model unless a model of that name already exists (a re-run of
/// `rsp init --force` keeps what the user recorded).
pub(super) async fn register_embedded(project: &Project) -> Result<Option<ModelRecord>> {
    let store = open_store(project).await?;
    if store.get_model(EMBEDDED_NAME).await?.is_some() {
        return Ok(None);
    }
    let record = embedded_record()?;
    store.upsert_model(&record).await?;
    log_registration(project, &store, &record).await?;
    Ok(Some(record))
}

/// Appends the registration to the project log and signs a checkpoint.
async fn log_registration(
    project: &Project,
    store: &rsp_store::SqliteStore,
    record: &ModelRecord,
) -> Result<()> {
    let log = crate::audit::ProjectLog::open(project, store)?;
    crate::audit::log_model(&log, record).await?;
    log.checkpoint().await?;
    Ok(())
}

/// Training compute estimate C = 6·N·D.
fn six_n_d(params: f64, tokens: f64) -> f64 {
    6.0 * params * tokens
}

fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("`{s}` is not a date in the form YYYY-MM-DD"))
}

/// A positive count: a plain or scientific number, optionally with an SI suffix
/// (`135M`, `2T`, `1.5B`).
fn parse_amount(what: &str, s: &str) -> Result<f64> {
    let t = s.trim();
    let (num, scale) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1e3),
        Some('M') => (&t[..t.len() - 1], 1e6),
        Some('B' | 'G') => (&t[..t.len() - 1], 1e9),
        Some('T') => (&t[..t.len() - 1], 1e12),
        _ => (t, 1.0),
    };
    let v: f64 = num
        .parse()
        .ok()
        .map(|v: f64| v * scale)
        .filter(|v| v.is_finite() && *v > 0.0)
        .with_context(|| {
            format!("{what} must be a positive number (like 1.6e21 or 135M), not `{s}`")
        })?;
    Ok(v)
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        bail!(
            "model name `{name}` must start with a lowercase letter or digit and use only lowercase letters, digits, `-`, `_` and `.`"
        )
    }
}

async fn add(project: &Project, a: &ModelAddArgs) -> Result<Code> {
    check_name(&a.name)?;
    rsp_model::ModelSpec::parse(&a.spec)
        .with_context(|| format!("`{}` is not a model spec", a.spec))?;
    let params = a
        .params
        .as_deref()
        .map(|s| parse_amount("--params", s))
        .transpose()?;
    let tokens = a
        .tokens
        .as_deref()
        .map(|s| parse_amount("--tokens", s))
        .transpose()?;
    let given = a
        .compute
        .as_deref()
        .map(|s| parse_amount("--compute", s))
        .transpose()?;
    let date = a.date.as_deref().map(parse_date).transpose()?;
    let store = open_store(project).await?;
    if let Some(parent) = &a.parent {
        if parent == &a.name {
            bail!("a model cannot be its own parent");
        }
        if store.get_model(parent).await?.is_none() {
            bail!("parent model `{parent}` is not registered; add it first with `rsp model add`");
        }
    }
    let mut out = std::io::stdout().lock();
    let compute = match (given, params, tokens) {
        (Some(c), _, _) => Some(c),
        (None, Some(n), Some(d)) => {
            let c = six_n_d(n, d);
            writeln!(
                out,
                "compute: {} FLOP, estimated as 6·N·D from --params and --tokens",
                sci(c)
            )?;
            Some(c)
        }
        _ => None,
    };
    let existing = store.get_model(&a.name).await?;
    let record = ModelRecord {
        name: a.name.clone(),
        spec: a.spec.clone(),
        base_url: a.base_url.clone(),
        effective_compute_flop: compute,
        parameters: params,
        training_tokens: tokens,
        date,
        parent: a.parent.clone(),
        notes: a.notes.clone(),
        created_at: chrono::Utc::now(),
    };
    store.upsert_model(&record).await?;
    log_registration(project, &store, &record).await?;
    writeln!(
        out,
        "{} model {} ({})",
        if existing.is_some() {
            "updated"
        } else {
            "registered"
        },
        record.name,
        record.spec
    )?;
    Ok(Code::Ok)
}

/// `1.62e21`: three significant digits, the way compute is usually quoted.
pub(super) fn sci(v: f64) -> String {
    let s = format!("{v:.2e}");
    // 1.60e21 → 1.6e21, 2.00e12 → 2e12
    match s.split_once('e') {
        Some((m, e)) => {
            let m = m.trim_end_matches('0').trim_end_matches('.');
            format!("{m}e{e}")
        }
        None => s,
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), sci)
}

/// A count with an SI suffix, the way parameters and tokens are quoted: `135M`, `2T`.
fn si(v: f64) -> String {
    let (scale, suffix) = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")]
        .into_iter()
        .find(|(s, _)| v >= *s)
        .unwrap_or((1.0, ""));
    let m = format!("{:.2}", v / scale);
    let m = m.trim_end_matches('0').trim_end_matches('.');
    format!("{m}{suffix}")
}

fn opt_si(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), si)
}

async fn list(project: &Project, json: bool) -> Result<Code> {
    let store = open_store(project).await?;
    let models = store.list_models().await?;
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&models)?)?;
        return Ok(Code::Ok);
    }
    if models.is_empty() {
        writeln!(
            out,
            "no models registered; add one with `rsp model add NAME --spec SPEC`"
        )?;
        return Ok(Code::Ok);
    }
    writeln!(
        out,
        "{:<16} {:<20} {:>10} {:>8} {:>8} {:<10} PARENT",
        "NAME", "SPEC", "FLOP", "PARAMS", "TOKENS", "DATE"
    )?;
    for m in &models {
        writeln!(
            out,
            "{:<16} {:<20} {:>10} {:>8} {:>8} {:<10} {}",
            m.name,
            m.spec,
            opt(m.effective_compute_flop),
            opt_si(m.parameters),
            opt_si(m.training_tokens),
            m.date.map_or_else(|| "-".to_owned(), |d| d.to_string()),
            m.parent.as_deref().unwrap_or("-")
        )?;
    }
    Ok(Code::Ok)
}

async fn show(project: &Project, name: &str, json: bool) -> Result<Code> {
    let store = open_store(project).await?;
    let Some(m) = store.get_model(name).await? else {
        let known: Vec<String> = store
            .list_models()
            .await?
            .into_iter()
            .map(|m| m.name)
            .collect();
        bail!(
            "no model named `{name}` (registered: {})",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        );
    };
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&m)?)?;
        return Ok(Code::Ok);
    }
    let derived = match (m.effective_compute_flop, m.parameters, m.training_tokens) {
        (Some(c), Some(n), Some(d)) if (c - six_n_d(n, d)).abs() <= 1e-9 * c => " (= 6·N·D)",
        _ => "",
    };
    writeln!(out, "name:       {}", m.name)?;
    writeln!(out, "spec:       {}", m.spec)?;
    if let Some(u) = &m.base_url {
        writeln!(out, "base url:   {u}")?;
    }
    writeln!(
        out,
        "compute:    {} FLOP{derived}",
        opt(m.effective_compute_flop)
    )?;
    writeln!(out, "parameters: {}", opt_si(m.parameters))?;
    writeln!(out, "tokens:     {}", opt_si(m.training_tokens))?;
    writeln!(
        out,
        "date:       {}",
        m.date.map_or_else(|| "-".to_owned(), |d| d.to_string())
    )?;
    writeln!(out, "parent:     {}", m.parent.as_deref().unwrap_or("-"))?;
    if let Some(n) = &m.notes {
        writeln!(out, "notes:      {n}")?;
    }
    Ok(Code::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_dates_and_the_embedded_facts() {
        assert_eq!(parse_amount("x", "135M").ok(), Some(135e6));
        assert_eq!(parse_amount("x", "2T").ok(), Some(2e12));
        assert_eq!(parse_amount("x", "1.6e21").ok(), Some(1.6e21));
        assert!(parse_amount("x", "-3").is_err());
        assert!(parse_amount("x", "lots").is_err());
        assert!(parse_date("2024-13-01").is_err());
        assert_eq!(sci(1.62e21), "1.62e21");
        assert_eq!(sci(2e12), "2e12");
        assert_eq!(sci(1.6e21), "1.6e21");
        assert_eq!(si(135e6), "135M");
        assert_eq!(si(1.5e9), "1.5B");
        assert_eq!(si(2e12), "2T");
        assert_eq!(si(12.0), "12");
        let e = embedded_record().ok();
        let c = e.and_then(|r| r.effective_compute_flop);
        assert_eq!(c.map(sci).as_deref(), Some("1.62e21"));
        assert!(check_name("smollm2-135m").is_ok());
        assert!(check_name("Big Model").is_err());
        assert!(check_name("-x").is_err());
    }
}
