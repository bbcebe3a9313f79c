//! End to end on the real embedded model (SmolLM2-135M-Instruct Q4_1): three items of
//! `knowledge-proxy/mc` (generated letters), `knowledge-proxy/logprob` (log-likelihood),
//! `cyber-proxy/ctf` and `refusal-calibration/benign`.
//!
//! One test function, one engine thread on one CPU thread: the machine is shared and
//! llama.cpp degrades badly under contention. Without the GGUF the test prints why and
//! passes vacuously.

#![allow(clippy::unwrap_used)]

use rsp_eval::{Catalog, MemorySink, Models, NoProgress, RunConfig, RunSink, run_task};
use rsp_model::{EmbeddedOptions, ProviderEnv, ProviderFactory, ProviderOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn knowledge_proxy_on_the_embedded_model() {
    let options = ProviderOptions {
        embedded: EmbeddedOptions {
            threads: Some(1),
            context_size: 4096,
            ..EmbeddedOptions::default()
        },
        ..ProviderOptions::new(ProviderEnv::from_process())
    };
    let factory = ProviderFactory::new(options).unwrap();
    let model = match factory.build("embedded") {
        Ok(m) => m,
        Err(rsp_model::Error::ModelNotFound { path }) => {
            eprintln!(
                "SKIPPED embedded eval test: no GGUF at {} (run scripts/fetch-model.sh)",
                path.display()
            );
            return;
        }
        Err(e) => panic!("could not load the embedded model: {e:?}"),
    };
    let models = Models { model, judge: None };
    let config = RunConfig {
        limit: Some(3),
        max_concurrency: Some(3),
        ..RunConfig::default()
    };
    let catalog = Catalog::builtin();
    let sink = MemorySink::new();

    let mc = catalog.load("knowledge-proxy/mc").unwrap().remove(0);
    let out = run_task(&mc, &models, &config, &sink, &NoProgress)
        .await
        .unwrap();
    eprintln!("knowledge-proxy/mc: {}", out.summary.metrics[0]);
    assert_eq!((out.summary.completed, out.summary.errors), (3, 0));
    let m = out.summary.metric("accuracy").unwrap();
    assert_eq!(m.n, 3);
    let interval = m.interval.unwrap();
    assert!(interval.lower() <= m.estimate && m.estimate <= interval.upper());
    for s in sink.samples(&out.run).await.unwrap() {
        let output = s.output.as_deref().unwrap_or("");
        assert!(!output.is_empty(), "{}: empty answer", s.sample_id);
        assert!(s.usage.input_tokens > 20 && s.usage.output_tokens >= 1);
        eprintln!(
            "  {} target {:?} answered {:?} -> {:?}",
            s.sample_id, s.target, output, s.scores["accuracy"].value
        );
    }

    let lp = catalog.load("knowledge-proxy/logprob").unwrap().remove(0);
    let out = run_task(&lp, &models, &config, &sink, &NoProgress)
        .await
        .unwrap();
    for m in &out.summary.metrics {
        eprintln!("knowledge-proxy/logprob: {m}");
    }
    assert_eq!((out.summary.completed, out.summary.errors), (3, 0));
    assert!(out.summary.metric("acc").is_some() && out.summary.metric("acc_norm").is_some());
    for s in sink.samples(&out.run).await.unwrap() {
        let table = &s.store["loglikelihood"];
        let lps: Vec<f64> = table["choices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["logprob"].as_f64().unwrap())
            .collect();
        assert_eq!(lps.len(), 4);
        assert!(lps.iter().all(|&x| x < 0.0 && x.is_finite()), "{lps:?}");
        assert!(table["pick"].is_string() && table["pick_norm"].is_string());
    }

    // The other built-in suites (autonomy-proxy needs the tool sandbox): answers are
    // produced, scored and counted; the numbers themselves are the model's.
    for selector in ["cyber-proxy/ctf", "refusal-calibration/benign"] {
        let task = catalog.load(selector).unwrap().remove(0);
        let out = run_task(&task, &models, &config, &sink, &NoProgress)
            .await
            .unwrap();
        eprintln!("{selector}: {}", out.summary.metrics[0]);
        assert_eq!(
            (out.summary.completed, out.summary.errors),
            (3, 0),
            "{selector}"
        );
        let m = &out.summary.metrics[0];
        assert_eq!(m.n, 3, "{selector}");
        assert!(m.interval.is_some(), "{selector}: no interval");
        for s in sink.samples(&out.run).await.unwrap() {
            assert!(!s.output.as_deref().unwrap_or("").is_empty(), "{selector}");
        }
    }
}
