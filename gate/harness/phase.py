"""Which phase of the run the harness is in: the user's training, or the gate's own work
(a check's probe, the input_dependence rerun). Kept in a small file in the report folder,
rewritten only at phase changes (a handful per run), so that a harness killed without a
word (the kernel's OOM killer sends SIGKILL) still says what was running when memory ran
out. Standard library only: the controller reads the file too."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FILE = "phase.txt"
TRAINING = "the training step"

_path: Path | None = None
_current = TRAINING


def setup(out: Path) -> None:
    """Start recording into ``out`` (the report folder)."""
    global _path, _current
    _path, _current = out / FILE, TRAINING
    _write()


def current() -> str:
    return _current


@contextmanager
def within(what: str) -> Iterator[None]:
    """The gate's own work, e.g. ``within("the gate's batch_independence probe")``."""
    global _current
    previous, _current = _current, what
    _write()
    try:
        yield
    finally:
        _current = previous
        _write()


def finish() -> None:
    """The harness is about to write its result: the phase file has served its purpose."""
    if _path is not None:
        _path.unlink(missing_ok=True)


def _write() -> None:
    if _path is None:
        return
    try:
        _path.parent.mkdir(parents=True, exist_ok=True)
        _path.write_text(_current + "\n")
    except OSError:  # a read-only report folder must not break the run
        pass


def read(out_dir: Path) -> str | None:
    """Controller side: the phase a harness that died without a result was in."""
    try:
        text = (out_dir / FILE).read_text().strip()
    except OSError:
        return None
    return text or None
