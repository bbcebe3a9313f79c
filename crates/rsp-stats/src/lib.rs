//! Decision-grade statistics for rsp: every eval number with an honest
//! error bar, and the arithmetic behind "this threshold is ruled out".
//!
//! # Design
//!
//! * **One result type.** Every interval is an [`Interval`] carrying the
//!   estimate, both bounds, n, the [`Method`], the [`Confidence`] and the
//!   [`Side`]. Its `Display` prints `0.31 [0.25, 0.38] (Wilson, 95%, n=150)`,
//!   so a number can never travel to a report without its method and level.
//! * **Errors, never NaN.** Every function validates its inputs and returns
//!   a typed [`Error`] for empty data, k > n, a confidence outside (0, 1) and
//!   so on. A NaN upper bound compares false against every line and would
//!   silently read as "ruled out"; this crate makes that impossible.
//! * **Reproducible randomness.** Bootstrap and Monte Carlo take a `u64`
//!   seed and draw from ChaCha8 streams assigned to fixed-size chunks of
//!   work, so results are bit-for-bit identical for a given seed whatever
//!   the number of rayon threads. There is no global RNG.
//! * **No hand-rolled quantiles.** Normal, t, chi-square, beta and binomial
//!   distributions come from `statrs` (see [`dist`]).
//! * **Pure numerics.** No I/O, no logging; callers own presentation.
//!
//! # Map
//!
//! | Need | Module |
//! |---|---|
//! | binary metric CI (Wilson, Clopper–Pearson, one-sided bounds) | [`proportion`] |
//! | numeric metric CI (Student t) | [`mean`] |
//! | percentile / BCa bootstrap | [`mod@bootstrap`] |
//! | clustered standard errors, design effect | [`cluster`] |
//! | paired model comparison (McNemar, paired t, paired bootstrap) | [`paired`] |
//! | minimum detectable effect, samples needed to rule out | [`power`] |
//! | pass@k, `at_least(k)` | [`mod@pass_at_k`] |
//! | false-alarm / miss rates of the rule-out decision | [`calibration`] |
//! | quantiles | [`dist`] |
//!
//! # Which interval to use
//!
//! For 0/1 scores use [`proportion::wilson`] (Clopper–Pearson if a
//! guaranteed-conservative interval is wanted). For numeric scores use
//! [`mean::t_interval`] when n is a few hundred or more and the scores are
//! not heavily skewed, otherwise [`bootstrap::bootstrap_mean`] (BCa). When
//! items share a passage, template or task family, report
//! [`cluster::clustered_mean`] and its design effect (Miller 2024,
//! arXiv 2411.00640).

#![deny(missing_docs)]

pub mod bootstrap;
pub mod calibration;
pub mod cluster;
pub mod dist;
mod error;
mod interval;
pub mod mean;
pub mod paired;
pub mod pass_at_k;
pub mod power;
pub mod proportion;
mod rng;

pub use bootstrap::{BootstrapConfig, BootstrapMethod, bootstrap, bootstrap_mean};
pub use calibration::{
    MonteCarloEstimate, OperatingPoint, RuleOutScenario, cannot_rule_out, cannot_rule_out_exact,
    cannot_rule_out_monte_carlo,
};
pub use cluster::{ClusteredMean, clustered_mean};
pub use error::{Error, Result};
pub use interval::{Confidence, Interval, Method, Side};
pub use mean::{Summary, summarize, t_interval, t_upper};
pub use paired::{
    McNemarMethod, PairedComparison, PairedTable, PairedTest, mcnemar, paired_bootstrap, paired_t,
};
pub use pass_at_k::{at_least, pass_at, pass_at_k};
pub use power::{
    Alternative, RuleOutPlan, TestDesign, mde_mean, mde_proportion, samples_to_rule_out,
};
pub use proportion::{
    clopper_pearson, clopper_pearson_lower, clopper_pearson_upper, wilson, wilson_lower,
    wilson_upper,
};
pub use rng::CHUNK;
