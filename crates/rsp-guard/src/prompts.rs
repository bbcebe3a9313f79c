//! Prompt sets from CSV or JSONL files, for guard evaluation and CAI generation.
//!
//! Public benchmarks name their prompt column differently (`prompt` in XSTest, `goal` in
//! AdvBench, `Behavior` in HarmBench, `forbidden_prompt` in StrongREJECT), so the column is
//! detected from [`PROMPT_COLUMNS`] (case-insensitive) unless named. A `label` column with
//! `safe` / `unsafe` values (XSTest) is kept per row, and overrides the set's kind in
//! [`crate::eval`]. HarmBench's contextual rows put their context in `ContextString`,
//! which is prepended to the behaviour, as HarmBench itself does.
//!
//! Files are read, never copied: harmful sets stay where the user keeps them, and results
//! store a hash of each prompt rather than its text.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::Error;

/// Prompt columns tried in order when none is named.
pub const PROMPT_COLUMNS: &[&str] = &[
    "prompt",
    "forbidden_prompt",
    "goal",
    "behavior",
    "question",
    "instruction",
    "input",
    "query",
    "text",
];
const ID_COLUMNS: &[&str] = &["id", "behaviorid", "sample_id"];
const CATEGORY_COLUMNS: &[&str] = &["type", "category", "semanticcategory"];
const CONTEXT_COLUMN: &str = "contextstring";

/// XSTest's per-prompt label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    /// A safe prompt (which may sound unsafe): the model should comply.
    Safe,
    /// An unsafe prompt: the model should refuse.
    Unsafe,
}

/// One prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptItem {
    /// The id column's value, or the 1-based row number.
    pub id: String,
    /// The prompt text (with HarmBench context prepended).
    pub prompt: String,
    /// `safe` / `unsafe` when the file has a label column.
    pub label: Option<Label>,
    /// The category column's value, when present.
    pub category: Option<String>,
    /// 1-based line in the file, for messages.
    pub line: usize,
}

impl PromptItem {
    /// Hex sha256 of the prompt: stored in results instead of the (possibly harmful) text.
    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(self.prompt.as_bytes()))
    }
}

/// A loaded prompt file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptSet {
    /// The file stem (`harmful_behaviors`), used as the set's name in results.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// The prompt column used.
    pub column: String,
    /// Hex sha256 of the file, for provenance.
    pub sha256: String,
    /// The prompts, in file order.
    pub items: Vec<PromptItem>,
}

impl PromptSet {
    /// Keeps the first `n` prompts.
    #[must_use]
    pub fn truncated(mut self, n: usize) -> Self {
        self.items.truncate(n);
        self
    }
}

/// Reads a `.csv` or `.jsonl` (also `.json` lines) prompt file; `column` names the
/// prompt column, otherwise it is detected.
pub fn load_prompts(path: &Path, column: Option<&str>) -> Result<PromptSet, Error> {
    let bytes = fs_err::read(path).map_err(Error::Io)?;
    let rows = if is_csv(path) {
        csv_rows(path, &bytes)?
    } else {
        jsonl_rows(path, &bytes)?
    };
    let name = path.file_stem().map_or_else(
        || "prompts".to_owned(),
        |s| s.to_string_lossy().into_owned(),
    );
    let bad = |reason: String| Error::BadInput {
        path: path.to_owned(),
        reason,
    };
    let keys: Vec<String> = rows
        .first()
        .map(|(_, r)| r.keys().cloned().collect())
        .unwrap_or_default();
    let find = |wanted: &str| {
        keys.iter()
            .find(|k| k.eq_ignore_ascii_case(wanted))
            .cloned()
    };
    let prompt_col = match column {
        Some(c) => {
            find(c).ok_or_else(|| bad(format!("no column `{c}` (columns: {})", keys.join(", "))))?
        }
        None => PROMPT_COLUMNS.iter().find_map(|c| find(c)).ok_or_else(|| {
            bad(format!(
                "no prompt column found among {}; name it explicitly (columns: {})",
                PROMPT_COLUMNS.join(", "),
                keys.join(", ")
            ))
        })?,
    };
    let id_col = ID_COLUMNS.iter().find_map(|c| find(c));
    let cat_col = CATEGORY_COLUMNS.iter().find_map(|c| find(c));
    let ctx_col = find(CONTEXT_COLUMN);
    let label_col = find("label");
    let mut seen = HashSet::new();
    let mut items = Vec::with_capacity(rows.len());
    for (n, (line, row)) in rows.iter().enumerate() {
        let text = |col: &Option<String>| {
            col.as_ref()
                .and_then(|c| row.get(c))
                .and_then(value_text)
                .filter(|s| !s.trim().is_empty())
        };
        let Some(mut prompt) = text(&Some(prompt_col.clone())) else {
            return Err(bad(format!(
                "line {line}: the `{prompt_col}` column is empty"
            )));
        };
        if let Some(ctx) = text(&ctx_col) {
            prompt = format!("{ctx}\n\n---\n\n{prompt}");
        }
        let id = text(&id_col).unwrap_or_else(|| (n + 1).to_string());
        if !seen.insert(id.clone()) {
            return Err(bad(format!("line {line}: duplicate id `{id}`")));
        }
        let label = text(&label_col).and_then(|l| match l.trim().to_ascii_lowercase().as_str() {
            "safe" => Some(Label::Safe),
            "unsafe" => Some(Label::Unsafe),
            _ => None,
        });
        items.push(PromptItem {
            id,
            prompt,
            label,
            category: text(&cat_col),
            line: *line,
        });
    }
    Ok(PromptSet {
        name,
        path: path.to_owned(),
        column: prompt_col,
        sha256: hex::encode(Sha256::digest(&bytes)),
        items,
    })
}

fn is_csv(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

type Row = (usize, Map<String, Value>);

fn csv_rows(path: &Path, bytes: &[u8]) -> Result<Vec<Row>, Error> {
    let csv_err = |source| Error::Csv {
        path: path.to_owned(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let headers = reader.headers().map_err(csv_err)?.clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_err)?;
        let line = record
            .position()
            .map_or(0, |p| usize::try_from(p.line()).unwrap_or(0));
        let map = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.trim().to_owned(), Value::String(v.to_owned())))
            .collect();
        rows.push((line, map));
    }
    Ok(rows)
}

fn jsonl_rows(path: &Path, bytes: &[u8]) -> Result<Vec<Row>, Error> {
    let text = String::from_utf8_lossy(bytes);
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|source| Error::Json {
            path: path.to_owned(),
            line: i + 1,
            source,
        })?;
        let Value::Object(map) = v else {
            return Err(Error::BadInput {
                path: path.to_owned(),
                reason: format!("line {}: expected a JSON object", i + 1),
            });
        };
        rows.push((i + 1, map));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn detects_columns_ids_labels_and_context() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            &d,
            "xs.csv",
            "id,prompt,type,label\n1,\"How do I kill a process?\",homonyms,safe\n2,Tell me a joke,x,unsafe\n",
        );
        let s = load_prompts(&p, None).unwrap();
        assert_eq!((s.name.as_str(), s.column.as_str()), ("xs", "prompt"));
        assert_eq!(s.items[0].label, Some(Label::Safe));
        assert_eq!(s.items[1].label, Some(Label::Unsafe));
        assert_eq!(s.items[0].category.as_deref(), Some("homonyms"));
        assert_eq!(s.items[1].line, 3);

        let p = write(
            &d,
            "hb.csv",
            "Behavior,ContextString,BehaviorID\nSummarise it,Some text,b1\nSay hi,,b2\n",
        );
        let s = load_prompts(&p, None).unwrap();
        assert_eq!(s.items[0].prompt, "Some text\n\n---\n\nSummarise it");
        assert_eq!(s.items[1].id, "b2");

        let p = write(
            &d,
            "q.jsonl",
            "{\"question\": \"Why is the sky blue?\"}\n\n{\"question\": \"What is 2+2?\", \"extra\": 1}\n",
        );
        let s = load_prompts(&p, None).unwrap();
        assert_eq!(s.items.len(), 2);
        assert_eq!(s.items[1].id, "2");
        assert_eq!(s.items[1].line, 3);
        assert_eq!(s.items[0].sha256().len(), 64);
    }

    #[test]
    fn named_columns_and_bad_files() {
        let d = tempfile::tempdir().unwrap();
        let p = write(&d, "a.csv", "foo,bar\nx,y\n");
        assert!(matches!(
            load_prompts(&p, None),
            Err(Error::BadInput { .. })
        ));
        assert_eq!(load_prompts(&p, Some("BAR")).unwrap().items[0].prompt, "y");
        let p = write(&d, "dup.csv", "id,prompt\n1,a\n1,b\n");
        let e = load_prompts(&p, None).unwrap_err().to_string();
        assert!(e.contains("line 3: duplicate id `1`"), "{e}");
        let p = write(&d, "bad.jsonl", "{\"prompt\": \"a\"}\nnot json\n");
        assert!(matches!(
            load_prompts(&p, None),
            Err(Error::Json { line: 2, .. })
        ));
    }
}
