//! Fuzz the whole policy front end: decoding, parsing, deserialising,
//! validation, rendering the diagnostics, and (when valid) explaining and
//! diffing. None of it may panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsp_policy::{Catalog, check, diag, explain};

fuzz_target!(|data: &[u8]| {
    let catalog = Catalog::new(["knowledge-proxy", "cyber-proxy"]);
    let report = check(data, &catalog);
    let text = String::from_utf8_lossy(data);
    let _ = diag::render(&report.diagnostics, "fuzz.toml", &text, diag::Style::Plain);
    if let Some(p) = report.policy.as_ref().filter(|_| report.is_valid()) {
        let _ = explain::explain(p, explain::Format::Html);
        let d = rsp_policy::diff::diff(p, p);
        assert!(d.changes.is_empty());
    }
});
