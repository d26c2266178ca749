"""The single registry of configuration keys (``model.Config``), and their resolution.

Precedence, lowest first: ``[tool.overfit-gate]`` in pyproject.toml (or ``config-file``),
``OVERFIT_GATE_*`` environment variables, GitHub Action inputs (``INPUT_*``), command-line flags.
Keys are snake_case here; kebab-case is accepted everywhere (``target-ratio``).

Every key declares where it may come from (docs/security.md): the checked-out files belong to
the change under test, so keys that decide where and how that code runs are ``WORKFLOW`` keys,
refused in a file; verdict keys come from the pull request's *base* commit (``config-source``,
gate/baseconfig.py); the keys that name what to run come from the checkout itself.

The parts: ``model`` (the keys: one pydantic field each, with its trust class), ``values`` (what
a value may be), ``sources`` (the file, the environment, the action inputs; the bootstrap that
finds the file), ``merge`` (the layers merged and validated). Import from ``gate.config``.
"""

from gate.config.merge import BaseReader, resolve, resolve_with_changes
from gate.config.model import CODE, KEYS, WORKFLOW, Config, keys_table, trust
from gate.config.sources import from_env, from_file, locate_config, out_setting, report_folder, unknown_key
from gate.config.values import GPUS

__all__ = [
    "CODE",
    "GPUS",
    "KEYS",
    "WORKFLOW",
    "BaseReader",
    "Config",
    "from_env",
    "from_file",
    "keys_table",
    "locate_config",
    "out_setting",
    "report_folder",
    "resolve",
    "resolve_with_changes",
    "trust",
    "unknown_key",
]
