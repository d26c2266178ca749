"""How config values arrive and what they may be: the value types of the keys in ``model.py``.

Environment variables and action inputs arrive as strings, so list-valued keys accept comma- or
newline-separated text and ``command`` is split like a shell would. The checks on a value
(known check names, ``key=value`` pairs, exactly one GPU) live here so the key table stays a table.
"""

from __future__ import annotations

import difflib
import re
import shlex
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

GPUS = re.compile(r"[01]|none|device=(\d+|GPU-[0-9a-fA-F-]+)")


def _comma_list(v: Any) -> Any:
    # From env vars and action inputs: comma- or newline-separated.
    if isinstance(v, str):
        return [p.strip() for p in v.replace("\n", ",").split(",") if p.strip()]
    return v


def _split_command(v: Any) -> Any:
    # Env vars and action inputs arrive as one string: split it like a shell would.
    if isinstance(v, str):
        return shlex.split(v) or None
    return v


def _known_checks(v: list[str]) -> list[str]:
    from gate.harness.check_table import CHECK_NAMES

    for name in v:
        if name not in CHECK_NAMES:
            close = difflib.get_close_matches(name, CHECK_NAMES, n=1, cutoff=0.6)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            raise ValueError(f"unknown check {name!r}{hint}; checks: {', '.join(CHECK_NAMES)}")
    return v


def _pairs(v: list[str]) -> list[str]:
    for item in v:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"{item!r} is not of the form key=value")
    return v


def _tolerations(v: list[str]) -> list[str]:
    from gate.runners.kubernetes.jobspec import toleration

    for item in v:
        toleration(item)  # raises ValueError with the accepted forms
    return v


def _gpus_str(v: Any) -> Any:
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


def _one_gpu(v: str) -> str:
    # Exactly one GPU or none, by design: `device=all`, `2` or `device=0,1` would hand the
    # code under test every GPU on a shared runner.
    value = v.strip()
    if not GPUS.fullmatch(value):
        raise ValueError('must be "1" (one GPU), "0" (CPU only) or "device=N" / "device=GPU-<uuid>" (that GPU)')
    return value


# The Annotated type is the field's whole type (``X | None`` inside it), so the flags generated
# from the registry (gate/commands/flags.py) still see a plain ``list[str]`` or ``str``.
Command = Annotated[list[str] | None, BeforeValidator(_split_command)]
Names = Annotated[list[str], BeforeValidator(_comma_list)]
CheckNames = Annotated[list[str], BeforeValidator(_comma_list), AfterValidator(_known_checks)]
# Flags, env vars and inputs: "k=v,k2=v2" (workflow keys never come from a file).
Pairs = Annotated[list[str], BeforeValidator(_comma_list), AfterValidator(_pairs)]
Tolerations = Annotated[list[str], BeforeValidator(_comma_list), AfterValidator(_tolerations)]
Gpus = Annotated[str, BeforeValidator(_gpus_str), AfterValidator(_one_gpu)]
