"""How the batch is pinned in script mode: chosen at the first backward (replay the top-level
module's first inputs, or not), and told in one sentence for the report once the script ends."""

from __future__ import annotations

from gate.harness.script.context import _param_names
from gate.harness.script.pinning import LoaderPins, ModuleTracker, describe
from gate.harness.script.targets import TargetPins


def choose(pin: str, loaders: LoaderPins, modules: ModuleTracker, targets: TargetPins) -> None:
    """At the first backward: replay the module's inputs (and the targets beside them) unless
    a pinned DataLoader already keeps the batch fixed or the inputs cannot be replayed."""
    if pin in ("auto", "module") and not (pin == "auto" and loaders.used) and modules.replayable:
        modules.replay = True
        targets.replay = True


def sentence(
    pin: str,
    loaders: LoaderPins,
    modules: ModuleTracker,
    targets: TargetPins,
    manual: bool,
    launch: str,
    worker_notes: list[str],
) -> str:
    """How the batch was pinned, then how the steps were counted and how a worker was run."""
    said = _pinning(pin, loaders, modules, targets)
    if manual:
        said += (
            "; steps counted at each backward: no torch.optim optimizer steps the model "
            "(hand-written updates such as p.data -= lr * p.grad)"
        )
    if launch:
        said += f"; {launch}"
    for note in worker_notes:
        said += f"; {note}"
    return said


def _pinning(pin: str, loaders: LoaderPins, modules: ModuleTracker, targets: TargetPins) -> str:
    top = modules.top
    top_name = type(top).__name__ if top is not None else "?"
    if pin == "off":
        return "not pinned (pin = off): the script trained on its own batches"
    if loaders.used and pin in ("auto", "dataloader"):
        return (
            f"DataLoader: every DataLoader yielded its first batch again ({loaders.describe()}); "
            "the loader trained on never ran out"
        )
    if modules.replay and modules.call is not None and top is not None:
        args, kwargs = modules.call
        names = _param_names(top)
        named = {(names[i] if i < len(names) else str(i)): a for i, a in enumerate(args)} | kwargs
        return (
            ("module replay: no DataLoader was used, so the" if pin == "auto" else "module replay (pin = module): the")
            + f" first inputs of the top-level module {top_name} ({describe(named)}) were replayed at every "
            "training call" + _targets(modules, targets)
        )
    if pin == "dataloader":
        return "not pinned: pin = dataloader, but the script iterated no torch DataLoader before its first backward"
    if top is None:
        return "not pinned: no DataLoader was used and no top-level module with trainable parameters was called"
    return (
        f"not pinned: no DataLoader was used and the inputs of the top-level module {top_name} come from other "
        "trainable modules, so they cannot be replayed"
    )


def _targets(modules: ModuleTracker, targets: TargetPins) -> str:
    used, mismatches = targets.used, modules.mismatches
    if used:
        said = f"; the targets given to {', '.join(f'F.{n}' for n in used)} were pinned with them"
    elif modules.returns_loss:
        said = "; the model computes its loss itself, from these inputs"
    else:
        said = "; targets the script computes outside that call and outside torch's loss functions were not pinned"
    if mismatches:
        said += f"; {mismatches} training calls with other input shapes (a short last batch) kept their own data"
    return said
