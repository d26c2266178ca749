"""What the silent-bug checks cost: run each example in task mode, in-process, with
  none     -- every check skipped (the bare overfit loop)
  default  -- every check except input_dependence (the second training run)
  all      -- every check
interleaved ``--repeat`` times, and print the median wall time of the harness run (task
build, loop and check hooks) and the ratios to ``none``; then the same for the process CPU
time, which other load on a shared machine disturbs less (one torch thread by default).

    .venv/bin/python benchmarks/checks_overhead.py [--repeat 5] [--threads 1] [--device cpu]

Budgets (issue 3): default <= 1.2x none, all <= 2x none.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gate.harness.check_table import check_names  # noqa: E402
from gate.harness.run_task import run  # noqa: E402
from gate.harness.spec import Spec  # noqa: E402

EXAMPLES = ["examples/mlp_classifier.py", "examples/cnn_bn_dropout.py", "examples/tiny_gpt.py"]
NAMES = check_names("task")
CONFIGS = {
    "none": NAMES,
    "default": ["input_dependence"],
    "all": [],
}


def once(entry: str, skip: list[str], device: str, out: str) -> tuple[float, float, str, int]:
    """(wall seconds, CPU seconds, verdict, steps) of one harness run."""
    spec = Spec(entrypoint=f"{ROOT / entry}:make_task", skip_checks=skip, device=device, out=out)
    t0, c0 = time.perf_counter(), time.process_time()
    with redirect_stdout(StringIO()):
        res = run(spec, t0)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - t0, time.process_time() - c0, res["verdict"], int(res["steps"])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 keeps a shared machine quiet)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--examples", nargs="*", default=EXAMPLES)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}  device {args.device}  threads {args.threads}  repeat {args.repeat}")
    header = f"{'example':<18}{'clock':>6}{'steps':>6}{'none s':>9}{'default s':>11}{'all s':>9}{'default/none':>14}{'all/none':>10}"
    print(header)
    worst = {"default": 0.0, "all": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        for entry in args.examples:
            once(entry, CONFIGS["none"], args.device, tmp)  # warm-up: imports, allocator
            times: dict[str, dict[str, list[float]]] = {
                "wall": {k: [] for k in CONFIGS},
                "cpu": {k: [] for k in CONFIGS},
            }
            steps = 0
            for _ in range(args.repeat):
                for name, skip in CONFIGS.items():  # interleaved so load drifts hit all alike
                    wall, cpu, verdict, n = once(entry, skip, args.device, tmp)
                    if verdict != "pass":
                        print(f"  {entry} [{name}] did not pass: {verdict}", file=sys.stderr)
                    steps = n if name == "none" else steps
                    times["wall"][name].append(wall)
                    times["cpu"][name].append(cpu)
            for clock, series in times.items():
                med = {k: statistics.median(v) for k, v in series.items()}
                r_def, r_all = med["default"] / med["none"], med["all"] / med["none"]
                if clock == ("cpu" if args.device == "cpu" else "wall"):  # the budget is judged on the steadier clock
                    worst["default"] = max(worst["default"], r_def)
                    worst["all"] = max(worst["all"], r_all)
                print(
                    f"{Path(entry).stem:<18}{clock:>6}{steps:>6}{med['none']:>9.3f}{med['default']:>11.3f}{med['all']:>9.3f}"
                    f"{r_def:>13.2f}x{r_all:>9.2f}x"
                )
    ok = worst["default"] <= 1.2 and worst["all"] <= 2.0
    print(
        f"worst: default {worst['default']:.2f}x (budget 1.2x), all {worst['all']:.2f}x (budget 2x) -> "
        + ("within budget" if ok else "OVER BUDGET")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
