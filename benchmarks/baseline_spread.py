"""Steps-to-target spread across seeds: the data behind the base-branch comparison's defaults
(``regression-factor`` 2.0, ``first-loss-tolerance`` 0.25; docs/baseline.md).

For each example, the gate's harness runs with its default config (all default checks on)
on CPU at seeds 0..N-1. A PR changes code, not the seed; but a refactor that draws random
numbers in another order (a new layer, a reordered init) moves the pipeline to what is in
effect another seed, so the seed-to-seed spread is the spread a *healthy* PR can show. The
same seed repeated measures run-to-run noise (0 on CPU: the harness is deterministic there).
Each case is also run with its learning rate cut 4x, a silent slowdown the comparison
should flag.

    python benchmarks/baseline_spread.py --seeds 10            # CPU
    python benchmarks/baseline_spread.py --seeds 10 --device cuda
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import EXAMPLES, ROOT

from gate.harness.run_task import run
from gate.harness.spec import Spec

SLOW_LR = 0.25  # the injected slowdown: the optimizer's learning rate times this


def once(entry: str, seed: int, out: str, device: str = "cpu") -> dict[str, Any]:
    spec = Spec(entrypoint=entry, out=out, device=device, seed=seed)
    with contextlib.redirect_stdout(io.StringIO()):
        return run(spec, 0.0)


def slow_entry(example: str, where: str) -> str:
    """A wrapper module whose make_task is the example's with every lr cut by SLOW_LR."""
    path = Path(where) / f"{Path(example).stem}_slow.py"
    path.write_text(
        "import importlib.util, torch\n"
        f"_spec = importlib.util.spec_from_file_location('_ex', {str(ROOT / example)!r})\n"
        "_ex = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(_ex)\n"
        "def make_task():\n"
        "    task = dict(_ex.make_task())\n"
        "    opt = task.get('optimizer')\n"
        "    def slowed(params):\n"
        "        o = opt(params) if callable(opt) else torch.optim.Adam(params, lr=1e-3)\n"
        f"        for g in o.param_groups: g['lr'] *= {SLOW_LR}\n"
        "        return o\n"
        "    task['optimizer'] = slowed\n"
        "    return task\n"
    )
    return f"{path}:make_task"


def spread(values: list[int]) -> str:
    med = statistics.median(values)
    return f"{med:g} | {min(values)}–{max(values)} | {max(values) / max(min(values), 1):.2f}× | {max(values) / max(med, 1):.2f}×"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--device", default="cpu", help="cpu, or cuda for the GPU spread")
    args = ap.parse_args()
    dev = args.device
    seeds = range(args.seeds)
    rows, slow_rows, first_rows, repeat_rows = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name, entry in EXAMPLES.items():
            example = entry.split(":")[0]
            healthy = [once(f"{ROOT}/{entry}", s, tmp, dev) for s in seeds]
            slow_task = slow_entry(example, tmp)
            slow = [once(slow_task, s, tmp, dev) for s in seeds]
            again = [once(f"{ROOT}/{entry}", 0, tmp, dev)["target_step"] for _ in range(3)]
            steps = [r["target_step"] for r in healthy]
            if None in steps:
                sys.exit(f"{name}: a healthy seed did not reach the target: {steps}")
            rows.append(f"| {name} | {' '.join(map(str, steps))} | {spread(steps)} |")
            ratios = [
                (s["target_step"] or 10**9) / max(h["target_step"], 1) for s, h in zip(slow, healthy, strict=True)
            ]
            slow_steps = " ".join(str(s["target_step"]) for s in slow)
            slow_rows.append(f"| {name} | {slow_steps} | {min(ratios):.2f}× | {statistics.median(ratios):.2f}× |")
            firsts = [r["initial_loss"] for r in healthy]
            moved = [abs(f - statistics.median(firsts)) / statistics.median(firsts) for f in firsts]
            first_rows.append(f"| {name} | {min(firsts):.4g}–{max(firsts):.4g} | {max(moved):.1%} |")
            repeat_rows.append(f"| {name} | {' '.join(map(str, again))} |")
    print(f"## Steps to target over {args.seeds} seeds (healthy examples, {dev})\n")
    print("| example | steps to target, seeds 0.. | median | min–max | max/min | max/median |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\n## The same examples with the learning rate cut to {SLOW_LR:g}×: ratio to the same seed's healthy run\n")
    print("| example | steps to target, seeds 0.. | smallest ratio | median ratio |")
    print("|---|---|---|---|")
    print("\n".join(slow_rows))
    print("\n## First loss over the seeds (floor 0)\n")
    print("| example | first loss min–max | largest move from the median, as a fraction of it |")
    print("|---|---|---|")
    print("\n".join(first_rows))
    print(f"\n## Seed 0 three times (run-to-run on {dev})\n")
    print("| example | steps to target |")
    print("|---|---|")
    print("\n".join(repeat_rows))


if __name__ == "__main__":
    main()
