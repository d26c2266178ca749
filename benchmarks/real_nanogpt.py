"""Development run (not CI): the gate against karpathy/nanoGPT's own train.py and model.py,
unmodified, and with one-line bugs injected into a scratch copy (never into the checkout,
never into this repo). A local char dataset in prepare.py's format, CPU, a small model.
Prints the table for benchmarks/RESULTS.md: case, expected, got, steps, seconds.

    python benchmarks/real_nanogpt.py /path/to/nanoGPT [case ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nanogpt_overhead import REAL_NANOGPT_ARGS, prepare

MASK = ("is_causal=True)", "is_causal=False)")
TRANSPOSE = ("y = y.transpose(1, 2).contiguous().view(B, T, C)", "y = y.contiguous().view(B, T, C)")
MIX = ("y = y.transpose(1, 2).contiguous().view(B, T, C)", "y = y.permute(2, 0, 1, 3).contiguous().view(B, T, C)")
SHIFT = ("data[i+1:i+1+block_size]", "data[i:i+block_size]")

# id: (extra overrides, (file, (old, new)) or None, expected verdict and check)
CASES: dict[str, tuple[list[str], tuple[str, tuple[str, str]] | None, str]] = {
    "clean": (["--compile=False"], None, "pass"),
    "clean compile=True": (["--compile=True"], None, "pass"),
    "clean dropout=0.2": (["--compile=False", "--dropout=0.2"], None, "pass"),
    "clean grad-accum 4": (["--compile=False", "--gradient_accumulation_steps=4"], None, "pass"),
    "no causal mask": (["--compile=False"], ("model.py", MASK), "fail causality"),
    "head transpose dropped": (["--compile=False"], ("model.py", TRANSPOSE), "fail causality"),
    "unshifted targets": (["--compile=False"], ("train.py", SHIFT), "fail causality"),
    "batch-mixing view": (["--compile=False"], ("model.py", MIX), "fail batch_independence"),
}


def run_case(src: Path, name: str) -> str:
    extra, bug, expected = CASES[name]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        prepare(src, work)
        if bug is not None:
            file, (old, new) = bug
            text = (work / file).read_text()
            assert text.count(old) == 1, f"{name}: {old!r} occurs {text.count(old)} times"
            (work / file).write_text(text.replace(old, new))
        args = [a for a in REAL_NANOGPT_ARGS if a.split("=")[0] not in {e.split("=")[0] for e in extra}] + extra
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "gate", "run", "--out", str(work / "report"), "--", "python", "train.py", *args],
            cwd=work,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - t0
        result = json.loads((work / "report" / "result.json").read_text())
    failing = [c["name"] for c in result.get("checks", []) if c["status"] == "fail"]
    got = result["verdict"] + (f" {', '.join(failing)}" if failing else "")
    print(f"  {name}: exit {proc.returncode}: {result['reason']}", file=sys.stderr)
    return f"| {name} | {expected} | {got} | {result.get('steps')} | {seconds:.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("nanogpt", type=Path)
    parser.add_argument("cases", nargs="*", default=list(CASES))
    args = parser.parse_args()
    print("| case | expected | got | steps | seconds |\n|---|---|---|---|---|")
    for name in args.cases:
        print(run_case(args.nanogpt, name), flush=True)


if __name__ == "__main__":
    main()
