"""The silent-bug checks, in-process through the real harness (gate.harness.run_task.run):
the zoo bugs not covered end to end in test_checks_zoo.py, zero false alarms on the
examples, configuration (allow_unused, skip_checks), fail-fast, and the guard that turns a
crashing check into a warning."""

from __future__ import annotations

import time
from typing import Any

import pytest
import torch

from gate.harness import run_task
from gate.harness.check_api import Check, Context
from gate.harness.check_table import CHECKS, CheckEntry, check_names
from gate.harness.checks._util import preserved
from gate.harness.checks.input_dependence import LEAK, InputDependence
from gate.harness.contract import CheckRecord
from gate.harness.spec import Spec
from gate.harness.verdict import Monitor
from tests.conftest import ROOT

torch.set_num_threads(1)


def run(entry: str, **spec: Any) -> dict[str, Any]:
    path = entry if entry.startswith("examples/") else f"tests/zoo/{entry}.py"
    spec.setdefault("steps", 300)
    return {**run_task.run(Spec(entrypoint=f"{ROOT / path}:make_task", device="cpu", **spec), time.perf_counter())}


def by_name(result: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [c for c in result["checks"] if c["name"] == name]


def failing(result: dict[str, Any]) -> set[str]:
    return {c["name"] for c in result["checks"] if c["status"] == "fail"}


@pytest.mark.parametrize(
    ("bug", "check", "fragment"),
    [
        ("bug_negated_loss", "loss_direction", "sign of the loss"),
        ("bug_detached", "gradient_flow", "`encoder` (Linear): weight, bias"),
        ("bug_other_instance", "parameters_update", "another model instance"),
        ("bug_softmax_batch", "batch_independence", "after `net` (Sequential)"),
        ("bug_unshifted_targets", "causality", "shift the targets by one"),
        ("bug_nll_on_logits", "loss_direction", "apply log_softmax before nll_loss"),
    ],
)
def test_more_zoo_bugs_fail_on_their_check(bug: str, check: str, fragment: str) -> None:
    r = run(bug)
    assert r["verdict"] == "fail"
    assert check in failing(r), r["reason"]
    (c,) = [c for c in by_name(r, check) if c["status"] == "fail"]
    assert fragment in c["message"] + " " + c["hint"]


def test_detached_branch_is_told_apart_from_an_unused_layer() -> None:
    (c,) = by_name(run("bug_detached"), "gradient_flow")
    assert "run but their output does not reach the loss" in c["hint"] and c["data"]["never_called"] == []
    (c,) = by_name(run("bug_unused_layer"), "gradient_flow")
    assert c["data"]["never_called"] == ["extra"] and c["data"]["params"] == ["extra.weight", "extra.bias"]


@pytest.mark.parametrize("example", ["mlp_classifier", "cnn_bn_dropout", "tiny_gpt"])
def test_no_false_alarm_on_the_examples(example: str) -> None:
    r = run(f"examples/{example}.py", steps=500)
    assert r["verdict"] == "pass", r["reason"]
    noisy = [(c["name"], c["status"], c["message"]) for c in r["checks"] if c["status"] in ("fail", "warn")]
    assert noisy == []
    statuses = {c["name"]: c["status"] for c in r["checks"]}
    assert set(statuses) == set(check_names("task"))
    assert statuses["causality"] == ("pass" if example == "tiny_gpt" else "skip")
    assert statuses["input_dependence"] == "pass"


def test_checks_do_not_change_the_training_run() -> None:
    # Probes run in eval mode, with the RNG forked and BatchNorm stats restored: the loss
    # curve (dropout + BatchNorm model) is the same with every check on or off.
    on = run("examples/cnn_bn_dropout.py")
    off = run("examples/cnn_bn_dropout.py", skip_checks=check_names("task"))
    assert off["checks"] == []
    assert on["losses"] == off["losses"]


def test_allow_unused_excuses_named_parameters() -> None:
    r = run("bug_unused_layer", allow_unused=["extra.*"])
    assert r["verdict"] == "pass", r["reason"]
    (c,) = by_name(r, "gradient_flow")
    assert c["status"] == "pass" and c["data"]["allowed_unused"] == ["extra.weight", "extra.bias"]


def test_skip_checks_opts_out_by_name() -> None:
    r = run("bug_batch_view", skip_checks=["batch_independence"])
    assert r["verdict"] == "pass", r["reason"]
    assert by_name(r, "batch_independence") == []


@pytest.mark.parametrize(
    ("bug", "check", "steps"), [("bug_lr_zero", "parameters_update", 32), ("bug_maximize", "loss_direction", 16)]
)
def test_certain_failures_stop_early(bug: str, check: str, steps: int) -> None:
    r = run(bug, steps=500)
    assert r["steps"] == steps
    assert r["reason"].startswith(f"stopped at step {steps}: ")
    (c,) = [c for c in by_name(r, check) if c["status"] == "fail"]
    assert c["message"] in r["reason"]


def test_nonfinite_names_the_step_and_the_parameters() -> None:
    r = run("bug_nonfinite")
    (c,) = by_name(r, "finite")
    assert c["status"] == "fail"
    step = c["data"]["loss_step"]
    assert isinstance(step, int) and f"step {step}" in c["message"]
    assert r["losses"][step] is None and all(v is not None for v in r["losses"][:step])
    assert "`0.weight`" in c["message"]


def test_input_dependence_stores_its_curve_and_is_bounded() -> None:
    r = run("bug_self_labels")
    (c,) = by_name(r, "input_dependence")
    assert c["status"] == "fail"
    curve = c["data"]["losses"]
    # it stops once it covers LEAK of the real run's way down: the leak threshold
    assert (
        curve
        and c["data"]["covered"] >= LEAK
        and min(curve) <= r["initial_loss"] - LEAK * (r["initial_loss"] - r["target"])
    )
    assert len(curve) <= 2 * (r["target_step"] + 1)


class Exploding(Check):
    name = "exploding"

    def before(self, ctx: Context) -> None:
        raise RuntimeError("odd model\nsecond line")


class ExplodingPerStep(Check):
    name = "exploding_per_step"

    def after_backward(self, ctx: Context, step: int) -> None:
        if step == 3:
            raise ValueError("bad shape")

    def finish(self, ctx: Context) -> list[CheckRecord]:
        raise AssertionError("never reached: the guard stops calling a crashed check")


def test_a_crashing_check_is_a_warning_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CHECKS, "exploding", CheckEntry(f"{__name__}:Exploding"))
    monkeypatch.setitem(CHECKS, "exploding_per_step", CheckEntry(f"{__name__}:ExplodingPerStep"))
    r = run("clean_mlp")
    assert r["verdict"] == "pass"
    (a,) = by_name(r, "exploding")
    (b,) = by_name(r, "exploding_per_step")
    assert a["status"] == b["status"] == "warn"
    assert a["message"] == "could not run: RuntimeError in before: odd model"
    assert b["message"] == "could not run: ValueError in after_backward: bad shape"
    assert 'skip_checks = ["exploding"]' in a["hint"]
    r = run("clean_mlp", fail_on_warn=True)
    assert r["verdict"] == "fail"


def test_preserved_restores_modes_buffers_and_rng() -> None:
    bn = torch.nn.BatchNorm1d(4)
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), bn, torch.nn.Dropout(0.5))
    model.train()
    assert bn.running_mean is not None
    stats = bn.running_mean.clone()
    state = torch.random.get_rng_state()
    with preserved(model, torch.device("cpu")):
        model.eval()
        bn.train()
        model(torch.randn(8, 4) * 5 + 3)  # updates running stats, draws random numbers
    assert all(m.training for m in model.modules())
    assert torch.equal(bn.running_mean, stats)
    assert torch.equal(torch.random.get_rng_state(), state)


def test_input_dependence_skips_without_a_fresh_model() -> None:
    # Script mode has no make_fresh: the check says so instead of guessing.
    monitor = Monitor(steps=10)
    monitor.feed([1.0, 0.001])
    model = torch.nn.Linear(2, 2)
    ctx = Context(
        spec=Spec(),
        model=model,
        batch=torch.zeros(2, 2),
        loss_fn=lambda m, b: m(b).sum(),
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        forward=lambda m, b: m(b),
        input_keys=[],
        device=torch.device("cpu"),
        monitor=monitor,
        mode="script",
    )
    (c,) = InputDependence().finish(ctx)
    assert c["status"] == "skip" and "fresh model" in c["message"]
