//! Counters and the classifier-latency histogram, rendered in the Prometheus text exposition
//! format (version 0.0.4) by hand.
//!
//! Hand-written rather than via the `prometheus` or `metrics` crates: the proxy needs six
//! families, the format is a few lines per family, and the crates would bring a registry
//! (global by default) and their own locking model for that. Label sets are rendered once,
//! at increment time, and kept in a `BTreeMap` so the output is stable (sorted) and testable.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::guard::Stage;

/// Upper bounds (seconds) of the latency histogram buckets: 5 ms to 10 s covers a local
/// classifier head up to a remote judge at the default 5 s timeout.
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Why a check failed closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailReason {
    /// The guard returned an error.
    Error,
    /// The guard did not answer within the timeout.
    Timeout,
}

impl FailReason {
    /// The label value (`error`, `timeout`).
    pub fn as_str(self) -> &'static str {
        match self {
            FailReason::Error => "error",
            FailReason::Timeout => "timeout",
        }
    }
}

/// What went wrong talking to the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UpstreamErrorKind {
    /// Connecting or sending failed.
    Connect,
    /// The upstream answered with a non-2xx status.
    Status,
    /// The body (or stream) broke or did not parse.
    Body,
}

impl UpstreamErrorKind {
    fn as_str(self) -> &'static str {
        match self {
            UpstreamErrorKind::Connect => "connect",
            UpstreamErrorKind::Status => "status",
            UpstreamErrorKind::Body => "body",
        }
    }
}

/// A counter family keyed by its rendered label set (`{a="x",b="y"}`).
#[derive(Debug, Default)]
struct Family(Mutex<BTreeMap<String, u64>>);

impl Family {
    fn add(&self, labels: &[(&str, &str)], n: u64) {
        let key = render_labels(labels);
        // A poisoned lock only means another thread panicked mid-increment; the map is
        // still a valid map, so keep counting.
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *map.entry(key).or_insert(0) += n;
    }

    fn get(&self, labels: &[(&str, &str)]) -> u64 {
        let key = render_labels(labels);
        let map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        map.get(&key).copied().unwrap_or(0)
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} counter");
        let map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (labels, value) in map.iter() {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    }
}

/// One histogram series with fixed buckets.
#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, stage: &str) {
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            let n = bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{stage=\"{stage}\",le=\"{bound}\"}} {n}");
        }
        let count = self.count.load(Ordering::Relaxed);
        // Precision loss past 2^53 µs (285 years of latency) is irrelevant.
        #[allow(clippy::cast_precision_loss)]
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(
            out,
            "{name}_bucket{{stage=\"{stage}\",le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(out, "{name}_sum{{stage=\"{stage}\"}} {sum}");
        let _ = writeln!(out, "{name}_count{{stage=\"{stage}\"}} {count}");
    }
}

/// The proxy's metrics. One instance lives in the proxy state (no global registry), so tests
/// and several proxies in one process never share counts.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Family,
    verdicts: Family,
    blocks: Family,
    blocked_requests: Family,
    fail_closed: Family,
    upstream_errors: Family,
    latency: [Histogram; 2],
}

impl Metrics {
    /// Zeroed metrics with every fixed label combination present, so dashboards see the
    /// series (at 0) before the first event.
    pub fn new() -> Self {
        let m = Self::default();
        for stream in ["true", "false"] {
            m.requests.add(&[("stream", stream)], 0);
        }
        for stage in [Stage::Input, Stage::Output] {
            m.blocked_requests.add(&[("stage", stage.as_str())], 0);
            for reason in [FailReason::Error, FailReason::Timeout] {
                m.fail_closed
                    .add(&[("stage", stage.as_str()), ("reason", reason.as_str())], 0);
            }
        }
        for kind in [
            UpstreamErrorKind::Connect,
            UpstreamErrorKind::Status,
            UpstreamErrorKind::Body,
        ] {
            m.upstream_errors.add(&[("kind", kind.as_str())], 0);
        }
        m
    }

    /// Counts one chat-completion request.
    pub(crate) fn request(&self, stream: bool) {
        self.requests.add(&[("stream", bool_str(stream))], 1);
    }

    /// Records one guard call: its latency and outcome. `classes` are counted (one each) only
    /// for a block verdict; a block without classes counts as class `unspecified`.
    pub(crate) fn check(
        &self,
        stage: Stage,
        latency: Duration,
        outcome: Result<(bool, &[String]), FailReason>,
    ) {
        self.latency[stage_index(stage)].observe(latency);
        let s = stage.as_str();
        match outcome {
            Ok((false, _)) => self.verdicts.add(&[("stage", s), ("verdict", "allow")], 1),
            Ok((true, classes)) => {
                self.verdicts.add(&[("stage", s), ("verdict", "block")], 1);
                if classes.is_empty() {
                    self.blocks
                        .add(&[("stage", s), ("class", "unspecified")], 1);
                }
                for class in classes {
                    self.blocks.add(&[("stage", s), ("class", class)], 1);
                }
            }
            Err(reason) => {
                self.verdicts
                    .add(&[("stage", s), ("verdict", "fail_closed")], 1);
                self.fail_closed
                    .add(&[("stage", s), ("reason", reason.as_str())], 1);
            }
        }
    }

    /// Counts a request refused (input) or cut off (output), whatever the cause.
    pub(crate) fn blocked_request(&self, stage: Stage) {
        self.blocked_requests.add(&[("stage", stage.as_str())], 1);
    }

    /// Counts an upstream failure.
    pub(crate) fn upstream_error(&self, kind: UpstreamErrorKind) {
        self.upstream_errors.add(&[("kind", kind.as_str())], 1);
    }

    /// Fail-closed checks so far at `stage` for `reason` (for tests and the bench).
    pub fn fail_closed_count(&self, stage: Stage, reason: FailReason) -> u64 {
        self.fail_closed
            .get(&[("stage", stage.as_str()), ("reason", reason.as_str())])
    }

    /// Renders every family in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        self.requests.render(
            &mut out,
            "rsp_guard_requests_total",
            "Chat-completion requests received by the guard proxy.",
        );
        self.verdicts.render(
            &mut out,
            "rsp_guard_verdicts_total",
            "Guard checks by stage and outcome (allow, block, fail_closed).",
        );
        self.blocks.render(
            &mut out,
            "rsp_guard_blocks_total",
            "Block verdicts by stage and violated class (one per class named).",
        );
        self.blocked_requests.render(
            &mut out,
            "rsp_guard_blocked_requests_total",
            "Requests refused at input or cut off at output, including fail-closed blocks.",
        );
        self.fail_closed.render(
            &mut out,
            "rsp_guard_fail_closed_total",
            "Guard checks that errored or timed out and were treated as blocks.",
        );
        self.upstream_errors.render(
            &mut out,
            "rsp_guard_upstream_errors_total",
            "Upstream failures by kind (connect, status, body).",
        );
        let name = "rsp_guard_classifier_latency_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Guard call latency, including calls that failed or timed out."
        );
        let _ = writeln!(out, "# TYPE {name} histogram");
        for stage in [Stage::Input, Stage::Output] {
            self.latency[stage_index(stage)].render(&mut out, name, stage.as_str());
        }
        out
    }
}

fn stage_index(stage: Stage) -> usize {
    match stage {
        Stage::Input => 0,
        Stage::Output => 1,
    }
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// `{a="x",b="y"}` with label values escaped as the text format requires (`\\`, `\"`, `\n`).
fn render_labels(labels: &[(&str, &str)]) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(k);
        s.push_str("=\"");
        for c in v.chars() {
            match c {
                '\\' => s.push_str("\\\\"),
                '"' => s.push_str("\\\""),
                '\n' => s.push_str("\\n"),
                c => s.push(c),
            }
        }
        s.push('"');
    }
    s.push('}');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(
            render_labels(&[("class", "a\"b\\c\nd"), ("stage", "input")]),
            r#"{class="a\"b\\c\nd",stage="input"}"#
        );
    }

    #[test]
    fn renders_counters_and_cumulative_histogram() {
        let m = Metrics::new();
        m.request(true);
        m.request(true);
        m.check(Stage::Input, Duration::from_millis(3), Ok((false, &[])));
        let classes = vec!["weapons".to_owned(), "cyber".to_owned()];
        m.check(
            Stage::Output,
            Duration::from_millis(60),
            Ok((true, &classes)),
        );
        m.check(
            Stage::Input,
            Duration::from_secs(6),
            Err(FailReason::Timeout),
        );
        m.blocked_request(Stage::Input);
        m.upstream_error(UpstreamErrorKind::Connect);
        let text = m.render();
        for line in [
            "rsp_guard_requests_total{stream=\"true\"} 2",
            "rsp_guard_requests_total{stream=\"false\"} 0",
            "rsp_guard_verdicts_total{stage=\"input\",verdict=\"allow\"} 1",
            "rsp_guard_verdicts_total{stage=\"input\",verdict=\"fail_closed\"} 1",
            "rsp_guard_blocks_total{stage=\"output\",class=\"weapons\"} 1",
            "rsp_guard_blocks_total{stage=\"output\",class=\"cyber\"} 1",
            "rsp_guard_blocked_requests_total{stage=\"input\"} 1",
            "rsp_guard_fail_closed_total{stage=\"input\",reason=\"timeout\"} 1",
            "rsp_guard_fail_closed_total{stage=\"output\",reason=\"error\"} 0",
            "rsp_guard_upstream_errors_total{kind=\"connect\"} 1",
            "rsp_guard_classifier_latency_seconds_bucket{stage=\"input\",le=\"0.005\"} 1",
            "rsp_guard_classifier_latency_seconds_bucket{stage=\"input\",le=\"5\"} 1",
            "rsp_guard_classifier_latency_seconds_bucket{stage=\"input\",le=\"10\"} 2",
            "rsp_guard_classifier_latency_seconds_bucket{stage=\"input\",le=\"+Inf\"} 2",
            "rsp_guard_classifier_latency_seconds_count{stage=\"input\"} 2",
            "rsp_guard_classifier_latency_seconds_sum{stage=\"input\"} 6.003",
            "rsp_guard_classifier_latency_seconds_bucket{stage=\"output\",le=\"0.05\"} 0",
            "rsp_guard_classifier_latency_seconds_bucket{stage=\"output\",le=\"0.075\"} 1",
            "# TYPE rsp_guard_classifier_latency_seconds histogram",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert_eq!(m.fail_closed_count(Stage::Input, FailReason::Timeout), 1);
    }

    #[test]
    fn block_without_classes_counts_as_unspecified() {
        let m = Metrics::new();
        m.check(Stage::Input, Duration::ZERO, Ok((true, &[])));
        assert!(
            m.render()
                .contains("rsp_guard_blocks_total{stage=\"input\",class=\"unspecified\"} 1")
        );
    }
}
