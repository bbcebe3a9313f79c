//! Elicitation transform: turning a built-in task's plain chain into the chain a policy's
//! evidence rule asks for.
//!
//! A policy rule names an [`Elicitation`] (`chain_of_thought`, `few_shot`, `best_of_n`,
//! `tools`); a task file names a concrete solver chain. [`Task::elicited`] rewrites the chain
//! so that [`Task::elicitation`] covers the request, respecting the chain's phases (see
//! [`crate::solver`]):
//!
//! - `few_shot(k)` and `chain_of_thought` are prompt steps; they go just before the answer
//!   step, because a log-likelihood answer step reads the prompt (its shots) when it runs.
//!   An existing `few_shot` with a smaller `k` is raised rather than duplicated.
//! - `best_of_n(n)` *is* the answer step: it replaces `generate` (majority vote, the
//!   policy's reading of "best of n" without a judge), or raises the `n` of an existing
//!   `best_of_n`. Follow-up steps (`self_critique`) stay after it.
//! - Tool use needs the sandbox, which does not exist yet: asking for it is an error, never a
//!   silent downgrade, because an under-elicited run would understate the capability.
//!
//! **Generation budget.** Chain of thought needs room to reason: a plain multiple-choice task
//! may allow 16 tokens and stop at the first newline, which would cut the reasoning before
//! its `ANSWER:` line. The elicited task therefore raises `max_tokens` to at least
//! [`COT_MAX_TOKENS`] and drops stop sequences made only of whitespace; the scorers then read
//! the last `ANSWER:` line (see [`crate::answer::final_answer`]).
//!
//! **Identity.** The task keeps its id, so results stay grouped under it, but its
//! [`crate::task::TaskHashes`] change: the template hashes are recomputed over the new
//! chain and an entry `elicitation[<summary>]` is added whose value is the sha256 of the
//! elicited chain and generation settings. Both flow into the run's provenance and identity
//! key, so an elicited run is never reused as a plain one (nor the reverse), and the
//! provenance says, readably, which elicitation was applied.

use rsp_policy::Elicitation;
use serde_json::json;

use crate::error::Error;
use crate::provenance::sha256_hex;
use crate::solver::{BestOfN, ChainOfThought, ChoiceMode, FewShot, Phase, Selection, SolverSpec};
use crate::state::COT_INSTRUCTION;
use crate::task::{Task, template_hashes};

/// Minimum generation budget (tokens) of a task run with chain of thought: room for a few
/// sentences of reasoning and the final `ANSWER:` line, without letting a small model
/// ramble for the whole context.
pub const COT_MAX_TOKENS: u32 = 256;

/// Prefix of the [`crate::task::TaskHashes::templates`] entry that records an applied
/// elicitation (`elicitation[chain of thought, 3-shot]`).
pub const HASH_KEY_PREFIX: &str = "elicitation";

impl Task {
    /// This task with its chain extended so that [`Task::elicitation`] covers `want`.
    ///
    /// When the chain already covers `want` the task is returned unchanged (same hashes):
    /// its runs are exactly the runs `want` asks for. Otherwise the id stays the same and the
    /// hashes change (see the [module docs](crate::elicit)).
    ///
    /// # Errors
    ///
    /// - [`Error::SuiteUnavailable`] when `want.tools` is set and the task has no
    ///   `use_tools` solver;
    /// - [`Error::Solver`] when `few_shot` needs more dev items than the task has, or when
    ///   chain of thought or best-of-n is asked of a task whose answer step ranks choices by
    ///   log-likelihood (nothing is generated, so there is nothing to reason or sample).
    pub fn elicited(&self, want: &Elicitation) -> Result<Task, Error> {
        // Tools cannot be bolted onto a question-answering chain: which tools, the files a
        // sample starts with and the end-state checks belong to the task file
        // (`use_tools` + `react`, docs/sandbox.md). A task that has them covers `tools`.
        if want.tools && !self.elicitation().tools {
            return Err(Error::SuiteUnavailable {
                suite: self.id.clone(),
                reason: "the elicitation asks for tool use, but the task has no `use_tools` \
                         solver; tool use is defined by the task file (see docs/sandbox.md)"
                    .into(),
            });
        }
        if self.elicitation().covers(want) {
            return Ok(self.clone());
        }
        let mut solvers = self.solvers.clone();
        let loglikelihood = solvers.iter().any(
            |s| matches!(s, SolverSpec::MultipleChoice(m) if m.mode == ChoiceMode::Loglikelihood),
        );
        if want.few_shot > 0 {
            self.add_few_shot(&mut solvers, want.few_shot)?;
        }
        let has_cot = solvers
            .iter()
            .any(|s| matches!(s, SolverSpec::ChainOfThought(_)));
        if want.chain_of_thought && !has_cot {
            if loglikelihood {
                return Err(self.cannot("chain_of_thought", "reason"));
            }
            let at = answer_position(&solvers);
            solvers.insert(at, SolverSpec::ChainOfThought(ChainOfThought {}));
        }
        if want.best_of_n > 1 {
            if loglikelihood {
                return Err(self.cannot("best_of_n", "sample"));
            }
            set_best_of_n(&mut solvers, want.best_of_n);
        }

        let mut task = self.clone();
        task.solvers = solvers;
        if want.chain_of_thought {
            task.generate.max_tokens = task.generate.max_tokens.max(COT_MAX_TOKENS);
            task.generate.stop.retain(|s| !s.trim().is_empty());
        }
        let applied = task.elicitation();
        let definition = json!({
            "solvers": task.solvers,
            "generate": task.generate,
            "cot_instruction": applied.chain_of_thought.then_some(COT_INSTRUCTION),
        });
        task.hashes.templates = template_hashes(&task.solvers, &task.scorers);
        task.hashes.templates.insert(
            format!("{HASH_KEY_PREFIX}[{}]", applied.summary()),
            sha256_hex(definition.to_string().as_bytes()),
        );
        Ok(task)
    }

    fn add_few_shot(&self, solvers: &mut Vec<SolverSpec>, k: u32) -> Result<(), Error> {
        let k = usize::try_from(k).unwrap_or(usize::MAX);
        if self.dev.len() < k {
            let why = if self.dev.is_empty() {
                "it has no dev split (add dev = \"dev.jsonl\" to its [dataset])".to_owned()
            } else {
                format!("its dev split has only {} items", self.dev.len())
            };
            return Err(Error::Solver {
                solver: "few_shot",
                reason: format!(
                    "task `{}` cannot show {k} examples: {why}; examples never come from the \
                     scored items",
                    self.id
                ),
            });
        }
        match solvers.iter_mut().find_map(|s| match s {
            SolverSpec::FewShot(f) => Some(f),
            _ => None,
        }) {
            Some(f) => f.k = f.k.max(k),
            None => {
                let at = answer_position(solvers);
                solvers.insert(at, SolverSpec::FewShot(FewShot { k }));
            }
        }
        Ok(())
    }

    fn cannot(&self, solver: &'static str, verb: &str) -> Error {
        Error::Solver {
            solver,
            reason: format!(
                "task `{}` ranks choices by log-likelihood, so the model generates nothing to \
                 {verb} over; use a generated-answer task of the suite instead",
                self.id
            ),
        }
    }
}

/// Index of the chain's answer step (the end when there is none).
fn answer_position(solvers: &[SolverSpec]) -> usize {
    solvers
        .iter()
        .position(|s| s.phase() != Phase::Prompt)
        .unwrap_or(solvers.len())
}

/// Makes the answer step draw at least `n` candidates.
fn set_best_of_n(solvers: &mut Vec<SolverSpec>, n: u32) {
    let at = answer_position(solvers);
    match solvers.get_mut(at) {
        Some(SolverSpec::BestOfN(b)) => b.n = b.n.max(n),
        Some(step @ SolverSpec::Generate(_)) => {
            *step = SolverSpec::BestOfN(BestOfN {
                n,
                select: Selection::Majority,
                temperature: None,
            });
        }
        // No answer step (the loader rejects such chains) or a follow-up first: add one.
        _ => solvers.insert(
            at,
            SolverSpec::BestOfN(BestOfN {
                n,
                select: Selection::Majority,
                temperature: None,
            }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rsp_model::MockModel;

    use super::*;
    use crate::catalog::Catalog;
    use crate::engine::{Models, RunConfig, plan_run, run_task};
    use crate::progress::NoProgress;
    use crate::sink::{MemorySink, RunSink};

    fn task(selector: &str) -> Task {
        Catalog::builtin().load(selector).unwrap().remove(0)
    }

    fn want(chain_of_thought: bool, few_shot: u32, best_of_n: u32) -> Elicitation {
        Elicitation {
            chain_of_thought,
            few_shot,
            best_of_n,
            tools: false,
        }
    }

    fn kinds(t: &Task) -> Vec<&'static str> {
        t.solvers.iter().map(SolverSpec::kind).collect()
    }

    fn models(m: MockModel) -> Models {
        Models {
            model: Arc::new(m),
            judge: None,
        }
    }

    #[test]
    fn steps_go_where_their_phase_says() {
        let plain = task("knowledge-proxy/mc");
        let w = want(true, 3, 4);
        let t = plain.elicited(&w).unwrap();
        assert_eq!(
            kinds(&t),
            [
                "system_message",
                "multiple_choice",
                "few_shot",
                "chain_of_thought",
                "best_of_n"
            ]
        );
        assert!(t.elicitation().covers(&w));
        assert_eq!(t.elicitation(), w);
        assert_eq!(t.id, plain.id);
        assert!(
            !plain.elicitation().covers(&w),
            "the plain task is untouched"
        );

        // Log-likelihood tasks take shots (placed before the answer step) but not CoT or n.
        let ll = task("knowledge-proxy/logprob");
        let t = ll.elicited(&want(false, 2, 1)).unwrap();
        assert_eq!(kinds(&t), ["few_shot", "multiple_choice"]);
        for bad in [want(true, 0, 1), want(false, 0, 4)] {
            let e = ll.elicited(&bad).unwrap_err();
            assert!(e.to_string().contains("log-likelihood"), "{e}");
        }
    }

    #[test]
    fn existing_steps_are_raised_not_duplicated() {
        let base = task("knowledge-proxy/mc")
            .elicited(&want(false, 2, 3))
            .unwrap();
        let t = base.elicited(&want(false, 3, 5)).unwrap();
        assert_eq!(
            kinds(&t),
            ["system_message", "multiple_choice", "few_shot", "best_of_n"]
        );
        assert_eq!(t.elicitation(), want(false, 3, 5));
        // Already covered: nothing changes, not even the hashes.
        let same = t.elicited(&want(false, 1, 2)).unwrap();
        assert_eq!(same.hashes, t.hashes);
        assert_eq!(same.solvers, t.solvers);
    }

    #[test]
    fn shots_need_a_big_enough_dev_split_and_tools_need_a_tool_task() {
        let benign = task("refusal-calibration/benign");
        let e = benign.elicited(&want(false, 1, 1)).unwrap_err();
        assert!(e.to_string().contains("no dev split"), "{e}");
        let ctf = task("cyber-proxy/ctf");
        let e = ctf.elicited(&want(false, 50, 1)).unwrap_err();
        assert!(e.to_string().contains("only 5 items"), "{e}");
        let tools = Elicitation {
            tools: true,
            ..Elicitation::default()
        };
        let e = ctf.elicited(&tools).unwrap_err();
        assert!(matches!(e, Error::SuiteUnavailable { .. }));
        assert!(e.to_string().contains("use_tools"), "{e}");
        // An agentic task already covers tools: the same task, the same hashes.
        let agent = task("autonomy-proxy/agent");
        assert!(agent.elicitation().tools);
        let same = agent.elicited(&tools).unwrap();
        assert_eq!(same.hashes.templates, agent.hashes.templates);
    }

    #[test]
    fn identity_changes_and_provenance_names_the_elicitation() {
        let plain = task("knowledge-proxy/mc");
        let cot = plain.elicited(&want(true, 0, 1)).unwrap();
        let both = plain.elicited(&want(true, 3, 1)).unwrap();
        assert_eq!(cot.generate.max_tokens, COT_MAX_TOKENS);
        assert!(
            cot.generate.stop.is_empty(),
            "the newline stop would cut reasoning"
        );
        assert!(
            cot.hashes
                .templates
                .contains_key("elicitation[chain of thought]")
        );
        let m = models(MockModel::echo());
        let keys: Vec<String> = [&plain, &cot, &both]
            .iter()
            .map(|t| plan_run(t, &m, &RunConfig::default()).key)
            .collect();
        assert_ne!(keys[0], keys[1]);
        assert_ne!(keys[1], keys[2]);
        assert_ne!(keys[0], keys[2]);
        let spec = plan_run(&both, &m, &RunConfig::default());
        assert!(
            spec.provenance
                .templates_sha256
                .contains_key("elicitation[chain of thought, 3-shot]")
        );
        // The system message keeps its template hash under its (unchanged) position.
        assert_eq!(
            plain.hashes.templates["solver[0].system_message[0]"],
            both.hashes.templates["solver[0].system_message[0]"]
        );
    }

    #[tokio::test]
    async fn the_elicited_chain_runs_and_reads_the_reasoned_answer() {
        let plain = task("knowledge-proxy/mc");
        // The first item's answer is A (newton). The model reasons over several lines, so the
        // plain task (stop at the first newline) never sees its ANSWER line.
        let reply = "Force is mass times acceleration.\nIts unit is named after Newton.\nANSWER: A";
        let config = &RunConfig {
            limit: Some(1),
            ..RunConfig::default()
        };
        let run = |t: Task| async move {
            let m = models(MockModel::text(reply));
            let sink = MemorySink::new();
            let out = run_task(&t, &m, config, &sink, &NoProgress).await.unwrap();
            let samples = sink.samples(&out.run).await.unwrap();
            (out, samples)
        };
        let accuracy =
            |o: &crate::engine::RunOutcome| o.summary.metric("accuracy").unwrap().estimate;
        let (plain_out, _) = run(plain.clone()).await;
        assert_eq!(accuracy(&plain_out), 0.0);

        let w = want(true, 3, 4);
        let elicited = plain.elicited(&w).unwrap();
        assert!(elicited.elicitation().covers(&w));
        let (out, samples) = run(elicited).await;
        assert_eq!(out.summary.completed, 1);
        assert_eq!(accuracy(&out), 1.0);
        // system, three worked examples (question and answer), the question, the answer.
        let s = &samples[0];
        assert_eq!(s.messages.len(), 1 + 3 * 2 + 2);
        assert!(s.messages[7].content.ends_with(COT_INSTRUCTION));
        assert!(s.messages[2].content.starts_with("ANSWER: "));
        let drawn = s.store["best_of_n"]["candidates"].as_array().unwrap();
        assert_eq!(drawn.len(), 4);
        assert_ne!(out.spec.key, plain_out.spec.key);
    }
}
