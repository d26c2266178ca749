#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment with everything the demo and the
# tests need. Run by demo.sh and test.sh; idempotent and quick when already done.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${GATE_TEST_VENV:-$ROOT/.venv}"
EXTRAS="${1:-}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
pip_install() {
  # This machine's pip config names extra local indexes that may be missing; pip warns about
  # each package it looks up there. Keep the log readable, but show everything on failure.
  local log
  log="$(mktemp)"
  if ! "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    return 1
  fi
  grep -v "^WARNING: Location '.*' is ignored" "$log" >&2 || true
  rm -f "$log"
}
# Pinned torch first: on these machines 2.13.0 is a CPU wheel on disk. An unpinned torch
# would pull several GB of CUDA packages, and installing it first keeps every later
# requirement that accepts 2.13.0 from fetching another build.
if ! "$VENV/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
  pip_install "torch==2.13.0"
fi
pip_install -e "$ROOT${EXTRAS:+[$EXTRAS]}"
echo "$VENV"
