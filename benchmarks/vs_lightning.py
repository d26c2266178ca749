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
import sys
import tempfile

from _common import EXAMPLES, ROOT, gate_run, paired, table, timed_process

PY = sys.executable


def lightning_run(entry: str, steps: int) -> float:
    return timed_process(
        [PY, str(ROOT / "benchmarks" / "_lightning_run.py"), entry, "--steps", str(steps)], f"lightning on {entry}"
    )


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
                    "gate": lambda entry=entry, name=name: gate_run(["--entrypoint", entry], os.path.join(tmp, name)),
                },
                args.repeats,
            )
            rows.append((name, t["lightning"], t["gate"]))
    print(f"python {sys.version.split()[0]}, repeats {args.repeats} interleaved, Lightning max_steps={args.steps}")
    print(
        table(
            "Full default gate run vs Lightning overfit_batches=1 (whole processes)",
            rows,
            f"Lightning ({args.steps} steps, no verdict)",
            "overfit-gate run (verdict + checks + reports)",
        )
    )


if __name__ == "__main__":
    main()
