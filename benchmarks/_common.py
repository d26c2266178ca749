"""Shared benchmark plumbing: load an example task, paired timing, a table with medians."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

EXAMPLES = {
    "mlp": "examples/mlp_classifier.py:make_task",
    "cnn": "examples/cnn_bn_dropout.py:make_task",
    "gpt": "examples/tiny_gpt.py:make_task",
}


def load_task(entry: str, seed: int = 0) -> Any:
    from gate.harness.runtime import seed_everything
    from gate.harness.task import load_factory, normalize

    seed_everything(seed)
    return normalize(load_factory(str(ROOT / entry))(), entry)


def paired(fns: dict[str, Callable[[], float]], repeats: int) -> dict[str, list[float]]:
    """Run the contenders interleaved (A B A B ...) so machine noise hits them alike."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(fn())
    return times


def timed(fn: Callable[[], Any]) -> Callable[[], float]:
    def run() -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    return run


def table(title: str, rows: list[tuple[str, list[float], list[float]]], base_name: str, other_name: str) -> str:
    """rows: (case, base times, other times) -> medians, min/max, ratio of medians."""
    out = [
        f"## {title}",
        "",
        f"| case | {base_name} median s (min-max) | {other_name} median s (min-max) | ratio |",
        "|---|---|---|---|",
    ]
    for case, base, other in rows:
        mb, mo = statistics.median(base), statistics.median(other)
        out.append(
            f"| {case} | {mb:.4f} ({min(base):.4f}-{max(base):.4f}) | {mo:.4f} ({min(other):.4f}-{max(other):.4f}) | {mo / mb:.3f}x |"
        )
    return "\n".join(out)


def clean_env() -> dict[str, str]:
    """The environment without GitHub/action/gate settings that would change a run."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "OVERFIT_GATE_"))}


def timed_process(argv: list[str], what: str) -> float:
    """Wall seconds of one whole process (interpreter start and imports included); it must succeed."""
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=clean_env(), capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{what} exited {proc.returncode}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return dt


def gate_run(args: list[str], out: str) -> float:
    """Wall seconds of one `overfit-gate run --out OUT ARGS...`."""
    return timed_process(
        [sys.executable, "-m", "gate", "run", "--out", out, *args], f"overfit-gate run {' '.join(args)}"
    )
