//! `generate`: one call to the model under test.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::Solver;
use crate::error::Error;
use crate::state::{SolveContext, TaskState};

/// Calls the model on the conversation; the first choice becomes the output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generate {}

#[async_trait]
impl Solver for Generate {
    async fn solve(&self, state: &mut TaskState, ctx: &SolveContext) -> Result<(), Error> {
        state.generate(ctx, &ctx.generate).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::testing::text;
    use crate::state::testing::{ctx, state};
    use rsp_model::MockModel;

    #[tokio::test]
    async fn output_is_the_completion_and_errors_propagate() {
        let c = ctx(MockModel::echo(), None, vec![]);
        let mut s = state(text("x", "hello", ""));
        Generate {}.solve(&mut s, &c).await.unwrap();
        assert_eq!(s.completion(), "hello");
        let bad = ctx(MockModel::from_script("error").unwrap(), None, vec![]);
        let mut s = state(text("x", "hello", ""));
        assert!(matches!(
            Generate {}.solve(&mut s, &bad).await,
            Err(Error::Model(_))
        ));
        assert_eq!(s.output, None);
    }
}
