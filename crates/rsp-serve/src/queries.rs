//! The few queries the store's traits do not offer, run on the dashboard's own read-only
//! pool against the same SQLite file. Each says why it is here rather than in `rsp-store`.

use chrono::{DateTime, Utc};
use rsp_store::prelude::*;
use rsp_store::{RunFilter, RunStatus, SampleCursor, SampleFilter};
use serde_json::Value;
use sqlx::{QueryBuilder, Row as _, Sqlite};

use crate::api::types::{LiveRun, PolicyVersion, SampleSummary};
use crate::error::ApiError;
use crate::state::AppState;

/// Positions one run-browser request may examine. A filter that matches rarely would
/// otherwise walk the rest of the run for one page (2.8 s at 1,000,000 samples); with the
/// budget a page costs at most this many index steps and says where it stopped.
pub const SCAN_WINDOW: u32 = 20_000;

/// One page of the run browser: listing columns only (no transcripts), keyset-paged in
/// `(position, epoch)` order, examining at most [`SCAN_WINDOW`] positions.
///
/// Here rather than `RunStore::list_samples` because the store's page returns whole
/// records (input, output, scores) and has no scan budget. The filter semantics are the
/// store's, written the same way so its indexes apply (see `rsp-store`'s `push_where`).
pub async fn sample_rows(
    state: &AppState,
    run_id: &str,
    filter: &SampleFilter,
    after: Option<SampleCursor>,
    limit: u32,
) -> Result<SampleWindow, ApiError> {
    let max: Option<i64> = sqlx::query_scalar("SELECT max(position) FROM samples WHERE run_id = ?")
        .bind(run_id)
        .fetch_one(state.db())
        .await?;
    let Some(max) = max else {
        return Ok(SampleWindow::default());
    };
    let start = after.map_or(0, |c| i64::from(c.position));
    let window_end = start + i64::from(SCAN_WINDOW);
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT sample_id, epoch, position, value, error, timing_ms, metadata FROM samples WHERE run_id = ",
    );
    qb.push_bind(run_id.to_owned());
    if let Some(c) = after {
        qb.push(" AND (position, epoch) > (")
            .push_bind(i64::from(c.position))
            .push(", ")
            .push_bind(i64::from(c.epoch))
            .push(")");
    }
    qb.push(" AND position <= ").push_bind(window_end);
    push_filter(&mut qb, filter)?;
    qb.push(" ORDER BY position, epoch LIMIT ")
        .push_bind(i64::from(limit) + 1);
    let rows = qb.build().fetch_all(state.db()).await?;
    let mut samples = Vec::with_capacity(rows.len());
    for r in &rows {
        let metadata: String = r.try_get("metadata")?;
        samples.push(SampleSummary {
            sample_id: r.try_get("sample_id")?,
            epoch: u32::try_from(r.try_get::<i64, _>("epoch")?).unwrap_or(0),
            position: u32::try_from(r.try_get::<i64, _>("position")?).unwrap_or(0),
            value: r.try_get("value")?,
            error: r.try_get("error")?,
            timing_ms: r.try_get("timing_ms")?,
            metadata: serde_json::from_str(&metadata).unwrap_or(Value::Null),
        });
    }
    let full = samples.len() > limit as usize;
    samples.truncate(limit as usize);
    let next = if full {
        samples.last().map(|s| SampleCursor {
            position: s.position,
            epoch: s.epoch,
        })
    } else if window_end < max {
        // The window ran out before the page filled: continue after its last position.
        Some(SampleCursor {
            position: u32::try_from(window_end).unwrap_or(u32::MAX),
            epoch: u32::MAX,
        })
    } else {
        None
    };
    Ok(SampleWindow {
        samples,
        next,
        scanned_through: if full {
            None
        } else {
            Some(u64::try_from(window_end.min(max)).unwrap_or(0))
        },
    })
}

/// A run-browser page.
#[derive(Debug, Default)]
pub struct SampleWindow {
    /// Matching samples.
    pub samples: Vec<SampleSummary>,
    /// Where the next page starts.
    pub next: Option<SampleCursor>,
    /// When the page did not fill: the last position examined.
    pub scanned_through: Option<u64>,
}

/// `AND <filter>` with the store's own semantics (one implementation: rsp-store's).
fn push_filter(qb: &mut QueryBuilder<'_, Sqlite>, filter: &SampleFilter) -> Result<(), ApiError> {
    Ok(rsp_store::push_sample_filter(qb, filter)?)
}

/// Rows per chunk of [`ReducedValues`].
const CHUNK: usize = 50_000;

/// `(sample_id, mean value over epochs)` of a run in sample-id order, read in chunks.
///
/// Compare reads every sample's score of two runs; the store would hand over whole
/// records. With the `samples_by_value` covering index each chunk is an ordered
/// index-only range scan. Chunks (keyset on `sample_id`) rather than one row stream:
/// interleaving two row-by-row streams ping-pongs between the driver's threads once per
/// row (13 s for two 1,000,000-sample runs), while a chunk crosses once; and unlike one
/// `fetch_all`, memory stays at two chunks whatever the run's size.
#[derive(Debug)]
pub struct ReducedValues<'a> {
    state: &'a AppState,
    run_id: &'a str,
    buf: std::vec::IntoIter<(String, f64)>,
    last: Option<String>,
    done: bool,
}

impl<'a> ReducedValues<'a> {
    /// A reader positioned before the run's first sample id.
    pub fn new(state: &'a AppState, run_id: &'a str) -> Self {
        Self {
            state,
            run_id,
            buf: Vec::new().into_iter(),
            last: None,
            done: false,
        }
    }

    /// The next `(sample_id, value)`, or `None` at the end.
    pub async fn next(&mut self) -> Result<Option<(String, f64)>, sqlx::Error> {
        if let Some(x) = self.buf.next() {
            return Ok(Some(x));
        }
        if self.done {
            return Ok(None);
        }
        let mut qb = QueryBuilder::<Sqlite>::new(
            "SELECT sample_id, avg(value) FROM samples WHERE run_id = ",
        );
        qb.push_bind(self.run_id.to_owned())
            .push(" AND value IS NOT NULL");
        if let Some(last) = &self.last {
            qb.push(" AND sample_id > ").push_bind(last.clone());
        }
        qb.push(" GROUP BY sample_id ORDER BY sample_id LIMIT ")
            .push_bind(i64::try_from(CHUNK).unwrap_or(i64::MAX));
        let rows: Vec<(String, f64)> = qb.build_query_as().fetch_all(self.state.db()).await?;
        self.done = rows.len() < CHUNK;
        self.last = rows.last().map(|r| r.0.clone());
        self.buf = rows.into_iter();
        Ok(self.buf.next())
    }
}

/// Policy versions recorded in the ledger (leaves of kind `policy_version`), oldest first.
/// The store keeps them as artifacts but has no "list by kind with artifact" query.
pub async fn policy_versions(state: &AppState) -> Result<Vec<PolicyVersion>, ApiError> {
    let rows = sqlx::query(
        "SELECT l.idx, l.created_at, l.artifact_sha256 FROM leaves l
         WHERE l.kind = 'policy_version' AND l.artifact_sha256 IS NOT NULL ORDER BY l.idx",
    )
    .fetch_all(state.db())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let idx: i64 = r.try_get("idx")?;
        let created: String = r.try_get("created_at")?;
        let sha: String = r.try_get("artifact_sha256")?;
        let (name, version) = match policy_text(state, &sha).await? {
            Some(text) => match crate::state::parse_policy(text) {
                Ok(p) => (Some(p.policy.policy.name), Some(p.policy.policy.version)),
                Err(_) => (None, None),
            },
            None => (None, None),
        };
        out.push(PolicyVersion {
            idx: u64::try_from(idx).unwrap_or(0),
            recorded_at: DateTime::parse_from_rfc3339(&created)
                .map_or_else(|_| Utc::now(), |t| t.with_timezone(&Utc)),
            sha256: sha,
            name,
            version,
        });
    }
    Ok(out)
}

/// The text of a stored policy artifact.
pub async fn policy_text(state: &AppState, sha256: &str) -> Result<Option<String>, ApiError> {
    Ok(state
        .store()
        .artifact(sha256)
        .await?
        .map(|a| String::from_utf8_lossy(&a.bytes).into_owned()))
}

/// Runs in flight with their progress. Counting uses the `(run_id, position, epoch)`
/// index for all samples and the partial errors index for failures, so a poll costs two
/// index scans per running run, never a read of transcripts.
pub async fn live_runs(state: &AppState) -> Result<Vec<LiveRun>, ApiError> {
    let runs = state
        .store()
        .list_runs(&RunFilter {
            status: Some(RunStatus::Running),
            limit: Some(50),
            ..RunFilter::default()
        })
        .await?;
    let mut out = Vec::with_capacity(runs.len());
    let errors = SampleFilter {
        has_error: Some(true),
        ..SampleFilter::default()
    };
    for r in runs {
        let done = state
            .store()
            .count_samples(&r.id, &SampleFilter::default())
            .await?;
        let errs = state.store().count_samples(&r.id, &errors).await?;
        out.push(LiveRun {
            id: r.id,
            model: r.model_name.unwrap_or(r.model),
            suite: r.suite,
            task: r.task,
            done,
            total: r.total_samples,
            errors: errs,
            created_at: r.created_at,
        });
    }
    Ok(out)
}
