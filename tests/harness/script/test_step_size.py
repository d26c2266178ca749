"""The step size of each training step, as script mode records it (step_size.py)."""

from __future__ import annotations

import math

import pytest
import torch

from gate.harness.script.step_size import StepSizes


def model() -> torch.nn.Sequential:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))


def backward(m: torch.nn.Module) -> None:
    m.zero_grad()
    torch.nn.functional.cross_entropy(m(torch.randn(5, 8)), torch.tensor([0, 1, 2, 0, 1])).backward()


@pytest.mark.parametrize("clip", [None, 0.01])
def test_a_hand_written_update_measures_its_learning_rate(clip: float | None) -> None:
    # word_language_model: clip the gradients in place, then p.data.add_(p.grad, alpha=-lr);
    # the next model.zero_grad() drops the gradients before the gate measures.
    m, sizes = model(), StepSizes()
    for lr in (20.0, 5.0, 1.25):
        backward(m)
        sizes.watch(list(m.parameters()))
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(m.parameters(), clip)
        for p in m.parameters():
            p.data.add_(p.grad, alpha=-lr)  # type: ignore[arg-type]
        m.zero_grad()  # set_to_none: the gate kept the (clipped) gradients themselves
        sizes.hand_written()
    assert sizes.drain() == pytest.approx([20.0, 5.0, 1.25], rel=1e-3)
    assert sizes.drain() == []  # read once


def test_an_update_that_replaces_the_tensor_is_measured_too() -> None:
    m, sizes = model(), StepSizes()
    backward(m)
    sizes.watch(list(m.parameters()))
    for p in m.parameters():
        p.data = p.data - 0.3 * p.grad  # type: ignore[operator]
    sizes.hand_written()
    assert sizes.drain() == pytest.approx([0.3], rel=1e-3)


def test_no_gradient_or_no_watch_gives_no_size() -> None:
    m, sizes = model(), StepSizes()
    sizes.hand_written()  # nothing watched
    backward(m)
    sizes.watch(list(m.parameters()))
    for p in m.parameters():
        p.grad.zero_()  # type: ignore[union-attr]  # zeroed in place before the update: nothing to divide by
    sizes.hand_written()
    first, second = sizes.drain()
    assert first is None and second is not None and not math.isfinite(second)


def test_an_optimizer_step_records_its_largest_group_rate_as_schedulers_change_it() -> None:
    m, sizes = model(), StepSizes()
    groups: list[dict] = [{"params": m[0].parameters()}, {"params": m[2].parameters(), "lr": 0.5}]
    opt = torch.optim.SGD(groups, lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.1)
    for _ in range(3):
        backward(m)
        opt.step()
        sizes.optimizer(opt)
        sched.step()
    assert sizes.drain() == pytest.approx([0.5, 0.05, 0.005])


def test_a_tensor_learning_rate_is_read_back_at_the_drain() -> None:
    m, sizes = model(), StepSizes()
    opt = torch.optim.Adam(m.parameters(), lr=torch.tensor(0.01))
    backward(m)
    opt.step()
    sizes.optimizer(opt)
    assert sizes.drain() == pytest.approx([0.01])
