#!/usr/bin/env bash
# The main job on the embedded default, from a fresh clone:
# set up the machine (idempotent), build rsp, create a demo project and run it.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
"$here/scripts/setup.sh"
cargo build --release --manifest-path "$here/Cargo.toml" -p rsp
rsp="$here/target/release/rsp"
demo="${1:-$here/demo}"
if [ ! -f "$demo/rsp.toml" ]; then
  "$rsp" init "$demo"
fi
cd "$demo"
"$rsp" policy check
"$rsp" policy explain --format md
"$rsp" policy explain --format html -o policy.html
echo "wrote $demo/policy.html"
"$rsp" chat "What is the capital of France?"
# A real evaluation on the embedded model, with its confidence interval.
# Re-running resumes instead of starting over.
"$rsp" eval knowledge-proxy/logprob
