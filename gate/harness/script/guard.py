"""The gate's own code inside the script's process: when it runs (its checks' loss calls are
not the script's), how it stops the script once the outcome is known, and how an error of
its own is told apart from the script's."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from gate.harness.loss_spy import LossSpy


class StopScript(BaseException):
    """The verdict is known. A BaseException, so the script's own ``except Exception``
    cannot swallow it; caught by the runner at the top."""


class GateInternalError(BaseException):
    """The gate's own instrumentation raised (not the script, not a check: those are guarded
    separately). A BaseException so the script's ``except Exception`` cannot swallow it; the
    run ends as an error that says it is the gate's, never the pipeline's."""


class Guard:
    def __init__(self, spy: LossSpy) -> None:
        self._spy = spy
        self.quiet = False  # our own checks are running: instrumentation passes through
        self.stopping = False  # the gate stopped the script (it may swallow one StopScript)
        self.stopped_by: str | None = None  # what stopped it, when not the verdict monitor
        self.internal_error: BaseException | None = None  # the gate's own code raised (see own())

    @contextmanager
    def quietly(self) -> Iterator[None]:
        # The checks' own loss calls are not the script's: the spy does not record them.
        previous, self.quiet = self.quiet, True
        recording, self._spy.recording = self._spy.recording, False
        try:
            yield
        finally:
            self.quiet = previous
            self._spy.recording = recording

    @contextmanager
    def own(self, where: str) -> Iterator[None]:
        """Gate code running inside the script's process (bookkeeping around backward, step
        and module calls, never the script's own work). If it raises, that is the gate's
        error: remembered, and raised on as GateInternalError so it is reported as such."""
        try:
            yield
        except (StopScript, GateInternalError):
            raise
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else ""
            self.internal_error = exc
            self.stopping = True
            raise GateInternalError(f"{type(exc).__name__} in the gate's {where}: {first}") from exc

    def stop(self, by: str | None = None) -> NoReturn:
        if by is not None:
            self.stopped_by = by
        self.stopping = True
        raise StopScript()
