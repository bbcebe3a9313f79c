//! Fuzz the log importers: Inspect `.eval` (zip) and `.json`, and lm-eval results and
//! samples. None of it may panic, whatever the bytes; a log that reads must also verify,
//! export to `.eval` and read back.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use rsp_interop::{WriteOptions, inspect, lmeval, verify, write_eval};

fuzz_target!(|data: &[u8]| {
    if let Ok(log) = inspect::read(data) {
        let _ = verify(&log);
        let options = WriteOptions {
            package: ("rsp".into(), "fuzz".into()),
            solvers: vec!["generate".into()],
        };
        if let Ok(bytes) = write_eval(&log, &options) {
            let back = inspect::read(&bytes).expect("rsp's own output must read back");
            assert_eq!(back.samples.len(), log.samples.len());
        }
    }
    // The same bytes as an lm-eval results file, and as a samples file beside a minimal one.
    let _ = lmeval::read("results_x.json", data, &BTreeMap::new());
    let results = br#"{"results": {"t": {"acc,none": 0.5, "acc_stderr,none": 0.1}}}"#;
    let samples = BTreeMap::from([("samples_t_x.jsonl".to_owned(), data.to_vec())]);
    if let Ok(logs) = lmeval::read("results_x.json", results, &samples) {
        for log in &logs {
            let _ = verify(log);
        }
    }
});
