"""Script-mode overhead on a nanoGPT training script (issue 11): the gate's time to verdict
against the script's own loop running the same number of steps, side by side.

For each repeat: ``overfit-gate run -- python train.py ARGS`` (wall time of the whole CLI,
input_dependence's second run included), read the steps it took from result.json, then
``python train.py ARGS --max_iters=<steps - 1>`` (nanoGPT runs max_iters + 1 iterations),
also the whole process. Same process start-up and imports on both sides.

    python benchmarks/nanogpt_overhead.py                      # our nanoGPT-style script
    python benchmarks/nanogpt_overhead.py --nanogpt /path/to/karpathy/nanoGPT   # the real one
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = ROOT / "tests" / "real" / "nanogpt"
# Small model, CPU, float32, no warm-up crawl: the same for the gate and the plain run.
REAL_NANOGPT_ARGS = [
    "--device=cpu",
    "--dtype=float32",
    "--dataset=char",
    "--batch_size=8",
    "--block_size=32",
    "--n_layer=2",
    "--n_head=2",
    "--n_embd=64",
    "--gradient_accumulation_steps=1",
    "--max_iters=2000",
    "--lr_decay_iters=2000",
    "--warmup_iters=10",
    "--learning_rate=1e-3",
    "--eval_interval=100000",
    "--eval_iters=2",
    "--log_interval=100",
    "--always_save_checkpoint=False",
]
OUR_ARGS = ["--max_iters=1000", "--eval_interval=100000", "--log_interval=100", "--learning_rate=3e-3"]


def prepare(src: Path, work: Path) -> None:
    for name in ("train.py", "model.py", "configurator.py"):
        shutil.copy(src / name, work / name)
    subprocess.run(
        [sys.executable, str(OURS / "prepare.py"), str(work / "data" / "char")], check=True, capture_output=True
    )


def wall(argv: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess[str]]:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - t0, proc


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nanogpt", type=Path, default=None, help="a karpathy/nanoGPT checkout (default: ours)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="more --key=value overrides for train.py")
    args = parser.parse_args()
    src = args.nanogpt or OURS
    script_args = ([*REAL_NANOGPT_ARGS, "--compile=False"] if args.nanogpt else OUR_ARGS) + args.extra
    gate_cmd = [sys.executable, "-m", "gate", "run", "--out"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        prepare(src, work)
        for r in range(args.repeats):
            out = work / f"report{r}"
            gate_s, _ = wall([*gate_cmd, str(out), "--", "python", "train.py", *script_args], work)
            result = json.loads((out / "result.json").read_text())
            steps = int(result["steps"])
            plain_s, plain = wall([sys.executable, "train.py", *script_args, f"--max_iters={steps - 1}"], work)
            if plain.returncode != 0:
                raise SystemExit(plain.stderr[-2000:])
            # The same gate without input_dependence's second run of the script: what the
            # instrumentation and the other checks cost on their own.
            skip = ["--skip-checks", "input_dependence"]
            single_s, _ = wall([*gate_cmd, f"{out}-single", *skip, "--", "python", "train.py", *script_args], work)
            rows.append((gate_s, plain_s, single_s))
            print(
                f"repeat {r}: gate {gate_s:.1f}s ({result['verdict']}, {steps} steps)  plain {plain_s:.1f}s  "
                f"gate without the second run {single_s:.1f}s",
                flush=True,
            )
    gate_m, plain_m, single_m = (statistics.median(r[k] for r in rows) for k in range(3))
    name = "karpathy/nanoGPT" if args.nanogpt else "tests/real/nanogpt"
    print("\n| script | steps | gate s | plain loop s | ratio | gate without the second run s | ratio |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {name} {' '.join(args.extra)} | {steps} | {gate_m:.1f} | {plain_m:.1f} | {gate_m / plain_m:.2f}x "
        f"| {single_m:.1f} | {single_m / plain_m:.2f}x |"
    )


if __name__ == "__main__":
    main()
