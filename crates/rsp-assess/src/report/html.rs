//! The HTML writer: one self-contained page.
//!
//! The page carries its own CSS and nothing else: no scripts, fonts,
//! images or links outside the document, so it can be archived, mailed
//! and printed as a single file and still look the same years later.
//! Every piece of text and every attribute value goes through [`escape`].
//! Statuses are badges whose *text* names the status; the colour only
//! repeats it.

use std::fmt::Write as _;

use super::doc::{Block, Doc, Inline, Line};

/// Escape text for element content and (double- or single-quoted)
/// attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An element id: HTML ids may not contain whitespace, so it becomes `-`.
pub(crate) fn id_attr(id: &str) -> String {
    escape(
        &id.chars()
            .map(|c| if c.is_whitespace() { '-' } else { c })
            .collect::<String>(),
    )
}

/// Render `doc` as a complete HTML page.
pub(crate) fn render(doc: &Doc) -> String {
    let mut body = String::new();
    for b in &doc.blocks {
        block(&mut body, b);
    }
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n</body>\n</html>\n",
        escape(&doc.title),
    )
}

fn block(out: &mut String, b: &Block) {
    match b {
        Block::Heading { level, id, text } => {
            let level = (*level).clamp(1, 6);
            let id = id
                .as_deref()
                .map(|i| format!(" id=\"{}\"", id_attr(i)))
                .unwrap_or_default();
            let _ = writeln!(out, "<h{level}{id}>{}</h{level}>", line(text));
        }
        Block::Para(text) => {
            let _ = writeln!(out, "<p>{}</p>", line(text));
        }
        Block::List(items) => {
            out.push_str("<ul>\n");
            for i in items {
                let _ = writeln!(out, "<li>{}</li>", line(i));
            }
            out.push_str("</ul>\n");
        }
        Block::Table { header, rows } => table(out, header, rows),
        Block::Callout { tone, label, body } => {
            let _ = writeln!(
                out,
                "<div class=\"callout {}\" role=\"note\"><strong>{}:</strong> {}</div>",
                tone.class(),
                escape(label),
                line(body)
            );
        }
        Block::Pre { label, text } => {
            let _ = writeln!(
                out,
                "<div class=\"pre-label\">{}</div>\n<pre>{}</pre>",
                escape(label),
                escape(text)
            );
        }
        Block::Figure { caption, svg, file } => {
            figure(out, caption, svg.as_deref(), file.as_deref());
        }
    }
}

/// A chart embedded inline, so the page stays one self-contained file. The
/// SVG comes from rsp's own chart writer (plotters, which escapes the text
/// it draws); anything that does not look like a plain SVG document, or
/// that could run script or load something, is left out and named instead.
fn figure(out: &mut String, caption: &str, svg: Option<&str>, file: Option<&str>) {
    out.push_str("<figure class=\"chart\">\n");
    match svg.map(str::trim).filter(|s| inline_safe(s)) {
        Some(s) => {
            out.push_str(s);
            out.push('\n');
        }
        None => {
            let why = if svg.is_some() {
                "chart not embedded (it is not a plain SVG drawing)"
            } else {
                "chart not embedded"
            };
            let _ = write!(out, "<p>{why}");
            if let Some(f) = file {
                let _ = write!(out, "; see <code>{}</code>", escape(f));
            }
            out.push_str(".</p>\n");
        }
    }
    let _ = writeln!(
        out,
        "<figcaption>{}</figcaption>\n</figure>",
        escape(caption)
    );
}

/// A plain SVG drawing: one `<svg>` element, with no script, no event
/// handler, no foreign HTML and no reference to anything outside itself.
fn inline_safe(svg: &str) -> bool {
    let lower = svg.to_ascii_lowercase();
    lower.starts_with("<svg")
        && lower.ends_with("</svg>")
        && lower.matches("<svg").count() == 1
        && ![
            "<script",
            "<foreignobject",
            "javascript:",
            "href",
            "<!",
            "<?",
            "url(",
        ]
        .iter()
        .any(|bad| lower.contains(bad))
        && !attribute_names(&lower).any(|name| name.starts_with("on"))
}

/// The names of the attributes in markup: what precedes each `="`. Text
/// drawn by plotters has its quotes escaped, so it never produces one.
fn attribute_names(markup: &str) -> impl Iterator<Item = &str> {
    markup.match_indices("=\"").map(move |(i, _)| {
        let before = &markup[..i];
        let start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ':'))
            .map_or(0, |j| j + 1);
        &before[start..]
    })
}

fn table(out: &mut String, header: &[String], rows: &[Vec<Line>]) {
    // A table without column titles is a list of facts: its first column
    // names the row.
    let facts = header.iter().all(String::is_empty);
    out.push_str(if facts {
        "<table class=\"facts\">\n"
    } else {
        "<table>\n"
    });
    if !facts {
        out.push_str("<thead><tr>");
        for h in header {
            let _ = write!(out, "<th scope=\"col\">{}</th>", escape(h));
        }
        out.push_str("</tr></thead>\n");
    }
    out.push_str("<tbody>\n");
    for r in rows {
        out.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            if facts && i == 0 {
                let _ = write!(out, "<th scope=\"row\">{}</th>", line(c));
            } else {
                let _ = write!(out, "<td>{}</td>", line(c));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

fn line(l: &Line) -> String {
    let mut s = String::new();
    for i in &l.0 {
        match i {
            Inline::Text(t) => s.push_str(&escape(t)),
            Inline::Code(t) => {
                let _ = write!(s, "<code>{}</code>", escape(t));
            }
            Inline::Strong(t) => {
                let _ = write!(s, "<strong>{}</strong>", escape(t));
            }
            Inline::Badge { text, tone, class } => {
                let _ = write!(
                    s,
                    "<span class=\"badge {} {}\">{}</span>",
                    tone.class(),
                    escape(class),
                    escape(text)
                );
            }
            Inline::Anchor { text, id } => {
                let _ = write!(s, "<a href=\"#{}\">{}</a>", id_attr(id), escape(text));
            }
        }
    }
    s
}

/// The whole stylesheet. Colours pair dark text with light backgrounds
/// (WCAG AA contrast), and print rules keep badges and tables legible on
/// paper without a background.
const CSS: &str = "\
body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;background:#f6f6f6;color:#1a1a1a}
main{max-width:64rem;margin:0 auto;padding:1rem 2rem 3rem;background:#fff}
h1{border-bottom:2px solid #333;padding-bottom:.3rem}
h2{margin-top:2.2rem;border-bottom:1px solid #ccc}
h3{margin-top:1.8rem}
table{border-collapse:collapse;width:100%;margin:.8rem 0}
th,td{border:1px solid #ccc;padding:.35rem .55rem;text-align:left;vertical-align:top}
thead th{background:#eee}
table.facts th{background:#f7f7f7;width:16rem;font-weight:600}
code{font-family:ui-monospace,Menlo,Consolas,monospace;background:#f2f2f2;padding:0 .2rem;border-radius:3px;word-break:break-all}
pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px;background:#f7f7f7;border:1px solid #ddd;padding:.6rem;white-space:pre-wrap;overflow-wrap:anywhere;margin:.2rem 0 .8rem}
.pre-label{font-weight:600;margin-top:.6rem}
.badge{display:inline-block;padding:0 .45rem;border-radius:.7rem;border:1px solid;font-weight:600;white-space:nowrap}
.tone-good{background:#e3f4e6;color:#14532d;border-color:#5aa26a}
.tone-caution{background:#fff4d6;color:#6b4500;border-color:#d39e00}
.tone-unknown{background:#ece8f6;color:#3b2a6b;border-color:#8a78c0}
.tone-bad{background:#fde3e1;color:#7f1010;border-color:#d04a42}
.callout{border-left:.35rem solid;padding:.5rem .8rem;margin:.8rem 0}
a{color:#0b4f9c}
figure.chart{margin:.8rem 0}
figure.chart svg{max-width:100%;height:auto}
figcaption{font-size:13px;color:#444}
@media print{
body{background:#fff;font-size:11pt}
main{max-width:none;padding:0}
a{color:inherit;text-decoration:none}
h2,h3,h4{break-after:avoid}
tr,pre,.callout,figure{break-inside:avoid}
.badge,.callout,thead th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::doc::Tone;

    #[test]
    fn escapes_text_attributes_and_verbatim_blocks() {
        let mut d = Doc::new("<t>");
        d.heading_id(3, "a\"b c", Line::from("<script>"));
        d.pre("In", "</pre><script>x</script>");
        d.para(Line::new().badge("<x>", Tone::Bad, "c\"d"));
        let h = render(&d);
        assert!(!h.contains("<script>"), "{h}");
        assert!(h.contains("<title>&lt;t&gt;</title>"));
        assert!(h.contains("<h3 id=\"a&quot;b-c\">&lt;script&gt;</h3>"));
        assert!(h.contains("<pre>&lt;/pre&gt;&lt;script&gt;x&lt;/script&gt;</pre>"));
        assert!(h.contains("class=\"badge tone-bad c&quot;d\">&lt;x&gt;</span>"));
    }

    #[test]
    fn page_is_self_contained() {
        let h = render(&Doc::new("t"));
        for needle in ["<script", "<link", "src=", "@import", "url(", "http"] {
            assert!(!h.contains(needle), "found {needle}");
        }
    }

    #[test]
    fn figures_embed_plain_svg_and_refuse_anything_that_could_run() {
        let svg = "<svg width=\"10\" height=\"10\" xmlns=\"http://www.w3.org/2000/svg\">\n<text x=\"1\">on load &lt;b&gt;</text>\n</svg>\n";
        let mut d = Doc::new("t");
        d.figure("A <chart>", Some(svg.to_owned()), Some("c.svg".into()));
        let h = render(&d);
        assert!(
            h.contains("<figure class=\"chart\">\n<svg width=\"10\""),
            "{h}"
        );
        assert!(
            h.contains("<figcaption>A &lt;chart&gt;</figcaption>"),
            "{h}"
        );
        for bad in [
            "<svg onload=\"alert(1)\"></svg>",
            "<svg><script>alert(1)</script></svg>",
            "<svg><a href=\"https://x\">x</a></svg>",
            "<svg><foreignObject><p>x</p></foreignObject></svg>",
            "<p>not svg</p>",
            "<svg></svg><svg></svg>",
        ] {
            let mut d = Doc::new("t");
            d.figure("c", Some(bad.to_owned()), Some("c.svg".into()));
            let h = render(&d);
            assert!(!h.contains(bad), "{bad} was embedded");
            assert!(
                h.contains(
                    "chart not embedded (it is not a plain SVG drawing); see <code>c.svg</code>."
                ),
                "{h}"
            );
        }
    }

    #[test]
    fn facts_tables_use_row_headers() {
        let mut d = Doc::new("t");
        d.facts(vec![("Run", Line::new().code("r1"))]);
        let h = render(&d);
        assert!(h.contains("<table class=\"facts\">"));
        assert!(h.contains("<th scope=\"row\">Run</th><td><code>r1</code></td>"));
    }
}
