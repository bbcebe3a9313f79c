//! One dataset item, as every solver and scorer sees it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::scorer::end_state::Check;

/// One item of a dataset (Inspect's `Sample`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Stable id, unique within the dataset; the key for resumption and paired comparison.
    pub id: String,
    /// The question or instruction.
    pub input: String,
    /// Accepted answers (empty when the task has no target, like refusal calibration). For
    /// multiple choice this is the correct letter (`"B"`).
    pub target: Vec<String>,
    /// Answer options, for multiple-choice tasks.
    pub choices: Vec<String>,
    /// Free-form metadata (topic, difficulty, answer type…), used by clustering and by the
    /// `switch` scorer.
    pub metadata: Map<String, Value>,
    /// Files laid out in the sample's working directory before the agent starts (relative
    /// path → UTF-8 text), for tool-using tasks (Inspect's `files`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, String>,
    /// How the `end_state` scorer judges the working directory afterwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<Check>,
    /// 1-based line (JSONL) or record line (CSV) the item came from, for diagnostics.
    pub line: usize,
}

impl Sample {
    /// The letter of choice `index` (`0 → A`), for up to 26 choices.
    pub fn letter(index: usize) -> Option<char> {
        u8::try_from(index)
            .ok()
            .filter(|i| *i < 26)
            .map(|i| char::from(b'A' + i))
    }

    /// Index of a choice letter (`'B' → 1`), if the sample has that many choices.
    pub fn letter_index(&self, letter: char) -> Option<usize> {
        let upper = letter.to_ascii_uppercase();
        if !upper.is_ascii_uppercase() {
            return None;
        }
        let i = usize::from(u8::try_from(upper).ok()? - b'A');
        (i < self.choices.len()).then_some(i)
    }

    /// The index of the correct choice: the first target that is a valid letter.
    pub fn target_index(&self) -> Option<usize> {
        self.target.iter().find_map(|t| {
            let mut chars = t.trim().chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => self.letter_index(c),
                _ => None,
            }
        })
    }

    /// The choices as a lettered list, one per line (`A) newton`).
    pub fn lettered_choices(&self) -> String {
        self.choices
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{}) {c}", Sample::letter(i).unwrap_or('?')))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A metadata field as text (strings as is, other values as JSON), for clustering and
    /// switching.
    pub fn metadata_text(&self, field: &str) -> Option<String> {
        self.metadata.get(field).map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A four-choice sample whose answer is `target`.
    pub fn mc(id: &str, target: &str) -> Sample {
        Sample {
            id: id.into(),
            input: "What is the SI unit of force?".into(),
            target: vec![target.into()],
            choices: ["newton", "joule", "watt", "pascal"]
                .map(String::from)
                .to_vec(),
            metadata: Map::new(),
            files: BTreeMap::new(),
            check: None,
            line: 1,
        }
    }

    /// A free-text sample.
    pub fn text(id: &str, input: &str, target: &str) -> Sample {
        Sample {
            id: id.into(),
            input: input.into(),
            target: if target.is_empty() {
                Vec::new()
            } else {
                vec![target.into()]
            },
            choices: Vec::new(),
            metadata: Map::new(),
            files: BTreeMap::new(),
            check: None,
            line: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::mc;
    use super::*;

    #[test]
    fn letters_map_both_ways() {
        let s = mc("x", "C");
        assert_eq!(Sample::letter(0), Some('A'));
        assert_eq!(Sample::letter(26), None);
        assert_eq!(s.letter_index('c'), Some(2));
        assert_eq!(s.letter_index('E'), None, "only four choices");
        assert_eq!(s.target_index(), Some(2));
        assert!(s.lettered_choices().starts_with("A) newton\nB) joule"));
    }
}
