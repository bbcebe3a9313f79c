#!/usr/bin/env bash
# The whole test suite, from a fresh clone: set up the machine (idempotent:
# build tools and the embedded model), then run every test in the workspace.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/setup.sh"
cd "$here"
cargo test --workspace --locked --no-fail-fast
