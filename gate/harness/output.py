"""Write ``result.json`` and ``loss.csv`` (standard library only: the harness side)."""

from __future__ import annotations

import json
import math
import os
import secrets
import traceback as tb
from pathlib import Path
from typing import Any

from gate.harness.contract import SCHEMA, ErrorRecord, ResultRecord


def clean(x: Any) -> Any:
    """JSON has no NaN/Inf: non-finite floats become null (the reason says what happened)."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    return x


def error_info(exc: BaseException, type_name: str | None = None) -> ErrorRecord:
    return {
        "type": type_name or type(exc).__name__,
        "message": str(exc) or type(exc).__name__,
        "traceback": "".join(tb.format_exception(type(exc), exc, exc.__traceback__)),
    }


def _replace(path: Path, text: str) -> None:
    """Write a fresh file and rename it over ``path``: atomic, and a symlink planted at ``path``
    (or at a predictable temp name) is replaced, never written through."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    with os.fdopen(os.open(tmp, flags, 0o644), "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def write(out: Path, result: ResultRecord) -> None:
    out.mkdir(parents=True, exist_ok=True)
    data = {"schema": SCHEMA, **clean(result)}
    _replace(out / "result.json", json.dumps(data, indent=2, allow_nan=False) + "\n")
    write_csv(out, data.get("losses") or [])


def csv_text(losses: list[float | None]) -> str:
    lines = ["step,loss"] + [f"{i},{'' if v is None else repr(float(v))}" for i, v in enumerate(losses)]
    return "\n".join(lines) + "\n"


def write_csv(out: Path, losses: list[float | None]) -> None:
    _replace(out / "loss.csv", csv_text(losses))
