#!/usr/bin/env bash
# Dashboard benchmark: 1,000,000 samples in SQLite, wrk on loopback, server-side
# p50/p99 per page, peak RSS. Usage: benches/serve/run.sh [N_SAMPLES] [DURATION]
# Needs wrk (Debian package `wrk`) and curl. The database is kept in $RSP_BENCH_DIR
# (default: a temp dir) and reused when it already has N samples.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-1000000}
DUR=${2:-20s}
DIR=${RSP_BENCH_DIR:-$(mktemp -d)}
DB="$DIR/bench-$N.db"
ADDR=127.0.0.1:${RSP_BENCH_PORT:-8791}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }

# Release (bench profile) by default; RSP_BENCH_PROFILE=dev uses the dev profile
# (dependencies at opt-level 2, rsp crates at 1), which is slower, never faster.
if [ "${RSP_BENCH_PROFILE:-release}" = dev ]; then
  BUILD=(cargo build -p rsp-serve --bench serve)
else
  BUILD=(cargo bench -p rsp-serve --bench serve --no-run)
fi
"${BUILD[@]}" 2>&1 | tail -1
BIN=$("${BUILD[@]}" --message-format=json 2>/dev/null \
  | grep -o '"executable":"[^"]*"' | tail -1 | cut -d'"' -f4)

if [ -f "$DB.run" ]; then RUN=$(cat "$DB.run"); else
  echo "filling $DB with $N samples…"
  RUN=$("$BIN" fill "$DB" "$N"); echo "$RUN" > "$DB.run"
fi
echo "run: $RUN  db: $(du -h "$DB" | cut -f1)"

"$BIN" serve "$DB" "$ADDR" > "$DIR/server.out" 2> "$DIR/server.err" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -sf "http://$ADDR/api/v1/health" >/dev/null && break; sleep 0.2; done
echo "RSS after start: $(grep VmRSS /proc/$PID/status | awk '{print $2/1024 " MB"}')"

MID=$((N / 2))
declare -a URLS=(
  "/"
  "/runs/$RUN"
  "/runs/$RUN?after=$MID.0"
  "/runs/$RUN?after=$MID.0&min_value=1"
  "/runs/$RUN?after=$MID.0&meta=domain%3Dcyber"
  "/runs/$RUN?error=yes&after=$MID.0"
  "/api/v1/runs/$RUN/samples?after=$MID.0&limit=50"
  "/runs/$RUN/samples/item-$(printf %07d $MID)/0"
)
printf "%-58s %10s %10s %10s\n" "url (wrk -t2 -c8, $DUR)" "req/s" "p50" "p99"
for u in "${URLS[@]}"; do
  out=$(wrk -t2 -c8 -d"$DUR" --latency "http://$ADDR$u")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  printf "%-58s %10s %10s %10s\n" "${u:0:58}" "$rps" "$p50" "$p99"
done
echo "peak RSS (VmHWM): $(grep VmHWM /proc/$PID/status | awk '{print $2/1024 " MB"}')"
kill -TERM $PID; wait $PID || true
cat "$DIR/server.out"
