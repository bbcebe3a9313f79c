#!/usr/bin/env bash
# One-time, idempotent machine set-up for rsp: system packages the build needs
# (cmake + libclang for the embedded llama.cpp engine; chromium + chromium-driver
# for the dashboard's headless browser test) and the embedded model.
# Safe to run again: every step checks before it acts.
set -euo pipefail

need_pkgs=()
for p in cmake libclang-dev clang pkg-config chromium chromium-driver; do
  dpkg -s "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  else
    echo "setup: please install: ${need_pkgs[*]}" >&2; exit 2
  fi
fi

"$(dirname "$0")/fetch-model.sh"
