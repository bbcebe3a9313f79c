//! Solvers: the elicitation steps a task chains together (Inspect's solvers).
//!
//! A solver is one small async step over a [`TaskState`]. The chain has three phases,
//! checked when the task file is loaded:
//! 1. **prompt** solvers shape the [`crate::state::Prompt`]: [`SystemMessage`],
//!    [`PromptTemplate`], [`FewShot`], [`ChainOfThought`], and [`MultipleChoice`] in
//!    `generate` mode;
//! 2. exactly one **answer** solver calls the model: [`Generate`], [`BestOfN`], or
//!    [`MultipleChoice`] in `loglikelihood` mode;
//! 3. **follow-up** solvers work on the answer: [`SelfCritique`].
//!
//! Agentic tasks use [`UseTools`] (a prompt step: which tools, and the protocol) and
//! [`React`] (the answer step: the tool-calling loop in a sandboxed working directory).
//!
//! Each solver's parameters are its TOML fields; [`SolverSpec`] is the tagged union the
//! task file deserialises into (`kind = "few_shot"`).

pub mod best_of_n;
pub mod chain_of_thought;
pub mod few_shot;
pub mod generate;
pub mod multiple_choice;
pub mod prompt_template;
pub mod react;
pub mod self_critique;
pub mod system_message;
pub mod use_tools;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use best_of_n::{BestOfN, Selection};
pub use chain_of_thought::ChainOfThought;
pub use few_shot::FewShot;
pub use generate::Generate;
pub use multiple_choice::{ChoiceMode, MultipleChoice};
pub use prompt_template::{PLACEHOLDERS, PromptTemplate};
pub use react::React;
pub use self_critique::SelfCritique;
pub use system_message::SystemMessage;
pub use use_tools::UseTools;

use crate::error::Error;
use crate::state::{SolveContext, TaskState};

/// One elicitation step.
#[async_trait]
pub trait Solver: Send + Sync + std::fmt::Debug {
    /// Runs the step on one sample.
    async fn solve(&self, state: &mut TaskState, ctx: &SolveContext) -> Result<(), Error>;
}

/// Where a solver may appear in a chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    /// Shapes the prompt; before the answer.
    Prompt,
    /// Produces the answer; exactly once.
    Answer,
    /// Works on the answer; after it.
    FollowUp,
}

/// A solver as written in a task file (`[[solver]] kind = "..."`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SolverSpec {
    /// Adds a system message.
    SystemMessage(SystemMessage),
    /// Sets the user-turn template.
    PromptTemplate(PromptTemplate),
    /// Shows `k` worked examples from the dev split.
    FewShot(FewShot),
    /// Asks for reasoning before the answer.
    ChainOfThought(ChainOfThought),
    /// Multiple choice, by generated letter or by log-likelihood.
    MultipleChoice(MultipleChoice),
    /// One model call.
    Generate(Generate),
    /// `n` samples, one selected by majority or judge.
    BestOfN(BestOfN),
    /// Critique the answer, then revise it.
    SelfCritique(SelfCritique),
    /// Enable tools (bash, python, files) and explain the protocol.
    UseTools(UseTools),
    /// The tool-calling agent loop.
    React(React),
}

impl SolverSpec {
    /// The solver to run.
    pub fn solver(&self) -> &dyn Solver {
        match self {
            SolverSpec::SystemMessage(s) => s,
            SolverSpec::PromptTemplate(s) => s,
            SolverSpec::FewShot(s) => s,
            SolverSpec::ChainOfThought(s) => s,
            SolverSpec::MultipleChoice(s) => s,
            SolverSpec::Generate(s) => s,
            SolverSpec::BestOfN(s) => s,
            SolverSpec::SelfCritique(s) => s,
            SolverSpec::UseTools(s) => s,
            SolverSpec::React(s) => s,
        }
    }

    /// The `kind` name.
    pub fn kind(&self) -> &'static str {
        match self {
            SolverSpec::SystemMessage(_) => "system_message",
            SolverSpec::PromptTemplate(_) => "prompt_template",
            SolverSpec::FewShot(_) => "few_shot",
            SolverSpec::ChainOfThought(_) => "chain_of_thought",
            SolverSpec::MultipleChoice(_) => "multiple_choice",
            SolverSpec::Generate(_) => "generate",
            SolverSpec::BestOfN(_) => "best_of_n",
            SolverSpec::SelfCritique(_) => "self_critique",
            SolverSpec::UseTools(_) => "use_tools",
            SolverSpec::React(_) => "react",
        }
    }

    /// Where it may appear in a chain.
    pub fn phase(&self) -> Phase {
        match self {
            SolverSpec::MultipleChoice(m) if m.mode == ChoiceMode::Loglikelihood => Phase::Answer,
            SolverSpec::Generate(_) | SolverSpec::BestOfN(_) | SolverSpec::React(_) => {
                Phase::Answer
            }
            SolverSpec::SelfCritique(_) => Phase::FollowUp,
            _ => Phase::Prompt,
        }
    }

    /// True when the step calls the judge model.
    pub fn needs_judge(&self) -> bool {
        match self {
            SolverSpec::BestOfN(b) => b.select == Selection::Judge,
            SolverSpec::SelfCritique(s) => s.judge,
            _ => false,
        }
    }

    /// The prompt texts this step contributes (hashed into the run's provenance).
    pub fn templates(&self) -> Vec<&str> {
        match self {
            SolverSpec::SystemMessage(s) => vec![s.text.as_str()],
            SolverSpec::PromptTemplate(s) => vec![s.template.as_str()],
            SolverSpec::MultipleChoice(m) => m.instruction.as_deref().into_iter().collect(),
            SolverSpec::SelfCritique(s) => vec![s.critique_template(), s.revise_template()],
            SolverSpec::UseTools(_) => vec![crate::tools::PROTOCOL],
            SolverSpec::React(_) => vec![react::NUDGE],
            _ => Vec::new(),
        }
    }
}

/// Runs a chain in order, stopping early when a limit was hit.
pub async fn run_chain(
    chain: &[SolverSpec],
    state: &mut TaskState,
    ctx: &SolveContext,
) -> Result<(), Error> {
    for step in chain {
        if state.limit.is_some() {
            break;
        }
        step.solver().solve(state, ctx).await?;
    }
    Ok(())
}

/// Fails a prompt step that runs after the conversation started (the loader prevents this;
/// the check keeps hand-built chains honest).
fn ensure_prompt_phase(state: &TaskState, solver: &'static str) -> Result<(), Error> {
    if state.messages.is_empty() {
        Ok(())
    } else {
        Err(Error::Solver {
            solver,
            reason: "prompt steps must come before the model is called".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_from_toml_with_phases() {
        #[derive(Deserialize)]
        struct Chain {
            solver: Vec<SolverSpec>,
        }
        let c: Chain = toml::from_str(
            r#"
            [[solver]]
            kind = "system_message"
            text = "Be brief."
            [[solver]]
            kind = "multiple_choice"
            [[solver]]
            kind = "best_of_n"
            n = 3
            select = "judge"
            [[solver]]
            kind = "self_critique"
            "#,
        )
        .unwrap();
        let phases: Vec<_> = c.solver.iter().map(SolverSpec::phase).collect();
        assert_eq!(
            phases,
            [Phase::Prompt, Phase::Prompt, Phase::Answer, Phase::FollowUp]
        );
        assert!(c.solver[2].needs_judge());
        assert!(!c.solver[3].needs_judge());
        assert_eq!(c.solver[0].templates(), ["Be brief."]);
        let bad = toml::from_str::<Chain>("[[solver]]\nkind = \"generate\"\nbogus = 1\n");
        assert!(bad.is_err());
    }
}
