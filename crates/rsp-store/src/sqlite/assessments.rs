//! [`AssessmentStore`] for SQLite.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;

use super::SqliteStore;
use crate::codec::time_to_text;
use crate::{AssessmentRecord, AssessmentStore, Error};

const COLUMNS: &str =
    "id, model, created_at, compute_flop, comprehensive, policy_sha256, decision_id, report";

impl SqliteStore {
    fn assessment_from_row(
        &self,
        row: &SqliteRow,
        op: &'static str,
    ) -> Result<AssessmentRecord, Error> {
        let r = self.row(row, op);
        Ok(AssessmentRecord {
            id: r.text("id")?,
            model: r.text("model")?,
            created_at: r.time("created_at")?,
            compute_flop: r.opt_f64("compute_flop")?,
            comprehensive: r.int::<i64>("comprehensive")? != 0,
            policy_sha256: r.text("policy_sha256")?,
            decision_id: r.opt_text("decision_id")?,
            report: r.json("report")?,
        })
    }
}

#[async_trait]
impl AssessmentStore for SqliteStore {
    async fn insert_assessment(&self, a: &AssessmentRecord) -> Result<(), Error> {
        const OP: &str = "insert_assessment";
        let sql = format!("INSERT INTO assessments ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
        sqlx::query(&sql)
            .bind(&a.id)
            .bind(&a.model)
            .bind(time_to_text(&a.created_at))
            .bind(a.compute_flop)
            .bind(i64::from(a.comprehensive))
            .bind(&a.policy_sha256)
            .bind(&a.decision_id)
            .bind(self.json_text("report", &a.report)?)
            .execute(&self.writer)
            .await
            .map_err(self.insert_error(OP, "assessment", &a.id, ("assessment", &a.id)))?;
        Ok(())
    }

    async fn get_assessment(&self, id: &str) -> Result<Option<AssessmentRecord>, Error> {
        const OP: &str = "get_assessment";
        let sql = format!("SELECT {COLUMNS} FROM assessments WHERE id = ?");
        sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(self.query_err(OP))?
            .map(|row| self.assessment_from_row(&row, OP))
            .transpose()
    }

    async fn list_assessments(&self, model: Option<&str>) -> Result<Vec<AssessmentRecord>, Error> {
        const OP: &str = "list_assessments";
        let sql = format!(
            "SELECT {COLUMNS} FROM assessments WHERE (?1 IS NULL OR model = ?1)
             ORDER BY created_at DESC, id DESC"
        );
        sqlx::query(&sql)
            .bind(model)
            .fetch_all(&self.reader)
            .await
            .map_err(self.query_err(OP))?
            .iter()
            .map(|row| self.assessment_from_row(row, OP))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use serde_json::json;

    use crate::{AssessmentRecord, AssessmentStore as _, Error, SqliteStore};

    fn record(id: &str, model: &str, secs: i64) -> AssessmentRecord {
        AssessmentRecord {
            id: id.to_owned(),
            model: model.to_owned(),
            created_at: chrono::DateTime::from_timestamp(1_800_000_000 + secs, 0)
                .unwrap_or_else(Utc::now),
            compute_flop: Some(1.6e21),
            comprehensive: true,
            policy_sha256: "a".repeat(64),
            decision_id: None,
            report: json!({"findings": []}),
        }
    }

    #[tokio::test]
    async fn assessments_round_trip_newest_first_and_filter_by_model() {
        let store = SqliteStore::open_in_memory().await.unwrap();
        store
            .insert_assessment(&record("a1", "m", 0))
            .await
            .unwrap();
        store
            .insert_assessment(&record("a2", "m", 10))
            .await
            .unwrap();
        store
            .insert_assessment(&record("b1", "n", 5))
            .await
            .unwrap();
        let m: Vec<_> = store
            .list_assessments(Some("m"))
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(m, ["a2", "a1"]);
        assert_eq!(store.list_assessments(None).await.unwrap().len(), 3);
        assert_eq!(
            store.get_assessment("b1").await.unwrap(),
            Some(record("b1", "n", 5))
        );
        assert!(matches!(
            store.insert_assessment(&record("a1", "m", 0)).await,
            Err(Error::AlreadyExists { .. })
        ));
    }
}
