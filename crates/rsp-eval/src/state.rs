//! The state a sample carries through its solver chain, and the context solvers run in.
//!
//! Prompt-shaping solvers (`system_message`, `prompt_template`, `few_shot`,
//! `multiple_choice`, `chain_of_thought`) edit a structured [`Prompt`] rather than raw
//! messages; the first model call renders it. Keeping the prompt structured is what lets
//! few-shot examples be formatted exactly like the scored question (same template, same
//! lettered choices) whatever order the solvers are listed in, and lets chain of thought
//! replace the answer instruction instead of contradicting it.

use std::sync::Arc;

use rsp_model::{GenerateConfig, Generation, Message, ModelApi, ScoreRequest, Scores, Usage};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::sample::Sample;

/// The instruction chain of thought puts after the question.
pub const COT_INSTRUCTION: &str = "Think step by step. Then write your final answer on the last line, in the form \"ANSWER: <answer>\".";

/// A structured prompt, rendered into chat messages at the first model call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prompt {
    /// System messages, in order.
    pub system: Vec<String>,
    /// The user-turn template; placeholders `{input}`, `{choices}`, `{letters}`. `None`
    /// means `{input}`.
    pub template: Option<String>,
    /// Worked examples shown before the question (from the dev split).
    pub shots: Vec<Arc<Sample>>,
    /// Show the choices as a lettered list.
    pub choices: bool,
    /// The answer instruction appended to the user turn.
    pub instruction: Option<String>,
    /// Ask for reasoning before the answer.
    pub chain_of_thought: bool,
}

impl Prompt {
    /// The user turn for `sample`.
    pub fn user_turn(&self, sample: &Sample) -> String {
        let template = self.template.as_deref().unwrap_or("{input}");
        let letters: Vec<String> = (0..sample.choices.len())
            .filter_map(Sample::letter)
            .map(String::from)
            .collect();
        let mut text = template
            .replace("{input}", &sample.input)
            .replace("{choices}", &sample.lettered_choices())
            .replace("{letters}", &letters.join(", "));
        if self.choices && !template.contains("{choices}") && !sample.choices.is_empty() {
            text.push_str("\n\n");
            text.push_str(&sample.lettered_choices());
        }
        let instruction = match (&self.instruction, self.chain_of_thought) {
            (Some(i), true) => Some(format!("{i} {COT_INSTRUCTION}")),
            (None, true) => Some(COT_INSTRUCTION.to_owned()),
            (i, false) => i.clone(),
        };
        if let Some(i) = instruction {
            text.push_str("\n\n");
            text.push_str(&i);
        }
        text
    }

    /// The assistant turn that answers a few-shot example: its target (with the answer
    /// line chain of thought asks for).
    pub fn shot_answer(&self, shot: &Sample) -> String {
        let answer = shot.target.first().cloned().unwrap_or_default();
        if self.chain_of_thought {
            format!("ANSWER: {answer}")
        } else {
            answer
        }
    }

    /// The full chat for `sample`: system messages, shots, then the question.
    pub fn render(&self, sample: &Sample) -> Vec<Message> {
        let mut out: Vec<Message> = self.system.iter().map(Message::system).collect();
        for shot in &self.shots {
            out.push(Message::user(self.user_turn(shot)));
            out.push(Message::assistant(self.shot_answer(shot)));
        }
        out.push(Message::user(self.user_turn(sample)));
        out
    }
}

/// Which per-sample limit stopped the solver chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitHit {
    /// The sample's wall-clock limit.
    Time,
    /// The sample's token limit (input plus output over all calls).
    Tokens,
    /// The agent loop's turn (model call) limit.
    Messages,
    /// The agent loop's tool-call limit.
    ToolCalls,
    /// The conversation outgrew the model's context window.
    Context,
}

/// Everything a sample accumulates while it is solved.
#[derive(Debug, Clone)]
pub struct TaskState {
    /// The item.
    pub sample: Arc<Sample>,
    /// Epoch, from 1.
    pub epoch: u32,
    /// This sample-epoch's seed (derived from the run seed, the id and the epoch).
    pub seed: u64,
    /// The prompt being built.
    pub prompt: Prompt,
    /// The conversation actually exchanged with the model (empty until the first call).
    pub messages: Vec<Message>,
    /// The final completion the scorers read.
    pub output: Option<String>,
    /// Tokens used by the model under test, over all calls of this attempt.
    pub usage: Usage,
    /// Tokens used by the judge model.
    pub judge_usage: Usage,
    /// Model calls made (model under test).
    pub calls: u32,
    /// Errors of provider-level retries (from `CallMeta`), so flakiness stays visible.
    pub call_retries: Vec<String>,
    /// Solver by-products: log-likelihood table, best-of-n candidates, critique.
    pub store: Map<String, Value>,
    /// Set when a limit stopped the chain early.
    pub limit: Option<LimitHit>,
    /// The sample's sandboxed working directory (tool-using tasks), removed when the last
    /// reference is dropped.
    pub workspace: Option<Arc<rsp_sandbox::Workspace>>,
    /// Tools the agent may call (set by `use_tools`).
    pub tools: Vec<crate::tools::Tool>,
}

impl TaskState {
    /// A fresh state for one sample-epoch.
    pub fn new(sample: Arc<Sample>, epoch: u32, seed: u64) -> Self {
        Self {
            sample,
            epoch,
            seed,
            prompt: Prompt::default(),
            messages: Vec::new(),
            output: None,
            usage: Usage::default(),
            judge_usage: Usage::default(),
            calls: 0,
            call_retries: Vec::new(),
            store: Map::new(),
            limit: None,
            workspace: None,
            tools: Vec::new(),
        }
    }

    /// The chat so far, rendering the prompt if no call has been made yet.
    pub fn conversation(&self) -> Vec<Message> {
        if self.messages.is_empty() {
            self.prompt.render(&self.sample)
        } else {
            self.messages.clone()
        }
    }

    /// The completion, or "" when nothing was generated.
    pub fn completion(&self) -> &str {
        self.output.as_deref().unwrap_or("")
    }

    /// Generates from the model under test on the current conversation, appends the first
    /// choice to the transcript and makes it the output.
    pub async fn generate(
        &mut self,
        ctx: &SolveContext,
        config: &GenerateConfig,
    ) -> Result<Generation, Error> {
        let conversation = self.conversation();
        let generation = self.call_model(ctx, &conversation, config).await?;
        self.messages = conversation;
        self.messages
            .push(Message::assistant(generation.text().to_owned()));
        self.output = Some(generation.text().to_owned());
        Ok(generation)
    }

    /// Calls the model under test on `messages` without touching the transcript, recording
    /// usage, retries and the token limit.
    pub async fn call_model(
        &mut self,
        ctx: &SolveContext,
        messages: &[Message],
        config: &GenerateConfig,
    ) -> Result<Generation, Error> {
        let g = ctx.model.generate(messages, config).await?;
        self.calls += 1;
        add_usage(&mut self.usage, g.usage);
        self.call_retries.extend(g.meta.errors.iter().cloned());
        self.check_tokens(ctx);
        Ok(g)
    }

    /// Scores continuations with the model under test (log-likelihood).
    pub async fn score(
        &mut self,
        ctx: &SolveContext,
        request: &ScoreRequest,
    ) -> Result<Scores, Error> {
        let s = ctx.model.score(request).await?;
        self.calls += 1;
        self.call_retries.extend(s.meta.errors.iter().cloned());
        Ok(s)
    }

    /// Calls the judge model (greedy), recording its usage separately.
    pub async fn call_judge(
        &mut self,
        ctx: &SolveContext,
        messages: &[Message],
        max_tokens: u32,
    ) -> Result<Generation, Error> {
        let judge = ctx
            .judge
            .as_ref()
            .ok_or_else(|| Error::JudgeRequired(ctx.task.clone()))?;
        let g = judge
            .generate(messages, &GenerateConfig::greedy(max_tokens))
            .await?;
        add_usage(&mut self.judge_usage, g.usage);
        self.call_retries.extend(g.meta.errors.iter().cloned());
        Ok(g)
    }

    fn check_tokens(&mut self, ctx: &SolveContext) {
        if ctx
            .token_limit
            .is_some_and(|limit| self.usage.input_tokens + self.usage.output_tokens >= limit)
        {
            self.limit = Some(LimitHit::Tokens);
        }
    }
}

fn add_usage(total: &mut Usage, more: Usage) {
    total.input_tokens += more.input_tokens;
    total.output_tokens += more.output_tokens;
}

/// What solvers and scorers may use: the models, the generation settings, the dev split.
#[derive(Debug, Clone)]
pub struct SolveContext {
    /// Task id (`suite/task`), for messages.
    pub task: String,
    /// The model under test.
    pub model: Arc<dyn ModelApi>,
    /// The judge model, when the run has one.
    pub judge: Option<Arc<dyn ModelApi>>,
    /// Generation settings, with this sample-epoch's seed already set.
    pub generate: GenerateConfig,
    /// The dev split (few-shot examples; never scored).
    pub dev: Arc<[Arc<Sample>]>,
    /// Token budget per sample (input plus output, all calls).
    pub token_limit: Option<u64>,
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use rsp_model::MockModel;

    /// A context around a mock model, with an optional mock judge and dev split.
    pub fn ctx(model: MockModel, judge: Option<MockModel>, dev: Vec<Sample>) -> SolveContext {
        SolveContext {
            task: "test/task".into(),
            model: Arc::new(model),
            judge: judge.map(|j| Arc::new(j) as Arc<dyn ModelApi>),
            generate: GenerateConfig {
                seed: Some(7),
                ..GenerateConfig::greedy(64)
            },
            dev: dev.into_iter().map(Arc::new).collect(),
            token_limit: None,
        }
    }

    /// A fresh state for `sample`.
    pub fn state(sample: Sample) -> TaskState {
        TaskState::new(Arc::new(sample), 1, 7)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::sample::testing::mc;
    use rsp_model::MockModel;

    #[test]
    fn prompt_renders_shots_like_the_question() {
        let p = Prompt {
            system: vec!["Be brief.".into()],
            template: Some("Q: {input}".into()),
            shots: vec![Arc::new(mc("d1", "A"))],
            choices: true,
            instruction: Some("Reply with the letter.".into()),
            chain_of_thought: true,
        };
        let msgs = p.render(&mc("x", "B"));
        assert_eq!(msgs.len(), 4);
        assert_eq!(
            msgs[1].content, msgs[3].content,
            "shot formatted like the question"
        );
        assert!(msgs[3].content.starts_with("Q: What is"));
        assert!(msgs[3].content.contains("\n\nA) newton\n"));
        assert!(msgs[3].content.ends_with(COT_INSTRUCTION));
        assert_eq!(msgs[2].content, "ANSWER: A");
    }

    #[tokio::test]
    async fn generate_records_transcript_usage_and_token_limit() {
        let mut c = ctx(MockModel::text("one two three"), None, vec![]);
        c.token_limit = Some(5);
        let mut s = state(mc("x", "A"));
        s.generate(&c, &c.generate.clone()).await.unwrap();
        assert_eq!(s.completion(), "one two three");
        assert_eq!(s.messages.len(), 2);
        assert_eq!(s.calls, 1);
        assert!(s.usage.output_tokens == 3);
        assert_eq!(s.limit, Some(LimitHit::Tokens));
        assert!(matches!(
            s.call_judge(&c, &[], 5).await,
            Err(Error::JudgeRequired(_))
        ));
    }
}
