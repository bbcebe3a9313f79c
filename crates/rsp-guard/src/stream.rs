//! Streaming output classification: check a growing answer every k characters or deltas,
//! and once more at the end, so a generation that turns unsafe is cut off mid-stream.
//!
//! The paper's output classifier scores every token prefix with a value head; a judge
//! model is too slow for that, so the prefix is re-judged at a fixed cadence instead.
//! Checking every k units bounds both the judge's cost (about n/k calls for n units) and
//! how much unsafe text can escape before the cut (at most k units). [`StreamGuard`] is the
//! incremental form a proxy drives; [`first_unsafe_point`] replays a finished answer
//! through it, for evaluation.

use rsp_model::Message;
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::classifier::{Classifier, Verdict};

/// How often to re-judge the growing output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckEvery {
    /// After at least this many new characters.
    Chars(usize),
    /// After this many new stream deltas (one delta is about one token on OpenAI-style
    /// streams).
    Deltas(usize),
}

/// Watches one streaming answer.
#[derive(Debug)]
pub struct StreamGuard {
    classifier: Classifier,
    conversation: Vec<Message>,
    every: CheckEvery,
    text: String,
    chars_since: usize,
    deltas_since: usize,
    checks: usize,
    last: Option<Verdict>,
    cut: Option<usize>,
}

impl StreamGuard {
    /// A guard for the answer to `conversation`.
    ///
    /// # Errors
    /// [`Error::InvalidSetting`] when `every` is zero.
    pub fn new(
        classifier: Classifier,
        conversation: Vec<Message>,
        every: CheckEvery,
    ) -> Result<Self, Error> {
        if matches!(every, CheckEvery::Chars(0) | CheckEvery::Deltas(0)) {
            return Err(Error::InvalidSetting("the check interval must be positive"));
        }
        Ok(Self {
            classifier,
            conversation,
            every,
            text: String::new(),
            chars_since: 0,
            deltas_since: 0,
            checks: 0,
            last: None,
            cut: None,
        })
    }

    /// Appends a delta and, when the interval is reached, re-judges the whole output so
    /// far. Returns the verdict when a check ran; the caller stops forwarding when it
    /// blocks. After a block, further deltas are ignored and the blocking verdict is
    /// returned again.
    pub async fn push(&mut self, delta: &str) -> Result<Option<Verdict>, Error> {
        if self.cut.is_some() {
            return Ok(self.last.clone());
        }
        self.text.push_str(delta);
        self.chars_since += delta.chars().count();
        self.deltas_since += 1;
        let due = match self.every {
            CheckEvery::Chars(k) => self.chars_since >= k,
            CheckEvery::Deltas(k) => self.deltas_since >= k,
        };
        if due {
            return self.check().await.map(Some);
        }
        Ok(None)
    }

    /// The final check, at the end of the stream. It is skipped (and the last verdict
    /// returned) when nothing arrived since the last check.
    pub async fn finish(&mut self) -> Result<Verdict, Error> {
        if let Some(last) = &self.last
            && (self.cut.is_some() || (self.chars_since == 0 && self.deltas_since == 0))
        {
            return Ok(last.clone());
        }
        self.check().await
    }

    async fn check(&mut self) -> Result<Verdict, Error> {
        let v = self
            .classifier
            .classify_output(&self.conversation, &self.text)
            .await?;
        self.checks += 1;
        self.chars_since = 0;
        self.deltas_since = 0;
        if v.block {
            self.cut = Some(self.text.len());
        }
        self.last = Some(v.clone());
        Ok(v)
    }

    /// The output received so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Judge calls made.
    pub fn checks(&self) -> usize {
        self.checks
    }

    /// Byte length of the output when a check blocked it, if one did.
    pub fn cut_at(&self) -> Option<usize> {
        self.cut
    }
}

/// Where a replayed answer was cut, if anywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamOutcome {
    /// Byte offset into the output where the first blocking check happened (the text
    /// before it was already delivered); `None` when the whole answer passed.
    pub cut_at: Option<usize>,
    /// The blocking verdict, or the final one.
    pub verdict: Verdict,
    /// Judge calls made.
    pub checks: usize,
}

/// Replays a finished `output` through a [`StreamGuard`] in chunks of the interval
/// (characters; a delta interval counts whitespace-separated words as deltas) and returns
/// the first point where it turned unsafe.
pub async fn first_unsafe_point(
    classifier: &Classifier,
    conversation: &[Message],
    output: &str,
    every: CheckEvery,
) -> Result<StreamOutcome, Error> {
    let mut guard = StreamGuard::new(classifier.clone(), conversation.to_vec(), every)?;
    let pieces: Vec<&str> = match every {
        CheckEvery::Chars(_) => output
            .char_indices()
            .map(|(i, c)| &output[i..i + c.len_utf8()])
            .collect(),
        CheckEvery::Deltas(_) => output.split_inclusive(char::is_whitespace).collect(),
    };
    for piece in pieces {
        if let Some(v) = guard.push(piece).await?
            && v.block
        {
            return Ok(StreamOutcome {
                cut_at: guard.cut_at(),
                verdict: v,
                checks: guard.checks(),
            });
        }
    }
    let verdict = guard.finish().await?;
    Ok(StreamOutcome {
        cut_at: guard.cut_at(),
        verdict,
        checks: guard.checks(),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::ClassifierConfig;
    use crate::testing::{FakeJudge, example};
    use rsp_model::MockModel;

    /// A judge that finds the output unsafe once it contains "UNSAFE".
    fn judge() -> Classifier {
        let fake = FakeJudge::scoring_in_context(MockModel::echo(), |ctx, c| {
            let out = ctx.rsplit("Assistant: ").next().unwrap_or("");
            let hot = if out.contains("UNSAFE") {
                " (C)"
            } else {
                " (A)"
            };
            if c == hot { 0.0 } else { -8.0 }
        });
        Classifier::new(
            Arc::new(fake),
            Arc::new(example()),
            ClassifierConfig::default(),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn cuts_at_the_first_unsafe_check() {
        let c = judge();
        let out = "one two three four UNSAFE five six seven";
        let r = first_unsafe_point(&c, &[Message::user("q")], out, CheckEvery::Chars(10))
            .await
            .unwrap();
        // Checks after 10, 20 and 30 chars; "UNSAFE" ends at char 25.
        assert_eq!(r.cut_at, Some(30));
        assert_eq!(r.checks, 3);
        assert!(r.verdict.block);
        assert_eq!(r.verdict.classes, ["cyberattack-uplift"]);

        let safe = first_unsafe_point(&c, &[], "all fine here", CheckEvery::Deltas(2))
            .await
            .unwrap();
        assert_eq!(safe.cut_at, None);
        assert!(!safe.verdict.block);
        // Three words: a check after two, and the final check for the third.
        assert_eq!(safe.checks, 2);
    }

    #[tokio::test]
    async fn guard_ignores_deltas_after_a_block_and_skips_redundant_final_checks() {
        let mut g = StreamGuard::new(judge(), vec![], CheckEvery::Deltas(1)).unwrap();
        assert!(!g.push("ok ").await.unwrap().unwrap().block);
        assert!(g.push("UNSAFE ").await.unwrap().unwrap().block);
        assert!(g.push("more").await.unwrap().unwrap().block);
        assert_eq!(g.text(), "ok UNSAFE ");
        assert!(g.finish().await.unwrap().block);
        assert_eq!(g.checks(), 2);
        assert!(StreamGuard::new(judge(), vec![], CheckEvery::Chars(0)).is_err());
    }
}
