//! The Markdown writer (GitHub-flavoured).
//!
//! Caller text (sample transcripts, notes, model names) may contain
//! anything, so plain text is backslash-escaped (CommonMark allows escaping
//! any ASCII punctuation) and folded onto one line, and verbatim blocks use
//! a fence longer than any backtick run inside them. A transcript can
//! therefore never open a heading, a table cell or raw HTML in the report.

use std::fmt::Write as _;

use super::doc::{Block, Doc, Inline, Line};

/// Render `doc` as Markdown.
pub(crate) fn render(doc: &Doc) -> String {
    let mut out = String::new();
    for b in &doc.blocks {
        block(&mut out, b);
    }
    // Exactly one trailing newline.
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn block(out: &mut String, b: &Block) {
    match b {
        Block::Heading { level, text, .. } => {
            let _ = writeln!(out, "{} {}\n", "#".repeat(usize::from(*level)), line(text));
        }
        Block::Para(text) => {
            let _ = writeln!(out, "{}\n", line(text));
        }
        Block::List(items) => {
            for i in items {
                let _ = writeln!(out, "- {}", line(i));
            }
            out.push('\n');
        }
        Block::Table { header, rows } => {
            let head: Vec<String> = header.iter().map(|h| text(h)).collect();
            let _ = writeln!(out, "| {} |", head.join(" | "));
            let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
            for r in rows {
                let cells: Vec<String> = r.iter().map(line).collect();
                let _ = writeln!(out, "| {} |", cells.join(" | "));
            }
            out.push('\n');
        }
        Block::Callout { label, body, .. } => {
            let _ = writeln!(out, "> **{}:** {}\n", text(label), line(body));
        }
        Block::Pre { label, text: body } => {
            let fence = "`".repeat(longest_backtick_run(body).max(2) + 1);
            let _ = writeln!(out, "{}:\n\n{fence}text\n{body}\n{fence}\n", text(label));
        }
        Block::Figure { caption, file, .. } => match file {
            Some(f) => {
                let _ = writeln!(out, "[{}]({})\n", text(caption), link(f));
            }
            None => {
                let _ = writeln!(out, "{} (no chart file)\n", text(caption));
            }
        },
    }
}

/// A relative link target: every byte outside a conservative set is
/// percent-encoded, so a file name cannot end the link or start markup.
fn link(target: &str) -> String {
    let mut out = String::with_capacity(target.len());
    for b in target.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Render one line of inline content.
fn line(l: &Line) -> String {
    let mut s = String::new();
    for i in &l.0 {
        match i {
            Inline::Text(t) => s.push_str(&text(t)),
            Inline::Strong(t) | Inline::Badge { text: t, .. } => {
                if !t.trim().is_empty() {
                    let _ = write!(s, "**{}**", text(t));
                }
            }
            Inline::Code(t) => s.push_str(&code(t)),
            Inline::Anchor { text: t, .. } => s.push_str(&text(t)),
        }
    }
    s
}

/// Escape plain text: every Markdown-active ASCII punctuation gets a
/// backslash, and line breaks become spaces.
pub(crate) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '#' | '&' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A code span that survives backticks and pipes in its content.
fn code(s: &str) -> String {
    let flat = s.replace(['\n', '\r'], " ");
    if flat.contains('`') || flat.contains('|') {
        // Backticks need a longer delimiter; a pipe inside a code span would
        // still split a GFM table cell, so such identifiers fall back to
        // escaped plain text.
        return text(&flat);
    }
    format!("`{flat}`")
}

fn longest_backtick_run(s: &str) -> usize {
    let (mut best, mut cur) = (0, 0);
    for c in s.chars() {
        if c == '`' {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::doc::Tone;

    #[test]
    fn text_cannot_open_markup() {
        assert_eq!(text("<b>|x*_\n# y"), "\\<b\\>\\|x\\*\\_ \\# y");
    }

    #[test]
    fn fences_outgrow_backticks_in_content() {
        let mut d = Doc::new("t");
        d.pre("Output", "````\nhi");
        let md = render(&d);
        assert!(md.contains("`````text\n````\nhi\n`````"), "{md}");
    }

    #[test]
    fn table_cells_escape_pipes_and_code_spans_stay_code() {
        let mut d = Doc::new("t");
        d.table(
            &["a", "b"],
            vec![vec![
                Line::from("x|y"),
                Line::new().code("id").badge("crossed", Tone::Bad, "s"),
            ]],
        );
        assert_eq!(
            render(&d),
            "| a | b |\n|---|---|\n| x\\|y | `id`**crossed** |\n"
        );
    }

    #[test]
    fn figures_link_their_file_and_never_inline_the_svg() {
        let mut d = Doc::new("t");
        d.figure(
            "KNOW-1 [x]",
            Some("<svg></svg>".into()),
            Some("a b(1).svg".into()),
        );
        assert_eq!(render(&d), "[KNOW-1 \\[x\\]](a%20b%281%29.svg)\n");
        let mut d = Doc::new("t");
        d.figure("c", None, None);
        assert_eq!(render(&d), "c (no chart file)\n");
    }

    #[test]
    fn code_with_pipe_becomes_escaped_text() {
        assert_eq!(code("a|b"), "a\\|b");
    }
}
