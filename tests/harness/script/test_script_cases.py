"""Script mode on scripts written the way real projects write them (tests/script_cases/): a
nanoGPT-style char LM, Hugging Face Trainer scripts, a Lightning module, the pytorch/examples
VAE. Each one-line bug fails on the check that names it; the clean twins pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.harness.script.test_script_mode import LOOP, Harness, check, harness, write  # noqa: F401 - the fixture

CASES = ROOT / "tests" / "script_cases"


def gpt(harness: Harness, *args: str, **spec: object) -> tuple[int, dict]:  # noqa: F811
    return harness("python", str(CASES / "gpt_char.py"), *args, **spec)


@pytest.mark.parametrize(
    ("bug", "words"),
    [
        ("no_mask", "the model sees the future"),
        ("no_transpose", "the model sees the future"),
        ("unshifted", "the token the model is fed at the same position"),
        ("shifted_twice", "against token t+2"),
    ],
)
def test_gpt_bugs_fail_on_causality(harness: Harness, bug: str, words: str) -> None:  # noqa: F811
    code, result = gpt(harness, "--bug", bug)
    assert code == 1, result["reason"]
    found = check(result, "causality")
    assert found["status"] == "fail" and words in found["message"], found
    assert result["steps"] <= 16  # structural: stopped at the first sync


@pytest.mark.slow
def test_gpt_clean_with_dropout_passes_and_says_dropout_was_off(harness: Harness) -> None:  # noqa: F811
    code, result = gpt(harness, "--dropout", "0.2")
    assert code == 0, result["reason"]
    assert check(result, "causality")["status"] == "pass"
    assert any("dropout was turned off" in n and "0.2" in n for n in result["notes"])
    # loss_at_init judged the very first training loss (not the second step's)
    assert check(result, "loss_at_init")["data"]["initial_loss"] == pytest.approx(result["initial_loss"], rel=1e-4)


@pytest.mark.slow
def test_label_smoothing_floor_is_derived(harness: Harness) -> None:  # noqa: F811
    code, result = gpt(harness, "--label-smoothing", "0.1", skip_checks=["input_dependence"])
    assert code == 0, result["reason"]
    assert result["floor"] == pytest.approx(0.6213, abs=1e-3)  # 25 classes
    assert any("label_smoothing=0.1" in n for n in result["notes"])


def test_hf_labels_shifted_twice_fail(harness: Harness) -> None:  # noqa: F811
    code, result = harness("python", str(CASES / "hf_trainer.py"), "--bug", "shifted_twice")
    assert code == 1, result["reason"]
    assert "shifted 2 times" in check(result, "causality")["message"]


def test_hf_all_labels_ignored_says_so(harness: Harness) -> None:  # noqa: F811
    code, result = harness("python", str(CASES / "hf_trainer.py"), "--bug", "all_ignored", steps=16)
    assert code == 1
    assert "ignore_index=-100" in result["reason"]
    finite = check(result, "finite")
    assert "ignore_index=-100" in finite["hint"] and "unstable" not in finite["hint"]


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("model", ["gpt2", "bert-mlm"])
def test_hf_clean_models(harness: Harness, model: str) -> None:  # noqa: F811
    code, result = harness("python", str(CASES / "hf_trainer.py"), "--model", model)
    assert code == 0, result["reason"]
    causality = check(result, "causality")
    # GPT-2 is recognised and held to causality; a masked LM is bidirectional and is not.
    assert causality["status"] == ("pass" if model == "gpt2" else "skip"), causality


def test_lightning_training_step_without_return_fails(harness: Harness) -> None:  # noqa: F811
    code, result = harness("python", str(CASES / "lightning_module.py"), "--bug", "no_return")
    assert code == 1 and result["verdict"] == "fail", result["reason"]
    assert "never called" in result["reason"] and "Lightning" in result["reason"]
    assert "training_step must return the loss" in result["checks"][0]["hint"]


def test_vae_soft_target_floor_is_named(harness: Harness) -> None:  # noqa: F811
    code, result = harness("python", str(CASES / "vae.py"), steps=40, patience=40)
    assert code == 1
    assert "soft binary targets" in result["reason"] and "below the achievable loss" in result["reason"]


def test_loss_at_init_judges_the_first_training_loss(harness: Harness, tmp_path: Path) -> None:  # noqa: F811
    # An eval pass under no_grad before training (as nanoGPT's estimate_loss does) is not the
    # training loss; the spy is in place before the first training loss (issue 13 item 10:
    # it used to see the second step's loss and warn "labels leaking" on ResNet-18).
    body = (
        "    if step == 0:\n        with torch.no_grad():\n            nn.functional.cross_entropy(model(x) * 50, y)\n"
    )
    body += "    loss.backward()"
    script = write(tmp_path, "t.py", LOOP.format(steps=2000, body=body))
    code, result = harness("python", script, skip_checks=["input_dependence"])
    assert code == 0, result["reason"]
    init = check(result, "loss_at_init")
    assert init["status"] == "pass" and init["data"]["initial_loss"] == pytest.approx(result["initial_loss"], rel=1e-6)
