#!/usr/bin/env bash
# The eval engine benchmark: 10,000 samples against a local OpenAI-compatible stub with a
# fixed 50 ms latency, at concurrency 100, run by rsp and by Inspect in one session on the
# same machine and the same stub. Reports wall time, peak RSS and the ideal time
# N × latency / concurrency (5 s at the defaults).
#
# Usage: benches/eval/run.sh     (env: N=10000 LATENCY_MS=50 CONCURRENCY=100 PORT=8011
#                                 RSP_BENCH_DIR=/tmp/rsp-eval-bench SKIP_INSPECT=1 SKIP_BUILD=1)
#
# Inspect is installed once (pip install inspect_ai openai) into $RSP_BENCH_DIR/venv and
# reaches the stub through its `openai-api/<service>/<model>` provider (STUB_BASE_URL,
# STUB_API_KEY). Both harnesses store every sample: rsp in the project's SQLite store,
# Inspect in its .eval log.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
N="${N:-10000}"
LATENCY_MS="${LATENCY_MS:-50}"
CONCURRENCY="${CONCURRENCY:-100}"
PORT="${PORT:-8011}"
WORK="${RSP_BENCH_DIR:-/tmp/rsp-eval-bench}"
URL="http://127.0.0.1:$PORT/v1"
mkdir -p "$WORK"

# Build first so compilation does not overlap the timed runs.
[ -n "${SKIP_BUILD:-}" ] || cargo build --release -p rsp --bin rsp --example openai_stub 2>&1 | tail -1
RSP="$ROOT/target/release/rsp"
STUB="$ROOT/target/release/examples/openai_stub"

if [ -z "${SKIP_INSPECT:-}" ] && [ ! -x "$WORK/venv/bin/inspect" ]; then
  echo "installing Inspect into $WORK/venv (one-off)..."
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install --quiet inspect_ai openai
fi

# A fresh project holding the benchmark suite and its generated dataset.
PROJECT="$WORK/project"
rm -rf "$PROJECT" "$WORK/inspect-logs"
"$RSP" init "$PROJECT" >/dev/null
cp -r "$ROOT/benches/eval/suite/bench" "$PROJECT/suites/"
DATA="$PROJECT/suites/bench/data.jsonl"
python3 - "$N" "$DATA" <<'PY'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    for i in range(n):
        word = f"w{i:05d}"
        f.write(json.dumps({"id": f"s{i:05d}", "input": f"Repeat this word: {word}", "target": word}) + "\n")
PY

"$STUB" --port "$PORT" --latency-ms "$LATENCY_MS" 2>"$WORK/stub.log" &
STUB_PID=$!
trap 'kill $STUB_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/stats" >/dev/null && break; sleep 0.05; done

field() { # field FILE "Label" -> value after the colon
  grep -F "$2" "$1" | head -1 | sed 's/.*: //'
}
seconds() { # h:mm:ss or m:ss.ss -> seconds
  awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }' <<<"$1"
}

echo "== rsp: $N samples, ${LATENCY_MS} ms latency, concurrency $CONCURRENCY"
curl -sf -X POST "http://127.0.0.1:$PORT/reset" >/dev/null
( cd "$PROJECT" && /usr/bin/time -v -o "$WORK/rsp.time" "$RSP" eval bench/echo \
    --model openai/bench --base-url "$URL" --max-concurrency "$CONCURRENCY" \
    >"$WORK/rsp.out" 2>"$WORK/rsp.err" )
cat "$WORK/rsp.out"
RSP_STATS=$(curl -sf "http://127.0.0.1:$PORT/stats")
RSP_WALL=$(seconds "$(field "$WORK/rsp.time" "Elapsed (wall clock)")")
RSP_RSS=$(field "$WORK/rsp.time" "Maximum resident set size")
RSP_CPU=$(field "$WORK/rsp.time" "Percent of CPU")
echo "stub: $RSP_STATS"

if [ -z "${SKIP_INSPECT:-}" ]; then
  echo "== Inspect $("$WORK/venv/bin/inspect" --version 2>/dev/null | tail -1): same stub, --max-connections $CONCURRENCY"
  curl -sf -X POST "http://127.0.0.1:$PORT/reset" >/dev/null
  cp "$ROOT/benches/eval/inspect_task.py" "$WORK/"   # Inspect wants a relative task path
  ( cd "$WORK" && BENCH_DATA="$DATA" STUB_BASE_URL="$URL" STUB_API_KEY=bench \
      /usr/bin/time -v -o "$WORK/inspect.time" "$WORK/venv/bin/inspect" eval \
      inspect_task.py --model openai-api/stub/bench \
      --max-connections "$CONCURRENCY" --log-dir "$WORK/inspect-logs" --display plain \
      >"$WORK/inspect.out" 2>&1 ) || { tail -20 "$WORK/inspect.out"; exit 1; }
  grep -iE "accuracy|match|samples" "$WORK/inspect.out" | tail -5 || true
  INSPECT_STATS=$(curl -sf "http://127.0.0.1:$PORT/stats")
  INSPECT_WALL=$(seconds "$(field "$WORK/inspect.time" "Elapsed (wall clock)")")
  INSPECT_RSS=$(field "$WORK/inspect.time" "Maximum resident set size")
  INSPECT_CPU=$(field "$WORK/inspect.time" "Percent of CPU")
  echo "stub: $INSPECT_STATS"
fi

IDEAL=$(awk -v n="$N" -v l="$LATENCY_MS" -v c="$CONCURRENCY" 'BEGIN { printf "%.2f", n * l / 1000 / c }')
echo
echo "== results (machine: $(nproc) cores)"
printf "%-8s %10s %12s %8s %14s\n" tool "wall (s)" "peak RSS" CPU "× ideal"
printf "%-8s %10.2f %9.1f MB %8s %14.2f\n" rsp "$RSP_WALL" "$(awk -v k="$RSP_RSS" 'BEGIN{print k/1024}')" "$RSP_CPU" \
  "$(awk -v w="$RSP_WALL" -v i="$IDEAL" 'BEGIN{print w/i}')"
if [ -z "${SKIP_INSPECT:-}" ]; then
  printf "%-8s %10.2f %9.1f MB %8s %14.2f\n" inspect "$INSPECT_WALL" "$(awk -v k="$INSPECT_RSS" 'BEGIN{print k/1024}')" "$INSPECT_CPU" \
    "$(awk -v w="$INSPECT_WALL" -v i="$IDEAL" 'BEGIN{print w/i}')"
  echo "rsp is $(awk -v a="$INSPECT_WALL" -v b="$RSP_WALL" 'BEGIN{printf "%.1f", a/b}')× faster than Inspect (wall time)"
fi
echo "ideal N × latency / concurrency = ${IDEAL} s"
