"""Script mode: gate an unmodified training script (``overfit-gate run -- python train.py``).

``runner``-free: the script runs in this process as ``__main__``; ``patches`` instrument
torch (backward, optimizer.step, module calls, DataLoader iteration), ``session`` turns what
they see into the verdict (``ledger`` counts losses and steps, ``adoption`` finds the model's
optimizer, ``dispatch`` runs the checks, ``guard`` stops the script), ``pinning`` keeps the
batch fixed, ``grad_checks`` holds the checks only a script loop needs, and ``run`` builds
the result from the session's ``summary``.
"""

from __future__ import annotations

from gate.harness.script.run import run_script

__all__ = ["run_script"]
