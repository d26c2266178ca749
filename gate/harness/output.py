"""Write ``result.json`` and ``loss.csv`` (standard library only: the harness side)."""

from __future__ import annotations

import json
import math
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


def write(out: Path, result: ResultRecord) -> None:
    out.mkdir(parents=True, exist_ok=True)
    data = {"schema": SCHEMA, **clean(result)}
    tmp = out / "result.json.tmp"
    tmp.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n")
    tmp.replace(out / "result.json")
    write_csv(out, data.get("losses") or [])


def write_csv(out: Path, losses: list[float | None]) -> None:
    lines = ["step,loss"] + [f"{i},{'' if v is None else repr(float(v))}" for i, v in enumerate(losses)]
    (out / "loss.csv").write_text("\n".join(lines) + "\n")
