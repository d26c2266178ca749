"""Controller start-up and memory: `overfit-gate --help` and `overfit-gate report` wall
time (targets: < 0.3 s, no torch import; `report` redraws loss.png only when it is missing or
stale, so both paths are measured), and the controller's own peak RSS during a full
`run` (target: < 150 MB; the harness is a separate process and not counted).

    python benchmarks/startup.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from _common import ROOT, clean_env

PY = sys.executable
RSS_PROBE = (
    "import resource, sys; from gate.cli import main; code = main(sys.argv[1:]); "
    "print('RSS_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(code)"
)


def wall(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, env=clean_env(), capture_output=True, check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    gate = shutil.which("overfit-gate", path=os.path.dirname(PY)) or "overfit-gate"
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "r")
        proc = subprocess.run(
            [PY, "-c", RSS_PROBE, "run", "--entrypoint", "examples/tiny_gpt.py:make_task", "--out", out],
            cwd=ROOT,
            env=clean_env(),
            capture_output=True,
            text=True,
        )
        rss_mb = int(proc.stderr.split("RSS_KB")[-1].split()[0]) / 1024
        cases = {
            "python -c pass (floor)": [PY, "-c", "pass"],
            "overfit-gate --help": [gate, "--help"],
            "overfit-gate --version": [gate, "--version"],
            "overfit-gate report --out DIR": [gate, "report", "--out", out],
            # The cold path: no loss.png (or a stale one), so matplotlib is imported and it is drawn.
            "overfit-gate report --out DIR (loss.png missing)": [
                "bash",
                "-c",
                f'rm -f "{out}/loss.png" && exec "{gate}" report --out "{out}"',
            ],
        }
        times = {name: [] for name in cases}
        for _ in range(args.repeats):
            for name, cmd in cases.items():
                times[name].append(wall(cmd))
        imports = (
            subprocess.run(
                [
                    PY,
                    "-c",
                    "import sys; from gate.cli import main\n"
                    "try: main(['report', '--out', sys.argv[1]])\nexcept SystemExit: pass\n"
                    "print('torch' in sys.modules, 'matplotlib.pyplot' in sys.modules)",
                    out,
                ],
                cwd=ROOT,
                env=clean_env(),
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
    print(f"python {sys.version.split()[0]}, repeats {args.repeats} interleaved")
    print("\n| command | median s | min s | max s |\n|---|---|---|---|")
    for name, ts in times.items():
        print(f"| `{name}` | {statistics.median(ts):.3f} | {min(ts):.3f} | {max(ts):.3f} |")
    print(f"\n`report` imported torch / matplotlib.pyplot: {imports}")
    print(f"controller peak RSS during a full `run` on tiny_gpt (harness excluded): {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
