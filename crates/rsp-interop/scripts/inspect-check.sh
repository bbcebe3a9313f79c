#!/usr/bin/env bash
# Interop check against a real Inspect: run the fixture task (5 samples, 2 epochs) against
# the loopback OpenAI stub in both log formats, import the logs with `rsp import inspect`
# (which exits 1 if rsp's recomputed accuracy/stderr disagree with Inspect's by more than
# 1e-9), export the run with `rsp export inspect`, and have Inspect open the export:
# `inspect log dump` and the `inspect view` server's log-headers endpoint.
#
# Usage: crates/rsp-interop/scripts/inspect-check.sh
#   env: RSP_INTEROP_DIR=/tmp/rsp-interop-check  INSPECT_VENV=$RSP_INTEROP_DIR/venv
#        PORT=8078  SKIP_BUILD=1  RSP_BIN=target/release/rsp
# Needs python3 and network access to PyPI the first time (pip install inspect_ai openai).
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT="$PWD"
WORK="${RSP_INTEROP_DIR:-/tmp/rsp-interop-check}"
VENV="${INSPECT_VENV:-$WORK/venv}"
PORT="${PORT:-8078}"
mkdir -p "$WORK"

[ -n "${SKIP_BUILD:-}" ] || cargo build --release -p rsp --bin rsp --example openai_stub 2>&1 | tail -1
RSP="${RSP_BIN:-$ROOT/target/release/rsp}"
STUB="$ROOT/target/release/examples/openai_stub"
if [ ! -x "$VENV/bin/inspect" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet inspect_ai openai
fi

"$STUB" --port "$PORT" --latency-ms 1 2>"$WORK/stub.log" &
STUB_PID=$!
VIEW_PID=
trap 'kill $STUB_PID 2>/dev/null || true; [ -z "$VIEW_PID" ] || kill $VIEW_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/stats" >/dev/null && break; sleep 0.05; done

rm -rf "$WORK/logs" "$WORK/project" "$WORK/view"
cp "$ROOT/crates/rsp-interop/scripts/fixture_task.py" "$WORK/"
export STUB_BASE_URL="http://127.0.0.1:$PORT/v1" STUB_API_KEY=check
for fmt in eval json; do
  ( cd "$WORK" && "$VENV/bin/inspect" eval fixture_task.py --model openai-api/stub/fixture \
      --log-dir "$WORK/logs" --log-format "$fmt" --display none >/dev/null )
done

"$RSP" init "$WORK/project" >/dev/null
cd "$WORK/project"
"$RSP" import inspect "$WORK/logs"            # exits 1 on any disagreement
RUN=$("$RSP" import inspect "$WORK/logs" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["run"])')
mkdir -p "$WORK/view"
"$RSP" export inspect "$RUN" -o "$WORK/view/export.eval"
"$VENV/bin/inspect" log dump "$WORK/view/export.eval" | python3 -c '
import json, sys
log = json.load(sys.stdin)
assert log["status"] == "success", log["status"]
print("inspect log dump: ok,", len(log["samples"]), "samples,",
      {s["name"]: s["metrics"] for s in log["results"]["scores"]})'
"$VENV/bin/inspect" view start --log-dir "$WORK/view" --port $((PORT + 1)) >"$WORK/view.log" 2>&1 &
VIEW_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$((PORT + 1))/api/logs" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$((PORT + 1))/api/log-headers?file=file://$WORK/view/export.eval" \
  | python3 -c 'import json,sys; h=json.load(sys.stdin)[0]; assert h["status"]=="success"; print("inspect view: header ok")'
echo "interop check passed"
