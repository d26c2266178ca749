"""overfit-gate: prove a training pipeline can learn before paying for a big run.

Kept import-free on purpose: the harness (``gate.harness``) is mounted into the user's
training environment where only torch and the standard library exist, and the CLI must
start without importing torch or pydantic for ``--help``.
"""

__version__ = "0.1.0"
