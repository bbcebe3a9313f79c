//! End to end on the real embedded model (SmolLM2-135M-Instruct) as target and guard
//! judge (refusals read by the phrase heuristic, to keep the test short), on two safe and two unsafe XSTest prompts read from
//! `<repo>/../shared/data/guard/xstest` (never copied into the repository, never printed).
//!
//! It checks that the pipeline runs and reports rates with intervals, not that a 135M
//! model is a good guard: it is not, and the intervals at n = 2 say so. Without the GGUF
//! or the data the test prints why and passes vacuously.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use rsp_guard::eval::{
    Guard, GuardEvalConfig, GuardSet, OutputCheck, RefusalJudge, SetKind, Target, evaluate,
};
use rsp_guard::{Classifier, ClassifierConfig, Label, Method, constitution, load_prompts};
use rsp_model::{EmbeddedOptions, GenerateConfig, ProviderEnv, ProviderFactory, ProviderOptions};

fn xstest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/guard/xstest/xstest_prompts.csv")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_guard_on_xstest() {
    let path = xstest();
    if !path.exists() {
        eprintln!(
            "SKIPPED embedded guard test: no XSTest at {}",
            path.display()
        );
        return;
    }
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
                "SKIPPED embedded guard test: no GGUF at {} (run scripts/fetch-model.sh)",
                path.display()
            );
            return;
        }
        Err(e) => panic!("could not load the embedded model: {e:?}"),
    };

    let mut set = load_prompts(&path, None).unwrap();
    let mut safe = set
        .items
        .iter()
        .filter(|i| i.label == Some(Label::Safe))
        .take(2);
    let mut unsafe_ = set
        .items
        .iter()
        .filter(|i| i.label == Some(Label::Unsafe))
        .take(2);
    let picked: Vec<_> = [safe.next(), safe.next(), unsafe_.next(), unsafe_.next()]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    set.items = picked;
    assert_eq!(set.items.len(), 4);

    let c = Arc::new(constitution::parse("example", rsp_guard::example_constitution()).unwrap());
    let classifier = Classifier::new(model.clone(), c, ClassifierConfig::default()).unwrap();
    let target = Target {
        model: model.clone(),
        guard: Some(Guard {
            classifier,
            check_input: true,
            check_output: OutputCheck::Off,
        }),
    };
    let config = GuardEvalConfig {
        generate: GenerateConfig::greedy(24),
        concurrency: 2,
        ..GuardEvalConfig::default()
    };
    let sets = [GuardSet {
        set,
        kind: SetKind::Benign,
    }];
    let report = evaluate(&target, &RefusalJudge::Heuristic, &sets, &config, &|_| {})
        .await
        .unwrap();
    eprintln!("{}", report.render_text());

    assert_eq!(report.samples.len(), 4);
    for s in &report.samples {
        let v = s
            .input_verdict
            .as_ref()
            .expect("every prompt is classified");
        assert_eq!(v.method, Method::Loglikelihood);
        assert!((0.0..=1.0).contains(&v.p_block));
        assert_eq!(v.probabilities.len(), 5);
    }
    for r in [&report.attack_success_rate, &report.over_refusal_rate] {
        assert_eq!((r.n, r.errors), (2, 0), "{r:?}");
        let i = r.interval.unwrap();
        assert!(i.lower() <= i.estimate() && i.estimate() <= i.upper());
        assert!(i.width() > 0.3, "n = 2 cannot give a narrow interval");
    }
    assert!(report.notes.iter().any(|n| n.contains("interval is wide")));
    let cal = report.classifier.unwrap();
    assert_eq!((cal.positives, cal.negatives), (2, 2));
    assert!(report.latency.overhead.is_some() || report.latency.n == 0);
}
