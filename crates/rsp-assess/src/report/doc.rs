//! A tiny document model that both report writers render.
//!
//! The reports are written once as a list of [`Block`]s of [`Line`]s, and
//! [`super::markdown`] and [`super::html`] turn that list into text. Keeping
//! content and markup apart means the Markdown and HTML reports can never
//! say different things, and each writer escapes every piece of text in one
//! place: no renderer ever splices caller text into markup by hand.

/// How alarming a status is. Writers turn it into a colour (HTML) while the
/// status text itself always stays visible, so colour is never the only cue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tone {
    /// Nothing to act on.
    Good,
    /// Early warning, or waiting for people.
    Caution,
    /// Nothing known: no evidence, unverified.
    Unknown,
    /// A line crossed, a safeguard missing, a decision blocked.
    Bad,
}

impl Tone {
    /// CSS class of the tone.
    pub(crate) fn class(self) -> &'static str {
        match self {
            Self::Good => "tone-good",
            Self::Caution => "tone-caution",
            Self::Unknown => "tone-unknown",
            Self::Bad => "tone-bad",
        }
    }
}

/// A run of inline content.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Inline {
    /// Plain text.
    Text(String),
    /// An identifier or hash, shown in monospace.
    Code(String),
    /// Emphasised text.
    Strong(String),
    /// A status: its text, its tone, and a status-specific CSS class.
    Badge {
        /// Text shown (always visible).
        text: String,
        /// Colour family.
        tone: Tone,
        /// Extra class such as `status-crossed`.
        class: String,
    },
    /// A link to an element of the same document (`#threshold-X`).
    Anchor {
        /// Link text.
        text: String,
        /// Target id, without `#`.
        id: String,
    },
}

/// One line of inline content, built fluently.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Line(pub(crate) Vec<Inline>);

impl Line {
    /// An empty line.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Append plain text.
    pub(crate) fn text(mut self, s: impl Into<String>) -> Self {
        self.0.push(Inline::Text(s.into()));
        self
    }

    /// Append monospace text.
    pub(crate) fn code(mut self, s: impl Into<String>) -> Self {
        self.0.push(Inline::Code(s.into()));
        self
    }

    /// Append emphasised text.
    pub(crate) fn strong(mut self, s: impl Into<String>) -> Self {
        self.0.push(Inline::Strong(s.into()));
        self
    }

    /// Append a status badge.
    pub(crate) fn badge(mut self, text: impl Into<String>, tone: Tone, class: &str) -> Self {
        self.0.push(Inline::Badge {
            text: text.into(),
            tone,
            class: class.to_owned(),
        });
        self
    }

    /// Append a link to an id in the same document.
    pub(crate) fn anchor(mut self, text: impl Into<String>, id: impl Into<String>) -> Self {
        self.0.push(Inline::Anchor {
            text: text.into(),
            id: id.into(),
        });
        self
    }

    /// Append every inline of `other`.
    pub(crate) fn extend(mut self, other: Self) -> Self {
        self.0.extend(other.0);
        self
    }
}

impl From<&str> for Line {
    fn from(s: &str) -> Self {
        Self::new().text(s)
    }
}

impl From<String> for Line {
    fn from(s: String) -> Self {
        Self::new().text(s)
    }
}

/// A block of the document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Block {
    /// A heading; `id` makes it a link target (`threshold-KNOW-1`).
    Heading {
        /// 1 to 4.
        level: u8,
        /// Element id, if any.
        id: Option<String>,
        /// Text.
        text: Line,
    },
    /// A paragraph.
    Para(Line),
    /// A bulleted list.
    List(Vec<Line>),
    /// A table with a header row.
    Table {
        /// Column titles.
        header: Vec<String>,
        /// Rows; each as long as the header.
        rows: Vec<Vec<Line>>,
    },
    /// A highlighted note (`Warning: ...`).
    Callout {
        /// Colour family.
        tone: Tone,
        /// Leading label such as `Warning`.
        label: String,
        /// Body.
        body: Line,
    },
    /// Verbatim multi-line text under a label (transcripts).
    Pre {
        /// Label shown above it.
        label: String,
        /// Text, shown as is (escaped).
        text: String,
    },
}

/// A whole report: a title and its blocks.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Doc {
    /// Document title (HTML `<title>`; the first heading carries it too).
    pub(crate) title: String,
    /// Content in order.
    pub(crate) blocks: Vec<Block>,
}

impl Doc {
    /// An empty document titled `title`.
    pub(crate) fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            blocks: Vec::new(),
        }
    }

    /// Add a heading without an id.
    pub(crate) fn heading(&mut self, level: u8, text: impl Into<Line>) {
        self.blocks.push(Block::Heading {
            level,
            id: None,
            text: text.into(),
        });
    }

    /// Add a heading that is a link target.
    pub(crate) fn heading_id(&mut self, level: u8, id: impl Into<String>, text: impl Into<Line>) {
        self.blocks.push(Block::Heading {
            level,
            id: Some(id.into()),
            text: text.into(),
        });
    }

    /// Add a paragraph.
    pub(crate) fn para(&mut self, text: impl Into<Line>) {
        self.blocks.push(Block::Para(text.into()));
    }

    /// Add a bulleted list; nothing when `items` is empty.
    pub(crate) fn list(&mut self, items: Vec<Line>) {
        if !items.is_empty() {
            self.blocks.push(Block::List(items));
        }
    }

    /// Add a table.
    pub(crate) fn table(&mut self, header: &[&str], rows: Vec<Vec<Line>>) {
        self.blocks.push(Block::Table {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows,
        });
    }

    /// Add a two-column "what / value" table.
    pub(crate) fn facts(&mut self, rows: Vec<(&str, Line)>) {
        let rows = rows
            .into_iter()
            .map(|(k, v)| vec![Line::from(k), v])
            .collect();
        self.table(&["", ""], rows);
    }

    /// Add a callout.
    pub(crate) fn callout(&mut self, tone: Tone, label: &str, body: impl Into<Line>) {
        self.blocks.push(Block::Callout {
            tone,
            label: label.to_owned(),
            body: body.into(),
        });
    }

    /// Add verbatim text under a label.
    pub(crate) fn pre(&mut self, label: &str, text: impl Into<String>) {
        self.blocks.push(Block::Pre {
            label: label.to_owned(),
            text: text.into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_lists_are_omitted() {
        let mut d = Doc::new("t");
        d.list(Vec::new());
        d.list(vec![Line::from("x")]);
        assert_eq!(d.blocks.len(), 1);
    }
}
