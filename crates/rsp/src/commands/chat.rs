//! `rsp chat`: one-shot generation, streamed to stdout. A quick smoke test
//! of any model spec, including the embedded default.

use std::io::Write as _;

use anyhow::{Context as _, Result};
use futures::StreamExt as _;
use rsp_model::{
    GenerateConfig, Message, ProviderEnv, ProviderFactory, ProviderOptions, StreamEvent,
};

use crate::cli::ChatArgs;
use crate::exit::Code;

pub fn run(args: ChatArgs) -> Result<Code> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(chat(args))
}

async fn chat(args: ChatArgs) -> Result<Code> {
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
    let mut stream = model.generate_stream(&messages, &config).await?;
    let mut out = std::io::stdout().lock();
    while let Some(event) = stream.next().await {
        match event? {
            StreamEvent::Delta { text, .. } => {
                out.write_all(text.as_bytes())?;
                out.flush()?;
            }
            StreamEvent::Done(g) => {
                writeln!(out)?;
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
