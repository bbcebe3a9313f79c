//! Typed column access with errors that name the column and the database.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use super::SqliteStore;
use crate::codec;
use crate::error::{DecodeError, Error};

/// Reads columns of one row on behalf of store operation `op`.
pub(super) struct RowReader<'a> {
    pub(super) row: &'a SqliteRow,
    pub(super) store: &'a SqliteStore,
    pub(super) op: &'static str,
}

impl RowReader<'_> {
    fn raw<'r, T>(&'r self, column: &'static str) -> Result<T, Error>
    where
        T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    {
        self.row
            .try_get::<T, _>(column)
            .map_err(self.store.query_err(self.op))
    }

    fn decoded<T>(&self, column: &'static str, r: Result<T, DecodeError>) -> Result<T, Error> {
        r.map_err(self.store.decode_err(column))
    }

    pub(super) fn text(&self, column: &'static str) -> Result<String, Error> {
        self.raw(column)
    }

    pub(super) fn opt_text(&self, column: &'static str) -> Result<Option<String>, Error> {
        self.raw(column)
    }

    pub(super) fn f64(&self, column: &'static str) -> Result<f64, Error> {
        self.raw(column)
    }

    pub(super) fn opt_f64(&self, column: &'static str) -> Result<Option<f64>, Error> {
        self.raw(column)
    }

    pub(super) fn blob(&self, column: &'static str) -> Result<Vec<u8>, Error> {
        self.raw(column)
    }

    pub(super) fn hash32(&self, column: &'static str) -> Result<[u8; 32], Error> {
        let bytes = self.blob(column)?;
        let found = bytes.len();
        self.decoded(
            column,
            <[u8; 32]>::try_from(bytes).map_err(|_| DecodeError::Length {
                expected: 32,
                found,
            }),
        )
    }

    pub(super) fn int<T: TryFrom<i64>>(&self, column: &'static str) -> Result<T, Error> {
        let v: i64 = self.raw(column)?;
        self.decoded(column, codec::from_i64(v))
    }

    pub(super) fn json(&self, column: &'static str) -> Result<Value, Error> {
        let s = self.text(column)?;
        self.decoded(column, codec::json_from_text(&s))
    }

    pub(super) fn opt_json(&self, column: &'static str) -> Result<Option<Value>, Error> {
        self.opt_text(column)?
            .map(|s| self.decoded(column, codec::json_from_text(&s)))
            .transpose()
    }

    pub(super) fn time(&self, column: &'static str) -> Result<DateTime<Utc>, Error> {
        let s = self.text(column)?;
        self.decoded(column, codec::time_from_text(&s))
    }

    pub(super) fn opt_time(&self, column: &'static str) -> Result<Option<DateTime<Utc>>, Error> {
        self.opt_text(column)?
            .map(|s| self.decoded(column, codec::time_from_text(&s)))
            .transpose()
    }

    pub(super) fn date(&self, column: &'static str) -> Result<NaiveDate, Error> {
        let s = self.text(column)?;
        self.decoded(column, codec::date_from_text(&s))
    }

    pub(super) fn opt_date(&self, column: &'static str) -> Result<Option<NaiveDate>, Error> {
        self.opt_text(column)?
            .map(|s| self.decoded(column, codec::date_from_text(&s)))
            .transpose()
    }

    /// A text enumeration column.
    pub(super) fn parse<T>(&self, column: &'static str) -> Result<T, Error>
    where
        T: std::str::FromStr<Err = codec::UnknownVariant>,
    {
        let s = self.text(column)?;
        self.decoded(column, s.parse::<T>().map_err(DecodeError::from))
    }
}

impl SqliteStore {
    /// A reader for `row` on behalf of `op`.
    pub(super) fn row<'a>(&'a self, row: &'a SqliteRow, op: &'static str) -> RowReader<'a> {
        RowReader {
            row,
            store: self,
            op,
        }
    }

    /// JSON text for `column`.
    pub(super) fn json_text<T: serde::Serialize + ?Sized>(
        &self,
        column: &'static str,
        value: &T,
    ) -> Result<String, Error> {
        codec::json_to_text(value).map_err(|source| Error::Encode { column, source })
    }

    /// An unsigned count as a SQLite integer.
    pub(super) fn int_param(&self, column: &'static str, value: u64) -> Result<i64, Error> {
        codec::u64_to_i64(value).map_err(|source| Error::Encode { column, source })
    }
}
