"""Command-line flags generated from the config registry, so a key is declared once."""

from __future__ import annotations

import argparse
import types
import typing
from typing import Any

from gate.config import Config, trust

# Keys with a channel of their own on the command line.
_NOT_FLAGS = {"command"}


def _kind(annotation: Any) -> tuple[str, Any]:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _kind(args[0])
    if annotation is bool:
        return "bool", None
    if origin is typing.Literal:
        return "choice", list(typing.get_args(annotation))
    if origin is list:
        return "list", None
    if annotation in (int, float, str):
        return "scalar", annotation
    return "scalar", str


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("configuration (also settable in [tool.overfit-gate] or OVERFIT_GATE_*)")
    for name, field in Config.model_fields.items():
        if name in _NOT_FLAGS:
            continue
        flag = "--" + name.replace("_", "-")
        kind, extra = _kind(field.annotation)
        # get_default: a default_factory (lists) has no .default (it reads PydanticUndefined).
        default = field.get_default(call_default_factory=True)
        help_ = (field.description or "") + (f" (default: {default})" if default not in (None, [], "") else "")
        if trust(name) == "workflow":
            help_ += " Not read from config files (docs/security.md)."
        help_ = help_.replace("%", "%%")
        if kind == "bool":
            group.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, default=None, help=help_)
        elif kind == "choice":
            group.add_argument(flag, dest=name, choices=extra, default=None, help=help_)
        elif kind == "list":
            group.add_argument(
                flag, dest=name, action="append", default=None, metavar="NAME", help=help_ + " Repeatable."
            )
        else:
            group.add_argument(flag, dest=name, type=extra, default=None, metavar=name.upper(), help=help_)


def config_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The flags the user actually gave (None = not given), lists comma-split."""
    out: dict[str, Any] = {}
    for name in Config.model_fields:
        value = getattr(args, name, None)
        if value is None:
            continue
        if isinstance(value, list):
            value = [p.strip() for v in value for p in str(v).split(",") if p.strip()]
        out[name] = value
    return out
