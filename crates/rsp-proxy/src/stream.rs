//! Relaying a streamed completion while the guard reads along.
//!
//! One task per stream reads the upstream's SSE events and decides, event by event, when
//! each may reach the client. Output checks cover a *prefix* of the events: every
//! `check_every_chunks` content chunks a check starts over each choice's text so far, and
//! one more starts when the upstream ends. Checks run concurrently with the relay (up to
//! `max_checks_in_flight`) and complete in order, so a judge's latency overlaps both the
//! upstream's generation and the other checks:
//!
//! - [`StreamMode::Buffered`]: an event is released when a passing check covers it;
//! - [`StreamMode::Async`]: content is released on arrival, but the finish chunk and
//!   `[DONE]` wait for the end-of-stream check.
//!
//! Any block (or guard failure) cuts the stream: held events are dropped, the upstream
//! connection is closed, and the client gets one `finish_reason: "content_filter"` chunk and
//! `[DONE]`, so the stream stays well formed. If the client goes away the task ends and drops
//! the upstream request.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use futures::future::{BoxFuture, join_all};
use futures::stream::{FuturesOrdered, StreamExt as _};
use rsp_model::Message;
use tokio::sync::mpsc;

use crate::check::Checker;
use crate::config::StreamMode;
use crate::guard::Stage;
use crate::metrics::UpstreamErrorKind;
use crate::openai::{self, ChunkInfo, DONE_FRAME};
use crate::router::ProxyState;

/// Starts relaying `upstream` and returns the client's SSE response.
pub(crate) fn respond(
    state: &ProxyState,
    request_id: u64,
    messages: Arc<Vec<Message>>,
    upstream: reqwest::Response,
) -> Response {
    // Small buffer: back-pressure from a slow client reaches the upstream read quickly.
    let (tx, rx) = mpsc::channel::<Bytes>(32);
    let relay = Relay::new(state, request_id, messages, tx);
    tokio::spawn(relay.run(upstream));
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    (
        [
            (CONTENT_TYPE, "text/event-stream"),
            (CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// The outcome of one output check: blocked, and the event sequence number it covers up to.
type CheckOutcome = (bool, u64);

/// The per-stream state.
struct Relay {
    state: ProxyState,
    checker: Checker,
    request_id: u64,
    messages: Arc<Vec<Message>>,
    tx: mpsc::Sender<Bytes>,
    mode: StreamMode,
    every: usize,
    max_in_flight: usize,
    /// Events not yet released, with their sequence numbers.
    held: VecDeque<(u64, Bytes)>,
    /// Sequence number of the next event.
    next_seq: u64,
    /// Each choice's text so far, and how much of it the last started check saw.
    outputs: BTreeMap<u32, (String, usize)>,
    /// Content chunks since the last check started.
    since_check: usize,
    /// Async mode: once a finish chunk or `[DONE]` arrived, everything after is held.
    holding_tail: bool,
    last: ChunkInfo,
    checks: FuturesOrdered<BoxFuture<'static, CheckOutcome>>,
    released: usize,
}

/// Why the relay stopped early.
enum Stop {
    /// The client hung up.
    ClientGone,
    /// An output check blocked.
    Blocked,
}

impl Relay {
    fn new(
        state: &ProxyState,
        request_id: u64,
        messages: Arc<Vec<Message>>,
        tx: mpsc::Sender<Bytes>,
    ) -> Self {
        let config = state.config();
        Self {
            state: state.clone(),
            checker: state.checker().clone(),
            request_id,
            messages,
            tx,
            mode: config.stream_mode,
            every: config.check_every_chunks.max(1),
            max_in_flight: config.max_checks_in_flight.max(1),
            held: VecDeque::new(),
            next_seq: 0,
            outputs: BTreeMap::new(),
            since_check: 0,
            holding_tail: false,
            last: ChunkInfo::default(),
            checks: FuturesOrdered::new(),
            released: 0,
        }
    }

    async fn run(mut self, upstream: reqwest::Response) {
        match self.relay(upstream).await {
            Ok(()) | Err(Stop::ClientGone) => {}
            Err(Stop::Blocked) => {
                self.state.metrics().blocked_request(Stage::Output);
                tracing::warn!(
                    request_id = self.request_id,
                    released_events = self.released,
                    "output blocked; stream cut off"
                );
                let choices: Vec<u32> = if self.outputs.is_empty() {
                    vec![0]
                } else {
                    self.outputs.keys().copied().collect()
                };
                let fallback = format!("chatcmpl-rsp-{}", self.request_id);
                let cut = openai::cut_chunk(&self.last, &fallback, &choices);
                // The client may be gone already; nothing else to do then.
                let _ = self.tx.send(Bytes::from(cut)).await;
                let _ = self
                    .tx
                    .send(Bytes::from_static(DONE_FRAME.as_bytes()))
                    .await;
            }
        }
    }

    async fn relay(&mut self, upstream: reqwest::Response) -> Result<(), Stop> {
        let mut body = upstream.bytes_stream();
        let mut parser = crate::sse::SseParser::default();
        let mut events = Vec::new();
        let mut upstream_done = false;
        loop {
            if upstream_done && self.checks.is_empty() {
                return self.release_all().await;
            }
            tokio::select! {
                biased;
                () = self.tx.closed() => return Err(Stop::ClientGone),
                Some((blocked, cover)) = self.checks.next(), if !self.checks.is_empty() => {
                    if blocked {
                        return Err(Stop::Blocked);
                    }
                    self.release_until(cover).await?;
                    if !upstream_done {
                        self.maybe_start_check();
                    }
                }
                read = body.next(), if !upstream_done => {
                    match read {
                        Some(Ok(bytes)) => parser.push(&bytes, &mut events),
                        Some(Err(e)) => {
                            self.state.metrics().upstream_error(UpstreamErrorKind::Body);
                            tracing::warn!(
                                request_id = self.request_id,
                                error = %e.without_url(),
                                "upstream stream broke"
                            );
                            upstream_done = true;
                        }
                        None => upstream_done = true,
                    }
                    if upstream_done {
                        events.extend(parser.finish());
                    }
                    for data in events.drain(..) {
                        if self.on_event(&data).await? {
                            upstream_done = true;
                            break;
                        }
                    }
                    if upstream_done {
                        self.start_final_check();
                    } else {
                        self.maybe_start_check();
                    }
                }
            }
        }
    }

    /// Takes one upstream event; true at `[DONE]` (nothing after it is read).
    async fn on_event(&mut self, data: &str) -> Result<bool, Stop> {
        let done = data == "[DONE]";
        let mut terminal = done;
        if !done && let Some(info) = openai::parse_chunk(data) {
            let mut has_text = false;
            for (index, text, finished) in &info.choices {
                let entry = self.outputs.entry(*index).or_default();
                entry.0.push_str(text);
                has_text |= !text.is_empty();
                terminal |= *finished;
            }
            if has_text {
                self.since_check += 1;
            }
            self.last = info;
        }
        let frame = Bytes::from(if done {
            DONE_FRAME.to_owned()
        } else {
            openai::frame(data)
        });
        let seq = self.next_seq;
        self.next_seq += 1;
        self.holding_tail |= terminal;
        if self.mode == StreamMode::Async && !self.holding_tail {
            self.send(frame).await?;
        } else {
            self.held.push_back((seq, frame));
        }
        Ok(done)
    }

    /// Starts a periodic check when a window is full and a slot is free.
    fn maybe_start_check(&mut self) {
        if self.since_check >= self.every && self.checks.len() < self.max_in_flight {
            self.start_check();
        }
    }

    /// The end-of-stream check; when every choice's text was already covered, an
    /// already-passed marker that releases the tail once earlier checks pass.
    fn start_final_check(&mut self) {
        let dirty = self.outputs.values().any(|(text, seen)| text.len() > *seen);
        if dirty {
            self.start_check();
        } else {
            let cover = self.next_seq;
            self.checks
                .push_back(Box::pin(futures::future::ready((false, cover))));
        }
    }

    /// Checks every choice whose text grew since the last check, over the events so far.
    fn start_check(&mut self) {
        let cover = self.next_seq;
        let mut texts = Vec::new();
        for (index, (text, seen)) in &mut self.outputs {
            if text.len() > *seen {
                *seen = text.len();
                texts.push((*index, text.clone()));
            }
        }
        self.since_check = 0;
        let checker = self.checker.clone();
        let messages = self.messages.clone();
        let id = self.request_id;
        self.checks.push_back(Box::pin(async move {
            let checks = texts
                .iter()
                .map(|(index, text)| checker.check(id, *index, &messages, Some(text.as_str())));
            let blocked = join_all(checks).await.iter().any(|d| d.block);
            (blocked, cover)
        }));
    }

    async fn release_until(&mut self, cover: u64) -> Result<(), Stop> {
        while self.held.front().is_some_and(|(seq, _)| *seq < cover) {
            if let Some((_, frame)) = self.held.pop_front() {
                self.send(frame).await?;
            }
        }
        Ok(())
    }

    async fn release_all(&mut self) -> Result<(), Stop> {
        self.release_until(u64::MAX).await
    }

    async fn send(&mut self, frame: Bytes) -> Result<(), Stop> {
        self.released += 1;
        self.tx.send(frame).await.map_err(|_| Stop::ClientGone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ProxyConfig;
    use crate::guard::{Guard, GuardFailure, GuardVerdict};
    use async_trait::async_trait;

    /// Blocks output containing "BAD".
    #[derive(Debug)]
    struct NoBad;

    #[async_trait]
    impl Guard for NoBad {
        async fn classify(
            &self,
            _: &[Message],
            output: Option<&str>,
        ) -> Result<GuardVerdict, GuardFailure> {
            Ok(match output {
                Some(o) if o.contains("BAD") => GuardVerdict::block(1.0, vec!["c".into()]),
                _ => GuardVerdict::allow(0.0),
            })
        }
    }

    fn chunk(text: &str, finish: Option<&str>) -> String {
        let v = serde_json::json!({"id": "x", "object": "chat.completion.chunk", "created": 1,
            "model": "m", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]});
        format!("data: {v}\n\n")
    }

    /// Relays `parts` (as separate network reads) and returns what the client receives.
    async fn relay(mode: StreamMode, every: usize, parts: Vec<String>) -> String {
        let mut config = ProxyConfig::new("http://127.0.0.1:9/v1");
        config.stream_mode = mode;
        config.check_every_chunks = every;
        let state = ProxyState::new(config, Arc::new(NoBad)).unwrap();
        let reads = futures::stream::iter(parts.into_iter().map(Ok::<_, Infallible>));
        let upstream =
            reqwest::Response::from(axum::http::Response::new(reqwest::Body::wrap_stream(reads)));
        let messages = Arc::new(vec![Message::user("q")]);
        let response = respond(&state, 1, messages, upstream);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        String::from_utf8(body.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_stream_without_done_is_relayed_without_inventing_one() {
        // The last event is split across reads and never terminated by a blank line.
        let last = chunk("b", Some("stop"));
        let (head, tail) = last.trim_end().split_at(10);
        let parts = vec![chunk("a", None), head.to_owned(), tail.to_owned()];
        let out = relay(StreamMode::Buffered, 1, parts).await;
        assert!(
            out.contains("\"content\":\"a\"") && out.contains("\"stop\""),
            "{out}"
        );
        assert!(!out.contains("[DONE]"), "{out}");
    }

    #[tokio::test]
    async fn async_mode_releases_text_then_the_final_check_cuts() {
        // Every chunk is released on arrival; "BAD" arrives in the last chunk, below the
        // periodic window, so only the end-of-stream check sees it.
        let parts = vec![
            chunk("fine ", None),
            chunk("BAD", None),
            chunk("", Some("stop")),
            "data: [DONE]\n\n".to_owned(),
        ];
        let out = relay(StreamMode::Async, 100, parts).await;
        assert!(out.contains("\"content\":\"fine \""), "{out}");
        assert!(
            !out.contains("\"stop\""),
            "the upstream finish must be withheld: {out}"
        );
        assert!(out.contains("content_filter"), "{out}");
        assert!(out.ends_with("data: [DONE]\n\n"), "{out}");
    }

    #[tokio::test]
    async fn buffered_mode_withholds_the_flagged_window() {
        let parts = vec![
            chunk("fine ", None),
            chunk("BAD", None),
            chunk("", Some("stop")),
            "data: [DONE]\n\n".to_owned(),
        ];
        let out = relay(StreamMode::Buffered, 100, parts).await;
        assert!(!out.contains("fine") && !out.contains("BAD"), "{out}");
        assert!(
            out.contains("content_filter") && out.ends_with("data: [DONE]\n\n"),
            "{out}"
        );
    }
}
