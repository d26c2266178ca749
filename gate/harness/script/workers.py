"""Training that a script hands to worker processes, brought back into this one.

- ``torch.multiprocessing.spawn(fn, nprocs=N)`` and ``mp.Process(target=train)`` (Hogwild)
  run their first worker here, in-process, and skip the rest: one worker sees the same
  model, batches and loss as each of N, and it is the only one the gate can instrument.
- ``dist.init_process_group`` joins a world of size 1 as rank 0 whatever the script asked
  for (the other ranks will never come), over gloo when NCCL cannot run on this machine.
- ``DistributedDataParallel(cpu_module, device_ids=[rank])`` drops the GPU ids a script
  written for GPUs passes, which DDP refuses for a CPU module.
- Anything else that starts processes (``subprocess``, ``multiprocessing.Pool``) is only
  counted, so a script that trained elsewhere is told so instead of "never called backward".
"""

from __future__ import annotations

import functools
import multiprocessing.process
import subprocess
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
import torch.distributed as dist
import torch.multiprocessing as tmp

from gate.harness.script import cuda_on_cpu

if TYPE_CHECKING:
    from gate.harness.script.patches import Patcher


class Workers:
    def __init__(self, log: Callable[[str], None]) -> None:
        self.log = log
        self.ran = 0  # workers run in-process
        self.skipped = 0  # further workers not run
        self.children = 0  # processes started that the gate cannot follow
        self.notes: list[str] = []

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)
            self.log(f"overfit-gate: {text}")

    def run_first(self, what: str, fn: Callable[[], Any]) -> Any:
        if self.ran:
            self.skipped += 1
            return None
        self.ran += 1
        self.note(f"{what}: its first worker runs in the gate's process (world size 1), the others are not started")
        return fn()


def install(workers: Workers, patcher: Patcher, launched: bool) -> None:
    if launched:  # a launcher's worker written for GPUs may still run on a CPU-only gate
        cuda_on_cpu.install(patcher, workers.note)
    _install_spawn(workers, patcher)
    _install_process_group(workers, patcher)
    _install_ddp(workers, patcher)
    _install_child_count(workers, patcher)


def _install_spawn(workers: Workers, patcher: Patcher) -> None:
    def spawn(fn: Callable[..., Any], args: tuple[Any, ...] = (), nprocs: int = 1, *a: Any, **k: Any) -> None:
        workers.run_first(f"mp.spawn(nprocs={nprocs})", lambda: fn(0, *args))

    def start_processes(fn: Callable[..., Any], args: tuple[Any, ...] = (), nprocs: int = 1, *a: Any, **k: Any) -> None:
        workers.run_first(f"mp.start_processes(nprocs={nprocs})", lambda: fn(0, *args))

    patcher.replace(tmp, "spawn", spawn)
    patcher.replace(tmp, "start_processes", start_processes)
    real = tmp.Process

    class InProcess(real):  # type: ignore[misc, valid-type]
        """``mp.Process(target=train, args=...)``: start() runs the target right here.
        torch's own processes (DataLoader workers) start for real."""

        _here = False

        def start(self) -> None:
            target = getattr(self, "_target", None)
            if target is None or getattr(target, "__module__", "").startswith("torch."):
                super().start()
                return
            self._here = True
            args, kwargs = getattr(self, "_args", ()), getattr(self, "_kwargs", {})
            workers.run_first("mp.Process", lambda: target(*args, **kwargs))

        def join(self, timeout: float | None = None) -> None:
            if not self._here:
                super().join(timeout)

        def is_alive(self) -> bool:
            return False if self._here else bool(super().is_alive())

        @property
        def exitcode(self) -> int | None:
            return 0 if self._here else super().exitcode

    patcher.replace(tmp, "Process", InProcess)


def _install_process_group(workers: Workers, patcher: Patcher) -> None:
    if not dist.is_available():
        return
    original = dist.init_process_group

    @functools.wraps(original)
    def init_process_group(backend: Any = None, *args: Any, **kwargs: Any) -> Any:
        asked = kwargs.get("world_size", -1)
        if asked not in (-1, 1):
            workers.note(f"init_process_group(world_size={asked}) joins a world of size 1 as rank 0")
        if kwargs.get("init_method") not in (None, "env://") or "store" in kwargs:
            kwargs["world_size"], kwargs["rank"] = 1, 0
        else:
            kwargs.pop("world_size", None)
            kwargs.pop("rank", None)  # env:// reads WORLD_SIZE=1, RANK=0 set by the gate
        if isinstance(backend, str) and "nccl" in backend and not torch.cuda.is_available():
            workers.note(f"backend {backend!r} needs CUDA, which this machine lacks: using 'gloo' for the one worker")
            backend = "gloo"
        return original(backend, *args, **kwargs)

    patcher.replace(dist, "init_process_group", init_process_group)
    import torch.distributed.distributed_c10d as c10d

    patcher.replace(c10d, "init_process_group", init_process_group)


def _install_ddp(workers: Workers, patcher: Patcher) -> None:
    from torch.nn.parallel import DistributedDataParallel as DDP

    original = DDP.__init__

    @functools.wraps(original)
    def ddp_init(self: Any, module: torch.nn.Module, device_ids: Any = None, *args: Any, **kwargs: Any) -> None:
        on_cpu = all(p.device.type == "cpu" for p in module.parameters())
        if on_cpu and device_ids:
            workers.note(f"DistributedDataParallel(device_ids={device_ids}) on a CPU module: device_ids dropped")
            device_ids = None
            kwargs.pop("output_device", None)
        original(self, module, device_ids, *args, **kwargs)

    patcher.replace(DDP, "__init__", ddp_init)


def _install_child_count(workers: Workers, patcher: Patcher) -> None:
    popen_init = subprocess.Popen.__init__

    @functools.wraps(popen_init)
    def counted_popen(self: Any, *args: Any, **kwargs: Any) -> None:
        workers.children += 1
        popen_init(self, *args, **kwargs)

    patcher.replace(subprocess.Popen, "__init__", counted_popen)
    start = multiprocessing.process.BaseProcess.start

    @functools.wraps(start)
    def counted_start(self: Any) -> None:
        workers.children += 1
        start(self)

    patcher.replace(multiprocessing.process.BaseProcess, "start", counted_start)
