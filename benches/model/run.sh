#!/usr/bin/env bash
# Benchmarks the embedded engine (B1 prompt/generation tok/s, B2 scoring with KV reuse,
# B3 concurrent generation, B4 an eval-shaped workload with and without the prompt-prefix
# cache) and, in the same session, llama.cpp's reference `llama-bench`
# on the same GGUF with the same thread count, so both see the same machine load.
#
# Usage: benches/model/run.sh            (env: THREADS=2 REPS=5 LLAMA_BENCH=/path/to/llama-bench)
#
# The reference binary: if LLAMA_BENCH is unset, llama-bench is built once (into
# ${RSP_BENCH_DIR:-/tmp/rsp-bench}) from the llama.cpp sources vendored in the PyPI sdist of
# llama-cpp-python (the llama-cpp-sys-2 crate strips llama.cpp's tools/ folder), with the
# same instruction set the crate's build uses by default (GGML_NATIVE=OFF: AVX2/FMA/F16C,
# OpenMP on). Needs cmake and a C++ compiler (scripts/setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS="${THREADS:-2}"
REPS="${REPS:-5}"
WORK="${RSP_BENCH_DIR:-/tmp/rsp-bench}"
CACHE="${RSP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rsp}"
MODEL="${RSP_MODEL_PATH:-$CACHE/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
[ -f "$MODEL" ] || { echo "no model at $MODEL: run scripts/fetch-model.sh" >&2; exit 2; }
mkdir -p "$WORK"

if [ -z "${LLAMA_BENCH:-}" ]; then
  LLAMA_BENCH="$WORK/llama-build/bin/llama-bench"
  if [ ! -x "$LLAMA_BENCH" ]; then
    echo "building llama-bench (one-off, several minutes)..."
    ( cd "$WORK" && python3 -m pip download --quiet --no-deps --no-binary :all: llama-cpp-python==0.3.36 )
    tar xzf "$WORK"/llama_cpp_python-0.3.36.tar.gz -C "$WORK"
    SRC="$WORK/llama_cpp_python-0.3.36/vendor/llama.cpp"
    cmake -S "$SRC" -B "$WORK/llama-build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=OFF -DGGML_OPENMP=ON \
      -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
      -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=ON -DBUILD_SHARED_LIBS=OFF >/dev/null
    cmake --build "$WORK/llama-build" --target llama-bench -j"$(nproc)" >/dev/null
  fi
fi

# Build the Rust bench first so compilation does not overlap the timed runs.
cargo bench -p rsp-model --bench embedded --no-run 2>&1 | tail -1

reference() {
  # tg128 twice: on an empty context, and after 208 tokens of context (`-d 208`), which is
  # what B1 measures (generation after its 208-token prompt).
  "$LLAMA_BENCH" -m "$MODEL" -p 208 -n 128 -d 0,208 -t "$THREADS" -r "$REPS" -o json 2>/dev/null \
    | python3 -c 'import json,sys
rows=json.load(sys.stdin)
pp=[r["avg_ts"] for r in rows if r["n_prompt"]>0 and r.get("n_depth",0)==0]
tg=[r["avg_ts"] for r in rows if r["n_gen"]>0 and r.get("n_depth",0)==0]
tgd=[r["avg_ts"] for r in rows if r["n_gen"]>0 and r.get("n_depth",0)==208]
print(json.dumps({"pp":pp[0],"tg":tg[0],"tg_d208":tgd[0]}))'
}

echo "load before: $(cut -d" " -f1-3 /proc/loadavg)"
REF1=$(reference)
echo "llama-bench (1st): $REF1"
OURS_OUT=$(RSP_BENCH_THREADS="$THREADS" RSP_BENCH_REPS="$REPS" cargo bench -p rsp-model --bench embedded 2>/dev/null)
echo "$OURS_OUT" | grep -v '^RESULT '
OURS=$(echo "$OURS_OUT" | sed -n 's/^RESULT //p')
REF2=$(reference)
echo "llama-bench (2nd): $REF2"
echo "load after: $(cut -d" " -f1-3 /proc/loadavg)"

python3 - "$REF1" "$REF2" "$OURS" <<'PY'
import json, sys
r1, r2, ours = (json.loads(a) for a in sys.argv[1:4])
pp_ref = (r1["pp"] + r2["pp"]) / 2
tg_ref = (r1["tg"] + r2["tg"]) / 2
tgd_ref = (r1["tg_d208"] + r2["tg_d208"]) / 2
print()
print("| bench | rsp-model | reference | ratio | goal |")
print("|---|---|---|---|---|")
if "b1" in ours:
    b1 = ours["b1"]
    print(f"| B1 prompt tok/s ({b1['prompt_tokens']} tok) | {b1['prompt_tps']:.0f} | {pp_ref:.0f} (llama-bench pp208) | {b1['prompt_tps']/pp_ref:.2f}x | >= 1.0x |")
    print(f"| B1 generation tok/s ({b1['gen_tokens']} tok, after the prompt) | {b1['gen_tps']:.0f} | {tgd_ref:.0f} (llama-bench tg128 @ d208) | {b1['gen_tps']/tgd_ref:.2f}x | >= 1.0x |")
    print(f"| (reference on an empty context) | | {tg_ref:.0f} (llama-bench tg128) | {b1['gen_tps']/tg_ref:.2f}x | |")
if "b2" in ours:
    b2 = ours["b2"]
    print(f"| B2 MC scoring q/s (4 choices) | {b2['reuse_qps']:.2f} (KV reuse) | {b2['naive_qps']:.2f} (per choice) | {b2['speedup']:.2f}x | >= 2x |")
if "b3" in ours:
    b3 = ours["b3"]
    print(f"| B3 aggregate gen tok/s | {b3['concurrent_tps']:.0f} (8 concurrent) | {b3['sequential_tps']:.0f} (1 at a time) | {b3['gain']:.2f}x | > 1.5x |")
if "b4" in ours:
    b4 = ours["b4"]
    print(f"| B4 eval-shaped prompts/s ({b4['prompts']} prompts, {b4['prompt_tokens']} tok), 1 at a time | {b4['warm_1']:.2f} (prefix cache) | {b4['cold_1']:.2f} (no cache) | {b4['warm_1']/b4['cold_1']:.2f}x | |")
    print(f"| B4 same, 8 concurrent | {b4['warm_8']:.2f} (prefix cache) | {b4['cold_8']:.2f} (no cache) | {b4['warm_8']/b4['cold_8']:.2f}x | |")
    print(f"| B4 8 concurrent vs 1 at a time (prefix cache) | {b4['warm_8']:.2f} | {b4['warm_1']:.2f} | {b4['warm_8']/b4['warm_1']:.2f}x | |")
print(f"\nload before/after rsp bench: {ours.get('load_before')} / {ours.get('load_after')}")
PY
