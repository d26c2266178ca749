"""batch_independence: in eval mode (BatchNorm on running stats, dropout off) the output
for sample i must not depend on the input of any other sample. Probed with gradients:
backprop from sample i's output to every input (to the embedding outputs for token ids)
and compare the other samples' gradient mass with sample i's own. Catches ``view`` where
``transpose``/``permute`` was meant, softmax or normalisation over dim 0, and friends.
Models that mix samples on purpose opt out with ``samples-dependent = true``; graph inputs
(a sparse tensor, an N x N adjacency over the batch, an ``edge_index`` shaped (2, E)) are
recognised and skipped with that reason."""

from __future__ import annotations

import torch

from gate.harness.batch import batch_size, tensors
from gate.harness.check_api import Check, Context, result
from gate.harness.checks import probe, seq_first
from gate.harness.checks._util import listing, preserved
from gate.harness.contract import CheckRecord

NAME = "batch_independence"
HINT = (
    "something mixes samples across dim 0 (the batch): a .view/.reshape where .transpose/.permute "
    "was meant, a softmax/mean/normalisation over dim=0, or statistics computed by hand over the batch. "
    "If the model mixes samples on purpose (graph nodes, set models), add samples-dependent = true"
)


def sample_mass(g: torch.Tensor) -> torch.Tensor:
    """Gradient mass per sample (dim 0)."""
    return g.detach().abs().float().reshape(g.shape[0], -1).sum(dim=1)


def leaks(g: torch.Tensor | None, i: int) -> tuple[bool | None, float]:
    """(does sample i's output depend on other samples through this tensor, ratio)."""
    if g is None:
        return None, 0.0
    m = sample_mass(g)
    own = float(m[i])
    m[i] = 0
    other = float(m.max()) if m.numel() else 0.0
    if own == 0 and other == 0:
        return None, 0.0
    ratio = other / own if own > 0 else float("inf")
    return ratio > probe.TOL, ratio


def graph_input(batch: object, n: int) -> str | None:
    """Why the samples on dim 0 are graph nodes that depend on each other by design
    (full-graph GCN/GAT training), or None."""
    for t in tensors(batch):
        if t.layout != torch.strided:
            return f"a sparse {tuple(t.shape)} tensor (an adjacency or feature matrix)"
        if t.dim() == 2 and t.shape[0] == t.shape[1] == n and n > 1 and _adjacency(t):
            return f"an {n}x{n} matrix over the samples (an adjacency matrix)"
        if t.dim() == 2 and t.shape[0] == 2 and t.shape[1] > 0 and _ids(t) and int(t.min()) >= 0 and int(t.max()) < n:
            return f"an edge_index shaped {tuple(t.shape)}"
    return None


def _ids(t: torch.Tensor) -> bool:
    return not t.is_floating_point() and not t.is_complex()


def _adjacency(t: torch.Tensor) -> bool:
    """Looks like an adjacency, not a batch that happens to be square (64 samples of 64 features,
    32 sequences of 32 tokens): 0/1 entries, or non-negative and mostly zero, or symmetric."""
    if _ids(t):
        return bool(((t == 0) | (t == 1)).all())
    if t.is_complex() or bool((t < 0).any()):
        return False
    return bool((t == 0).float().mean() >= 0.5) or bool(torch.equal(t, t.transpose(0, 1)))


def _by_design(ctx: Context, n: int) -> str | None:
    """Why the samples of this batch depend on each other on purpose, or None."""
    if ctx.spec.samples_dependent:
        return "samples-dependent = true: the samples of a batch depend on each other by design"
    graph = graph_input(ctx.batch, n)
    if graph is not None:
        return (
            f"graph input: {graph}, so the {n} rows on dim 0 are nodes that depend on each other by design "
            "(set samples-dependent = true to say so and silence this)"
        )
    return None


def as_samples(out: torch.Tensor, n: int) -> torch.Tensor | None:
    """The output with samples on dim 0 (batch-first, sequence-first, or flattened batch-major)."""
    if out.dim() >= 1 and out.shape[0] == n:
        return out
    if out.dim() >= 2 and out.shape[1] == n:
        return out.movedim(1, 0)
    if out.dim() >= 1 and out.shape[0] % n == 0:
        return out.reshape(n, -1, *out.shape[1:])
    return None


class BatchIndependence(Check):
    name = NAME

    def before(self, ctx: Context) -> None:
        self.outcome: CheckRecord | None = None
        self.outcome = self._probe(ctx, final=False)

    def _probe(self, ctx: Context, final: bool) -> CheckRecord | None:
        n = batch_size(ctx.batch)
        moved = seq_first.batch_first(ctx)
        if moved is not None:  # (seq, batch, ...): the samples are on dim 1
            ctx, n = moved
        if n is None or n < 2:
            return result(NAME, "skip", "the batch has fewer than 2 samples")
        skip = _by_design(ctx, n)
        if skip is not None:
            return result(NAME, "skip", skip)
        with preserved(ctx.model, ctx.device):
            ctx.model.eval()
            p = probe.run(ctx, n)
            if isinstance(p, str):
                return result(NAME, "skip", f"could not probe: {p}")
            n = p.n  # the probe ran on a slice of the batch
            out = as_samples(p.output, n)
            if out is None:
                return result(NAME, "skip", f"no dim of the output {tuple(p.output.shape)} has the batch size {n}")
            w = probe.projection(out)
            seen_signal = False
            for i in sorted({0, n - 1}):
                scalar = (out[i] * w[i]).sum()
                leaf_g = p.grads(scalar)
                checks = [leaks(g, i) for g in leaf_g]
                bad = [(leaf.label, r) for leaf, (f, r) in zip(p.leaves, checks, strict=True) if f]
                seen_signal |= any(f is not None for f, _ in checks)
                if bad:
                    return self._mixed(p, scalar, leaf_g, i, *bad[0])
        if not seen_signal:
            # Zero gradient everywhere (e.g. a zero-initialised head): nothing learned yet;
            # try again on the trained weights.
            return None if not final else result(NAME, "skip", "the output has no gradient w.r.t. the inputs")
        return result(
            NAME,
            "pass",
            f"each sample's output depends only on its own input (probed samples 0 and {n - 1}, eval mode)",
        )

    def _mixed(
        self, p: probe.Probe, scalar: torch.Tensor, leaf_g: list[torch.Tensor | None], i: int, label: str, ratio: float
    ) -> CheckRecord:
        """The fail: sample ``i``'s output depends on other samples' inputs through ``label``."""
        others = self._others(leaf_g, i)
        where = p.where(scalar, lambda g: leaks(g, i)[0], "samples mix")
        rtxt = "all of it" if ratio == float("inf") else f"{ratio:.2g}x its own"
        return result(
            NAME,
            "fail",
            f"in eval mode the output for sample {i} depends on the inputs of samples "
            f"{listing(others, 4)} through {label} (cross-sample gradient {rtxt})",
            (where + ". " if where else "") + HINT,
            sample=i,
            other_samples=others,
            where=where,
            ratio=None if ratio == float("inf") else ratio,
        )

    @staticmethod
    def _others(grads: list[torch.Tensor | None], i: int) -> list[int]:
        total: torch.Tensor | None = None
        for g in grads:
            if g is not None:
                m = sample_mass(g)
                total = m if total is None else total + m
        if total is None:
            return []
        total[i] = 0
        return [int(j) for j in (total > 0).nonzero().flatten().tolist()]

    def on_sync(self, ctx: Context, step: int) -> bool:
        # Samples that mix at initialisation mix by construction (a view, a softmax over the
        # batch): training on cannot change the verdict, so stop at the first sync.
        return self.outcome is not None and self.outcome["status"] == "fail"

    def finish(self, ctx: Context) -> list[CheckRecord]:
        outcome = self.outcome or self._probe(ctx, final=True)
        return [outcome] if outcome else []
