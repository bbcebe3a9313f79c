//! [`ModelStore`] for SQLite.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;

use super::SqliteStore;
use crate::codec::{date_to_text, time_to_text};
use crate::{Error, ModelRecord, ModelStore};

const COLUMNS: &str = "name, spec, base_url, effective_compute_flop, parameters, \
                       training_tokens, date, parent, notes, created_at";

impl SqliteStore {
    fn model_from_row(&self, row: &SqliteRow, op: &'static str) -> Result<ModelRecord, Error> {
        let r = self.row(row, op);
        Ok(ModelRecord {
            name: r.text("name")?,
            spec: r.text("spec")?,
            base_url: r.opt_text("base_url")?,
            effective_compute_flop: r.opt_f64("effective_compute_flop")?,
            parameters: r.opt_f64("parameters")?,
            training_tokens: r.opt_f64("training_tokens")?,
            date: r.opt_date("date")?,
            parent: r.opt_text("parent")?,
            notes: r.opt_text("notes")?,
            created_at: r.time("created_at")?,
        })
    }
}

#[async_trait]
impl ModelStore for SqliteStore {
    async fn upsert_model(&self, model: &ModelRecord) -> Result<(), Error> {
        const OP: &str = "upsert_model";
        let sql = format!(
            "INSERT INTO models ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET
                spec = excluded.spec,
                base_url = excluded.base_url,
                effective_compute_flop = excluded.effective_compute_flop,
                parameters = excluded.parameters,
                training_tokens = excluded.training_tokens,
                date = excluded.date,
                parent = excluded.parent,
                notes = excluded.notes"
        );
        sqlx::query(&sql)
            .bind(&model.name)
            .bind(&model.spec)
            .bind(&model.base_url)
            .bind(model.effective_compute_flop)
            .bind(model.parameters)
            .bind(model.training_tokens)
            .bind(model.date.as_ref().map(date_to_text))
            .bind(&model.parent)
            .bind(&model.notes)
            .bind(time_to_text(&model.created_at))
            .execute(&self.writer)
            .await
            .map_err(self.query_err(OP))?;
        Ok(())
    }

    async fn get_model(&self, name: &str) -> Result<Option<ModelRecord>, Error> {
        const OP: &str = "get_model";
        let sql = format!("SELECT {COLUMNS} FROM models WHERE name = ?");
        sqlx::query(&sql)
            .bind(name)
            .fetch_optional(&self.reader)
            .await
            .map_err(self.query_err(OP))?
            .map(|row| self.model_from_row(&row, OP))
            .transpose()
    }

    async fn list_models(&self) -> Result<Vec<ModelRecord>, Error> {
        const OP: &str = "list_models";
        let sql = format!("SELECT {COLUMNS} FROM models ORDER BY name");
        sqlx::query(&sql)
            .fetch_all(&self.reader)
            .await
            .map_err(self.query_err(OP))?
            .iter()
            .map(|row| self.model_from_row(row, OP))
            .collect()
    }
}
