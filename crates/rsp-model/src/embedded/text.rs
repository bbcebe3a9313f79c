//! Turning a stream of token bytes into text: UTF-8 reassembly and stop sequences.
//!
//! A token is a byte string, and a multi-byte character can be split across tokens, so
//! bytes are held until they form whole characters. Stop sequences can also straddle
//! tokens, so text that could be the start of a stop sequence is held back from the stream
//! until it is clear either way — a streamed answer never shows text that the final answer
//! then removes.

/// Accumulates one choice's output.
#[derive(Debug, Default)]
pub(crate) struct TextAssembler {
    pending: Vec<u8>,
    text: String,
    emitted: usize,
    stops: Vec<String>,
}

/// What [`TextAssembler::push`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// New text that is safe to show (possibly empty).
    Text(String),
    /// A stop sequence was produced; the final text is cut before it. Carries the last
    /// safe text to show.
    Stopped(String),
}

impl TextAssembler {
    /// An assembler that stops at any of `stops` (empty strings are ignored).
    pub(crate) fn new(stops: &[String]) -> Self {
        Self {
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
            ..Self::default()
        }
    }

    /// Adds a token's bytes.
    pub(crate) fn push(&mut self, bytes: &[u8]) -> Pushed {
        self.pending.extend_from_slice(bytes);
        let search_from = self.decode_pending();
        if let Some(cut) = self.find_stop(search_from) {
            self.text.truncate(cut);
            return Pushed::Stopped(self.take_until(cut));
        }
        let safe = self.text.len() - self.held_back();
        Pushed::Text(self.take_until(safe))
    }

    /// Ends the output: flushes incomplete bytes (as U+FFFD) and everything held back.
    pub(crate) fn finish(&mut self) -> String {
        if !self.pending.is_empty() {
            let rest = String::from_utf8_lossy(&self.pending).into_owned();
            self.pending.clear();
            self.text.push_str(&rest);
        }
        self.take_until(self.text.len())
    }

    /// The whole text so far (including held-back text).
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Moves whole characters from `pending` into `text`; returns where a stop search
    /// should start (far enough back to catch a stop that began in earlier text).
    fn decode_pending(&mut self) -> usize {
        let longest = self.stops.iter().map(String::len).max().unwrap_or(0);
        let mut from = self.text.len().saturating_sub(longest);
        while !self.text.is_char_boundary(from) {
            from -= 1;
        }
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(s) => {
                    self.text.push_str(s);
                    self.pending.clear();
                    break;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    // The prefix is valid by construction.
                    self.text
                        .push_str(&String::from_utf8_lossy(&self.pending[..valid]));
                    match e.error_len() {
                        Some(bad) => {
                            self.text.push(char::REPLACEMENT_CHARACTER);
                            self.pending.drain(..valid + bad);
                        }
                        None => {
                            self.pending.drain(..valid);
                            break;
                        }
                    }
                }
            }
        }
        from
    }

    fn find_stop(&self, from: usize) -> Option<usize> {
        let hay = &self.text[from..];
        self.stops
            .iter()
            .filter_map(|s| hay.find(s.as_str()))
            .min()
            .map(|i| from + i)
    }

    /// Length of the longest suffix of `text` that is a proper prefix of a stop sequence.
    fn held_back(&self) -> usize {
        let mut best = 0;
        for stop in &self.stops {
            for (i, _) in stop.char_indices().skip(1) {
                if i > best && self.text.ends_with(&stop[..i]) {
                    best = i;
                }
            }
        }
        best
    }

    fn take_until(&mut self, end: usize) -> String {
        self.emitted = self.emitted.min(self.text.len());
        let end = end.clamp(self.emitted, self.text.len());
        let out = self.text[self.emitted..end].to_owned();
        self.emitted = end;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stops(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn reassembles_characters_split_across_tokens() {
        let mut a = TextAssembler::new(&[]);
        let e = "é".as_bytes();
        assert_eq!(a.push(b"caf"), Pushed::Text("caf".into()));
        assert_eq!(a.push(&e[..1]), Pushed::Text(String::new()));
        assert_eq!(a.push(&e[1..]), Pushed::Text("é".into()));
        assert_eq!(a.finish(), "");
        assert_eq!(a.text(), "café");
    }

    #[test]
    fn invalid_and_dangling_bytes_become_replacement_characters() {
        let mut a = TextAssembler::new(&[]);
        assert_eq!(
            a.push(&[b'a', 0xff, b'b']),
            Pushed::Text("a\u{fffd}b".into())
        );
        assert_eq!(a.push(&[0xe2, 0x82]), Pushed::Text(String::new()));
        assert_eq!(a.finish(), "\u{fffd}");
    }

    #[test]
    fn stops_across_tokens_and_never_streams_the_stop() {
        let mut a = TextAssembler::new(&stops(&["\nQ:"]));
        assert_eq!(a.push(b"Paris"), Pushed::Text("Paris".into()));
        assert_eq!(
            a.push(b".\n"),
            Pushed::Text(".".into()),
            "the newline may start a stop"
        );
        assert_eq!(a.push(b"Q"), Pushed::Text(String::new()));
        assert_eq!(a.push(b": next"), Pushed::Stopped(String::new()));
        assert_eq!(a.text(), "Paris.");
    }

    #[test]
    fn held_back_text_is_released_when_it_is_not_a_stop() {
        let mut a = TextAssembler::new(&stops(&["END"]));
        assert_eq!(a.push(b"the E"), Pushed::Text("the ".into()));
        assert_eq!(a.push(b"nd"), Pushed::Text("End".into()));
        assert_eq!(a.push(b" EN"), Pushed::Text(" ".into()));
        assert_eq!(a.finish(), "EN");
        assert_eq!(a.text(), "the End EN");
    }

    #[test]
    fn earliest_stop_wins() {
        let mut a = TextAssembler::new(&stops(&["c", "b"]));
        assert_eq!(a.push(b"abc"), Pushed::Stopped("a".into()));
        assert_eq!(a.text(), "a");
    }
}
