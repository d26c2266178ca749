"""Script mode on the frameworks people already train with: a PyTorch Lightning
``Trainer.fit`` script and a Hugging Face ``Trainer`` script, unmodified, tiny and random
(nothing downloaded). Needs the ``integrations`` extra (lightning, transformers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.result import Result
from tests.harness.script.test_script_mode import SCRIPTS, Harness, harness  # noqa: F401 - the fixture

# Lightning and transformers scripts: heavy imports and real training.
pytestmark = pytest.mark.slow


def test_lightning_script_passes(harness: Harness) -> None:  # noqa: F811
    code, result = harness("python", str(SCRIPTS / "train_lightning.py"))
    assert code == 0, result["reason"]
    r = Result.model_validate(result)
    assert r.mode == "script" and r.pinning is not None and r.pinning.startswith("DataLoader")
    statuses = {c.name: c.status for c in r.checks}
    assert statuses["gradient_flow"] == "pass" and statuses["grads_zeroed"] == "pass"
    assert statuses["input_dependence"] == "pass"  # Trainer.fit ran a second time with zeroed inputs
    assert r.steps < 500 and r.best_loss is not None and r.target is not None and r.best_loss <= r.target


def test_lightning_short_fit_is_judged_on_what_was_seen(harness: Harness) -> None:  # noqa: F811
    code, result = harness("python", str(SCRIPTS / "train_lightning.py"), "--max-epochs", "2")
    # Two epochs end before the overfit test can conclude: not a verdict on the pipeline.
    assert code == 4 and result["verdict"] == "not_applicable"
    assert "the script returned after 24 steps, short of the target" in result["reason"]
    assert "raise its epochs or iterations" in result["reason"]


def test_huggingface_trainer_script_passes(harness: Harness, tmp_path: Path) -> None:  # noqa: F811
    code, result = harness("python", str(SCRIPTS / "train_hf.py"))
    assert code == 0, result["reason"]
    assert "input_ids (8, 16) int64, labels (8, 16) int64" in result["pinning"]
    statuses = {c["name"]: c["status"] for c in result["checks"]}
    assert statuses["gradient_flow"] == "pass" and statuses["parameters_update"] == "pass"
    assert statuses["batch_independence"] == "pass"
    # input_ids zeroed, labels and the scalar num_items_in_batch left alone: a finite, non-converging loss
    assert statuses["input_dependence"] == "pass"
