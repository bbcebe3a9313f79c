//! `rsp chat`: one-shot generation, streamed to stdout. A quick smoke test
//! of any model spec, including the embedded default.

use std::io::Write as _;

use anyhow::Result;
use futures::StreamExt as _;
use rsp_model::{
    GenerateConfig, Message, ProviderEnv, ProviderFactory, ProviderOptions, ResponseCache as _,
    StreamEvent,
};

use crate::cli::ChatArgs;
use crate::exit::Code;
use crate::project::Project;
use crate::settings::Settings;
use crate::store_cache::StoreResponseCache;

pub fn run(args: ChatArgs, settings: &Settings) -> Result<Code> {
    let runtime = super::runtime()?;
    runtime.block_on(chat(args, settings))
}

/// Inside a project, answers are cached in its store; outside one, not.
async fn open_cache(settings: &Settings) -> Result<Option<StoreResponseCache>> {
    let Ok(project) = Project::find(settings.project.as_deref()) else {
        return Ok(None);
    };
    let store =
        rsp_store::SqliteStore::open(rsp_store::SqliteStore::default_path(&project.root)).await?;
    Ok(Some(StoreResponseCache(std::sync::Arc::new(store))))
}

async fn chat(args: ChatArgs, settings: &Settings) -> Result<Code> {
    let mut opts = ProviderOptions::new(ProviderEnv::from_process());
    if let Some(url) = &args.base_url {
        opts.openai_base_url = Some(url.clone());
        opts.anthropic_base_url = Some(url.clone());
    }
    if args.threads.is_some() {
        opts.embedded.threads = args.threads;
    }
    let factory = ProviderFactory::new(opts)?;
    let model = factory.build(&args.model)?;
    let mut messages = Vec::new();
    if let Some(system) = &args.system {
        messages.push(Message::system(system.clone()));
    }
    messages.push(Message::user(args.prompt.clone()));
    let config = match args.temperature {
        Some(t) if t > 0.0 => GenerateConfig::sampled(args.max_tokens, t, args.seed),
        _ => GenerateConfig {
            seed: Some(args.seed),
            ..GenerateConfig::greedy(args.max_tokens)
        },
    };
    let cache = if args.no_cache {
        None
    } else {
        open_cache(settings).await?
    };
    let key = rsp_model::cache_key(model.name(), model.endpoint(), &messages, &config);
    let mut out = std::io::stdout().lock();
    let hit = match &cache {
        Some(cache) => cache.get(&key).await?,
        None => None,
    };
    if let Some(hit) = hit {
        writeln!(out, "{}", hit.text())?;
        if args.verbose {
            eprintln!(
                "[{}: answered from the project's response cache]",
                hit.model
            );
        }
        return Ok(Code::Ok);
    }
    let mut stream = model.generate_stream(&messages, &config).await?;
    while let Some(event) = stream.next().await {
        match event? {
            StreamEvent::Delta { text, .. } => {
                out.write_all(text.as_bytes())?;
                out.flush()?;
            }
            StreamEvent::Done(g) => {
                writeln!(out)?;
                if let Some(cache) = &cache {
                    cache.put(&key, &g).await?;
                }
                if args.verbose {
                    let stop = g
                        .choices
                        .first()
                        .map(|c| format!("{:?}", c.stop_reason))
                        .unwrap_or_default();
                    eprintln!(
                        "[{}: {} prompt + {} generated tokens, {:.2} s, stop: {stop}]",
                        g.model,
                        g.usage.input_tokens,
                        g.usage.output_tokens,
                        g.latency.as_secs_f64()
                    );
                }
            }
        }
    }
    Ok(Code::Ok)
}
