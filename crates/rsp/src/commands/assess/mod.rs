//! `rsp assess`: the main job. Work out whether an assessment is due, plan the
//! evidence the policy needs, reuse valid runs and run the rest, determine
//! every threshold, check safeguards, draft (or find) the decision, write the
//! Capability and Safeguards reports, log everything, and exit with a code CI
//! can gate on.
//!
//! The decisions themselves are made by `rsp_assess` from plain inputs; this
//! module only gathers those inputs from the store, runs evals, and persists.

mod evidence;
mod persist;
mod print;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use chrono::Utc;
use rsp_assess::{
    AssessInputs, CalibrationSettings, DecisionAction, ModelFacts, Plan, PriorAssessment,
    Requirement,
};
use rsp_eval::{Catalog, Models, RunConfig};
use rsp_policy::Policy;
use rsp_store::{AssessmentStore as _, ModelRecord, ModelStore as _, SqliteStore};

use super::eval::{ModelOptions, build_models, execute_task};
use crate::audit::ProjectLog;
use crate::cli::{AssessAction, AssessArgs};
use crate::exit::Code;
use crate::project::{Project, SUITES_DIR};
use crate::settings::Settings;
use crate::store_sink::Launch;

pub fn run(args: AssessArgs, settings: &Settings) -> Result<Code> {
    let result = super::runtime()?.block_on(assess(args, settings));
    if let Err(e) = &result
        && let Some(i) = e.downcast_ref::<super::eval::Interrupted>()
    {
        // Finished samples are committed; re-running `rsp assess` resumes the run.
        eprintln!("{i}; re-run `rsp assess` to resume");
        std::process::exit(i.exit_code);
    }
    result
}

pub fn status(json: bool, settings: &Settings) -> Result<Code> {
    super::runtime()?.block_on(print::status(json, settings))
}

/// The registered model `wanted` names: by name, or by spec when exactly one
/// registered model has that spec.
pub(super) async fn resolve_model(store: &SqliteStore, wanted: &str) -> Result<ModelRecord> {
    if let Some(m) = store.get_model(wanted).await? {
        return Ok(m);
    }
    let by_spec: Vec<ModelRecord> = store
        .list_models()
        .await?
        .into_iter()
        .filter(|m| m.spec == wanted)
        .collect();
    match by_spec.len() {
        1 => Ok(by_spec.into_iter().next().context("one model")?),
        0 => bail!(
            "no registered model is named `{wanted}` or has that spec; register it first: \
             `rsp model add NAME --spec {wanted} --compute FLOP` (see `rsp model list`)"
        ),
        n => bail!("{n} registered models have spec `{wanted}`; name one of them"),
    }
}

pub(super) fn facts(m: &ModelRecord) -> ModelFacts {
    ModelFacts {
        name: m.name.clone(),
        spec: m.spec.clone(),
        effective_compute_flop: m.effective_compute_flop,
        parameters: m.parameters,
        training_tokens: m.training_tokens,
        date: m.date,
        parent: m.parent.clone(),
        post_training_days: None,
    }
}

pub(super) async fn priors(store: &SqliteStore, model: &str) -> Result<Vec<PriorAssessment>> {
    Ok(store
        .list_assessments(Some(model))
        .await?
        .into_iter()
        .map(|a| PriorAssessment {
            id: a.id,
            date: a.created_at.date_naive(),
            compute_flop: a.compute_flop,
            comprehensive: a.comprehensive,
        })
        .collect())
}

/// Everything an assessment reads, gathered afresh (after new runs finish).
struct Gathered {
    inputs: AssessInputs,
    stored: std::collections::HashMap<String, crate::store_sink::StoredRun>,
}

async fn gather(ctx: &Context<'_>, id: &str, decisions: &[DecisionAction]) -> Result<Gathered> {
    let (runs, stored) =
        evidence::gather_runs(&ctx.store, ctx.catalog, ctx.policy, ctx.model).await?;
    Ok(Gathered {
        inputs: AssessInputs {
            id: id.to_owned(),
            policy_sha256: ctx.policy_sha256.clone(),
            model: facts(ctx.model),
            priors: priors(&ctx.store, &ctx.model.name).await?,
            runs,
            attestations: evidence::attestations(&ctx.store, ctx.project).await?,
            decisions: decisions.to_vec(),
            deployment: decisions.contains(&DecisionAction::Deploy),
            now: Utc::now(),
            calibration: ctx.calibration.clone(),
        },
        stored,
    })
}

/// What every step of an assessment shares.
pub(super) struct Context<'a> {
    pub project: &'a Project,
    pub policy: &'a Policy,
    pub policy_sha256: String,
    pub store: Arc<SqliteStore>,
    pub catalog: &'a Catalog,
    pub model: &'a ModelRecord,
    pub calibration: CalibrationSettings,
}

async fn assess(args: AssessArgs, settings: &Settings) -> Result<Code> {
    let project = Project::find(settings.project.as_deref())?;
    let policy = super::key::load_policy(&project)?;
    let policy_text = fs_err::read(project.policy_path())?;
    let store = Arc::new(super::key::open_store(&project).await?);
    let model = resolve_model(&store, &args.model).await?;
    let catalog = Catalog::with_user_dir(project.root.join(SUITES_DIR));
    let decisions = match args.action {
        AssessAction::Deploy => vec![DecisionAction::Deploy],
        AssessAction::Train => vec![DecisionAction::Train {
            to_flop: args.to.context("--action train needs --to FLOP")?,
        }],
    };
    let ctx = Context {
        project: &project,
        policy: &policy,
        policy_sha256: rsp_ledger::sha256(&policy_text).to_hex(),
        store: Arc::clone(&store),
        catalog: &catalog,
        model: &model,
        calibration: CalibrationSettings {
            distance: args.distance,
            simulations: args.simulate.unwrap_or(0),
            seed: args.seed,
        },
    };
    let id = rsp_store::new_id();
    let mut out = std::io::stdout().lock();

    let first = gather(&ctx, &id, &decisions).await?;
    let plan = rsp_assess::plan::plan(&policy, &model.name, &first.inputs.runs, first.inputs.now);
    let trigger = rsp_assess::check_trigger(
        &policy.triggers,
        &first.inputs.model,
        &first.inputs.priors,
        first.inputs.deployment,
        first.inputs.now.date_naive(),
    );
    print::trigger(&mut out, &model.name, &trigger)?;
    if args.plan {
        write!(out, "{plan}")?;
        return Ok(Code::Ok);
    }

    // Pass 1: everything needed whatever the outcome (and the baselines).
    let mut runner = Runner::new(&args, &model);
    let wanted = |r: &Requirement| match r {
        Requirement::Required => true,
        Requirement::Optional => !args.skip_baselines,
        Requirement::IfStandardRequired(_) => false,
    };
    runner.run_missing(&ctx, &plan, wanted, &mut out).await?;
    let mut gathered = gather(&ctx, &id, &decisions).await?;
    let mut assessment = rsp_assess::assess(&policy, &gathered.inputs)?;

    // Pass 2: evidence only a now-required standard needs (a guard evaluation).
    let required = assessment.required.standards.clone();
    let conditional =
        |r: &Requirement| matches!(r, Requirement::IfStandardRequired(_)) && r.is_needed(&required);
    if assessment
        .plan
        .run_requests()
        .iter()
        .any(|r| conditional(&r.requirement))
    {
        runner
            .run_missing(&ctx, &assessment.plan.clone(), conditional, &mut out)
            .await?;
        gathered = gather(&ctx, &id, &decisions).await?;
        assessment = rsp_assess::assess(&policy, &gathered.inputs)?;
    }

    let log = ProjectLog::open(&project, &store)?;
    let saved = persist::save(
        &ctx,
        &log,
        &assessment,
        &gathered.stored,
        &runner.unavailable,
    )
    .await?;
    let dir = args.out.clone().unwrap_or_else(|| {
        project
            .root
            .join("reports")
            .join(&model.name)
            .join(&assessment.id)
    });
    let forecasts = persist::forecast_notes(&ctx, &dir).await;
    let written = persist::write_reports(&ctx, &assessment, &saved, forecasts, &dir).await?;
    log.checkpoint().await?;

    print::assessment(&mut out, &assessment, &saved, &runner.unavailable)?;
    for path in &written {
        writeln!(out, "  report: {}", path.display())?;
    }
    let decision = assessment
        .decisions
        .first()
        .context("the assessment made no decision")?;
    let code = rsp_assess::exit_code(decision, &saved.signed_roles);
    Ok(match code {
        0 => Code::Ok,
        3 => Code::Blocked,
        _ => Code::Awaiting,
    })
}

/// Starts the runs a plan asks for, building the model only if something runs.
struct Runner<'a> {
    args: &'a AssessArgs,
    registered: &'a ModelRecord,
    models: Option<Models>,
    /// `selector [elicitation]` → why it could not run (no sandbox, no dev split…).
    unavailable: Vec<(String, String)>,
    attempted: BTreeSet<String>,
}

impl<'a> Runner<'a> {
    fn new(args: &'a AssessArgs, registered: &'a ModelRecord) -> Self {
        Self {
            args,
            registered,
            models: None,
            unavailable: Vec::new(),
            attempted: BTreeSet::new(),
        }
    }

    fn launch(&self) -> Launch {
        Launch {
            model: self.registered.spec.clone(),
            judge: self.args.judge.clone(),
        }
    }

    fn models(&mut self) -> Result<&Models> {
        if self.models.is_none() {
            let options = ModelOptions {
                base_url: self
                    .args
                    .base_url
                    .as_deref()
                    .or(self.registered.base_url.as_deref()),
                threads: self.args.threads,
                max_concurrency: self.args.max_concurrency,
            };
            self.models = Some(build_models(&self.launch(), options)?);
        }
        self.models.as_ref().context("models were just built")
    }

    async fn run_missing(
        &mut self,
        ctx: &Context<'_>,
        plan: &Plan,
        wanted: impl Fn(&Requirement) -> bool,
        out: &mut impl std::io::Write,
    ) -> Result<()> {
        let config = RunConfig {
            seed: self.args.seed,
            limit: self.args.limit,
            epochs: None,
            max_concurrency: self.args.max_concurrency,
            retry_errors: self.args.retry_errors,
            allow_unsafe_local_tools: self.args.unsafe_local_tools,
        };
        for req in plan.run_requests() {
            if !wanted(&req.requirement) {
                continue;
            }
            let label = format!("{} [{}]", req.selector, elicitation_label(&req.elicitation));
            if !self.attempted.insert(label.clone()) {
                continue;
            }
            let tasks = match ctx.catalog.load(&req.selector) {
                Ok(t) => t,
                Err(e) => {
                    self.unavailable.push((label, e.to_string()));
                    continue;
                }
            };
            for task in tasks {
                let task = match task.elicited(&req.elicitation) {
                    Ok(t) => t,
                    Err(e) => {
                        self.unavailable.push((
                            format!("{} [{}]", task.id, elicitation_label(&req.elicitation)),
                            e.to_string(),
                        ));
                        continue;
                    }
                };
                writeln!(
                    out,
                    "running {} [{}]",
                    task.id,
                    elicitation_label(&req.elicitation)
                )?;
                let launch = self.launch();
                let models = self.models()?;
                let (run_id, outcome) =
                    execute_task(&task, models, &config, &ctx.store, &launch, true).await?;
                for m in &outcome.summary.metrics {
                    writeln!(out, "  {m}")?;
                }
                writeln!(out, "  run {run_id}")?;
            }
        }
        Ok(())
    }
}

pub(super) fn elicitation_label(e: &rsp_policy::Elicitation) -> String {
    e.summary()
}
