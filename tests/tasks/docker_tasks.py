"""Tasks for the docker runner's tests: each leaves evidence of the container it ran in."""

import json
import os
import sys

import torch
from broken import _ce, _data, _mlp  # the core's broken tasks sit beside this file in the workspace
from torch import nn


def _try_write(path):
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write("#!/bin/sh\necho planted\n")
        return "written"
    except OSError as exc:
        return f"refused: {exc.strerror}"


def _status(field):
    with open("/proc/self/status") as fh:
        return next((line.split(":", 1)[1].strip() for line in fh if line.startswith(field + ":")), "")


def _pids_max():
    for path in ("/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/pids/pids.max"):
        try:
            with open(path) as fh:
                return fh.read().strip()
        except OSError:
            continue
    return ""


def probe():
    """A healthy task that records what the container looks like (network, user, environment,
    privileges, what it may write) in the out folder, the one place it may write."""
    out = os.path.dirname(sys.argv[sys.argv.index("--spec") + 1])
    evidence = {
        "interfaces": sorted(os.listdir("/sys/class/net")),
        "uid": os.getuid(),
        "gid": os.getgid(),
        "env": sorted(os.environ),
        "cap_eff": _status("CapEff"),
        "no_new_privs": _status("NoNewPrivs"),
        "hook": _try_write(os.path.join(os.getcwd(), ".git", "hooks", "pre-commit")),
        "pids_max": _pids_max(),
        "scratch": _try_write(os.path.join(os.environ.get("HOME", "/tmp"), "scratch.txt")),
    }
    with open(os.path.join(out, "evidence.json"), "w") as fh:
        json.dump(evidence, fh)
    return {"model": _mlp(), "batch": _data(), "loss": _ce, "optimizer": lambda p: torch.optim.Adam(p, lr=0.02)}


def hog():
    """Touches far more memory than the test's container limit: the kernel OOM-kills it."""
    chunks = [torch.ones(64 * 1024 * 1024, dtype=torch.uint8) for _ in range(64)]  # 4 GiB
    return {"model": nn.Linear(8, 3), "batch": _data(), "loss": _ce, "chunks": len(chunks)}
