"""Cancellation signals, handled in one place for the commands and every runner.

GitHub cancels a job with SIGINT, then SIGTERM 7.5 s later, then SIGKILL 2.5 s after that;
`docker stop` and Kubernetes send SIGTERM. Both mean the same thing here: stop the run, still
write the result and the outputs, and conclude the check run. Handlers only work in the main
thread; elsewhere (an embedder's worker thread) these helpers change nothing.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

CANCEL_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Terminated(BaseException):
    """A cancel signal arrived. A BaseException, like KeyboardInterrupt, so that the
    ``except Exception`` blocks of library code do not swallow it."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"received {signal.Signals(signum).name}")
        self.signum = signum


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def on_cancel(handler: Callable[[int], None]) -> Iterator[None]:
    """Call ``handler(signum)`` on SIGINT or SIGTERM while the block runs, then restore the
    previous handlers (a runner nests inside the command's own handler)."""
    if not _main_thread():
        yield
        return

    def _handle(signum: int, frame: FrameType | None) -> None:
        handler(signum)

    previous: dict[int, Any] = {sig: signal.signal(sig, _handle) for sig in CANCEL_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _raise(signum: int) -> None:
    raise Terminated(signum)


def raising() -> contextlib.AbstractContextManager[None]:
    """SIGINT and SIGTERM raise ``Terminated`` in the main thread while the block runs."""
    return on_cancel(_raise)


@contextlib.contextmanager
def deferred() -> Iterator[list[int]]:
    """Record cancel signals without acting on them: the end of a run (writing the result,
    concluding the check run) must finish, and is short and bounded by its own deadline."""
    seen: list[int] = []
    with on_cancel(seen.append):
        yield seen
