#!/usr/bin/env bash
# Guard-proxy overhead bench: direct-to-upstream vs the proxy (buffered, async, sequential
# input check) at 50 concurrent streams in front of a 200 ms upstream and a 50 ms judge, then
# maximum requests/s. Prints markdown tables; see benches/proxy/README.md.
#
# Usage: benches/proxy/run.sh   (env: RSP_BENCH_UPSTREAM_MS=200 RSP_BENCH_JUDGE_MS=50
#        RSP_BENCH_CONCURRENCY=50 RSP_BENCH_PER_CLIENT=6 RSP_BENCH_REPS=3 RSP_BENCH_CHUNKS=32
#        RSP_BENCH_CHECK_EVERY=16 RSP_BENCH_CAP_CONCURRENCY=64 RSP_BENCH_CAP_PER_CLIENT=20)
set -euo pipefail
cd "$(dirname "$0")/../.."
# Build first so compilation does not overlap the timed runs.
cargo bench -p rsp-proxy --bench overhead --no-run 2>&1 | tail -1
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
cargo bench -p rsp-proxy --bench overhead 2>/dev/null
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
