"""Script mode: gate an unmodified training script (``overfit-gate run -- python train.py``).

``runner``-free: the script runs in this process as ``__main__``; ``patches`` instrument
torch (backward, optimizer.step, module calls, DataLoader iteration), ``session`` turns what
they see into the verdict, ``pinning`` keeps the batch fixed, ``grad_checks`` holds the
checks only a script loop needs.
"""

from __future__ import annotations

from gate.harness.script.run import run_script

__all__ = ["run_script"]
