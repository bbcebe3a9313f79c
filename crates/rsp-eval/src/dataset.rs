//! Datasets: JSONL or CSV files mapped onto [`Sample`]s, with a diagnostic for every bad row.
//!
//! A task's `[dataset]` table names the file and how its fields map onto a sample. Every
//! row is checked on load (id present and unique, input a string, choices a list of
//! strings, target a valid letter for multiple choice, cluster field present…), and every
//! problem becomes a [`Diagnostic`] pointing at the row's line and, where it can be found,
//! the field, so a broken dataset is reported whole rather than one error per run.

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;

use rsp_policy::diag::Diagnostic;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::sample::Sample;
use crate::scorer::Check;

/// File format of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetFormat {
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
}

/// One field name, or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// A single field.
    One(String),
    /// Several fields, in order.
    Many(Vec<String>),
}

/// How a row's fields map onto a [`Sample`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FieldMap {
    /// Field holding the id (a string or an integer).
    pub id: String,
    /// Field holding the input text.
    pub input: String,
    /// Field holding the target: a string, a number, or a list of accepted strings.
    pub target: String,
    /// One field holding the list of choices (in CSV: a JSON array in the cell), or one
    /// field per choice.
    pub choices: OneOrMany,
    /// One field holding a metadata object (JSONL), or a list of fields copied into the
    /// metadata (JSONL or CSV).
    pub metadata: OneOrMany,
    /// Field holding the files of a tool-using sample (an object of relative path → text).
    pub files: String,
    /// Field holding the end-state check of a tool-using sample.
    pub check: String,
}

impl Default for FieldMap {
    fn default() -> Self {
        Self {
            id: "id".into(),
            input: "input".into(),
            target: "target".into(),
            choices: OneOrMany::One("choices".into()),
            metadata: OneOrMany::One("metadata".into()),
            files: "files".into(),
            check: "check".into(),
        }
    }
}

/// What the task needs from every row, so the loader can check it up front.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowRequirements {
    /// Some scorer compares with the target.
    pub target: bool,
    /// The task is multiple choice: choices must be present and the target a valid letter.
    pub choices: bool,
    /// Metadata fields every row must have (the cluster field, the `switch` field).
    pub metadata: Vec<String>,
}

/// Parses `text` (the file `file`) into samples, or returns every problem found.
pub fn parse_dataset(
    text: &str,
    format: DatasetFormat,
    fields: &FieldMap,
    needs: &RowRequirements,
) -> Result<Vec<Sample>, Vec<Diagnostic>> {
    let rows = match format {
        DatasetFormat::Jsonl => jsonl_rows(text),
        DatasetFormat::Csv => csv_rows(text),
    };
    let mut diags = Vec::new();
    let mut samples = Vec::new();
    let mut seen = HashSet::new();
    for row in rows {
        let row = match row {
            Ok(r) => r,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        match row_to_sample(&row, fields, needs, text) {
            Ok(sample) => {
                if !seen.insert(sample.id.clone()) {
                    diags.push(
                        Diagnostic::error(
                            "dataset::duplicate-id",
                            format!("line {}: duplicate id `{}`", row.line, sample.id),
                        )
                        .at(Some(field_span(text, &row, &fields.id)))
                        .label("seen before")
                        .help("ids must be unique: they key resumption and paired comparison"),
                    );
                }
                samples.push(sample);
            }
            Err(mut d) => diags.append(&mut d),
        }
    }
    if samples.is_empty() && diags.is_empty() {
        diags.push(Diagnostic::error(
            "dataset::empty",
            "the dataset has no rows",
        ));
    }
    if diags.is_empty() {
        Ok(samples)
    } else {
        Err(diags)
    }
}

/// One row, as field name → JSON value, with where it sits in the file.
struct Row {
    line: usize,
    span: Range<usize>,
    fields: Map<String, Value>,
}

fn jsonl_rows(text: &str) -> Vec<Result<Row, Diagnostic>> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let start = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        let span = start..start + line.len();
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(fields)) => out.push(Ok(Row {
                line: i + 1,
                span,
                fields,
            })),
            Ok(_) => out.push(Err(Diagnostic::error(
                "dataset::not-an-object",
                format!("line {}: expected a JSON object", i + 1),
            )
            .at(Some(span)))),
            Err(e) => {
                let col = e.column().saturating_sub(1).min(line.len());
                out.push(Err(Diagnostic::error(
                    "dataset::bad-json",
                    format!("line {}: invalid JSON: {e}", i + 1),
                )
                .at(Some(start + col..start + col))
                .label("here")));
            }
        }
    }
    out
}

fn csv_rows(text: &str) -> Vec<Result<Row, Diagnostic>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return vec![Err(Diagnostic::error(
                "dataset::bad-csv",
                format!("could not read the CSV header: {e}"),
            )
            .at(Some(0..0)))];
        }
    };
    let mut out = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) => {
                let (line, start) = r
                    .position()
                    .map_or((0, 0), |p| (p.line() as usize, p.byte() as usize));
                let end = text[start.min(text.len())..]
                    .find('\n')
                    .map_or(text.len(), |n| start + n);
                let fields = headers
                    .iter()
                    .zip(r.iter())
                    .map(|(h, v)| (h.to_owned(), Value::String(v.to_owned())))
                    .collect();
                out.push(Ok(Row {
                    line,
                    span: start..end,
                    fields,
                }));
            }
            Err(e) => {
                let (line, at) = e
                    .position()
                    .map_or((0, 0), |p| (p.line() as usize, p.byte() as usize));
                out.push(Err(Diagnostic::error(
                    "dataset::bad-csv",
                    format!("line {line}: {e}"),
                )
                .at(Some(at..at))));
            }
        }
    }
    out
}

/// The span of `"field"` in a JSONL row (or of the whole row when it cannot be found, as in
/// CSV), so the caret lands on the field.
fn field_span(text: &str, row: &Row, field: &str) -> Range<usize> {
    let line = &text[row.span.clone()];
    let quoted = format!("\"{field}\"");
    match line.find(&quoted) {
        Some(at) => row.span.start + at..row.span.start + at + quoted.len(),
        None => row.span.clone(),
    }
}

fn row_to_sample(
    row: &Row,
    fields: &FieldMap,
    needs: &RowRequirements,
    text: &str,
) -> Result<Sample, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let bad = |code: &'static str, field: &str, msg: String| {
        Diagnostic::error(code, format!("line {}: {msg}", row.line))
            .at(Some(field_span(text, row, field)))
    };
    let id = match row.fields.get(&fields.id) {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => {
            diags.push(bad(
                "dataset::field-type",
                &fields.id,
                format!(
                    "field `{}` (the id) must be a non-empty string or an integer",
                    fields.id
                ),
            ));
            String::new()
        }
        None => {
            diags.push(
                bad(
                    "dataset::missing-field",
                    &fields.id,
                    format!("missing field `{}` (the id)", fields.id),
                )
                .help("set [dataset.fields] id = \"<field>\" if the id has another name"),
            );
            String::new()
        }
    };
    let input = match row.fields.get(&fields.input) {
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            diags.push(bad(
                "dataset::field-type",
                &fields.input,
                format!("field `{}` (the input) must be a string", fields.input),
            ));
            String::new()
        }
        None => {
            diags.push(bad(
                "dataset::missing-field",
                &fields.input,
                format!("missing field `{}` (the input)", fields.input),
            ));
            String::new()
        }
    };
    let target = match row.fields.get(&fields.target) {
        None | Some(Value::Null) => {
            if needs.target {
                diags.push(bad(
                    "dataset::missing-field",
                    &fields.target,
                    format!(
                        "missing field `{}` (the target), which this task's scorers compare with",
                        fields.target
                    ),
                ));
            }
            Vec::new()
        }
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Number(n)) => vec![n.to_string()],
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(_) => {
            diags.push(bad(
                "dataset::field-type",
                &fields.target,
                format!(
                    "field `{}` (the target) must be a string, a number or a list of strings",
                    fields.target
                ),
            ));
            Vec::new()
        }
    };
    let choices = read_choices(row, &fields.choices, &mut diags, &bad);
    let metadata = read_metadata(row, &fields.metadata, &mut diags, &bad);
    let files = read_files(row, &fields.files, &mut diags, &bad);
    let check = match row.fields.get(&fields.check) {
        None | Some(Value::Null) => None,
        Some(v) => match serde_json::from_value::<Check>(v.clone()) {
            Ok(c) => Some(c),
            Err(e) => {
                diags.push(bad(
                    "dataset::bad-check",
                    &fields.check,
                    format!(
                        "field `{}` is not a valid end-state check: {e}",
                        fields.check
                    ),
                ));
                None
            }
        },
    };
    if let Some(problem) = check.as_ref().and_then(Check::problem) {
        diags.push(bad("dataset::bad-check", &fields.check, problem));
    }
    let mut sample = Sample {
        id,
        input,
        target,
        choices,
        metadata,
        files,
        check,
        line: row.line,
    };
    if needs.choices {
        let field = match &fields.choices {
            OneOrMany::One(f) => f.clone(),
            OneOrMany::Many(fs) => fs.first().cloned().unwrap_or_default(),
        };
        if sample.choices.len() < 2 {
            diags.push(bad(
                "dataset::choices",
                &field,
                "a multiple-choice item needs at least two choices".into(),
            ));
        } else if sample.choices.len() > 26 {
            diags.push(bad(
                "dataset::choices",
                &field,
                "at most 26 choices (letters A-Z) are supported".into(),
            ));
        } else {
            normalise_target_letter(&mut sample);
            if sample.target_index().is_none() && needs.target {
                let last = Sample::letter(sample.choices.len() - 1).unwrap_or('?');
                diags.push(
                    bad(
                        "dataset::bad-target",
                        &fields.target,
                        format!(
                            "target {:?} is not a choice letter A-{last} nor the text of a choice",
                            sample.target
                        ),
                    )
                    .help("multiple-choice targets are the letter of the correct choice"),
                );
            }
        }
    }
    for field in &needs.metadata {
        if !sample.metadata.contains_key(field) {
            diags.push(bad(
                "dataset::missing-metadata",
                field,
                format!("metadata has no field `{field}`, which the task clusters or switches on"),
            ));
        }
    }
    if diags.is_empty() {
        Ok(sample)
    } else {
        Err(diags)
    }
}

/// Accepts a target that spells out a choice's text and turns it into its letter, so both
/// dataset conventions work.
fn normalise_target_letter(sample: &mut Sample) {
    if sample.target_index().is_some() {
        return;
    }
    let found = sample.target.iter().find_map(|t| {
        sample
            .choices
            .iter()
            .position(|c| c.trim().eq_ignore_ascii_case(t.trim()))
    });
    if let Some(letter) = found.and_then(Sample::letter) {
        sample.target = vec![letter.to_string()];
    }
}

/// The `files` object: relative paths that stay inside the working directory, text values.
fn read_files(
    row: &Row,
    field: &str,
    diags: &mut Vec<Diagnostic>,
    bad: &impl Fn(&'static str, &str, String) -> Diagnostic,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    match row.fields.get(field) {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (path, text) in map {
                match (safe_relative(path), text.as_str()) {
                    (true, Some(t)) => {
                        out.insert(path.clone(), t.to_owned());
                    }
                    (false, _) => diags.push(bad(
                        "dataset::unsafe-path",
                        field,
                        format!("file path {path:?} must be relative and stay inside the working directory"),
                    )),
                    (true, None) => diags.push(bad(
                        "dataset::field-type",
                        field,
                        format!("the contents of file {path:?} must be a string"),
                    )),
                }
            }
        }
        Some(_) => diags.push(bad(
            "dataset::field-type",
            field,
            format!("field `{field}` (the files) must be an object of path to text"),
        )),
    }
    out
}

/// Relative, non-empty, no `..`, no absolute component.
pub(crate) fn safe_relative(path: &str) -> bool {
    use std::path::Component;
    let p = std::path::Path::new(path);
    !path.trim().is_empty()
        && !path.contains('\0')
        && p.components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

fn read_choices(
    row: &Row,
    spec: &OneOrMany,
    diags: &mut Vec<Diagnostic>,
    bad: &impl Fn(&'static str, &str, String) -> Diagnostic,
) -> Vec<String> {
    let as_list = |field: &str, v: &Value, diags: &mut Vec<Diagnostic>| -> Vec<String> {
        let parsed;
        let v = match v {
            // A CSV cell (or a JSONL string) holding a JSON array.
            Value::String(s) if s.trim_start().starts_with('[') => {
                parsed = serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
                &parsed
            }
            other => other,
        };
        match v {
            Value::Array(items) if items.iter().all(Value::is_string) => items
                .iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect(),
            _ => {
                diags.push(bad(
                    "dataset::field-type",
                    field,
                    format!("field `{field}` (the choices) must be a list of strings"),
                ));
                Vec::new()
            }
        }
    };
    match spec {
        OneOrMany::One(field) => match row.fields.get(field) {
            None | Some(Value::Null) => Vec::new(),
            Some(v) => as_list(field, v, diags),
        },
        OneOrMany::Many(fs) => fs
            .iter()
            .filter_map(|f| match row.fields.get(f) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => {
                    diags.push(bad(
                        "dataset::missing-field",
                        f,
                        format!("missing or non-text choice field `{f}`"),
                    ));
                    None
                }
            })
            .collect(),
    }
}

fn read_metadata(
    row: &Row,
    spec: &OneOrMany,
    diags: &mut Vec<Diagnostic>,
    bad: &impl Fn(&'static str, &str, String) -> Diagnostic,
) -> Map<String, Value> {
    match spec {
        OneOrMany::One(field) => match row.fields.get(field) {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            // A CSV column named as the metadata field: keep it under its own name.
            Some(v @ Value::String(_)) => {
                let mut m = Map::new();
                m.insert(field.clone(), v.clone());
                m
            }
            Some(_) => {
                diags.push(bad(
                    "dataset::field-type",
                    field,
                    format!("field `{field}` (the metadata) must be an object"),
                ));
                Map::new()
            }
        },
        OneOrMany::Many(fs) => fs
            .iter()
            .filter_map(|f| row.fields.get(f).map(|v| (f.clone(), v.clone())))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mc_needs() -> RowRequirements {
        RowRequirements {
            target: true,
            choices: true,
            metadata: vec!["topic".into()],
        }
    }

    #[test]
    fn parses_jsonl_and_accepts_choice_text_targets() {
        let text = concat!(
            r#"{"id": "a", "input": "Q1", "choices": ["x", "y"], "target": "B", "metadata": {"topic": "t"}}"#,
            "\n\n",
            r#"{"id": 7, "input": "Q2", "choices": ["x", "y"], "target": "x", "metadata": {"topic": "t"}}"#,
            "\n"
        );
        let s = parse_dataset(
            text,
            DatasetFormat::Jsonl,
            &FieldMap::default(),
            &mc_needs(),
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].target_index(), Some(1));
        assert_eq!(s[1].id, "7");
        assert_eq!(s[1].target, vec!["A"]);
        assert_eq!(s[1].line, 3);
    }

    #[test]
    fn reports_every_bad_row_with_line_and_field() {
        let text = concat!(
            r#"{"id": "a", "input": "Q1", "choices": ["x", "y"], "target": "C", "metadata": {"topic": "t"}}"#,
            "\n",
            r#"{"id": "a", "input": 3, "choices": ["x", "y"], "target": "A"}"#,
            "\n",
            "{not json\n",
        );
        let diags = parse_dataset(
            text,
            DatasetFormat::Jsonl,
            &FieldMap::default(),
            &mc_needs(),
        )
        .unwrap_err();
        let codes: Vec<_> = diags.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [
                "dataset::bad-target",
                "dataset::field-type",
                "dataset::missing-metadata",
                "dataset::bad-json",
            ],
            "{diags:#?}"
        );
        assert!(diags[0].message.starts_with("line 1:"));
        let span = diags[1].span.clone().unwrap();
        assert_eq!(&text[span], "\"input\"", "caret on the field");
        assert!(diags[3].message.starts_with("line 3:"));
        // Duplicate ids are only reported for rows that otherwise parse.
        let dup = concat!(
            r#"{"id": "a", "input": "x"}"#,
            "\n",
            r#"{"id": "a", "input": "y"}"#
        );
        let d = parse_dataset(
            dup,
            DatasetFormat::Jsonl,
            &FieldMap::default(),
            &RowRequirements::default(),
        )
        .unwrap_err();
        assert_eq!(d[0].code, "dataset::duplicate-id");
        assert!(d[0].message.starts_with("line 2:"));
    }

    #[test]
    fn tool_samples_need_safe_file_paths_and_valid_checks() {
        let good = r#"{"id": "a", "input": "x", "files": {"d/f.txt": "hi"}, "check": {"kind": "answer_equals", "expected": "1"}}"#;
        let s = parse_dataset(
            good,
            DatasetFormat::Jsonl,
            &FieldMap::default(),
            &RowRequirements::default(),
        )
        .unwrap();
        assert_eq!(s[0].files["d/f.txt"], "hi");
        assert!(s[0].check.is_some());
        let bad = concat!(
            r#"{"id": "a", "input": "x", "files": {"../f": "hi", "/etc/x": "y"}}"#,
            "\n",
            r#"{"id": "b", "input": "x", "check": {"kind": "file_equals", "path": "/abs", "expected": "1"}}"#,
            "\n",
            r#"{"id": "c", "input": "x", "check": {"kind": "bogus"}}"#,
        );
        let d = parse_dataset(
            bad,
            DatasetFormat::Jsonl,
            &FieldMap::default(),
            &RowRequirements::default(),
        )
        .unwrap_err();
        let codes: Vec<_> = d.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            [
                "dataset::unsafe-path",
                "dataset::unsafe-path",
                "dataset::bad-check",
                "dataset::bad-check"
            ]
        );
    }

    #[test]
    fn parses_csv_with_choice_columns() {
        let text = "qid,question,a,b,c,answer,topic\n1,Q one,x,y,z,C,phys\n2,Q two,x,y,z,A,bio\n";
        let fields = FieldMap {
            id: "qid".into(),
            input: "question".into(),
            target: "answer".into(),
            choices: OneOrMany::Many(vec!["a".into(), "b".into(), "c".into()]),
            metadata: OneOrMany::Many(vec!["topic".into()]),
            ..FieldMap::default()
        };
        let s = parse_dataset(text, DatasetFormat::Csv, &fields, &mc_needs()).unwrap();
        assert_eq!(s[0].choices, ["x", "y", "z"]);
        assert_eq!(s[0].target_index(), Some(2));
        assert_eq!(s[1].metadata_text("topic").as_deref(), Some("bio"));
        assert_eq!(s[1].line, 3);
        let bad = "qid,question,a,b,c,answer,topic\n1,Q one,x,y,z,Q,phys\n";
        let d = parse_dataset(bad, DatasetFormat::Csv, &fields, &mc_needs()).unwrap_err();
        assert_eq!(d[0].code, "dataset::bad-target");
        assert!(d[0].message.starts_with("line 2:"), "{}", d[0].message);
    }

    #[test]
    fn empty_dataset_is_an_error() {
        let d = parse_dataset(
            "\n",
            DatasetFormat::Jsonl,
            &FieldMap::default(),
            &RowRequirements::default(),
        )
        .unwrap_err();
        assert_eq!(d[0].code, "dataset::empty");
    }
}
