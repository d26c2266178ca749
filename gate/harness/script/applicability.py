"""When an overfit test does not fit the program at all (issue 13): the verdict is then
``not_applicable`` (exit 4), never a pass and never a bug diagnosis.

Seen from the instrumentation, without knowing the program:

- adversarial training: two or more optimizers over disjoint parameters take turns, each
  stepping on a loss of its own (a GAN's generator and discriminator); the losses play
  against each other and never go to zero;
- a rollout: the top-level module is called a different number of times at every step,
  with no DataLoader, and its outputs parameterise a ``torch.distributions`` distribution
  (a policy sampling actions in an environment, one call per action; a seq2seq loop that
  calls its decoder per token is supervised, and builds no distribution);
- local losses: optimizers step on losses while no module is ever called as a whole
  (forward-forward: each layer trains on its own objective).

The loss that changes sign before any trend (policy gradients) is seen by the verdict
monitor (``Monitor`` kind ``sign_changes``), which owns the loss values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROUNDS = 3  # alternations (or rollout steps) seen before the pattern counts


@dataclass
class Applicability:
    # id(optimizer) -> steps it took right after a backward of its own (not one shared with another)
    own_steps: dict[int, int] = field(default_factory=dict)
    disjoint: bool = False  # the optimizers that step hold disjoint parameter sets
    calls_per_step: list[int] = field(default_factory=list)  # training calls of the top module per step
    policy: bool = False  # a torch.distributions distribution was built on a tensor that requires grad
    _steps: int = 0

    def stepped(self, opt_id: int, had_own_backward: bool) -> None:
        if had_own_backward:
            self.own_steps[opt_id] = self.own_steps.get(opt_id, 0) + 1

    def distribution_built(self, on_grad: bool) -> None:
        """A ``torch.distributions`` distribution was built, on a tensor that requires grad or not."""
        self.policy = self.policy or on_grad

    def step_done(self, top_calls: int) -> None:
        self._steps += 1
        # The first step's calls came before the top module was known: not counted.
        if self._steps > 1 and len(self.calls_per_step) < 64:
            self.calls_per_step.append(top_calls)

    def adversarial(self) -> str | None:
        turns = [n for n in self.own_steps.values() if n >= ROUNDS]
        if len(turns) >= 2 and self.disjoint:
            return (
                f"{len(turns)} optimizers over separate parameters take turns, each stepping on a loss of its own "
                "(adversarial training such as a GAN): those losses play against each other and do not go to zero"
            )
        return None

    def rollout(self, loaders_used: bool) -> str | None:
        calls = self.calls_per_step
        if loaders_used or not self.policy or len(calls) < ROUNDS or min(calls) < 1:
            return None
        if max(calls) > 1 and len(set(calls)) > 1:
            return (
                f"the model is called a varying number of times per step ({min(calls)} to {max(calls)}) and its "
                "outputs parameterise the distribution actions are sampled from (a rollout: reinforcement "
                "learning); there is no fixed batch to overfit"
            )
        return None

    def local_losses(self, has_top: bool, optimizers_stepped: int) -> str | None:
        if has_top or optimizers_stepped < 2:
            return None
        return (
            f"{optimizers_stepped} optimizers step on losses while no module is ever called as a whole "
            "(layer-local objectives, as in forward-forward training): there is no model-level loss to overfit"
        )
