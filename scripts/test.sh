#!/usr/bin/env bash
# The whole test suite, from a fresh clone: set up the machine (idempotent:
# build tools and the embedded model), then run every test in the workspace.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/setup.sh"
cd "$here"
# A one-shot CI build gains nothing from incremental caches but their disk.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi
cargo test --workspace --locked --no-fail-fast
