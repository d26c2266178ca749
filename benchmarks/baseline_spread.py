"""Steps-to-target spread across seeds: the data behind the base-branch comparison's defaults
(``regression-factor`` 2.0, ``first-loss-tolerance`` 0.5; docs/baseline.md).

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


def measure(name: str, entry: str, seeds: range, tmp: str, dev: str) -> tuple[str, str, str, str]:
    """One example's four table rows: healthy spread, slowed ratios, first loss, repeats."""
    healthy = [once(f"{ROOT}/{entry}", s, tmp, dev) for s in seeds]
    slow_task = slow_entry(entry.split(":")[0], tmp)
    slow = [once(slow_task, s, tmp, dev) for s in seeds]
    again = [once(f"{ROOT}/{entry}", 0, tmp, dev)["target_step"] for _ in range(3)]
    steps = [r["target_step"] for r in healthy]
    if None in steps:
        sys.exit(f"{name}: a healthy seed did not reach the target: {steps}")
    ratios = [(s["target_step"] or 10**9) / max(h["target_step"], 1) for s, h in zip(slow, healthy, strict=True)]
    slow_steps = " ".join(str(s["target_step"]) for s in slow)
    firsts = [r["initial_loss"] for r in healthy]
    return (
        f"| {name} | {' '.join(map(str, steps))} | {spread(steps)} |",
        f"| {name} | {slow_steps} | {min(ratios):.2f}× | {statistics.median(ratios):.2f}× |",
        f"| {name} | {min(firsts):.4g}–{max(firsts):.4g} | {(max(firsts) - min(firsts)) / min(firsts):.1%} |",
        f"| {name} | {' '.join(map(str, again))} |",
    )


def table(title: str, header: list[str], rows: list[str]) -> str:
    return "\n".join([f"## {title}", "", "| " + " | ".join(header) + " |", "|---" * len(header) + "|", *rows, ""])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--device", default="cpu", help="cpu, or cuda for the GPU spread")
    ap.add_argument("--examples", default=",".join(EXAMPLES), help="comma-separated subset of " + ", ".join(EXAMPLES))
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.examples.split(","):
            rows.append(measure(name, EXAMPLES[name], range(args.seeds), tmp, args.device))
            print("\n".join(rows[-1]), file=sys.stderr, flush=True)  # progress: a slow machine keeps what it measured
    healthy, slow, first, again = ([r[i] for r in rows] for i in range(4))
    head = ["example", "steps to target, seeds 0.."]
    print(
        table(
            f"Steps to target over {args.seeds} seeds ({args.device})",
            [*head, "median", "min–max", "max/min", "max/median"],
            healthy,
        )
    )
    print(
        table(
            f"Learning rate × {SLOW_LR:g}: steps to target vs the same seed's healthy run",
            [*head, "smallest ratio", "median ratio"],
            slow,
        )
    )
    print(table("First loss over the seeds (floor 0)", ["example", "min–max", "(max − min) / min"], first))
    print(table(f"Seed 0 three times (run-to-run, {args.device})", ["example", "steps to target"], again))


if __name__ == "__main__":
    main()
