#!/usr/bin/env bash
# The demo: install the gate and run it on a bundled example (a tiny causal transformer LM).
# Writes the report folder (result.json, loss.csv, loss.png, report.md, junit.xml).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$(bash "$ROOT/scripts/setup-env.sh" | tail -n 1)"
cd "$ROOT"
OUT="${1:-overfit-gate-report}"
set +e
"$VENV/bin/overfit-gate" run --entrypoint examples/tiny_gpt.py:make_task --out "$OUT"
code=$?
set -e
echo
echo "demo: exit code $code; report folder: $ROOT/$OUT"
ls -1 "$OUT"
exit "$code"
