"""Unit tests for what the gate learns from the loss calls and the batch: loss floors (label
smoothing, soft targets), every target ignored, the dropout switch, the lag between a language
model's targets and its tokens, the input_dependence leak threshold, and the likely cause a
failing loss is given."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from gate.harness.checks import shift
from gate.harness.checks.input_dependence import LEAK, covered, leak_target
from gate.harness.contract import CheckRecord
from gate.harness.diagnose import likely_cause
from gate.harness.dropout import DropoutSwitch
from gate.harness.loss_spy import LossSpy
from gate.harness.script.causal import detect
from gate.harness.verdict import Decision, Monitor


def spied(fn: Callable[[], object]) -> LossSpy:
    spy = LossSpy().install()
    try:
        fn()
    finally:
        spy.remove()
    return spy


def test_label_smoothing_floor_is_the_smoothed_targets_entropy() -> None:
    logits = torch.randn(8, 10, requires_grad=True)
    y = torch.randint(0, 10, (8,))
    spy = spied(lambda: nn.CrossEntropyLoss(label_smoothing=0.1)(logits, y))
    (call,) = spy.calls
    assert call.floor == pytest.approx(0.5003, abs=1e-4)  # the plateau issue 11 measured
    assert "label_smoothing=0.1 over 10 classes" in call.why
    # The floor really is the minimum: logits at the smoothed distribution reach it.
    q = torch.full((8, 10), 0.01).scatter(1, y[:, None], 0.91)
    assert float(F.cross_entropy(q.log(), y, label_smoothing=0.1)) == pytest.approx(call.floor, abs=1e-4)


def test_soft_bce_floor_and_hard_targets() -> None:
    p = torch.rand(4, 6).requires_grad_()
    t = torch.rand(4, 6)
    spy = spied(lambda: (F.binary_cross_entropy(p, t, reduction="sum"), F.mse_loss(p, t)))
    bce, mse = spy.calls
    assert bce.floor == pytest.approx(float(F.binary_cross_entropy(t, t, reduction="sum")), rel=1e-4)
    assert mse.floor == 0.0
    hard = spied(lambda: F.binary_cross_entropy_with_logits(p, (t > 0.5).float()))
    assert hard.calls[0].floor == 0.0


def test_eval_and_detached_calls_are_not_recorded() -> None:
    logits, y = torch.randn(4, 3), torch.randint(0, 3, (4,))

    def calls() -> None:
        with torch.no_grad():
            F.cross_entropy(logits.requires_grad_(), y)  # an eval pass
        F.cross_entropy(logits.detach(), y)  # a metric

    assert spied(calls).calls == []


def test_floor_applies_only_when_the_calls_make_up_the_loss() -> None:
    logits = torch.randn(8, 10, requires_grad=True)
    y = torch.randint(0, 10, (8,))
    spy = spied(lambda: F.cross_entropy(logits, y, label_smoothing=0.1))
    value = spy.calls[0].value
    assert spy.floor_for(value) is not None
    floor = spy.calls[0].floor
    assert floor is not None
    assert spy.floor_for(value / 4, backwards=4)[0] == pytest.approx(floor / 4)  # type: ignore[index]
    assert spy.floor_for(value + 1.0) is None  # an extra term the spy did not see
    mon = Monitor(steps=10)
    assert "label_smoothing" in spy.settle(mon, None, value) and mon.floor == pytest.approx(0.5003, abs=1e-4)
    fixed = Monitor(steps=10)
    assert spy.settle(fixed, 0.0, value) == "" and fixed.floor == 0.0  # loss-floor set by the user wins


def test_every_target_ignored_is_named() -> None:
    logits = torch.randn(2, 5, 7, requires_grad=True)
    spy = spied(lambda: F.cross_entropy(logits.view(-1, 7), torch.full((10,), -100)))
    assert spy.all_ignored() is not None
    decision = Decision("fail", "the loss is nan at the very first step", 0, "nonfinite")
    cause = likely_cause(decision, [], spy, DropoutSwitch(False), Monitor(steps=10))
    assert "ignore_index=-100" in cause and "unstable" not in cause


@pytest.mark.parametrize(
    ("scores", "raw"),
    [
        (lambda z: F.log_softmax(z, dim=1), False),
        (lambda z: torch.log(F.softmax(z, dim=1) + 1e-9), False),
        (lambda z: z, True),  # mnist's log_softmax left out: nll_loss on raw logits
        (lambda z: F.softmax(z, dim=1), True),  # probabilities, not their log: the loss is -p
    ],
)
def test_nll_loss_on_rows_that_are_not_log_probabilities_is_named(
    scores: Callable[[torch.Tensor], torch.Tensor], raw: bool
) -> None:
    torch.manual_seed(0)
    logits = torch.randn(16, 10, requires_grad=True)
    spy = spied(lambda: F.nll_loss(scores(logits), torch.randint(0, 10, (16,))))
    below = Decision("fail", "the loss fell to -3.2 at step 1, below its floor 0", 1, "below_floor")
    cause = likely_cause(below, [], spy, DropoutSwitch(False), Monitor(steps=10))
    assert (spy.calls[0].raw_scores is not None) == raw
    assert ("apply log_softmax before nll_loss, or give the logits to cross_entropy" in cause) == raw


def test_budget_fail_names_what_the_gate_saw() -> None:
    dropout = DropoutSwitch(keep=True)
    dropout.max_p = 0.2
    mon = Monitor(steps=10)
    mon.feed([5.0])
    warn: CheckRecord = {
        "name": "parameters_update",
        "status": "warn",
        "message": "3 parameters are not in the optimizer",
        "hint": "",
        "data": {},
    }
    cause = likely_cause(Decision("fail", "did not reach", 9, "budget"), [warn], LossSpy(), dropout, mon)
    assert "dropout is on (p up to 0.2" in cause and "parameters_update warned: 3 parameters" in cause
    assert likely_cause(Decision("pass", "ok", 9, "confirmed"), [warn], LossSpy(), dropout, mon) == ""


def test_dropout_switch_turns_dropout_off_and_restores() -> None:
    original = F.dropout
    x = torch.ones(1000)
    switch = DropoutSwitch(keep=False).install()
    try:
        assert torch.equal(nn.Dropout(0.5).train()(x), x)
        q = torch.randn(1, 1, 4, 8)
        a = F.scaled_dot_product_attention(q, q, q, None, 0.9)
        assert torch.allclose(a, F.scaled_dot_product_attention(q, q, q))
    finally:
        switch.remove()
    assert F.dropout is original and switch.max_p == 0.9
    assert "turned off" in switch.note
    kept = DropoutSwitch(keep=True).install()
    try:
        assert not torch.equal(nn.Dropout(0.5).train()(x), x)
    finally:
        kept.remove()


def test_best_lag() -> None:
    tokens = torch.randint(0, 50, (4, 12), generator=torch.Generator().manual_seed(0))
    nxt = torch.cat([tokens[:, 1:], torch.full((4, 1), -100)], dim=1)
    twice = torch.cat([tokens[:, 2:], torch.full((4, 2), -100)], dim=1)
    assert shift.best_lag(nxt, tokens) == -1 and shift.verdict("c", -1, 1.0, "t") is None
    assert shift.best_lag(tokens, tokens) == 0
    assert shift.best_lag(twice, tokens) == -2
    assert shift.best_lag(torch.zeros(4, 12, dtype=torch.long), torch.zeros(4, 12, dtype=torch.long)) is None
    assert "shifted 2 times" in shift.verdict("c", -2, 1.0, "t")["message"]  # type: ignore[index]


def test_detect_language_models_but_not_masked_lms_or_classifiers() -> None:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(2, 64, (8, 16), generator=g)
    names: dict[object, str] = {0: "idx", 1: "targets"}

    def name(k: object) -> str:
        return names.get(k) or str(k)

    nxt = torch.cat([ids[:, 1:], ids[:, :1]], dim=1)
    found = detect({0: ids, 1: nxt}, [0], name, [])
    assert found is not None and found.lag == -1
    hf = detect({"input_ids": ids, "labels": ids}, ["input_ids"], str, [])
    assert hf is not None and hf.lag == 0
    masked = torch.rand(8, 16, generator=g) < 0.15
    mlm = {"input_ids": torch.where(masked, 1, ids), "labels": torch.where(masked, ids, -100)}
    assert detect(mlm, ["input_ids"], str, []) is None
    assert detect({"input_ids": ids, "labels": torch.randint(0, 3, (8,))}, ["input_ids"], str, []) is None
    assert detect({"x": torch.randn(8, 16), "y": ids}, ["x"], str, []) is None
    flat = detect({"input_ids": ids}, ["input_ids"], str, [nxt.reshape(-1)])  # the loss's own targets
    assert flat is not None and flat.lag == -1


def test_leak_threshold_is_relative_to_the_real_gap() -> None:
    mon = Monitor(steps=100)
    mon.feed([1.36] + [0.0136 * 0.5] * 30)
    assert mon.target == pytest.approx(0.0136)
    # The b13 leak: 99 % of the way down without inputs.
    assert covered(mon, 0.0146) > LEAK and leak_target(mon) >= 0.0146
    # A healthy pipeline without inputs stays near the label entropy.
    assert covered(mon, 0.95 * 1.36) < 0.1 and covered(mon, 0.4 * 1.36) < LEAK
    assert math.isclose(leak_target(mon), 0.0136 + 0.05 * (1.36 - 0.0136))


def test_config_keys_reach_the_spec(tmp_path: Path) -> None:
    from gate.commands.run import build_spec
    from gate.config import resolve
    from gate.errors import ConfigError

    cfg = resolve({"command": ["python", "t.py"], "causal_dim": 1, "keep_dropout": True}, {}, tmp_path)
    spec = build_spec(cfg, tmp_path)
    assert spec["causal_dim"] == 1 and spec["keep_dropout"] is True
    with pytest.raises(ConfigError, match="causal-dim"):
        resolve({"causal_dim": 0}, {}, tmp_path)  # dim 0 is the batch


def test_summed_class_loss_is_judged_per_target() -> None:
    logits = torch.zeros(6, 8, requires_grad=True)
    y = torch.tensor([1, 2, 3, -100, -100, 4])
    spy = spied(lambda: F.cross_entropy(logits, y, reduction="sum"))  # HF Trainer's num_items_in_batch path
    call = spy.first_classification()
    assert call is not None and call.per_target == pytest.approx(math.log(8))


TASK = """
import torch
from torch import nn
def make_task():
    torch.manual_seed(0)
    x, y = torch.randn(32, 20), torch.randint(0, 10, (32,))
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, 10))
    loss = nn.CrossEntropyLoss(label_smoothing=0.1)
    return {"model": model, "batch": (x, y), "loss": lambda m, b: loss(m(b[0]), b[1]),
            "optimizer": lambda p: torch.optim.Adam(p, lr=3e-3, weight_decay=1e-3)}
"""


def test_task_mode_derives_the_smoothing_floor_and_turns_dropout_off(tmp_path: Path) -> None:
    import json

    from gate.harness.__main__ import main

    (tmp_path / "t.py").write_text(TASK)
    spec = {"mode": "task", "entrypoint": f"{tmp_path / 't.py'}:make_task", "out": str(tmp_path / "out")}
    (tmp_path / "spec.json").write_text(json.dumps(spec | {"skip_checks": ["input_dependence"]}))
    assert main(["--spec", str(tmp_path / "spec.json")]) == 0
    r = json.loads((tmp_path / "out" / "result.json").read_text())
    assert r["floor"] == pytest.approx(0.5003, abs=1e-4) and r["target"] > r["floor"]
    assert any("label_smoothing=0.1 over 10 classes" in n for n in r["notes"])
    assert any("dropout was turned off" in n and "0.3" in n for n in r["notes"])
    assert any("weight decay was turned off for the overfit run (0.001 in Adam)" in n for n in r["notes"])
    assert F.dropout.__module__ == "torch.nn.functional"  # the switch is off again
