"""Weight decay in overfit mode: set to 0 before every optimizer step unless kept, recorded
for the report, and the global hook gone once the switch is removed."""

from __future__ import annotations

import torch
from torch import nn

from gate.harness.weight_decay import WeightDecaySwitch


def _step(opt: torch.optim.Optimizer, model: nn.Module) -> None:
    opt.zero_grad()
    model(torch.ones(2, 3)).sum().backward()
    opt.step()


def test_weight_decay_is_turned_off_before_the_step_and_noted() -> None:
    model = nn.Linear(3, 1)
    adam = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=5e-4)
    lbfgs = torch.optim.LBFGS(model.parameters())  # no weight_decay in its groups: left alone
    switch = WeightDecaySwitch(keep=False).install()
    try:
        _step(adam, model)
        lbfgs.step(lambda: model(torch.ones(2, 3)).sum())
    finally:
        switch.remove()
    assert adam.param_groups[0]["weight_decay"] == 0.0
    assert (
        switch.note
        == "weight decay was turned off for the overfit run (0.0005 in Adam); set keep-weight-decay = true to keep it"
    )
    after = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=0.1)
    _step(after, model)  # the hook is gone: a later optimizer keeps its decay
    assert after.param_groups[0]["weight_decay"] == 0.1


def test_kept_weight_decay_stays_and_says_so() -> None:
    model = nn.Linear(3, 1)
    sgd = torch.optim.SGD(model.parameters(), lr=0.1, weight_decay=1e-4)
    switch = WeightDecaySwitch(keep=True).install()
    try:
        _step(sgd, model)
    finally:
        switch.remove()
    assert sgd.param_groups[0]["weight_decay"] == 1e-4
    assert "kept on (keep-weight-decay = true; 0.0001 in SGD)" in switch.note
    assert WeightDecaySwitch(keep=False).note == ""  # nothing seen, nothing to say
