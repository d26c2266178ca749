#!/usr/bin/env bash
# The test command: installs what the tests need (venv, pinned CPU torch, dev and
# integration extras, the docs tools, a Docker engine and the locally built test images), lints,
# type-checks and runs pytest. Extra args go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$(bash "$ROOT/scripts/setup-env.sh" dev,integrations,docs | tail -n 1)"
cd "$ROOT"
echo "== ruff"; "$VENV/bin/ruff" check gate tests benchmarks examples scripts
"$VENV/bin/ruff" format --check gate tests benchmarks examples scripts
echo "== mypy"; "$VENV/bin/mypy"   # gate and tests (pyproject: [tool.mypy] files)
# The docs site: --strict turns a broken link or a missing page into a failure (about 2 s).
echo "== docs"; NO_MKDOCS_2_WARNING=1 "$VENV/bin/mkdocs" build --strict --quiet
if [ "${GATE_TEST_SKIP_DOCKER:-0}" != "1" ]; then
  echo "== docker engine and test images"
  bash scripts/docker-engine.sh start
  trap 'bash scripts/docker-engine.sh stop' EXIT   # stops dockerd only if we started it
  bash scripts/build-test-images.sh
fi
echo "== pytest"
"$VENV/bin/python" -m pytest "$@"
