"""Distributed launchers, run as one worker in this process.

``torchrun``, ``python -m torch.distributed.run`` (or ``.launch``) and ``accelerate launch``
start N worker processes the gate could not instrument. The gate runs exactly one of them
itself: world size 1, rank 0, on the gate's device, with the environment torchrun would give
it (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT). One worker sees
the same batches, model and loss as each of N; what it cannot see is a bug in the collectives.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from gate.harness.task import TaskError

TORCHRUN_MODULES = ("torch.distributed.run", "torch.distributed.launch")
# Launcher options that take no value; every other option takes one (`--opt v` or `--opt=v`).
_TORCHRUN_FLAGS = {"--standalone", "--no_python", "--no-python", "--run_path", "--run-path", "--use_env", "--use-env"}
_ACCELERATE_FLAGS = {
    "--cpu",
    "--multi_gpu",
    "--use_cpu",
    "--debug",
    "-q",
    "--quiet",
    "--tpu",
    "--use_deepspeed",
    "--use_fsdp",
    "--use_megatron_lm",
    "--use_xpu",
    "--no_python",
    "--same_network",
    "--downcast_bf16",
    "--enable_cpu_affinity",
    "--dynamo_use_fullgraph",
    "--dynamo_use_dynamic",
}
_MODULE_FLAGS = {"-m", "--module"}
_NPROC = ("--nproc_per_node", "--nproc-per-node", "--num_processes", "--num-processes")


@dataclass(frozen=True)
class Launch:
    name: str  # "torchrun" | "accelerate launch"
    asked: str  # the worker count the command asked for ("1", "4", "gpu", ...)
    words: list[str]  # what the worker runs: [script, args...] or ["-m", module, args...]


def launcher_of(words: list[str]) -> str | None:
    """``torchrun``/``accelerate`` as the first word (``python -m torch.distributed.run`` is
    recognised by the caller, which has parsed the interpreter's options)."""
    base = Path(words[0]).name
    if base == "torchrun":
        return "torchrun"
    if base == "accelerate" and len(words) > 1 and words[1] == "launch":
        return "accelerate launch"
    return None


def split(name: str, words: list[str]) -> Launch:
    """Separate the launcher's own options from the worker command."""
    flags = _ACCELERATE_FLAGS if name == "accelerate launch" else _TORCHRUN_FLAGS
    asked, module, i = "1", False, 0
    while i < len(words) and words[i].startswith("-"):
        opt, eq, value = words[i].partition("=")
        i += 1
        if opt in _MODULE_FLAGS:
            module = True
            continue
        if opt in flags or opt in ("--no_python", "--no-python"):
            if opt in ("--no_python", "--no-python"):
                raise TaskError(f"`{name} --no_python` runs a non-Python program; the gate can only run Python workers")
            continue
        if not eq:
            if i >= len(words):
                raise TaskError(f"`{name}` option {opt} needs a value")
            value = words[i]
            i += 1
        if opt in _NPROC:
            asked = value
    rest = words[i:]
    if not rest:
        raise TaskError(f"the `{name}` command names no training script")
    return Launch(name, asked, ["-m", *rest] if module else rest)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def worker_env() -> dict[str, str]:
    """The variables torchrun sets for its only worker of a one-node, one-process job."""
    return {
        "RANK": "0",
        "LOCAL_RANK": "0",
        "GROUP_RANK": "0",
        "ROLE_RANK": "0",
        "WORLD_SIZE": "1",
        "LOCAL_WORLD_SIZE": "1",
        "ROLE_WORLD_SIZE": "1",
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(_free_port()),
        "TORCHELASTIC_RUN_ID": "overfit-gate",
    }


@contextmanager
def one_worker(launch: Launch | None) -> Iterator[None]:
    """The worker's environment while the script runs; the process group torn down after."""
    if launch is None:
        yield
        return
    saved = dict(os.environ)
    os.environ.update(worker_env())
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        _destroy_group()


def _destroy_group() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def describe(launch: Launch) -> str:
    many = "" if launch.asked == "1" else f" (the command asked for {launch.asked} workers)"
    return f"{launch.name}: one worker run in-process, world size 1, rank 0{many}"
