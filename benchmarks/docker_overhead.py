"""What the docker runner adds over the local runner: the same example, the same config,
`overfit-gate run --runner local` vs `--runner docker --gpus 0` (container create, harness
copy, start, log stream, collect, remove), whole commands, interleaved. Target: <= 2 s.

    python benchmarks/docker_overhead.py [--repeats 5] [--image TAG]

Needs a Docker engine and the training test image: `bash scripts/docker-engine.sh start &&
bash scripts/build-test-images.sh` (the image tag is read from its output by default).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile

from _common import ROOT, gate_run, paired


def train_image() -> str:
    out = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build-test-images.sh")], capture_output=True, text=True, check=True
    )
    return next(line.split("=", 1)[1] for line in out.stdout.splitlines() if line.startswith("TRAIN="))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--image", default=None)
    ap.add_argument("--entry", default="examples/mlp_classifier.py:make_task")
    args = ap.parse_args()
    image = args.image or train_image()
    common = ["--entrypoint", args.entry, "--device", "cpu"]
    with tempfile.TemporaryDirectory() as tmp:
        t = paired(
            {
                "local": lambda: gate_run([*common, "--runner", "local"], os.path.join(tmp, "l")),
                "docker": lambda: gate_run(
                    [*common, "--runner", "docker", "--image", image, "--gpus", "0"], os.path.join(tmp, "d")
                ),
            },
            args.repeats,
        )
    ml, md = statistics.median(t["local"]), statistics.median(t["docker"])
    print(f"image {image}, {args.entry}, repeats {args.repeats} interleaved")
    print("\n| runner | median s | min s | max s |\n|---|---|---|---|")
    for name, ts in t.items():
        print(f"| {name} | {statistics.median(ts):.2f} | {min(ts):.2f} | {max(ts):.2f} |")
    print(f"\ndocker adds {md - ml:+.2f} s (median), ratio {md / ml:.2f}x")


if __name__ == "__main__":
    main()
