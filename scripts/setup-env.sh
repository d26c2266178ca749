#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment with everything the demo and the
# tests need. Sourced by demo.sh and test.sh; idempotent and quick when already done.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${OVERFIT_GATE_VENV:-$ROOT/.venv}"
EXTRAS="${1:-}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
# Pinned torch first: on these machines 2.13.0 is a CPU wheel on disk. An unpinned torch
# would pull several GB of CUDA packages, and installing it first keeps every later
# requirement that accepts 2.13.0 from fetching another build.
if ! "$VENV/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
  "${PIP[@]}" "torch==2.13.0"
fi
"${PIP[@]}" -e "$ROOT${EXTRAS:+[$EXTRAS]}"
echo "$VENV"
