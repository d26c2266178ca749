"""A launcher's worker written for GPUs, run on a CPU-only gate.

A script started by torchrun commonly pins itself to ``cuda:{LOCAL_RANK}`` whatever its own
``--device`` says (nanoGPT's DDP branch does). When the gate's device is the CPU and this
machine has no CUDA, the gate runs that worker on the CPU: ``torch.cuda.set_device`` becomes a
no-op and, from then on, a torch function mode rewrites every ``cuda`` device a torch call
names to ``cpu`` (``.to('cuda:0')``, ``.cuda()``, ``torch.zeros(..., device='cuda')``) and makes
``pin_memory()`` the identity. Only for workers, only without CUDA, and said in the report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from torch.overrides import TorchFunctionMode

if TYPE_CHECKING:
    from gate.harness.script.patches import Patcher

_CPU = torch.device("cpu")


def _is_cuda(x: Any) -> bool:
    if isinstance(x, torch.device):
        return x.type == "cuda"
    if isinstance(x, str):
        return x.split(":")[0] == "cuda"
    return False


def _cpu(x: Any) -> Any:
    return _CPU if _is_cuda(x) else x


class CudaOnCpu(TorchFunctionMode):
    def __torch_function__(
        self, func: Callable[..., Any], types: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
    ) -> Any:
        kwargs = dict(kwargs or {})
        if func in (torch.Tensor.cuda, torch.Tensor.pin_memory):
            return args[0]
        if "device" in kwargs:
            kwargs["device"] = _cpu(kwargs["device"])
        args = tuple(_cpu(a) for a in args)
        return func(*args, **kwargs)


def install(patcher: Patcher, note: Callable[[str], None]) -> None:
    """Arm the rewrite at the worker's first ``torch.cuda.set_device`` (this machine has no CUDA)."""
    if torch.cuda.is_available():
        return
    original = torch.cuda.set_device
    state: dict[str, Any] = {}

    def set_device(device: Any) -> None:
        if "mode" not in state:
            note(
                f"the worker asked for CUDA device {device!r}, which this machine lacks: it runs on the CPU "
                "(cuda devices in its torch calls are mapped to cpu)"
            )
            mode = CudaOnCpu()
            mode.__enter__()
            state["mode"] = mode
            patcher.on_undo(lambda: mode.__exit__(None, None, None))

    patcher.replace(torch.cuda, "set_device", set_device)
    del original
