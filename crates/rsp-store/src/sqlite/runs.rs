//! [`RunStore`] for SQLite: the run half. Samples are in `samples.rs`.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::Utc;
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite};

use super::SqliteStore;
use crate::codec::time_to_text;
use crate::{
    Error, NewRun, RecordOutcome, RunFilter, RunKey, RunRecord, RunStatus, RunStore, SampleCursor,
    SampleFilter, SamplePage, SampleRecord, new_id,
};

const COLUMNS: &str = "id, model, model_name, suite, task, task_hash, config, provenance, \
                       status, created_at, finished_at, total_samples, summary, source, \
                       source_sha256";

impl SqliteStore {
    fn run_from_row(&self, row: &SqliteRow, op: &'static str) -> Result<RunRecord, Error> {
        let r = self.row(row, op);
        Ok(RunRecord {
            id: r.text("id")?,
            model: r.text("model")?,
            model_name: r.opt_text("model_name")?,
            suite: r.text("suite")?,
            task: r.text("task")?,
            task_hash: r.text("task_hash")?,
            config: r.json("config")?,
            provenance: r.json("provenance")?,
            status: r.parse("status")?,
            created_at: r.time("created_at")?,
            finished_at: r.opt_time("finished_at")?,
            total_samples: r.int("total_samples")?,
            summary: r.opt_json("summary")?,
            source: r.parse("source")?,
            source_sha256: r.opt_text("source_sha256")?,
        })
    }
}

#[async_trait]
impl RunStore for SqliteStore {
    async fn create_run(&self, run: &NewRun) -> Result<RunRecord, Error> {
        const OP: &str = "create_run";
        let record = RunRecord {
            id: new_id(),
            model: run.model.clone(),
            model_name: run.model_name.clone(),
            suite: run.suite.clone(),
            task: run.task.clone(),
            task_hash: run.task_hash.clone(),
            config: run.config.clone(),
            provenance: run.provenance.clone(),
            status: RunStatus::Running,
            created_at: Utc::now(),
            finished_at: None,
            total_samples: run.total_samples,
            summary: None,
            source: run.source,
            source_sha256: run.source_sha256.clone(),
        };
        let sql = format!(
            "INSERT INTO runs ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        sqlx::query(&sql)
            .bind(&record.id)
            .bind(&record.model)
            .bind(&record.model_name)
            .bind(&record.suite)
            .bind(&record.task)
            .bind(&record.task_hash)
            .bind(self.json_text("config", &record.config)?)
            .bind(self.json_text("provenance", &record.provenance)?)
            .bind(record.status.as_str())
            .bind(time_to_text(&record.created_at))
            .bind(None::<String>)
            .bind(self.int_param("total_samples", record.total_samples)?)
            .bind(None::<String>)
            .bind(record.source.as_str())
            .bind(&record.source_sha256)
            .execute(&self.writer)
            .await
            .map_err(self.query_err(OP))?;
        Ok(record)
    }

    async fn get_run(&self, id: &str) -> Result<Option<RunRecord>, Error> {
        const OP: &str = "get_run";
        let sql = format!("SELECT {COLUMNS} FROM runs WHERE id = ?");
        sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(self.query_err(OP))?
            .map(|row| self.run_from_row(&row, OP))
            .transpose()
    }

    async fn list_runs(&self, filter: &RunFilter) -> Result<Vec<RunRecord>, Error> {
        const OP: &str = "list_runs";
        let mut qb = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM runs WHERE 1"));
        if let Some(model) = &filter.model {
            qb.push(" AND model = ").push_bind(model);
        }
        if let Some(suite) = &filter.suite {
            qb.push(" AND suite = ").push_bind(suite);
        }
        if let Some(task) = &filter.task {
            qb.push(" AND task = ").push_bind(task);
        }
        if let Some(status) = filter.status {
            qb.push(" AND status = ").push_bind(status.as_str());
        }
        qb.push(" ORDER BY created_at DESC, id DESC");
        if let Some(limit) = filter.limit {
            qb.push(" LIMIT ").push_bind(i64::from(limit));
        }
        qb.build()
            .fetch_all(&self.reader)
            .await
            .map_err(self.query_err(OP))?
            .iter()
            .map(|row| self.run_from_row(row, OP))
            .collect()
    }

    async fn set_run_status(&self, id: &str, status: RunStatus) -> Result<(), Error> {
        const OP: &str = "set_run_status";
        let finished_at = status.is_terminal().then(|| time_to_text(&Utc::now()));
        let done = sqlx::query("UPDATE runs SET status = ?, finished_at = ? WHERE id = ?")
            .bind(status.as_str())
            .bind(finished_at)
            .bind(id)
            .execute(&self.writer)
            .await
            .map_err(self.query_err(OP))?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound {
                what: "run",
                key: id.to_owned(),
            });
        }
        Ok(())
    }

    async fn set_run_summary(&self, id: &str, summary: &Value) -> Result<(), Error> {
        const OP: &str = "set_run_summary";
        let done = sqlx::query("UPDATE runs SET summary = ? WHERE id = ?")
            .bind(self.json_text("summary", summary)?)
            .bind(id)
            .execute(&self.writer)
            .await
            .map_err(self.query_err(OP))?;
        if done.rows_affected() == 0 {
            return Err(Error::NotFound {
                what: "run",
                key: id.to_owned(),
            });
        }
        Ok(())
    }

    async fn latest_run(
        &self,
        key: &RunKey,
        status: Option<RunStatus>,
    ) -> Result<Option<RunRecord>, Error> {
        const OP: &str = "latest_run";
        let mut qb =
            QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM runs WHERE model = "));
        qb.push_bind(&key.model)
            .push(" AND suite = ")
            .push_bind(&key.suite)
            .push(" AND task = ")
            .push_bind(&key.task)
            .push(" AND task_hash = ")
            .push_bind(&key.task_hash);
        if let Some(status) = status {
            qb.push(" AND status = ").push_bind(status.as_str());
        }
        qb.push(" ORDER BY created_at DESC, id DESC LIMIT 1");
        qb.build()
            .fetch_optional(&self.reader)
            .await
            .map_err(self.query_err(OP))?
            .map(|row| self.run_from_row(&row, OP))
            .transpose()
    }

    async fn record_sample(&self, sample: &SampleRecord) -> Result<RecordOutcome, Error> {
        // Single statements outside a transaction are atomic on their own; see
        // `samples::record_one` for why no transaction is needed between them.
        let mut conn = self
            .writer
            .acquire()
            .await
            .map_err(self.query_err("record_sample"))?;
        self.record_one(&mut conn, sample).await
    }

    async fn record_samples(&self, samples: &[SampleRecord]) -> Result<Vec<RecordOutcome>, Error> {
        const OP: &str = "record_samples";
        let mut tx = self.begin_write(OP).await?;
        let mut outcomes = Vec::with_capacity(samples.len());
        for sample in samples {
            outcomes.push(self.record_one(&mut tx, sample).await?);
        }
        tx.commit().await.map_err(self.query_err(OP))?;
        Ok(outcomes)
    }

    async fn completed_keys(&self, run_id: &str) -> Result<HashSet<(String, u32)>, Error> {
        self.sample_keys(run_id).await
    }

    async fn get_sample(
        &self,
        run_id: &str,
        sample_id: &str,
        epoch: u32,
    ) -> Result<Option<SampleRecord>, Error> {
        self.sample(run_id, sample_id, epoch).await
    }

    async fn list_samples(
        &self,
        run_id: &str,
        filter: &SampleFilter,
        after: Option<SampleCursor>,
        limit: u32,
    ) -> Result<SamplePage, Error> {
        self.sample_page(run_id, filter, after, limit).await
    }

    async fn count_samples(&self, run_id: &str, filter: &SampleFilter) -> Result<u64, Error> {
        self.sample_count(run_id, filter).await
    }
}
