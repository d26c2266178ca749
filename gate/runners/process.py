"""Process plumbing shared by runners: stream a child's output line by line while keeping
a tail for error reports, and kill a whole process group politely then firmly."""

from __future__ import annotations

import collections
import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

from gate.runners.base import LogSink

TAIL_LINES = 60


class Tail:
    def __init__(self, n: int = TAIL_LINES) -> None:
        self._lines: collections.deque[str] = collections.deque(maxlen=n)

    def add(self, line: str) -> None:
        self._lines.append(line)

    def text(self) -> str:
        return "\n".join(self._lines)


def pump(lines: Iterable[bytes | str], log: LogSink, tail: Tail) -> threading.Thread:
    """Forward lines to ``log`` from a background thread (so the caller can enforce a timeout)."""

    def _run() -> None:
        for raw in lines:
            line = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
            line = line.rstrip("\r\n")
            tail.add(line)
            log(line)

    t = threading.Thread(target=_run, name="overfit-gate-log", daemon=True)
    t.start()
    return t


def kill_group(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM the process group (the harness writes a 'cancelled' result), then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            # The leader is gone; children it left behind in the group go too.
            _killpg_quiet(proc.pid)
            return
        except subprocess.TimeoutExpired:
            continue


def _killpg_quiet(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def install_cancel(handler: Callable[[int, FrameType | None], None]) -> dict[int, Any] | None:
    """Route SIGTERM and SIGINT to ``handler`` (a cancelled workflow sends SIGINT, then SIGTERM,
    then SIGKILL); returns what to restore. Only the main thread may install handlers."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}


def restore_signals(previous: dict[int, Any] | None) -> None:
    for sig, handler in (previous or {}).items():
        signal.signal(sig, handler)
