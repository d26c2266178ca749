"""When the checks run in script mode. The script owns the loop, so their hooks are called
from the instrumentation: ``before`` once the model and its optimizer are known,
``after_backward`` at the first backward of each step, the script-only hooks around every
backward and step, ``on_sync`` at each loss read-back, ``finish`` after the script ends.
A check that cannot run in script mode is reported as skipped, never fatal."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from gate.harness.check_api import Check, Context, ScriptCheck, result
from gate.harness.contract import CheckRecord
from gate.harness.loop import overrides
from gate.harness.script.guard import StopScript


class CheckDispatch:
    def __init__(
        self, checks: list[Check], log: Callable[[str], None], quietly: Callable[[], AbstractContextManager[None]]
    ) -> None:
        self.checks, self._log, self._quietly = checks, log, quietly
        self.ctx: Context | None = None  # built once the model and its optimizer are known
        self.errors: dict[str, str] = {}  # check name -> why it could not run in script mode
        self._per_step = [c for c in checks if overrides(c, "after_backward")]
        self._syncing = [c for c in checks if overrides(c, "on_sync")]
        self._script = [c for c in checks if isinstance(c, ScriptCheck)]

    def start(self, ctx: Context | None) -> None:
        self.ctx = ctx
        if ctx is not None:
            for c in self.checks:
                self._call(c, "before", ctx)

    def before_backward(self, step: int) -> None:
        """Before the first backward of a step."""
        if self.ctx is not None:
            for c in self._script:
                self._call(c, "before_backward", self.ctx, step)

    def after_backward(self, step: int, first_in_step: bool) -> None:
        if self.ctx is not None:
            for sc in self._script:
                self._call(sc, "grads_after_backward", self.ctx, step)
            if first_in_step:
                for c in self._per_step:
                    self._call(c, "after_backward", self.ctx, step)

    def after_step(self, step: int, real_step: bool) -> None:
        """A step completed; ``real_step`` is False for a hand-written update (no step call)."""
        if self.ctx is not None:
            self.ctx.step = step
            for c in self._script:
                if real_step or not c.needs_real_step:
                    self._call(c, "after_step", self.ctx, step)

    def synced(self, losses: list[float | None], step: int, decided: bool) -> str | None:
        """The losses were read back; unless the monitor has decided, the name of a check that
        says the outcome is certain."""
        if self.ctx is None:
            return None
        self.ctx.losses = losses
        if decided:
            return None
        for c in self._syncing:
            if self._call(c, "on_sync", self.ctx, step):
                return c.name
        return None

    def finish(self) -> list[CheckRecord]:
        out: list[CheckRecord] = []
        for c in self.checks:
            if self.ctx is None:
                out.append(
                    result(
                        c.name, "skip", "no top-level module with trainable parameters was found to run this check on"
                    )
                )
                continue
            error = self.errors.get(c.name)
            if error is None:
                try:
                    out.extend(c.finish(self.ctx))
                    continue
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
            out.append(result(c.name, "skip", f"this check could not run in script mode ({error})"))
        return out

    def _call(self, check: Check, hook: str, *args: Any) -> Any:
        if check.name in self.errors:
            return None
        try:
            with self._quietly():
                return getattr(check, hook)(*args)
        except StopScript:
            raise
        except Exception as exc:
            self.errors[check.name] = f"{type(exc).__name__}: {exc}"
            self._log(f"overfit-gate: check {check.name} could not run in script mode ({self.errors[check.name]})")
            return None
