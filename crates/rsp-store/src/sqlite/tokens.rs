//! [`TokenStore`] for SQLite.

use async_trait::async_trait;

use super::{SqliteStore, Violation, violation};
use crate::codec::time_to_text;
use crate::{Error, TokenRecord, TokenStore};

#[async_trait]
impl TokenStore for SqliteStore {
    async fn insert_token(&self, token: &TokenRecord) -> Result<(), Error> {
        sqlx::query("INSERT INTO tokens (token_hash, role, created_at) VALUES (?, ?, ?)")
            .bind(&token.token_hash)
            .bind(&token.role)
            .bind(time_to_text(&token.created_at))
            .execute(&self.writer)
            .await
            .map_err(|err| match violation(&err) {
                // Only a prefix: enough to recognise, too little to be worth stealing.
                Some(Violation::Unique) => Error::AlreadyExists {
                    what: "token",
                    key: format!("{}…", token.token_hash.chars().take(8).collect::<String>()),
                },
                _ => self.query_err("insert_token")(err),
            })?;
        Ok(())
    }

    async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRecord>, Error> {
        const OP: &str = "token_by_hash";
        let row =
            sqlx::query("SELECT token_hash, role, created_at FROM tokens WHERE token_hash = ?")
                .bind(token_hash)
                .fetch_optional(&self.reader)
                .await
                .map_err(self.query_err(OP))?;
        row.map(|row| {
            let r = self.row(&row, OP);
            Ok(TokenRecord {
                token_hash: r.text("token_hash")?,
                role: r.text("role")?,
                created_at: r.time("created_at")?,
            })
        })
        .transpose()
    }
}
