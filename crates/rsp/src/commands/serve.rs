//! `rsp serve` (the dashboard and API) and `rsp token new`.
//!
//! The server crate knows the project's audit log and forecasts only through small hooks;
//! this module implements them over the project: "verify now" runs the same verification
//! as `rsp ledger verify`, writes through the API are appended to the log and
//! checkpointed like the CLI's, and model pages get the `rsp forecast` charts.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use async_trait::async_trait;
use rsp_serve::{
    AuditEntry, AuditLog, ForecastChart, Forecasts, Hooks, LedgerVerifier, PolicySource, Role,
    ServeConfig, VerifySummary,
};
use rsp_store::{AssessmentStore as _, ModelStore as _, SqliteStore};

use crate::cli_serve::{ServeArgs, TokenCommand};
use crate::exit::Code;
use crate::project::Project;
use crate::settings::Settings;

struct ProjectHooks {
    project: Project,
    store: SqliteStore,
}

#[async_trait]
impl LedgerVerifier for ProjectHooks {
    async fn verify(&self) -> Result<VerifySummary, String> {
        let key = crate::audit::load_verifier(&self.project).map_err(|e| format!("{e:#}"))?;
        let result = crate::audit::verify(&self.store, &key)
            .await
            .map_err(|e| format!("{e:#}"))?;
        Ok(match result {
            Ok(r) => VerifySummary {
                ok: true,
                leaves: r.tree_size,
                checkpoints: r.checkpoints.len() as u64,
                root: Some(r.root.to_hex()),
                problems: Vec::new(),
            },
            // A log that fails verification is an answer, not an error.
            Err(e) => VerifySummary {
                ok: false,
                leaves: 0,
                checkpoints: 0,
                root: None,
                problems: vec![e.to_string()],
            },
        })
    }
}

#[async_trait]
impl AuditLog for ProjectHooks {
    async fn append(&self, entry: AuditEntry) -> Result<(), String> {
        let go = async {
            let log = crate::audit::ProjectLog::open(&self.project, &self.store)?;
            let bytes = crate::audit::canonical(&entry.artifact)?;
            log.append(entry.kind, &bytes, "application/json", &[], entry.meta)
                .await?;
            log.checkpoint().await?;
            anyhow::Ok(())
        };
        go.await.map_err(|e| format!("{e:#}"))
    }
}

#[async_trait]
impl Forecasts for ProjectHooks {
    async fn charts(&self, model: &str) -> Result<Vec<ForecastChart>, String> {
        let go = async {
            let policy = super::key::load_policy(&self.project)?;
            let models = self.store.list_models().await?;
            let assessments = self.store.list_assessments(None).await?;
            let dir = tempfile::tempdir()?;
            super::forecast_project::forecast_model(
                model,
                &models,
                &assessments,
                &policy,
                Some(dir.path()),
            )?;
            let mut charts = Vec::new();
            let mut files: Vec<_> = fs_err::read_dir(dir.path())?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "svg"))
                .collect();
            files.sort();
            for f in files {
                let title = f
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default()
                    .trim_start_matches("forecast-")
                    .to_owned();
                charts.push(ForecastChart {
                    title,
                    svg: fs_err::read_to_string(&f)?,
                });
            }
            anyhow::Ok(charts)
        };
        go.await.map_err(|e| format!("{e:#}"))
    }
}

pub fn serve(args: &ServeArgs, settings: &Settings) -> Result<Code> {
    let project = Project::find(settings.project.as_deref())?;
    super::runtime()?.block_on(async {
        let store = super::key::open_store(&project).await?;
        let hooks = Arc::new(ProjectHooks {
            project: project.clone(),
            store,
        });
        let mut config = ServeConfig::new(
            SqliteStore::default_path(&project.root),
            PolicySource::File(project.policy_path()),
            Hooks {
                verifier: hooks.clone(),
                audit: hooks.clone(),
                forecasts: Some(hooks),
            },
        );
        config.bind = args.bind;
        if let Some(w) = config.exposure_warning() {
            eprintln!("{w}");
        }
        rsp_serve::serve_with(
            config,
            async {
                let _ = tokio::signal::ctrl_c().await;
            },
            |addr| println!("rsp dashboard on http://{addr}/ (Ctrl-C stops it)"),
        )
        .await
        .context("the dashboard server failed")?;
        Ok(Code::Ok)
    })
}

pub fn token(cmd: &TokenCommand, settings: &Settings) -> Result<Code> {
    let project = Project::find(settings.project.as_deref())?;
    match cmd {
        TokenCommand::New { role } => {
            let role: Role = role.parse().with_context(|| {
                format!("`{role}` is not a role (viewer, evaluator, rso, admin)")
            })?;
            super::store_runtime()?.block_on(async {
                let store = super::key::open_store(&project).await?;
                let t = rsp_serve::create_token(&store, role).await?;
                println!("{}", t.token);
                eprintln!(
                    "token for role {} (shown once; only its SHA-256 is stored). Send it as `Authorization: Bearer TOKEN`.",
                    t.role
                );
                Ok(Code::Ok)
            })
        }
    }
}
