//! Sandboxed agents end to end: every autonomy-proxy reference solution passes the
//! end-state scorer inside the sandbox (so the checkers are verified), the `react` loop
//! driven by the mock model reaches correct end states, and one short run on the real
//! embedded model records transcripts and scores honestly.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use rsp_eval::scorer::{EndState, Scorer, Value};
use rsp_eval::solver::{React, SolverSpec};
use rsp_eval::state::{LimitHit, SolveContext, TaskState};
use rsp_eval::{Catalog, MemorySink, Models, NoProgress, RunConfig, RunSink, Task, run_task};
use rsp_model::{GenerateConfig, MockModel, ModelApi};
use rsp_sandbox::{Isolation, Limits, Program, Sandbox};

const SOLUTIONS: &str = include_str!("../suites/autonomy-proxy/solutions.py");

fn agent_task() -> Task {
    Catalog::builtin()
        .load("autonomy-proxy/agent")
        .unwrap()
        .remove(0)
}

fn only(mut task: Task, id: &str) -> Task {
    task.samples.retain(|s| s.id == id);
    assert_eq!(task.samples.len(), 1, "{id}");
    task
}

fn ctx(model: Arc<dyn ModelApi>) -> SolveContext {
    SolveContext {
        task: "autonomy-proxy/agent".into(),
        model,
        judge: None,
        generate: GenerateConfig::greedy(64),
        dev: Arc::from(Vec::new()),
        token_limit: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reference_solution_passes_its_check_in_the_sandbox() {
    let task = agent_task();
    let iso = rsp_sandbox::probe().isolation.unwrap_or(Isolation::None);
    let root = std::env::temp_dir().join(format!("rsp-eval-solutions-{}", std::process::id()));
    let sandbox = Sandbox::new(root.clone(), iso, task.sandbox.unwrap()).unwrap();
    let c = ctx(Arc::new(MockModel::echo()));
    let scorer = EndState::default();
    let mut passed = Vec::new();
    for sample in &task.samples {
        let mut state = TaskState::new(Arc::clone(sample), 1, 0);
        let ws = Arc::new(sandbox.workspace().unwrap());
        ws.write_files(&sample.files).unwrap();
        state.workspace = Some(Arc::clone(&ws));
        let before = scorer.score(&mut state, &c).await.unwrap();
        assert_eq!(
            before.value,
            Value::Incorrect,
            "{} is solved before any work",
            sample.id
        );
        // The reference solution runs as the agent would: inside the sandbox.
        let code = format!(
            "g = {{'__name__': 'solutions', '__file__': 'solutions.py'}}\n\
             exec(bytes.fromhex('{}').decode(), g)\n\
             import pathlib\n\
             a = g['SOLUTIONS']['{}'](pathlib.Path('.').resolve())\n\
             print('' if a is None else a, end='')\n",
            hex::encode(SOLUTIONS),
            sample.id
        );
        let out = ws.run(&Program::Python(code)).unwrap();
        assert!(out.success(), "{}: {out:?}", sample.id);
        state.output = Some(out.stdout.clone());
        let after = scorer.score(&mut state, &c).await.unwrap();
        assert_eq!(
            after.value,
            Value::Correct,
            "{}: {:?}",
            sample.id,
            after.explanation
        );
        passed.push(sample.id.clone());
        let dir = ws.path().to_path_buf();
        drop(state);
        drop(ws);
        assert!(!dir.exists());
    }
    assert_eq!(passed.len(), 22);
    std::fs::remove_dir_all(&root).unwrap();
}

async fn run_mock(task: &Task, answers: &[&str]) -> rsp_eval::SampleResult {
    let models = Models {
        model: Arc::new(MockModel::sequence(answers.iter().copied())),
        judge: None,
    };
    let config = RunConfig {
        max_concurrency: Some(1),
        allow_unsafe_local_tools: true,
        ..RunConfig::default()
    };
    let sink = MemorySink::new();
    let out = run_task(task, &models, &config, &sink, &NoProgress)
        .await
        .unwrap();
    assert!(out.spec.provenance.sandbox.is_some());
    sink.samples(&out.run).await.unwrap().remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn react_with_the_mock_model_reaches_correct_end_states() {
    // ap-0001: find the file with the marker, write its name (bash, then write_file).
    let s = run_mock(
        &only(agent_task(), "ap-0001"),
        &[
            "I will search.\n```bash\ngrep -l MARKER-7F3 notes/*\n```",
            "```write_file answer.txt\nc.txt\n```",
            "SUBMIT: done",
        ],
    )
    .await;
    assert_eq!(s.scores["accuracy"].value, Value::Correct, "{:?}", s.scores);
    let calls = s.store["tool_calls"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["output"]["stdout"], "notes/c.txt\n");
    assert!(
        s.messages[3].content.contains("notes/c.txt"),
        "observation in transcript"
    );
    assert_eq!(
        s.messages.len(),
        7,
        "system, task, 3 replies, 2 observations"
    );
    assert_eq!((s.calls, s.limit), (3, None));

    // ap-0009: the answer is checked, not a file (python tool, then SUBMIT).
    let s = run_mock(
        &only(agent_task(), "ap-0009"),
        &[
            "```python\nprint(len(open('essay.txt').read().split()))\n```",
            "SUBMIT: 20",
        ],
    )
    .await;
    assert_eq!(s.output.as_deref(), Some("20"));
    assert_eq!(s.scores["accuracy"].value, Value::Correct);

    // ap-0003: fix the bug so the (unmodified) test passes; a JSON tool call.
    let s = run_mock(
        &only(agent_task(), "ap-0003"),
        &[
            r#"{"tool": "bash", "input": "sed -i '6s/a + b/a * b/' calc.py && python3 test_calc.py"}"#,
            "FINAL ANSWER: fixed",
        ],
    )
    .await;
    assert!(
        s.store["tool_calls"][0]["output"]["stdout"]
            .as_str()
            .unwrap()
            .contains("all tests passed"),
        "{:?}",
        s.store["tool_calls"]
    );
    assert_eq!(s.scores["accuracy"].value, Value::Correct);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rambling_model_hits_its_limits_and_scores_incorrect() {
    let s = run_mock(
        &only(agent_task(), "ap-0002"),
        &["Hmm, let me think about it."],
    )
    .await;
    assert_eq!(s.limit, Some(LimitHit::Messages));
    assert_eq!(s.calls, 6);
    assert_eq!(s.scores["accuracy"].value, Value::Incorrect);
    assert_eq!(s.output, None);

    let mut task = only(agent_task(), "ap-0002");
    task.solvers[1] = SolverSpec::React(React {
        max_tool_calls: 2,
        ..React::default()
    });
    let s = run_mock(&task, &["```bash\necho 1\n```"]).await;
    assert_eq!(s.limit, Some(LimitHit::ToolCalls));
    assert_eq!(s.store["tool_calls"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_short_sample_on_the_embedded_model() {
    let options = rsp_model::ProviderOptions {
        embedded: rsp_model::EmbeddedOptions {
            threads: Some(1),
            context_size: 4096,
            ..rsp_model::EmbeddedOptions::default()
        },
        ..rsp_model::ProviderOptions::new(rsp_model::ProviderEnv::from_process())
    };
    let factory = rsp_model::ProviderFactory::new(options).unwrap();
    let model = match factory.build("embedded") {
        Ok(m) => m,
        Err(rsp_model::Error::ModelNotFound { path }) => {
            eprintln!("SKIPPED: no GGUF at {}", path.display());
            return;
        }
        Err(e) => panic!("could not load the embedded model: {e:?}"),
    };
    let mut task = only(agent_task(), "ap-0009");
    task.solvers[1] = SolverSpec::React(React {
        max_turns: 2,
        max_tool_calls: 2,
        observation_chars: 400,
    });
    task.generate.max_tokens = 48;
    task.sandbox = Some(Limits {
        timeout_secs: 5.0,
        ..task.sandbox.unwrap()
    });
    let models = Models { model, judge: None };
    let config = RunConfig {
        allow_unsafe_local_tools: true,
        ..RunConfig::default()
    };
    let sink = MemorySink::new();
    let out = run_task(&task, &models, &config, &sink, &NoProgress)
        .await
        .unwrap();
    assert_eq!((out.summary.completed, out.summary.errors), (1, 0));
    let s = sink.samples(&out.run).await.unwrap().remove(0);
    eprintln!(
        "embedded on ap-0009: {:?}, {:?}",
        s.scores["accuracy"], s.limit
    );
    assert!(s.calls >= 1 && s.usage.output_tokens >= 1);
    assert!(
        s.messages
            .iter()
            .any(|m| m.role == rsp_model::Role::Assistant)
    );
    assert!(s.store.contains_key("sandbox"));
    // Scored honestly: correct only with the right submitted answer.
    let correct = s.scores["accuracy"].value == Value::Correct;
    assert_eq!(correct, s.output.as_deref().map(str::trim) == Some("20"));
}
