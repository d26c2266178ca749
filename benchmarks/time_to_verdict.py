"""Time to verdict: how many steps each case of the bug zoo (and each healthy example)
runs before the gate knows, against the 500-step budget. A healthy run should stop within
the confirmation window after first reaching the target; a broken one as soon as the
outcome is certain.

    python benchmarks/time_to_verdict.py
"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT

from gate.harness.run_task import run
from gate.harness.spec import Spec

CASES = sorted(p.stem for p in (ROOT / "tests" / "zoo").glob("*.py") if p.stem.startswith(("bug_", "clean_")))
EXAMPLES = ["examples/mlp_classifier.py", "examples/cnn_bn_dropout.py", "examples/tiny_gpt.py"]
BROKEN = ["lr_zero", "sign_flipped", "mse_sign_flipped", "nan_loss", "diverges"]


def once(entry: str, out: str) -> tuple[dict, float]:
    spec = Spec(entrypoint=entry, out=out, device="cpu")
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        res = run(spec, t0)
    return res, time.perf_counter() - t0


def decided_by(res: dict) -> str:
    failing = [c["name"] for c in res["checks"] if c["status"] == "fail"]
    return ", ".join(failing) if failing else "loss"


def main() -> None:
    entries = [f"{ROOT}/{e}:make_task" for e in EXAMPLES]
    entries += [f"{ROOT}/tests/zoo/{c}.py:make_task" for c in CASES]
    entries += [f"{ROOT}/tests/tasks/broken.py:{b}" for b in BROKEN]
    print("| case | verdict | steps to verdict (budget 500) | first at target | decided by | reason | harness s |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for entry in entries:
            res, dt = once(entry, tmp)
            name = Path(entry.split(":")[0]).stem + ("" if entry.endswith("make_task") else ":" + entry.split(":")[1])
            reason = res["reason"] if len(res["reason"]) < 90 else res["reason"][:87] + "..."
            print(
                f"| {name} | {res['verdict']} | {res['steps']} | {res.get('target_step')} | {decided_by(res)} | {reason} | {dt:.2f} |"
            )
    print(f"\npython {sys.version.split()[0]}; default config (all default checks on, confirm-steps 20, patience 200)")


if __name__ == "__main__":
    main()
