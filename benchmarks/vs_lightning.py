"""End to end: the full default gate run (early stop + all default checks + reports) vs
PyTorch Lightning's `Trainer(overfit_batches=1, max_steps=N)` on the same model and batch,
which gives no verdict at all. Both as whole processes (interpreter start and imports
included), interleaved. Target: gate <= 0.7x Lightning.

    python benchmarks/vs_lightning.py [--repeats 5] [--steps 500]

Needs `pip install lightning` (the `bench` extra).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

from _common import EXAMPLES, ROOT, paired, table

PY = sys.executable


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "OVERFIT_GATE_"))}


def gate_run(entry: str, out: str) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([PY, "-m", "gate", "run", "--entrypoint", entry, "--out", out], cwd=ROOT, env=_env(),
                          capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"gate run on {entry} exited {proc.returncode}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return dt


def lightning_run(entry: str, steps: int) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([PY, str(ROOT / "benchmarks" / "_lightning_run.py"), entry, "--steps", str(steps)],
                          cwd=ROOT, env=_env(), capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"lightning on {entry} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=500, help="Lightning's max_steps (= the gate's step budget)")
    ap.add_argument("--examples", default=",".join(EXAMPLES))
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.examples.split(","):
            entry = EXAMPLES[name]
            t = paired(
                {
                    "lightning": lambda entry=entry: lightning_run(entry, args.steps),
                    "gate": lambda entry=entry, name=name: gate_run(entry, os.path.join(tmp, name)),
                },
                args.repeats,
            )
            rows.append((name, t["lightning"], t["gate"]))
    print(f"python {sys.version.split()[0]}, repeats {args.repeats} interleaved, Lightning max_steps={args.steps}")
    print(table("Full default gate run vs Lightning overfit_batches=1 (whole processes)", rows,
                f"Lightning ({args.steps} steps, no verdict)", "overfit-gate run (verdict + checks + reports)"))


if __name__ == "__main__":
    main()
