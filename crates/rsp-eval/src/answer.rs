//! Reading an answer out of a completion: the final `ANSWER:` line, a choice letter, a
//! number, a normalised string for voting. Shared by scorers and `best_of_n`, so a vote and
//! a score never disagree about what the model answered.

use std::sync::LazyLock;

use regex::Regex;

use crate::sample::Sample;

/// The text after the last `ANSWER:` (case-insensitive) up to the end of its line, or the
/// whole completion trimmed when there is none.
pub fn final_answer(text: &str) -> &str {
    let lower = text.to_ascii_lowercase();
    match lower.rfind("answer:") {
        Some(at) => {
            let rest = &text[at + "answer:".len()..];
            rest.lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("")
        }
        None => text.trim(),
    }
}

static LEADING_LETTER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^\(?([A-Za-z])(?:[\)\].:,]|\s*\n|\s*$)").ok());
static ANSWER_IS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:answer|option|choice)(?:\s+is)?\s*[:\-]?\s*\(?([A-Z])\b\)?").ok()
});

/// The index of the choice a completion picks, or `None` when it picks none clearly.
///
/// In order: a bare letter (`B`, `(B)`, `B)`, `B.` at the start of the final answer, or
/// `B` alone on the first line; `A newton` is an article, not a letter); a
/// phrase like `the answer is B`; the text of exactly one choice. Free-standing capital
/// letters elsewhere are not read as answers, since "A" is also an article.
pub fn extract_letter(text: &str, sample: &Sample) -> Option<usize> {
    let answer = final_answer(text);
    let leading = LEADING_LETTER
        .as_ref()
        .and_then(|re| re.captures(answer))
        .and_then(|c| c.get(1))
        .and_then(|m| m.as_str().chars().next())
        // A lowercase letter only counts when it is the whole answer ("b"), not a word.
        .filter(|c| c.is_ascii_uppercase() || answer.trim_matches(['(', ')', '.']).len() == 1);
    if let Some(i) = leading.and_then(|c| sample.letter_index(c)) {
        return Some(i);
    }
    let phrase = ANSWER_IS
        .as_ref()
        .and_then(|re| re.captures_iter(text).last())
        .and_then(|c| c.get(1))
        .and_then(|m| m.as_str().chars().next());
    if let Some(i) = phrase.and_then(|c| sample.letter_index(c)) {
        return Some(i);
    }
    let lower = answer.to_lowercase();
    let hits: Vec<usize> = sample
        .choices
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            let c = c.trim().to_lowercase();
            !c.is_empty() && contains_word(&lower, &c)
        })
        .map(|(i, _)| i)
        .collect();
    match hits.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// `needle` occurs in `hay` with no letter or digit right before or after it.
fn contains_word(hay: &str, needle: &str) -> bool {
    hay.match_indices(needle).any(|(at, _)| {
        let before = hay[..at].chars().next_back();
        let after = hay[at + needle.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

static NUMBER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"[-+]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?").ok());

/// The last number in the final answer (thousands separators allowed), if any.
pub fn last_number(text: &str) -> Option<f64> {
    let answer = final_answer(text);
    NUMBER
        .as_ref()?
        .find_iter(answer)
        .filter_map(|m| m.as_str().replace(',', "").parse::<f64>().ok())
        .last()
}

/// Lowercased, whitespace-collapsed, without surrounding punctuation or quotes: the key
/// answers are compared and voted on by.
pub fn normalise(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    collapsed
        .trim_matches(|c: char| c.is_ascii_punctuation() && c != '-' && c != '+')
        .trim()
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::testing::mc;

    #[test]
    fn final_answer_takes_the_last_answer_line() {
        assert_eq!(final_answer("Reasoning...\nANSWER: B\n"), "B");
        assert_eq!(final_answer("answer: 1\nmore\nAnswer:\n 42"), "42");
        assert_eq!(final_answer("  plain  "), "plain");
    }

    #[test]
    fn letters_are_read_conservatively() {
        let s = mc("x", "A");
        let cases = [
            ("B", Some(1)),
            ("(C) watt", Some(2)),
            ("D.", Some(3)),
            ("b", Some(1)),
            ("The answer is C", Some(2)),
            ("I think it is the newton.", Some(0)),
            ("Step 1...\nANSWER: A", Some(0)),
            ("A newton or a joule", None),
            ("E", None),
            ("no idea", None),
            ("before you start", None),
            ("B\nBecause forces are measured in newtons", Some(1)),
        ];
        for (text, want) in cases {
            assert_eq!(extract_letter(text, &s), want, "{text:?}");
        }
    }

    #[test]
    fn numbers_and_normalisation() {
        assert_eq!(last_number("It is 1,234.5 or maybe -3"), Some(-3.0));
        assert_eq!(last_number("ANSWER: 42."), Some(42.0));
        assert_eq!(last_number("none"), None);
        assert_eq!(normalise("  Hello,   World! "), "hello, world");
    }
}
