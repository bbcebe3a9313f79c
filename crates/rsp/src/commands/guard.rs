//! `rsp guard serve` (the constitutional proxy) and `rsp guard eval` (measuring it).
//!
//! A guard evaluation is stored as a run of `guard-eval/NAME` with two metrics,
//! `attack_success_rate` (harmful prompts) and `over_refusal_rate` (benign prompts), so a
//! policy's metric safeguard can cite it like any other evidence and `rsp assess` checks
//! its bound against the interval.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use async_trait::async_trait;
use rsp_guard::eval::{
    Guard, GuardEvalConfig, GuardSet, OutputCheck, RefusalJudge, SetKind, Target, evaluate,
};
use rsp_guard::{Classifier, ClassifierConfig};
use rsp_model::{GenerateConfig, Message, ModelApi, ProviderEnv, ProviderFactory, ProviderOptions};

use crate::cli_guard::{GuardCommand, GuardEvalArgs, GuardServeArgs, ModelOpts, StreamModeArg};
use crate::exit::Code;
use crate::settings::Settings;

pub fn run(cmd: GuardCommand, settings: &Settings) -> Result<Code> {
    let rt = super::runtime()?;
    match cmd {
        GuardCommand::Serve(args) => rt.block_on(serve(args, settings)),
        GuardCommand::Eval(args) => rt.block_on(eval(args, settings)),
    }
}

/// One factory for every model of a command: the embedded engine is shared by spec, so a
/// judge and a target that are both `embedded` do not start two engines.
pub(crate) fn factory(base_url: Option<&str>, threads: Option<usize>) -> Result<ProviderFactory> {
    let mut opts = ProviderOptions::new(ProviderEnv::from_process());
    if let Some(url) = base_url {
        opts.openai_base_url = Some(url.to_owned());
        opts.anthropic_base_url = Some(url.to_owned());
    }
    if threads.is_some() {
        opts.embedded.threads = threads;
    }
    Ok(ProviderFactory::new(opts)?)
}

/// The constitutional classifier as the proxy's [`rsp_proxy::Guard`].
#[derive(Debug)]
struct ConstitutionalGuard(Classifier);

#[async_trait]
impl rsp_proxy::Guard for ConstitutionalGuard {
    async fn classify(
        &self,
        messages: &[Message],
        output: Option<&str>,
    ) -> Result<rsp_proxy::GuardVerdict, rsp_proxy::GuardFailure> {
        let verdict = match output {
            None => self.0.classify_input(messages).await,
            Some(o) => self.0.classify_output(messages, o).await,
        }
        // The error chain names the judge and the failure, never the request text.
        .map_err(rsp_proxy::GuardFailure::new)?;
        Ok(rsp_proxy::GuardVerdict {
            block: verdict.block,
            p_block: verdict.p_block,
            classes: verdict.classes,
        })
    }
}

async fn serve(args: GuardServeArgs, settings: &Settings) -> Result<Code> {
    let Some(model) = args.upstream.strip_prefix("openai/") else {
        bail!(
            "--upstream must be an OpenAI-compatible spec `openai/MODEL` (vLLM, llama.cpp server, Ollama and OpenAI all are); got `{}`",
            args.upstream
        );
    };
    let env = ProviderEnv::from_process();
    let base = args
        .upstream_base_url
        .clone()
        .or_else(|| std::env::var("OPENAI_BASE_URL").ok())
        .context(
            "the upstream's address is unknown: pass --upstream-base-url or set OPENAI_BASE_URL",
        )?;
    let constitution = Arc::new(super::constitution::load(&args.constitution, settings)?);
    let judge = factory(args.judge_base_url.as_deref(), args.threads)?.build(&args.judge)?;
    let classifier = Classifier::new(
        judge,
        constitution,
        ClassifierConfig {
            threshold: args.threshold,
            ..ClassifierConfig::default()
        },
    )?;
    let mut config = rsp_proxy::ProxyConfig::new(base.trim_end_matches('/'));
    config.bind = args.bind;
    config.upstream_model = Some(model.to_owned());
    config.upstream_api_key = env.openai_api_key.clone();
    config.guard_timeout = Duration::from_secs_f64(args.classifier_timeout.max(0.001));
    config.check_every_chunks = args.check_every.max(1);
    config.stream_mode = match args.stream_mode {
        StreamModeArg::Buffered => rsp_proxy::StreamMode::Buffered,
        StreamModeArg::Async => rsp_proxy::StreamMode::Async,
    };
    config.overlap_input_check = !args.no_overlap;
    if !config.bind_is_loopback() {
        eprintln!(
            "warning: listening on {} exposes the proxy to the network; it does not authenticate clients",
            config.bind
        );
    }
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let addr = listener.local_addr()?;
    let state = rsp_proxy::ProxyState::new(config, Arc::new(ConstitutionalGuard(classifier)))?;
    println!(
        "guard proxy on http://{addr}/v1 → {base} ({}), judge {}; metrics at http://{addr}/metrics",
        args.upstream, args.judge
    );
    rsp_proxy::serve_on(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(Code::Ok)
}

fn guard_sets(args: &GuardEvalArgs) -> Result<Vec<GuardSet>> {
    let mut sets = Vec::new();
    for (paths, kind) in [
        (&args.harmful, SetKind::Harmful),
        (&args.benign, SetKind::Benign),
    ] {
        for path in paths {
            let mut set = rsp_guard::load_prompts(path, args.column.as_deref())
                .with_context(|| format!("cannot read prompts from {}", path.display()))?;
            if let Some(n) = args.limit {
                set.items.truncate(n);
            }
            sets.push(GuardSet { set, kind });
        }
    }
    if sets.is_empty() {
        bail!("give at least one prompt set with --harmful FILE or --benign FILE");
    }
    Ok(sets)
}

fn gen_config(o: &ModelOpts) -> GenerateConfig {
    GenerateConfig {
        seed: Some(o.seed),
        ..GenerateConfig::greedy(o.max_tokens)
    }
}

async fn eval(args: GuardEvalArgs, settings: &Settings) -> Result<Code> {
    let sets = guard_sets(&args)?;
    let factory = factory(args.model_opts.base_url.as_deref(), args.model_opts.threads)?;
    let model: Arc<dyn ModelApi> = factory.build(&args.model)?;
    let judge_spec = args.refusal_judge.as_deref().unwrap_or(&args.judge);
    let refusal = if judge_spec == "heuristic" {
        RefusalJudge::Heuristic
    } else {
        RefusalJudge::Model(factory.build(judge_spec)?)
    };
    let constitution = match &args.constitution {
        Some(p) => Some((p.clone(), super::constitution::load(p, settings)?)),
        None => None,
    };
    let guard = match &constitution {
        Some((_, c)) => Some(Guard {
            classifier: Classifier::new(
                factory.build(&args.judge)?,
                Arc::new(c.clone()),
                ClassifierConfig {
                    threshold: args.threshold,
                    seed: args.model_opts.seed,
                    ..ClassifierConfig::default()
                },
            )?,
            check_input: true,
            check_output: if args.check_output {
                OutputCheck::Final
            } else {
                OutputCheck::Off
            },
        }),
        None => None,
    };
    let target = Target { model, guard };
    let config = GuardEvalConfig {
        generate: gen_config(&args.model_opts),
        system: None,
        concurrency: args.model_opts.concurrency.max(1),
        confidence: 0.95,
    };
    let total: usize = sets.iter().map(|s| s.set.items.len()).sum();
    let bar = super::cai::progress_bar(total as u64, "guard eval");
    let report = evaluate(&target, &refusal, &sets, &config, &|p| {
        bar.set_position(p.done as u64);
    })
    .await?;
    bar.finish_and_clear();
    let stored = super::guard_run::store(&args, settings, &report, constitution.as_ref()).await?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut v = serde_json::to_value(&report)?;
        if let (Some(m), Some(id)) = (v.as_object_mut(), &stored) {
            m.insert("run".into(), id.clone().into());
        }
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        write!(out, "{}", report.render_text())?;
        match &stored {
            Some(id) => writeln!(
                out,
                "stored as run {id} (guard-eval/{}): cite it in a metric safeguard with suite = \"guard-eval/{}\"",
                args.name, args.name
            )?,
            None => writeln!(out, "not stored: not in an rsp project")?,
        }
    }
    Ok(Code::Ok)
}
