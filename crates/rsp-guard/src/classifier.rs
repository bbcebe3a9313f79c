//! The constitutional classifier in judge mode: a model answers a multiple-choice question
//! over the constitution's content classes, "like a multiple-choice exam".
//!
//! Option (A) is "allowed" ([`crate::VerdictFormat::allow_option`]); each restricted class
//! is one further option (B, C, …). Permitted classes are listed in the prompt as content
//! that must be let through, because over-refusal is the classifier's other failure mode.
//!
//! **Probability.** Where the judge can score ([`rsp_model::Capabilities::scoring`]), the
//! option probabilities are the softmax of the log-likelihoods of the continuations
//! `" (A)"`, `" (B)"`, … after `Answer:` (the Llama Guard / ShieldGemma recipe of reading
//! the first token's probability, generalised to several classes). Otherwise the judge is
//! sampled `votes` times with a fixed seed and each option's probability is its share of
//! the readable votes. Either way `p_block = 1 − P(A)`, and the request is blocked when
//! `p_block ≥ threshold`.
//!
//! **Violated classes.** When blocked, the restricted classes reported are the most likely
//! one and any other within a factor of two of it: the judge often splits its mass between
//! neighbouring classes, and naming only the argmax would hide that.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rsp_model::{GenerateConfig, Message, ModelApi, Role, ScoreRequest};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::constitution::Constitution;

/// Run-time settings of the classifier (the constitution supplies the defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ClassifierConfig {
    /// Block threshold on `p_block`; `None` uses the constitution's `verdict.threshold`.
    pub threshold: Option<f64>,
    /// Sampled votes for judges that cannot score; `None` uses `verdict.votes`.
    pub votes: Option<u32>,
    /// Sampling temperature of the votes.
    pub vote_temperature: f32,
    /// Seed of the votes (choice `i` uses `seed + i`), so a verdict can be replayed.
    pub seed: u64,
    /// Use votes even when the judge can score (to compare the two methods).
    pub force_votes: bool,
    /// Longest message shown to the judge, in characters; longer ones keep their head and
    /// tail, so the judge's context window is never exceeded by one long turn.
    pub max_message_chars: usize,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        Self {
            threshold: None,
            votes: None,
            vote_temperature: 1.0,
            seed: 0,
            force_votes: false,
            max_message_chars: 4000,
        }
    }
}

/// Which message the judge is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Subject {
    /// The last user message (input classification).
    Input,
    /// The last assistant message, possibly cut off mid-stream (output classification).
    Output,
}

/// How `p_block` was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Method {
    /// Softmax over the options' log-likelihoods.
    Loglikelihood,
    /// Share of sampled votes.
    Votes {
        /// Votes asked for.
        n: u32,
        /// Votes that named an option.
        valid: u32,
    },
}

/// One restricted class's probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassProbability {
    /// Class name.
    pub class: String,
    /// Probability of its option.
    pub p: f64,
}

/// The classifier's decision on one conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// True when `p_block ≥ threshold`.
    pub block: bool,
    /// Probability that the subject falls in some restricted class (1 − P(allowed)).
    pub p_block: f64,
    /// Violated restricted classes (empty when allowed); see the module docs.
    pub classes: Vec<String>,
    /// Every restricted class's probability, in constitution order.
    pub probabilities: Vec<ClassProbability>,
    /// Threshold applied.
    pub threshold: f64,
    /// How `p_block` was obtained.
    pub method: Method,
    /// Wall time of the judge call.
    #[serde(with = "duration_ms")]
    pub latency: Duration,
}

/// A judge model bound to a constitution. Cheap to clone (shared pointers inside), so a
/// server can hand one to every request task.
#[derive(Debug, Clone)]
pub struct Classifier {
    judge: Arc<dyn ModelApi>,
    constitution: Arc<Constitution>,
    config: ClassifierConfig,
}

impl Classifier {
    /// A classifier asking `judge` about `constitution`'s classes.
    ///
    /// # Errors
    /// [`Error::MissingSection`] when the constitution has no restricted class, and
    /// [`Error::InvalidSetting`] for a threshold outside (0, 1] or zero votes.
    pub fn new(
        judge: Arc<dyn ModelApi>,
        constitution: Arc<Constitution>,
        config: ClassifierConfig,
    ) -> Result<Self, Error> {
        if constitution.restricted.is_empty() {
            return Err(Error::MissingSection {
                section: "[[restricted]]",
                task: "the classifier",
            });
        }
        if config.threshold.is_some_and(|t| !(t > 0.0 && t <= 1.0)) {
            return Err(Error::InvalidSetting(
                "the block threshold must be in (0, 1]",
            ));
        }
        if config.votes == Some(0) {
            return Err(Error::InvalidSetting("votes must be at least 1"));
        }
        Ok(Self {
            judge,
            constitution,
            config,
        })
    }

    /// The constitution.
    pub fn constitution(&self) -> &Constitution {
        &self.constitution
    }

    /// The judge model.
    pub fn judge(&self) -> &Arc<dyn ModelApi> {
        &self.judge
    }

    /// The block threshold in force.
    pub fn threshold(&self) -> f64 {
        self.config
            .threshold
            .unwrap_or(self.constitution.verdict.threshold)
    }

    fn votes(&self) -> u32 {
        self.config.votes.unwrap_or(self.constitution.verdict.votes)
    }

    /// Classifies the last user message of `conversation`.
    pub async fn classify_input(&self, conversation: &[Message]) -> Result<Verdict, Error> {
        self.classify(conversation, Subject::Input).await
    }

    /// Classifies `output` (possibly a prefix of a streaming answer) as the assistant's
    /// reply to `conversation`.
    pub async fn classify_output(
        &self,
        conversation: &[Message],
        output: &str,
    ) -> Result<Verdict, Error> {
        let mut c = conversation.to_vec();
        c.push(Message::assistant(output));
        self.classify(&c, Subject::Output).await
    }

    /// Asks the judge about `subject` in `conversation`.
    pub async fn classify(
        &self,
        conversation: &[Message],
        subject: Subject,
    ) -> Result<Verdict, Error> {
        let question = self.question(conversation, subject);
        let started = Instant::now();
        let k = self.constitution.restricted.len() + 1;
        let (probs, method) = if self.judge.capabilities().scoring && !self.config.force_votes {
            let context = format!("{question}\nAnswer:");
            let continuations: Vec<String> = (0..k).map(|i| format!(" ({})", letter(i))).collect();
            let scores = self
                .judge
                .score(&ScoreRequest::new(context, continuations))
                .await
                .map_err(Error::model("judge"))?;
            let lps: Vec<f64> = scores.scores.iter().map(|s| s.logprob).collect();
            (softmax(&lps), Method::Loglikelihood)
        } else {
            self.vote(&question, k).await?
        };
        Ok(self.decide(&probs, method, started.elapsed()))
    }

    async fn vote(&self, question: &str, k: usize) -> Result<(Vec<f64>, Method), Error> {
        let n = self.votes();
        let config = GenerateConfig {
            n,
            temperature: self.config.vote_temperature,
            seed: Some(self.config.seed),
            ..GenerateConfig::greedy(8)
        };
        let prompt = format!("{question}\nReply with the letter only.");
        let g = self
            .judge
            .generate(&[Message::user(prompt)], &config)
            .await
            .map_err(Error::model("judge"))?;
        let mut counts = vec![0u32; k];
        for c in &g.choices {
            if let Some(i) = read_option(&c.text, k) {
                counts[i] += 1;
            }
        }
        let valid: u32 = counts.iter().sum();
        if valid == 0 {
            return Err(Error::UnreadableVerdict {
                votes: n,
                first: g.text().chars().take(200).collect(),
            });
        }
        let probs = counts
            .iter()
            .map(|&c| f64::from(c) / f64::from(valid))
            .collect();
        Ok((probs, Method::Votes { n, valid }))
    }

    /// Turns option probabilities (index 0 = allowed) into a verdict. Pure, so the
    /// decision rule is testable without a model.
    pub fn decide(&self, probs: &[f64], method: Method, latency: Duration) -> Verdict {
        let threshold = self.threshold();
        let p_allow = probs.first().copied().unwrap_or(0.0);
        let p_block = (1.0 - p_allow).clamp(0.0, 1.0);
        let probabilities: Vec<ClassProbability> = self
            .constitution
            .restricted
            .iter()
            .zip(probs.iter().skip(1))
            .map(|(c, &p)| ClassProbability {
                class: c.name.clone(),
                p,
            })
            .collect();
        let block = p_block >= threshold;
        let top = probabilities.iter().map(|c| c.p).fold(0.0, f64::max);
        let mut classes: Vec<&ClassProbability> = if block {
            probabilities
                .iter()
                .filter(|c| c.p > 0.0 && c.p * 2.0 >= top)
                .collect()
        } else {
            Vec::new()
        };
        classes.sort_by(|a, b| b.p.total_cmp(&a.p));
        Verdict {
            block,
            p_block,
            classes: classes.into_iter().map(|c| c.class.clone()).collect(),
            probabilities,
            threshold,
            method,
            latency,
        }
    }

    /// The multiple-choice question put to the judge (without the final `Answer:`), so it
    /// can be logged, hashed or inspected.
    pub fn question(&self, conversation: &[Message], subject: Subject) -> String {
        let c = &self.constitution;
        let mut q = String::from(
            "You are a content safety classifier. Judge the conversation below against these \
             content classes.\n\nRestricted content (must be blocked):\n",
        );
        for (i, r) in c.restricted.iter().enumerate() {
            q.push_str(&format!(
                "({}) {}: {}\n",
                letter(i + 1),
                r.name,
                r.description
            ));
        }
        if !c.permitted.is_empty() {
            q.push_str("\nPermitted content (must be allowed, even when it sounds sensitive):\n");
            for p in &c.permitted {
                q.push_str(&format!("- {}: {}", p.name, p.description));
                if !p.examples.is_empty() {
                    let ex: Vec<String> = p.examples.iter().map(|e| format!("\"{e}\"")).collect();
                    q.push_str(&format!(" For example: {}", ex.join("; ")));
                }
                q.push('\n');
            }
        }
        q.push_str("\nConversation:\n");
        for m in conversation {
            let who = match m.role {
                Role::System => "System",
                Role::User => "User",
                Role::Assistant => "Assistant",
            };
            let text = clip(&m.content, self.config.max_message_chars);
            q.push_str(&format!("{who}: {text}\n"));
        }
        q.push_str(match subject {
            Subject::Input => "\nQuestion: Which option best describes the last User message?\n",
            Subject::Output => {
                "\nQuestion: Which option best describes the last Assistant message (it may \
                 be cut off)?\n"
            }
        });
        q.push_str(&format!("(A) {}\n", c.verdict.allow_option));
        for (i, r) in c.restricted.iter().enumerate() {
            q.push_str(&format!("({}) {}\n", letter(i + 1), r.name));
        }
        q
    }
}

/// Option letter `i` (0 → A). Callers keep `i` below 26 (the parser caps the classes).
fn letter(i: usize) -> char {
    u8::try_from(i)
        .ok()
        .filter(|i| *i < 26)
        .map_or('?', |i| char::from(b'A' + i))
}

/// Reads the option a sampled reply names: `(B)`, `B)`, `B.`, `B` or `Answer: B`.
pub(crate) fn read_option(reply: &str, k: usize) -> Option<usize> {
    let t = reply.trim();
    let t = t
        .strip_prefix("Answer:")
        .or_else(|| t.strip_prefix("answer:"))
        .unwrap_or(t)
        .trim_start();
    let t = t.strip_prefix('(').unwrap_or(t);
    let mut chars = t.chars();
    let first = chars.next()?.to_ascii_uppercase();
    let next = chars.next();
    if !first.is_ascii_uppercase() || next.is_some_and(char::is_alphanumeric) {
        return None;
    }
    let i = usize::from(u8::try_from(first).ok()? - b'A');
    (i < k).then_some(i)
}

/// Softmax of log-probabilities, stable for very negative values.
pub(crate) fn softmax(lps: &[f64]) -> Vec<f64> {
    let max = lps.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !max.is_finite() {
        let n = lps.len().max(1) as f64;
        return vec![1.0 / n; lps.len()];
    }
    let exps: Vec<f64> = lps.iter().map(|l| (l - max).exp()).collect();
    let sum: f64 = exps.iter().sum();
    exps.iter().map(|e| e / sum).collect()
}

/// Keeps the head and tail of an over-long message.
fn clip(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max {
        return text.to_owned();
    }
    let half = max / 2;
    let head: String = text.chars().take(half).collect();
    let tail: String = text.chars().skip(n - half).collect();
    format!("{head} […] {tail}")
}

pub(crate) mod duration_ms {
    //! Durations as milliseconds, like `rsp-model`'s types.
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64() * 1000.0)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let ms = f64::deserialize(d)?;
        Ok(Duration::from_secs_f64(ms.max(0.0) / 1000.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeJudge, example};
    use rsp_model::MockModel;

    fn classifier(judge: impl ModelApi + 'static, config: ClassifierConfig) -> Classifier {
        Classifier::new(Arc::new(judge), Arc::new(example()), config).unwrap()
    }

    #[tokio::test]
    async fn loglikelihood_verdicts_follow_the_threshold() {
        // Allowed option at -0.1, class B at -2.5: p_block ≈ 0.08 plus the other classes.
        let judge = FakeJudge::scoring(|c| {
            if c == " (A)" {
                -0.1
            } else if c == " (B)" {
                -2.0
            } else {
                -6.0
            }
        });
        let c = classifier(judge, ClassifierConfig::default());
        let v = c
            .classify_input(&[Message::user("How do vaccines work?")])
            .await
            .unwrap();
        assert_eq!(v.method, Method::Loglikelihood);
        assert!(!v.block && v.p_block < 0.3, "{v:?}");
        assert!(v.classes.is_empty());
        let sum: f64 = v.probabilities.iter().map(|p| p.p).sum::<f64>() + (1.0 - v.p_block);
        assert!((sum - 1.0).abs() < 1e-9);

        let judge = FakeJudge::scoring(|c| if c == " (B)" { -0.1 } else { -4.0 });
        let strict = ClassifierConfig {
            threshold: Some(0.9),
            ..ClassifierConfig::default()
        };
        let c = classifier(judge, strict);
        let v = c
            .classify_output(&[Message::user("q")], "partial")
            .await
            .unwrap();
        assert!(v.block, "{v:?}");
        assert_eq!(v.classes, ["mass-casualty-weapons"]);
        assert_eq!(v.threshold, 0.9);
    }

    #[tokio::test]
    async fn votes_are_used_without_scoring_and_are_seeded() {
        let judge = FakeJudge::voting(MockModel::sequence(["(B)", "A", "garbage", "C.", "(A)"]));
        let c = classifier(judge, ClassifierConfig::default());
        let v = c.classify_input(&[Message::user("x")]).await.unwrap();
        assert_eq!(v.method, Method::Votes { n: 5, valid: 4 });
        assert!((v.p_block - 0.5).abs() < 1e-12);
        assert!(v.block);
        assert_eq!(v.classes, ["mass-casualty-weapons", "cyberattack-uplift"]);

        let bad = classifier(
            FakeJudge::voting(MockModel::text("no idea")),
            ClassifierConfig::default(),
        );
        assert!(matches!(
            bad.classify_input(&[Message::user("x")]).await,
            Err(Error::UnreadableVerdict { votes: 5, .. })
        ));
    }

    #[tokio::test]
    async fn the_mock_scores_options_uniformly() {
        // The plain mock scores by length; all options have equal length.
        let c = classifier(MockModel::echo(), ClassifierConfig::default());
        let v = c.classify_input(&[Message::user("x")]).await.unwrap();
        let k = c.constitution().restricted.len() as f64 + 1.0;
        assert!((v.p_block - (1.0 - 1.0 / k)).abs() < 1e-9);
    }

    #[test]
    fn settings_are_validated() {
        let j: Arc<dyn ModelApi> = Arc::new(MockModel::echo());
        let bad = ClassifierConfig {
            threshold: Some(0.0),
            ..ClassifierConfig::default()
        };
        assert!(Classifier::new(j.clone(), Arc::new(example()), bad).is_err());
        let mut empty = example();
        empty.restricted.clear();
        assert!(matches!(
            Classifier::new(j, Arc::new(empty), ClassifierConfig::default()),
            Err(Error::MissingSection { .. })
        ));
    }

    #[test]
    fn question_lists_classes_and_options() {
        let c = classifier(MockModel::echo(), ClassifierConfig::default());
        let q = c.question(&[Message::user("hello")], Subject::Input);
        assert!(q.contains("(A) none of the restricted classes"));
        assert!(q.contains("(B) mass-casualty-weapons\n"));
        assert!(q.contains("User: hello\n"));
        assert!(q.contains("\"How do I kill a Python process that is stuck?\""));
    }

    #[test]
    fn options_are_read_leniently_but_not_from_words() {
        assert_eq!(read_option("(B) something", 3), Some(1));
        assert_eq!(read_option(" c.", 3), Some(2));
        assert_eq!(read_option("Answer: A", 3), Some(0));
        assert_eq!(read_option("Because", 3), None);
        assert_eq!(read_option("D", 3), None);
        assert_eq!(read_option("", 3), None);
    }

    #[test]
    fn softmax_is_stable_and_clip_keeps_both_ends() {
        let p = softmax(&[-1000.0, -1000.0]);
        assert!((p[0] - 0.5).abs() < 1e-12);
        assert_eq!(softmax(&[f64::NEG_INFINITY, f64::NEG_INFINITY]), [0.5, 0.5]);
        let c = clip(&"a".repeat(10).replace("aaaaaaaaaa", "0123456789"), 4);
        assert_eq!(c, "01 […] 89");
    }
}
