//! The seam between the proxy and whatever judges a conversation.
//!
//! The proxy never knows how a verdict is reached (a constitutional classifier, a remote
//! judge, a keyword list in tests); it only needs one async call that can fail. Keeping the
//! trait this small lets the classifier crate implement it without the proxy depending on it.

use std::error::Error as StdError;
use std::fmt;

use async_trait::async_trait;
use rsp_model::Message;

/// Which side of the exchange a check looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// The request's messages, before anything is released to the client.
    Input,
    /// The model's output so far (streaming) or in full (non-streaming).
    Output,
}

impl Stage {
    /// The label used in logs and metrics (`input`, `output`).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Input => "input",
            Stage::Output => "output",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A classifier's answer about one conversation (or one output prefix).
#[derive(Debug, Clone, PartialEq)]
pub struct GuardVerdict {
    /// Whether the proxy must block. The guard applies its own threshold, so the proxy never
    /// second-guesses `p_block`.
    pub block: bool,
    /// The calibrated probability that the content should be blocked, in `[0, 1]`; logged and
    /// kept for threshold analysis.
    pub p_block: f64,
    /// The restricted classes the content falls under (empty when allowed, or when the guard
    /// cannot name one). Used as the `class` label of the block counter.
    pub classes: Vec<String>,
}

impl GuardVerdict {
    /// An allow verdict with probability `p_block` of harm.
    pub fn allow(p_block: f64) -> Self {
        Self {
            block: false,
            p_block,
            classes: Vec::new(),
        }
    }

    /// A block verdict naming the violated `classes`.
    pub fn block(p_block: f64, classes: Vec<String>) -> Self {
        Self {
            block: true,
            p_block,
            classes,
        }
    }
}

/// The guard could not reach a verdict. The proxy fails closed on it: the request is blocked
/// and the failure counted.
#[derive(Debug, thiserror::Error)]
#[error("the guard classifier failed")]
pub struct GuardFailure {
    #[source]
    source: Box<dyn StdError + Send + Sync>,
}

impl GuardFailure {
    /// Wraps the cause. Implementations must keep request text and secrets out of it: the
    /// proxy logs the cause chain.
    pub fn new(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self {
            source: source.into(),
        }
    }
}

/// Classifies conversations for the proxy.
///
/// Called once per request on the input and several times per response on the output (every
/// `check_every_chunks` streamed chunks and at the end), possibly concurrently for the same
/// request, so implementations must be cheap to call in parallel.
#[async_trait]
pub trait Guard: Send + Sync + fmt::Debug {
    /// Classifies a conversation. `output` is `None` for input classification and
    /// `Some(text so far)` for output classification (one choice's text).
    async fn classify(
        &self,
        messages: &[Message],
        output: Option<&str>,
    ) -> Result<GuardVerdict, GuardFailure>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_keeps_its_cause() {
        let f = GuardFailure::new("judge returned 503");
        assert_eq!(f.to_string(), "the guard classifier failed");
        let cause = StdError::source(&f).map(ToString::to_string);
        assert_eq!(cause.as_deref(), Some("judge returned 503"));
    }

    #[test]
    fn constructors_set_block() {
        assert!(!GuardVerdict::allow(0.1).block);
        let b = GuardVerdict::block(0.9, vec!["weapons".into()]);
        assert!(b.block);
        assert_eq!(b.classes, ["weapons"]);
    }
}
