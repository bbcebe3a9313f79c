//! End-to-end benchmarks of the embedded engine on the default GGUF (run with
//! `cargo bench -p rsp-model --bench embedded`; `benches/model/run.sh` also runs llama.cpp's
//! own `llama-bench` in the same session for the reference numbers).
//!
//! - **B1** prompt and generation tokens/s: a 208-token chat prompt, then 128 greedy tokens,
//!   timed through the streaming API (prompt rate = prompt tokens / time to first token;
//!   generation rate = further tokens / remaining time).
//! - **B2** multiple-choice scoring, 4 choices per question: questions/s with one score call
//!   per question (context evaluated once, KV cache reused) vs one call per choice.
//! - **B3** aggregate generated tokens/s with 8 concurrent generations vs one at a time.
//! - **B4** an eval-shaped workload: 60 distinct multiple-choice prompts (~80 tokens) that
//!   share a system message, each answered greedily up to a newline (as
//!   `knowledge-proxy/mc`); prompts/s without and with the prompt-prefix cache, one at a
//!   time and 8 concurrent.
//!
//! B1–B3 run on an engine with the prefix cache off, so that repeating a prompt measures
//! evaluating it rather than finding it cached (and so they compare with earlier runs);
//! B4 uses a second engine for the cache-on rows.
//!
//! Settings come from the environment: `RSP_BENCH_THREADS` (default 2), `RSP_BENCH_REPS`
//! (default 5), `RSP_BENCH_ONLY` (e.g. `b1,b3`; default all four), `RSP_BENCH_CTX` (KV
//! cache size, default 8192). Medians are reported; the last line is a machine-readable `RESULT {json}`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use rsp_model::{
    EmbeddedOptions, GenerateConfig, Message, ModelApi, ProviderEnv, ProviderFactory,
    ProviderOptions, ScoreRequest, StreamEvent,
};

fn env_usize(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "?".into(),
        |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

const FILLER: &str = "The old harbour town kept careful records of every ship, every storm and every market day, \
and the archivists wrote long notes about the merchants, the weather, the bridges and the bells.";

/// A user message whose chat prompt is exactly `target` tokens (or the closest above).
async fn calibrated_prompt(model: &dyn ModelApi, target: u64) -> (Vec<Message>, u64) {
    let words: Vec<&str> = FILLER.split(' ').collect();
    let build = |n: usize| {
        let filler: Vec<&str> = (0..n).map(|i| words[i % words.len()]).collect();
        vec![Message::user(format!(
            "Here are some notes: {} Now write a very long and detailed story about this town, \
             with many chapters.",
            filler.join(" ")
        ))]
    };
    let count = |m: Vec<Message>| async move {
        let g = model
            .generate(&m, &GenerateConfig::greedy(1))
            .await
            .expect("count tokens");
        g.usage.input_tokens
    };
    let mut n = 100;
    loop {
        let t = count(build(n)).await;
        if t >= target {
            break;
        }
        n += ((target - t) as usize).max(1);
    }
    while n > 0 && count(build(n - 1)).await >= target {
        n -= 1;
    }
    let tokens = count(build(n)).await;
    (build(n), tokens)
}

struct B1 {
    prompt_tps: f64,
    gen_tps: f64,
    prompt_tokens: u64,
    gen_tokens: u64,
}

async fn b1(model: &dyn ModelApi, reps: usize) -> B1 {
    let (messages, prompt_tokens) = calibrated_prompt(model, 208).await;
    let config = GenerateConfig::greedy(128);
    let mut pp = Vec::new();
    let mut tg = Vec::new();
    let mut gen_tokens = 0;
    for rep in 0..=reps {
        let start = Instant::now();
        let mut stream = model
            .generate_stream(&messages, &config)
            .await
            .expect("stream");
        let mut first = None;
        let mut done = None;
        while let Some(event) = stream.next().await {
            match event.expect("event") {
                StreamEvent::Delta { .. } => {
                    first.get_or_insert_with(Instant::now);
                }
                StreamEvent::Done(g) => done = Some(g),
            }
        }
        let end = Instant::now();
        let g = done.expect("done");
        let first = first.unwrap_or(end);
        gen_tokens = g.usage.output_tokens;
        if rep == 0 {
            continue; // warm-up
        }
        pp.push(prompt_tokens as f64 / (first - start).as_secs_f64());
        tg.push((gen_tokens.saturating_sub(1)) as f64 / (end - first).as_secs_f64());
    }
    B1 {
        prompt_tps: median(pp),
        gen_tps: median(tg),
        prompt_tokens,
        gen_tokens,
    }
}

/// 4-choice questions in the lm-eval style: "Question: …\nAnswer:" + " choice".
fn questions() -> Vec<ScoreRequest> {
    let items: [(&str, [&str; 4]); 12] = [
        (
            "Which gas do plants take in from the air to make their food?",
            ["carbon dioxide", "oxygen", "nitrogen", "helium"],
        ),
        (
            "What is the boiling point of pure water at sea level?",
            [
                "100 degrees Celsius",
                "50 degrees Celsius",
                "0 degrees Celsius",
                "212 degrees Celsius",
            ],
        ),
        (
            "Which planet is known as the red planet?",
            ["Mars", "Venus", "Jupiter", "Saturn"],
        ),
        (
            "What force keeps the planets in orbit around the sun?",
            ["gravity", "magnetism", "friction", "electricity"],
        ),
        (
            "Which organ pumps blood through the human body?",
            ["the heart", "the lungs", "the liver", "the kidneys"],
        ),
        (
            "What is the main source of energy for the Earth's climate?",
            ["the sun", "the moon", "volcanoes", "the ocean floor"],
        ),
        (
            "Which state of matter has a fixed shape and volume?",
            ["solid", "liquid", "gas", "plasma"],
        ),
        (
            "What do we call an animal that eats only plants?",
            ["a herbivore", "a carnivore", "an omnivore", "a predator"],
        ),
        (
            "Which part of the cell contains the genetic material?",
            ["the nucleus", "the membrane", "the cytoplasm", "the wall"],
        ),
        (
            "What kind of energy is stored in a stretched spring?",
            [
                "elastic potential energy",
                "thermal energy",
                "sound energy",
                "light energy",
            ],
        ),
        (
            "Which instrument measures air pressure?",
            ["a barometer", "a thermometer", "a ruler", "a compass"],
        ),
        (
            "What is formed when water vapour cools and condenses in the sky?",
            ["clouds", "rocks", "sand", "ice caps"],
        ),
    ];
    let preamble = "The following are multiple choice questions about general science. \
Read each question carefully and choose the best answer.\n\n";
    items
        .iter()
        .map(|(q, choices)| {
            ScoreRequest::new(
                format!("{preamble}Question: {q}\nAnswer:"),
                choices.iter().map(|c| format!(" {c}")),
            )
        })
        .collect()
}

struct B2 {
    reuse_qps: f64,
    naive_qps: f64,
    agree: usize,
    total: usize,
}

async fn b2(model: &dyn ModelApi, reps: usize) -> B2 {
    let qs = questions();
    let mut reuse = Vec::new();
    let mut naive = Vec::new();
    let mut agree = 0;
    for rep in 0..=reps {
        let t = Instant::now();
        let mut picks = Vec::new();
        for q in &qs {
            picks.push(model.score(q).await.expect("score").argmax());
        }
        let r = qs.len() as f64 / t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut naive_picks = Vec::new();
        for q in &qs {
            let mut best = (f64::NEG_INFINITY, 0);
            for (i, c) in q.continuations.iter().enumerate() {
                let s = model
                    .score(&ScoreRequest::new(q.context.clone(), [c.clone()]))
                    .await
                    .expect("score");
                if s.scores[0].logprob > best.0 {
                    best = (s.scores[0].logprob, i);
                }
            }
            naive_picks.push(Some(best.1));
        }
        let n = qs.len() as f64 / t.elapsed().as_secs_f64();
        agree = picks
            .iter()
            .zip(&naive_picks)
            .filter(|(a, b)| a == b)
            .count();
        if rep > 0 {
            reuse.push(r);
            naive.push(n);
        }
    }
    B2 {
        reuse_qps: median(reuse),
        naive_qps: median(naive),
        agree,
        total: qs.len(),
    }
}

struct B3 {
    concurrent_tps: f64,
    sequential_tps: f64,
}

async fn b3(model: Arc<dyn ModelApi>, reps: usize) -> B3 {
    let topics = [
        "rivers",
        "mountains",
        "bread",
        "trains",
        "bees",
        "libraries",
        "winter",
        "music",
    ];
    let requests: Vec<Vec<Message>> = topics
        .iter()
        .map(|t| {
            vec![Message::user(format!(
                "Write a detailed paragraph about {t}."
            ))]
        })
        .collect();
    let config = GenerateConfig::greedy(96);
    let mut conc = Vec::new();
    let mut seq = Vec::new();
    for rep in 0..=reps {
        let t = Instant::now();
        let mut tokens = 0;
        for m in &requests {
            tokens += model
                .generate(m, &config)
                .await
                .expect("generate")
                .usage
                .output_tokens;
        }
        let s = tokens as f64 / t.elapsed().as_secs_f64();
        let t = Instant::now();
        let calls = requests.iter().cloned().map(|m| {
            let model = model.clone();
            let config = config.clone();
            tokio::spawn(async move { model.generate(&m, &config).await })
        });
        let mut tokens = 0;
        for r in futures::future::join_all(calls).await {
            tokens += r.expect("join").expect("generate").usage.output_tokens;
        }
        let c = tokens as f64 / t.elapsed().as_secs_f64();
        if rep > 0 {
            seq.push(s);
            conc.push(c);
        }
    }
    B3 {
        concurrent_tps: median(conc),
        sequential_tps: median(seq),
    }
}

/// The B4 prompts: 12 questions in 5 rotations of their choices, question-major within a
/// rotation so that consecutive prompts share only the system message and chat template.
fn quiz_prompts() -> Vec<Vec<Message>> {
    let qs = questions();
    let mut out = Vec::new();
    for rot in 0..5 {
        for q in &qs {
            let question = q
                .context
                .rsplit("Question: ")
                .next()
                .unwrap_or_default()
                .trim_end_matches("\nAnswer:");
            let n = q.continuations.len();
            let lines: Vec<String> = (0..n)
                .map(|i| {
                    let letter = char::from(b'A' + i as u8);
                    format!("{letter}) {}", q.continuations[(i + rot) % n].trim())
                })
                .collect();
            out.push(vec![
                Message::system(
                    "You are taking a science quiz. Answer each question with the letter of \
                     the correct choice.",
                ),
                Message::user(format!(
                    "{question}\n\n{}\n\nAnswer with the letter of the correct choice.",
                    lines.join("\n")
                )),
            ]);
        }
    }
    out
}

/// One pass over `prompts` with at most `concurrency` in flight: (prompts/s, prompt tokens).
async fn b4_pass(
    model: &Arc<dyn ModelApi>,
    prompts: &[Vec<Message>],
    concurrency: usize,
) -> (f64, u64) {
    let config = GenerateConfig {
        stop: vec!["\n".into()],
        ..GenerateConfig::greedy(16)
    };
    let t = Instant::now();
    let calls = prompts.iter().cloned().map(|m| {
        let (model, config) = (model.clone(), config.clone());
        async move { model.generate(&m, &config).await }
    });
    let done: Vec<_> = futures::stream::iter(calls)
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let rate = prompts.len() as f64 / t.elapsed().as_secs_f64();
    let input = done
        .into_iter()
        .map(|g| g.expect("generate").usage.input_tokens)
        .sum();
    (rate, input)
}

struct B4 {
    /// Medians in prompts/s: [no cache, 1 at a time], [no cache, 8], [cache, 1], [cache, 8].
    rates: [f64; 4],
    prompt_tokens: u64,
}

/// The four B4 configurations interleaved within every repetition, so that a change in
/// machine load hits all of them alike.
async fn b4(cold: &Arc<dyn ModelApi>, warm: &Arc<dyn ModelApi>, reps: usize) -> B4 {
    let prompts = quiz_prompts();
    let mut samples: [Vec<f64>; 4] = Default::default();
    let mut prompt_tokens = 0;
    for rep in 0..=reps {
        for (k, (model, concurrency)) in [(cold, 1), (cold, 8), (warm, 1), (warm, 8)]
            .into_iter()
            .enumerate()
        {
            let (rate, input) = b4_pass(model, &prompts, concurrency).await;
            prompt_tokens = input;
            if rep > 0 {
                samples[k].push(rate);
            }
        }
    }
    B4 {
        rates: samples.map(median),
        prompt_tokens,
    }
}

fn embedded_factory(threads: usize, prefix_cache: bool) -> ProviderFactory {
    let options = ProviderOptions {
        embedded: EmbeddedOptions {
            threads: Some(threads),
            context_size: u32::try_from(env_usize("RSP_BENCH_CTX", 8192)).unwrap_or(8192),
            prefix_cache,
            ..EmbeddedOptions::default()
        },
        ..ProviderOptions::new(ProviderEnv::from_process())
    };
    ProviderFactory::new(options).expect("factory")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // `cargo test --all-targets` runs bench binaries without `--bench`; do not spend
    // minutes benchmarking there.
    if !std::env::args().any(|a| a == "--bench") {
        println!("embedded bench: run with `cargo bench -p rsp-model --bench embedded`");
        return;
    }
    let threads = env_usize("RSP_BENCH_THREADS", 2);
    let reps = env_usize("RSP_BENCH_REPS", 5).max(1);
    let only = std::env::var("RSP_BENCH_ONLY").unwrap_or_else(|_| "b1,b2,b3,b4".into());
    let factory = embedded_factory(threads, false);
    let model = match factory.build("embedded") {
        Ok(m) => m,
        Err(e) => {
            eprintln!("benchmark skipped: {e}");
            return;
        }
    };
    let load_before = loadavg();
    println!("rsp-model embedded bench: threads={threads} reps={reps} load(1/5/15m)={load_before}");
    let mut result =
        serde_json::json!({ "threads": threads, "reps": reps, "load_before": load_before });
    let started = Instant::now();
    if only.contains("b1") {
        let r = b1(model.as_ref(), reps).await;
        println!(
            "B1 prompt {:.1} tok/s ({} tokens), generation {:.1} tok/s ({} tokens)",
            r.prompt_tps, r.prompt_tokens, r.gen_tps, r.gen_tokens
        );
        result["b1"] = serde_json::json!({
            "prompt_tps": r.prompt_tps, "gen_tps": r.gen_tps,
            "prompt_tokens": r.prompt_tokens, "gen_tokens": r.gen_tokens
        });
    }
    if only.contains("b2") {
        let r = b2(model.as_ref(), reps).await;
        println!(
            "B2 scoring: KV reuse {:.2} q/s, naive {:.2} q/s, speed-up {:.2}x (same pick on {}/{})",
            r.reuse_qps,
            r.naive_qps,
            r.reuse_qps / r.naive_qps,
            r.agree,
            r.total
        );
        result["b2"] = serde_json::json!({
            "reuse_qps": r.reuse_qps, "naive_qps": r.naive_qps,
            "speedup": r.reuse_qps / r.naive_qps, "agree": r.agree, "total": r.total
        });
    }
    if only.contains("b3") {
        let r = b3(model.clone(), reps).await;
        println!(
            "B3 generation: 8 concurrent {:.1} tok/s, one at a time {:.1} tok/s, gain {:.2}x",
            r.concurrent_tps,
            r.sequential_tps,
            r.concurrent_tps / r.sequential_tps
        );
        result["b3"] = serde_json::json!({
            "concurrent_tps": r.concurrent_tps, "sequential_tps": r.sequential_tps,
            "gain": r.concurrent_tps / r.sequential_tps
        });
    }
    if only.contains("b4") {
        let cached = embedded_factory(threads, true);
        let warm = cached.build("embedded").expect("second engine");
        let r = b4(&model, &warm, reps).await;
        let [cold_1, cold_8, warm_1, warm_8] = r.rates;
        println!(
            "B4 eval-shaped ({} prompts, {} prompt tokens): prompts/s without prefix cache \
             {cold_1:.2} (1 at a time) / {cold_8:.2} (8 concurrent), with {warm_1:.2} / {warm_8:.2}",
            quiz_prompts().len(),
            r.prompt_tokens
        );
        result["b4"] = serde_json::json!({
            "prompts": quiz_prompts().len(), "prompt_tokens": r.prompt_tokens,
            "cold_1": cold_1, "cold_8": cold_8, "warm_1": warm_1, "warm_8": warm_8
        });
    }
    let load_after = loadavg();
    result["load_after"] = serde_json::json!(load_after);
    result["seconds"] = serde_json::json!(started.elapsed().as_secs_f64());
    println!(
        "load after: {load_after}; took {:?}",
        Duration::from_secs_f64(started.elapsed().as_secs_f64().round())
    );
    println!("RESULT {result}");
}
