#!/usr/bin/env bash
# The test command: installs what the tests need (venv, pinned CPU torch, dev and
# integration extras), lints, type-checks and runs pytest. Docker tests start their own
# engine (scripts/docker-engine.sh) from the test setup. Extra args go to pytest.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$(bash "$ROOT/scripts/setup-env.sh" dev,integrations | tail -n 1)"
cd "$ROOT"
echo "== ruff"; "$VENV/bin/ruff" check gate tests benchmarks examples
echo "== mypy"; "$VENV/bin/mypy" gate
echo "== pytest"
exec "$VENV/bin/python" -m pytest "$@"
