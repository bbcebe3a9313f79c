//! [`GovernanceStore`] for SQLite.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;

use super::{SqliteStore, Violation, violation};
use crate::codec::{date_to_text, time_to_text};
use crate::{
    AttestationRecord, DecisionRecord, DecisionStatus, Error, GovernanceStore, KeyRecord,
    SignatureRecord,
};

const ATTESTATION_COLUMNS: &str =
    "id, safeguard, evidence_sha256, evidence_path, by_role, created_at, expires";
const DECISION_COLUMNS: &str = "id, model, action, params, status, outcome, created_at";

impl SqliteStore {
    /// Maps a failed insert: a unique violation means the record exists, a foreign-key
    /// violation that its parent does not.
    pub(super) fn insert_error(
        &self,
        op: &'static str,
        what: &'static str,
        key: &str,
        parent: (&'static str, &str),
    ) -> impl Fn(sqlx::Error) -> Error + '_ {
        let key = key.to_owned();
        let (parent_what, parent_key) = (parent.0, parent.1.to_owned());
        move |err| match violation(&err) {
            Some(Violation::Unique) => Error::AlreadyExists {
                what,
                key: key.clone(),
            },
            Some(Violation::ForeignKey) => Error::NotFound {
                what: parent_what,
                key: parent_key.clone(),
            },
            None => self.query_err(op)(err),
        }
    }

    fn attestation_from_row(
        &self,
        row: &SqliteRow,
        op: &'static str,
    ) -> Result<AttestationRecord, Error> {
        let r = self.row(row, op);
        Ok(AttestationRecord {
            id: r.text("id")?,
            safeguard: r.text("safeguard")?,
            evidence_sha256: r.text("evidence_sha256")?,
            evidence_path: r.text("evidence_path")?,
            by_role: r.text("by_role")?,
            created_at: r.time("created_at")?,
            expires: r.date("expires")?,
        })
    }

    fn decision_from_row(
        &self,
        row: &SqliteRow,
        op: &'static str,
    ) -> Result<DecisionRecord, Error> {
        let r = self.row(row, op);
        Ok(DecisionRecord {
            id: r.text("id")?,
            model: r.text("model")?,
            action: r.parse("action")?,
            params: r.json("params")?,
            status: r.parse("status")?,
            outcome: r.json("outcome")?,
            created_at: r.time("created_at")?,
        })
    }
}

#[async_trait]
impl GovernanceStore for SqliteStore {
    async fn insert_attestation(&self, a: &AttestationRecord) -> Result<(), Error> {
        const OP: &str = "insert_attestation";
        let sql = format!(
            "INSERT INTO attestations ({ATTESTATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        );
        sqlx::query(&sql)
            .bind(&a.id)
            .bind(&a.safeguard)
            .bind(&a.evidence_sha256)
            .bind(&a.evidence_path)
            .bind(&a.by_role)
            .bind(time_to_text(&a.created_at))
            .bind(date_to_text(&a.expires))
            .execute(&self.writer)
            .await
            .map_err(self.insert_error(OP, "attestation", &a.id, ("attestation", &a.id)))?;
        Ok(())
    }

    async fn get_attestation(&self, id: &str) -> Result<Option<AttestationRecord>, Error> {
        const OP: &str = "get_attestation";
        let sql = format!("SELECT {ATTESTATION_COLUMNS} FROM attestations WHERE id = ?");
        sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(self.query_err(OP))?
            .map(|row| self.attestation_from_row(&row, OP))
            .transpose()
    }

    async fn list_attestations(
        &self,
        safeguard: Option<&str>,
    ) -> Result<Vec<AttestationRecord>, Error> {
        const OP: &str = "list_attestations";
        // `? IS NULL OR` lets one statement serve both the filtered and unfiltered list.
        let sql = format!(
            "SELECT {ATTESTATION_COLUMNS} FROM attestations
             WHERE ?1 IS NULL OR safeguard = ?1 ORDER BY created_at, id"
        );
        sqlx::query(&sql)
            .bind(safeguard)
            .fetch_all(&self.reader)
            .await
            .map_err(self.query_err(OP))?
            .iter()
            .map(|row| self.attestation_from_row(row, OP))
            .collect()
    }

    async fn insert_decision(&self, d: &DecisionRecord) -> Result<(), Error> {
        const OP: &str = "insert_decision";
        let sql =
            format!("INSERT INTO decisions ({DECISION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)");
        sqlx::query(&sql)
            .bind(&d.id)
            .bind(&d.model)
            .bind(d.action.as_str())
            .bind(self.json_text("params", &d.params)?)
            .bind(d.status.as_str())
            .bind(self.json_text("outcome", &d.outcome)?)
            .bind(time_to_text(&d.created_at))
            .execute(&self.writer)
            .await
            .map_err(self.insert_error(OP, "decision", &d.id, ("decision", &d.id)))?;
        Ok(())
    }

    async fn get_decision(&self, id: &str) -> Result<Option<DecisionRecord>, Error> {
        const OP: &str = "get_decision";
        let sql = format!("SELECT {DECISION_COLUMNS} FROM decisions WHERE id = ?");
        sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(self.query_err(OP))?
            .map(|row| self.decision_from_row(&row, OP))
            .transpose()
    }

    async fn list_decisions(&self, model: Option<&str>) -> Result<Vec<DecisionRecord>, Error> {
        const OP: &str = "list_decisions";
        let sql = format!(
            "SELECT {DECISION_COLUMNS} FROM decisions
             WHERE ?1 IS NULL OR model = ?1 ORDER BY created_at, id"
        );
        sqlx::query(&sql)
            .bind(model)
            .fetch_all(&self.reader)
            .await
            .map_err(self.query_err(OP))?
            .iter()
            .map(|row| self.decision_from_row(row, OP))
            .collect()
    }

    async fn set_decision_status(&self, id: &str, status: DecisionStatus) -> Result<(), Error> {
        const OP: &str = "set_decision_status";
        let mut tx = self.begin_write(OP).await?;
        let current: Option<String> =
            sqlx::query_scalar("SELECT status FROM decisions WHERE id = ?")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(self.query_err(OP))?;
        match current.as_deref() {
            None => {
                return Err(Error::NotFound {
                    what: "decision",
                    key: id.to_owned(),
                });
            }
            Some(s) if s == DecisionStatus::Final.as_str() => {
                return Err(Error::DecisionFinal { id: id.to_owned() });
            }
            Some(_) => {}
        }
        sqlx::query("UPDATE decisions SET status = ? WHERE id = ?")
            .bind(status.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(self.query_err(OP))?;
        tx.commit().await.map_err(self.query_err(OP))?;
        Ok(())
    }

    async fn insert_signature(&self, s: &SignatureRecord) -> Result<(), Error> {
        const OP: &str = "insert_signature";
        let key = format!("{} by {} ({})", s.decision_id, s.role, s.public_key);
        sqlx::query(
            "INSERT INTO signatures (decision_id, role, public_key, signature, signed_at)
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&s.decision_id)
        .bind(&s.role)
        .bind(&s.public_key)
        .bind(&s.signature)
        .bind(time_to_text(&s.signed_at))
        .execute(&self.writer)
        .await
        .map_err(self.insert_error(OP, "signature", &key, ("decision", &s.decision_id)))?;
        Ok(())
    }

    async fn signatures(&self, decision_id: &str) -> Result<Vec<SignatureRecord>, Error> {
        const OP: &str = "signatures";
        sqlx::query(
            "SELECT decision_id, role, public_key, signature, signed_at FROM signatures
             WHERE decision_id = ? ORDER BY signed_at, role, public_key",
        )
        .bind(decision_id)
        .fetch_all(&self.reader)
        .await
        .map_err(self.query_err(OP))?
        .iter()
        .map(|row| {
            let r = self.row(row, OP);
            Ok(SignatureRecord {
                decision_id: r.text("decision_id")?,
                role: r.text("role")?,
                public_key: r.text("public_key")?,
                signature: r.text("signature")?,
                signed_at: r.time("signed_at")?,
            })
        })
        .collect()
    }

    async fn insert_key(&self, k: &KeyRecord) -> Result<(), Error> {
        const OP: &str = "insert_key";
        let key = format!("{} ({})", k.role, k.public_key);
        sqlx::query("INSERT INTO keys (role, public_key, created_at) VALUES (?, ?, ?)")
            .bind(&k.role)
            .bind(&k.public_key)
            .bind(time_to_text(&k.created_at))
            .execute(&self.writer)
            .await
            .map_err(self.insert_error(OP, "key", &key, ("role", &k.role)))?;
        Ok(())
    }

    async fn list_keys(&self, role: Option<&str>) -> Result<Vec<KeyRecord>, Error> {
        const OP: &str = "list_keys";
        sqlx::query(
            "SELECT role, public_key, created_at FROM keys
             WHERE ?1 IS NULL OR role = ?1 ORDER BY created_at, role, public_key",
        )
        .bind(role)
        .fetch_all(&self.reader)
        .await
        .map_err(self.query_err(OP))?
        .iter()
        .map(|row| {
            let r = self.row(row, OP);
            Ok(KeyRecord {
                role: r.text("role")?,
                public_key: r.text("public_key")?,
                created_at: r.time("created_at")?,
            })
        })
        .collect()
    }
}
