//! Compare: two runs paired on sample id.
//!
//! The statistics are `rsp-stats`' paired tests, chosen as `rsp-eval`'s compare chooses
//! them: McNemar with Newcombe's interval when every reduced score is 0 or 1, a seeded
//! paired bootstrap otherwise. The dashboard pairs on the stored primary score (`value`,
//! averaged over epochs) rather than on every scorer, because that is the column the store
//! can hand over for a million samples without reading transcripts; `rsp-eval`'s own
//! compare works on full in-memory results and would pull in the model runtime.

use std::cmp::Ordering;

use rsp_stats::{BootstrapConfig, BootstrapMethod, Confidence, McNemarMethod, PairedTable};

use crate::api::read::get_run;
use crate::api::types::{Comparison, PairDiff, PairTable};
use crate::error::ApiError;
use crate::queries;
use crate::state::AppState;

/// Bootstrap resamples: enough for a stable 95% percentile interval.
const RESAMPLES: usize = 2000;
/// Differing samples listed.
const MAX_DIFFS: usize = 200;

/// Pairs `a` and `b` on sample id and tests `A − B`.
pub async fn compare(state: &AppState, a: &str, b: &str) -> Result<Comparison, ApiError> {
    let run_a = get_run(state, a).await?;
    let run_b = get_run(state, b).await?;
    // Merge-join of two readers in sample-id order: memory is two f64 vectors and two
    // chunks, not two maps of a million ids.
    let mut sa = queries::ReducedValues::new(state, a);
    let mut sb = queries::ReducedValues::new(state, b);
    let mut xa = Vec::new();
    let mut xb = Vec::new();
    let mut differing = Vec::new();
    let (mut only_a, mut only_b) = (0u64, 0u64);
    let mut na = sa.next().await?;
    let mut nb = sb.next().await?;
    loop {
        match (&na, &nb) {
            (None, None) => break,
            (Some(_), None) => {
                only_a += 1;
                na = sa.next().await?;
            }
            (None, Some(_)) => {
                only_b += 1;
                nb = sb.next().await?;
            }
            (Some((ia, x)), Some((ib, y))) => match ia.cmp(ib) {
                Ordering::Less => {
                    only_a += 1;
                    na = sa.next().await?;
                }
                Ordering::Greater => {
                    only_b += 1;
                    nb = sb.next().await?;
                }
                Ordering::Equal => {
                    xa.push(*x);
                    xb.push(*y);
                    if x != y {
                        keep_largest(
                            &mut differing,
                            PairDiff {
                                sample_id: ia.clone(),
                                a: *x,
                                b: *y,
                            },
                        );
                    }
                    na = sa.next().await?;
                    nb = sb.next().await?;
                }
            },
        }
    }
    let n = xa.len();
    if n == 0 {
        return Err(ApiError::unprocessable(
            "the runs share no scored sample id, so there is nothing to pair",
        ));
    }
    let stats_err = |e: rsp_stats::Error| ApiError::unprocessable(format!("cannot compare: {e}"));
    let binary = xa.iter().chain(&xb).all(|&v| v == 0.0 || v == 1.0);
    let confidence = Confidence::P95;
    let (cmp, table) = if binary {
        let ta: Vec<bool> = xa.iter().map(|&v| v == 1.0).collect();
        let tb: Vec<bool> = xb.iter().map(|&v| v == 1.0).collect();
        let t = PairedTable::from_outcomes(&ta, &tb).map_err(stats_err)?;
        let c = rsp_stats::mcnemar(&t, McNemarMethod::Auto, confidence).map_err(stats_err)?;
        (
            c,
            Some(PairTable {
                both: t.both,
                only_a: t.only_a,
                only_b: t.only_b,
                neither: t.neither,
            }),
        )
    } else {
        let config = BootstrapConfig::new(0)
            .with_resamples(RESAMPLES)
            .with_confidence(confidence)
            .with_method(BootstrapMethod::Percentile);
        (
            rsp_stats::paired_bootstrap(&xa, &xb, &config).map_err(stats_err)?,
            None,
        )
    };
    differing.sort_by(by_size);
    differing.truncate(MAX_DIFFS);
    let nf = n as f64;
    Ok(Comparison {
        a: run_a,
        b: run_b,
        n_paired: n as u64,
        mean_a: xa.iter().sum::<f64>() / nf,
        mean_b: xb.iter().sum::<f64>() / nf,
        difference: cmp.difference.estimate(),
        lower: cmp.difference.lower(),
        upper: cmp.difference.upper(),
        confidence: confidence.level(),
        p_value: cmp.p_value,
        test: cmp.to_string(),
        table,
        only_in_a: only_a,
        only_in_b: only_b,
        differing,
    })
}

/// Largest difference first, then by id.
fn by_size(p: &PairDiff, q: &PairDiff) -> Ordering {
    (q.a - q.b)
        .abs()
        .total_cmp(&(p.a - p.b).abs())
        .then_with(|| p.sample_id.cmp(&q.sample_id))
}

/// Keeps the [`MAX_DIFFS`] largest differences seen so far without holding them all:
/// the buffer is pruned back to the limit whenever it doubles.
fn keep_largest(kept: &mut Vec<PairDiff>, d: PairDiff) {
    kept.push(d);
    if kept.len() >= 2 * MAX_DIFFS {
        kept.sort_by(by_size);
        kept.truncate(MAX_DIFFS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_largest_keeps_the_top_differences() {
        let mut kept = Vec::new();
        for i in 0..1000u32 {
            let b = f64::from(i) / 1000.0;
            keep_largest(
                &mut kept,
                PairDiff {
                    sample_id: format!("s{i:04}"),
                    a: 0.0,
                    b,
                },
            );
        }
        kept.sort_by(by_size);
        kept.truncate(MAX_DIFFS);
        assert_eq!(kept.len(), MAX_DIFFS);
        assert_eq!(kept[0].sample_id, "s0999");
        assert_eq!(
            kept[MAX_DIFFS - 1].sample_id,
            format!("s{:04}", 1000 - MAX_DIFFS)
        );
    }
}
