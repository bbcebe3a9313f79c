//! Live runs: server-sent events fed by polling the store.
//!
//! The engine writes samples to the store from another process, so the server cannot be
//! told about progress; it polls instead, once per interval per connected client, with two
//! index-only counts per running run (see [`crate::queries::live_runs`]). An event is sent
//! only when something changed, plus SSE keep-alives, so an idle dashboard costs nothing
//! on the wire.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;

use crate::api::types::LiveRun;
use crate::queries;
use crate::state::AppState;

/// `GET /api/v1/live/events`.
pub(crate) async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stream = futures::stream::unfold(
        (state, None::<Vec<LiveRun>>, true),
        |(state, last, first)| async move {
            loop {
                if !first || last.is_some() {
                    tokio::time::sleep(state.live_poll()).await;
                }
                // On failure (logged by ApiError) the client keeps its last view; retry.
                let Ok(runs) = queries::live_runs(&state).await else {
                    tokio::time::sleep(state.live_poll()).await;
                    continue;
                };
                if last.as_ref() == Some(&runs) {
                    continue;
                }
                let data = serde_json::to_string(&runs).unwrap_or_else(|_| "[]".to_owned());
                let event = Event::default().event("progress").data(data);
                return Some((Ok(event), (state, Some(runs), false)));
            }
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}
