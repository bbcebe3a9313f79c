//! An incremental reader of `text/event-stream` bodies.
//!
//! Network reads split events anywhere (mid-line, mid-UTF-8 character), so bytes are
//! buffered until a whole line is in, and an event is emitted at the blank line that ends
//! it. Only `data:` fields matter to OpenAI streams; comments (`:`), `event:`, `id:` and
//! `retry:` lines are skipped. Lines may end in `\n` or `\r\n`.

/// Turns body bytes into the `data` of each complete event.
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    buf: Vec<u8>,
    data: Option<String>,
}

impl SseParser {
    /// Feeds `bytes`, appending the data of every event they complete to `out`.
    pub(crate) fn push(&mut self, bytes: &[u8], out: &mut Vec<String>) {
        self.buf.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(nl) = self.buf[start..].iter().position(|&b| b == b'\n') {
            let end = start + nl;
            let mut line = &self.buf[start..end];
            if let [rest @ .., b'\r'] = line {
                line = rest;
            }
            if line.is_empty() {
                if let Some(d) = self.data.take() {
                    out.push(d);
                }
            } else if let Some(v) = line.strip_prefix(b"data:") {
                let v = v.strip_prefix(b" ").unwrap_or(v);
                let v = String::from_utf8_lossy(v);
                match &mut self.data {
                    Some(d) => {
                        d.push('\n');
                        d.push_str(&v);
                    }
                    None => self.data = Some(v.into_owned()),
                }
            }
            start = end + 1;
        }
        self.buf.drain(..start);
    }

    /// The data of an event the body ended without terminating, if any.
    pub(crate) fn finish(&mut self) -> Option<String> {
        let mut out = Vec::new();
        if !self.buf.is_empty() {
            self.push(b"\n", &mut out);
        }
        out.pop().or_else(|| self.data.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_anywhere_are_reassembled() {
        let body = "data: {\"a\":1}\n\n: comment\nevent: x\ndata: line1\r\ndata:line2\r\n\r\ndata: [DONE]\n\n";
        for split in 0..body.len() {
            let mut p = SseParser::default();
            let mut out = Vec::new();
            p.push(&body.as_bytes()[..split], &mut out);
            p.push(&body.as_bytes()[split..], &mut out);
            assert_eq!(
                out,
                ["{\"a\":1}", "line1\nline2", "[DONE]"],
                "split at {split}"
            );
            assert_eq!(p.finish(), None);
        }
    }

    #[test]
    fn multibyte_text_split_mid_character_survives() {
        let body = "data: héllo ✓\n\n".as_bytes();
        let mut p = SseParser::default();
        let mut out = Vec::new();
        for b in body {
            p.push(&[*b], &mut out);
        }
        assert_eq!(out, ["héllo ✓"]);
    }

    #[test]
    fn unterminated_event_is_returned_by_finish() {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        p.push(b"data: tail", &mut out);
        assert!(out.is_empty());
        assert_eq!(p.finish().as_deref(), Some("tail"));
    }
}
