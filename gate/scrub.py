"""Make a Result safe to write anywhere: no credential values, no text that cannot be encoded.

Everything the gate writes (result.json, report.md, junit.xml, the job summary, the outputs,
the check run, the PR comment) is rendered from the Result that ``gate.ending`` passes through
``clean`` first, so one pass covers them all.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from gate.result import Result

MASK = "***"


def text(value: str, secrets: Iterable[str] = ()) -> str:
    """``value`` with each secret masked and lone surrogates (an undecodable file name in an
    exception message, ``os.fsdecode``'s escapes) replaced, so UTF-8 writers cannot fail."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    for secret in secrets:
        if secret in value:
            value = value.replace(secret, MASK)
    return value


def _walk(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return text(value, secrets)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN; the harness writes null, a forged file may not
    if isinstance(value, dict):
        return {text(str(k), secrets): _walk(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_walk(v, secrets) for v in value]
    return value


def clean(result: Result, secrets: Iterable[str] = ()) -> Result:
    """A copy of ``result`` that every writer can write and that carries no secret.
    Raises ``ResultError`` when a non-finite number sits where the schema needs a number."""
    from gate.result import parse_result

    return parse_result(_walk(result.model_dump(by_alias=True), tuple(secrets)), source="the result")
