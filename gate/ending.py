"""The one way ``run`` and ``publish`` end, whatever happened.

Pass, fail, error, a usage error, a crash inside the controller, a cancel signal: every ending
goes through ``Ending.finish`` (a result exists) or ``Ending.fail`` (an exception), which
- write ``result.json`` and the reports (``run`` only: ``publish`` never writes into the folder
  it was given), after scrubbing secrets and unencodable text from the result;
- print the verdict, write the job summary and the step outputs (also on exit 2);
- conclude the check run: with the verdict, else with a minimal request, never left in_progress;
- return the exit code: the verdict's, 2 for a usage error, 3 for anything that broke.
Each step is guarded on its own, so a full disk or an odd GitHub answer costs that step only.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gate import __version__, signals
from gate.errors import EXIT_ERROR, EXIT_USAGE, VERDICT_EXIT, GateError, UsageError
from gate.harness.contract import USAGE_ERRORS, ErrorKind
from gate.result import Result
from gate.scrub import clean

if TYPE_CHECKING:
    from gate.github.publish import Publisher

CANCELLED = ErrorKind.CANCELLED
CONTROLLER_ERROR = ErrorKind.CONTROLLER  # a bug or an environment fault in overfit-gate itself
CANCEL_BUDGET_S = 6.0


def exit_code(result: Result) -> int:
    if result.error is not None and result.error.type in USAGE_ERRORS:
        return EXIT_USAGE
    return VERDICT_EXIT[result.verdict]


def classify(exc: BaseException) -> tuple[str, str, str, int]:
    """(error type, message, hint, exit code) for an exception that ended a command."""
    if isinstance(exc, (signals.Terminated, KeyboardInterrupt)):
        return CANCELLED, f"overfit-gate was cancelled ({exc or 'interrupted'})", "", EXIT_ERROR
    if isinstance(exc, GateError):
        code = EXIT_USAGE if isinstance(exc, UsageError) else EXIT_ERROR
        return type(exc).__name__, exc.message, exc.hint, code
    first = (str(exc).strip().splitlines() or [""])[0][:300]
    return (
        CONTROLLER_ERROR,
        f"overfit-gate itself failed ({type(exc).__name__}{': ' + first if first else ''})",
        "this is not your pipeline's fault; please report it with the traceback from result.json",
        EXIT_ERROR,
    )


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}"


@dataclass
class Ending:
    env: Mapping[str, str]
    out_dir: Path | None  # None: no safe folder is known (a config error about `out` itself)
    write_files: bool = True  # `publish` reads the folder it is given and never writes it
    publisher: Publisher | None = None
    secrets: tuple[str, ...] = ()
    base: dict[str, Any] = field(default_factory=dict)  # what is known for an error result
    announce: Callable[[Result, Path], str] | None = None  # the verdict block printed at the end
    clear: Callable[[Path], None] | None = None  # removes a previous run's files before an error result
    written: Result | None = None
    emitted: bool = False

    def guard(self, body: Callable[[], int]) -> int:
        """Run the command's body with cancel signals raising; any way out ends here."""
        try:
            with signals.raising():
                return body()
        except BaseException as exc:
            with signals.deferred():  # the ending itself is short and must not be cut
                return self.fail(exc)

    def finish(self, result: Result) -> int:
        """Write, print, emit and publish ``result``; its exit code (3 if it could not be written)."""
        try:
            result = clean(result, self.secrets)
        except GateError as exc:
            result = clean(self.error_result(type(exc).__name__, exc.message), self.secrets)
        code = exit_code(result)
        if self.write_files and self.out_dir is not None:
            try:
                result.write(self.out_dir)
            except Exception as exc:
                message = f"could not write the report folder {self.out_dir}: {describe(exc)}"
                self._tell(message, "check `out`: it must be a writable folder (not a file) with free space")
                result = clean(self.error_result(CONTROLLER_ERROR, message), self.secrets)
                code = EXIT_ERROR
            else:
                self._step("write the reports", self._reports, result)
        self.written = result
        self._step("print the verdict", self._announce, result)
        self._step("write the job summary and outputs", self._emit, result)
        if self.publisher is not None:
            if result.error is not None and result.error.type == CANCELLED:
                # GitHub sends SIGKILL ~10 s after it cancels: say it in the time there is.
                self.publisher.client.extend(CANCEL_BUDGET_S)
            self.publisher.finish_safely(result, self.out_dir)
        return code

    def fail(self, exc: BaseException) -> int:
        """End on an exception: an error result through ``finish``, or, when the verdict is
        already out (a crash or cancel while publishing), just conclude the check run."""
        kind, message, hint, code = classify(exc)
        self._tell(message, hint)
        if self.written is not None and self.emitted:
            if self.publisher is not None:
                self.publisher.rescue(self.written, cancelled=kind == CANCELLED)
            return code
        tb = "".join(traceback.format_exception(exc)) if kind == CONTROLLER_ERROR else ""
        result = self.error_result(kind, message + (f"\n  hint: {hint}" if hint else ""), tb, reason=message)
        if self.write_files and self.clear is not None and self.out_dir is not None:
            self._step("clear the report folder", self.clear, self.out_dir)
        self.finish(result)
        return code

    def error_result(self, kind: str, message: str, tb: str = "", reason: str | None = None) -> Result:
        fields = dict(self.base)
        fields.update(
            verdict="error",
            reason=reason or message,
            error={"type": kind, "message": message, "traceback": tb},
            gate_version=__version__,
        )
        return Result.model_validate(fields)

    # ---- the guarded steps ---------------------------------------------------------------
    def _step(self, what: str, fn: Callable[[Any], None], arg: Any) -> None:
        try:
            fn(arg)
        except Exception as exc:  # one broken step must not cost the others
            print(f"overfit-gate: warning: could not {what}: {describe(exc)}", file=sys.stderr, flush=True)

    @property
    def folder(self) -> Path:
        return self.out_dir if self.out_dir is not None else Path.cwd()

    def _reports(self, result: Result) -> None:
        from gate.report import write_reports

        write_reports(result, self.folder)

    def _announce(self, result: Result) -> None:
        if self.announce is not None:
            print(self.announce(result, self.folder), flush=True)

    def _emit(self, result: Result) -> None:
        from gate.report.actions import emit

        if not self.emitted:
            self.emitted = True  # once: a second summary or set of outputs would contradict the first
            emit(result, self.folder, self.env)

    def _tell(self, message: str, hint: str) -> None:
        from gate.scrub import text

        print(f"overfit-gate: error: {text(message, self.secrets)}", file=sys.stderr, flush=True)
        if hint:
            print(f"  hint: {text(hint, self.secrets)}", file=sys.stderr, flush=True)
