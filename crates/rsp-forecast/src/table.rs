//! CSV input by named columns.
//!
//! A [`Table`] keeps every cell as text plus the file line of each record, and
//! parses a column only when asked, so an error names the file, the line and
//! the column of the offending cell. Dates are `YYYY-MM-DD`. Files with gaps
//! (for example Epoch's capabilities index, where many rows lack a compute
//! estimate) are handled by [`Table::rows_with`], which keeps only the rows
//! whose named columns are all non-empty.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::error::{Error, Result};

/// A CSV file held as text, header first.
#[derive(Debug, Clone)]
pub struct Table {
    path: PathBuf,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    lines: Vec<u64>,
}

impl Table {
    /// Read a CSV file with a header row.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_reader(path, file)
    }

    /// Read CSV text from any reader; `name` is used in error messages.
    pub fn from_reader(name: impl AsRef<Path>, reader: impl std::io::Read) -> Result<Self> {
        let path = name.as_ref().to_path_buf();
        let csv_err = |source| Error::Csv {
            path: path.clone(),
            source,
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(reader);
        let headers: Vec<String> = rdr
            .headers()
            .map_err(csv_err)?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        for record in rdr.records() {
            let record = record.map_err(csv_err)?;
            lines.push(record.position().map_or(0, csv::Position::line));
            rows.push(record.iter().map(str::to_string).collect());
        }
        Ok(Self {
            path,
            headers,
            rows,
            lines,
        })
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the file has no data rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Column names, in file order.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    fn index(&self, column: &str) -> Result<usize> {
        self.headers
            .iter()
            .position(|h| h == column)
            .ok_or_else(|| Error::MissingColumn {
                path: self.path.clone(),
                column: column.to_string(),
                available: self.headers.join(", "),
            })
    }

    /// Iterate (line, trimmed cell) of a column; empty cells are errors.
    fn cells<'a>(
        &'a self,
        column: &'a str,
    ) -> Result<impl Iterator<Item = Result<(u64, &'a str)>> + 'a> {
        let j = self.index(column)?;
        Ok(self.rows.iter().zip(&self.lines).map(move |(row, &line)| {
            let cell = row[j].trim();
            if cell.is_empty() {
                Err(Error::EmptyCell {
                    path: self.path.clone(),
                    line,
                    column: column.to_string(),
                })
            } else {
                Ok((line, cell))
            }
        }))
    }

    /// A column of finite numbers.
    pub fn f64_column(&self, column: &str) -> Result<Vec<f64>> {
        self.cells(column)?
            .map(|cell| {
                let (line, text) = cell?;
                let value: f64 = text.parse().map_err(|source| Error::ParseNumber {
                    path: self.path.clone(),
                    line,
                    column: column.to_string(),
                    value: text.to_string(),
                    source,
                })?;
                if value.is_finite() {
                    Ok(value)
                } else {
                    Err(Error::NonFiniteCell {
                        path: self.path.clone(),
                        line,
                        column: column.to_string(),
                        value: text.to_string(),
                    })
                }
            })
            .collect()
    }

    /// A column of `YYYY-MM-DD` dates.
    pub fn date_column(&self, column: &str) -> Result<Vec<NaiveDate>> {
        self.cells(column)?
            .map(|cell| {
                let (line, text) = cell?;
                NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|source| Error::ParseDate {
                    path: self.path.clone(),
                    line,
                    column: column.to_string(),
                    value: text.to_string(),
                    source,
                })
            })
            .collect()
    }

    /// A column as text (empty cells allowed).
    pub fn str_column(&self, column: &str) -> Result<Vec<String>> {
        let j = self.index(column)?;
        Ok(self.rows.iter().map(|r| r[j].clone()).collect())
    }

    /// The rows whose cells in every named column are non-empty.
    pub fn rows_with(&self, columns: &[&str]) -> Result<Table> {
        let idx: Vec<usize> = columns
            .iter()
            .map(|c| self.index(c))
            .collect::<Result<_>>()?;
        let (rows, lines) = self
            .rows
            .iter()
            .zip(&self.lines)
            .filter(|(row, _)| idx.iter().all(|&j| !row[j].trim().is_empty()))
            .map(|(r, l)| (r.clone(), *l))
            .unzip();
        Ok(Table {
            path: self.path.clone(),
            headers: self.headers.clone(),
            rows,
            lines,
        })
    }

    /// The rows for which `keep(column value)` is true, e.g. a model family.
    pub fn filter(&self, column: &str, keep: impl Fn(&str) -> bool) -> Result<Table> {
        let j = self.index(column)?;
        let (rows, lines) = self
            .rows
            .iter()
            .zip(&self.lines)
            .filter(|(row, _)| keep(row[j].trim()))
            .map(|(r, l)| (r.clone(), *l))
            .unzip();
        Ok(Table {
            path: self.path.clone(),
            headers: self.headers.clone(),
            rows,
            lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        Table::from_reader("mem.csv", text.as_bytes()).unwrap()
    }

    #[test]
    fn columns_parse_by_name() {
        let t = table("name,x,date\na,1.5,2024-01-02\nb,2e3,2025-12-31\n");
        assert_eq!(t.len(), 2);
        assert_eq!(t.f64_column("x").unwrap(), vec![1.5, 2000.0]);
        assert_eq!(
            t.date_column("date").unwrap()[1],
            NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()
        );
        assert_eq!(t.str_column("name").unwrap(), vec!["a", "b"]);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let t = table("name,x,date\na,1.5,2024-01-02\nb,oops,2024-13-01\nc,,2024-01-01\n");
        let e = t.f64_column("x").unwrap_err();
        assert!(matches!(&e, Error::ParseNumber { line: 3, .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "mem.csv, line 3, column \"x\": cannot parse \"oops\" as a number"
        );
        let e = t.date_column("date").unwrap_err();
        assert!(matches!(&e, Error::ParseDate { line: 3, .. }), "{e:?}");
        let e = t
            .filter("name", |n| n == "c")
            .unwrap()
            .f64_column("x")
            .unwrap_err();
        assert!(matches!(&e, Error::EmptyCell { line: 4, .. }), "{e:?}");
        let e = t.f64_column("y").unwrap_err();
        assert_eq!(
            e.to_string(),
            "mem.csv: no column named \"y\" (the header has: name, x, date)"
        );
        let e = table("x\nnan\n").f64_column("x").unwrap_err();
        assert!(matches!(e, Error::NonFiniteCell { line: 2, .. }));
    }

    #[test]
    fn rows_with_drops_gaps() {
        let t = table("x,y\n1,\n2,3\n,4\n");
        let kept = t.rows_with(&["x", "y"]).unwrap();
        assert_eq!(kept.f64_column("x").unwrap(), vec![2.0]);
        assert!(t.rows_with(&["z"]).is_err());
    }

    #[test]
    fn ragged_rows_and_missing_files_are_errors() {
        assert!(matches!(
            Table::from_reader("r.csv", "a,b\n1\n".as_bytes()),
            Err(Error::Csv { .. })
        ));
        assert!(matches!(
            Table::read("/nonexistent/file.csv"),
            Err(Error::Io { .. })
        ));
    }
}
