"""causality (for autoregressive models: the task's ``causal_dim``, the ``causal-dim`` key, or
detected in script mode): the output at position t must not depend on inputs at positions
> t (a missing or wrong causal mask), and the loss must score position t against token t+1:
not a token the model already sees (targets not shifted), nor one further ahead (shifted
twice)."""

from __future__ import annotations

from typing import Any

import torch

from gate.harness.batch import batch_size
from gate.harness.check_api import Check, Context, result
from gate.harness.checks import probe, seq_first, shift
from gate.harness.checks._util import first_tensor, preserved
from gate.harness.contract import CheckRecord

NAME = "causality"
MASK_HINT = (
    "the attention mask is missing or wrong: each position may attend to itself and the past only "
    "(torch.triu(ones(T, T), diagonal=1) marks the future as masked; is_causal=True in "
    "scaled_dot_product_attention), and nothing else (a convolution without left padding, a "
    "bidirectional RNN, a pooling over time) may look ahead"
)
NOT_DECLARED = {
    "task": "no causal_dim declared (set causal_dim in the task, or causal-dim in the config, for autoregressive models)",
    "script": "not recognised as an autoregressive model (no integer token input whose targets are the same tokens "
    "shifted); set causal-dim = 1 in the config if it is one",
}


def time_mass(g: torch.Tensor, sample: int, dim: int) -> torch.Tensor | None:
    """Gradient mass per position along ``dim`` for one sample, or None if g has no such dim."""
    if g.dim() <= dim:
        return None
    x = g.detach()[sample].abs().float().movedim(dim - 1, 0)
    return x.reshape(x.shape[0], -1).sum(dim=1)


def future_leak(g: torch.Tensor | None, t: int, dim: int, length: int) -> tuple[bool | None, list[int]]:
    """Does position t of the output depend on positions > t of this tensor? Only tensors
    whose time axis lines up with the output's (same length, or one longer: the raw token
    batch before ``[:, :-1]``) are judged; others (downsampled, prefixed) are not."""
    if g is None:
        return None, []
    m = time_mass(g, 0, dim)
    if m is None or m.shape[0] <= t + 1 or m.shape[0] not in (length, length + 1):
        return None, []
    past, future = float(m[: t + 1].sum()), m[t + 1 :]
    if past == 0 and float(future.sum()) == 0:
        return None, []
    bad = [t + 1 + int(k) for k in (future > probe.TOL * max(past, 1e-30)).nonzero().flatten().tolist()]
    return bool(bad), bad


class Causality(Check):
    name = NAME

    def before(self, ctx: Context) -> None:
        self.results: list[CheckRecord] | None = None
        self.shift_checked = False
        if ctx.causal_dim is None:
            self.results = [result(NAME, "skip", NOT_DECLARED.get(ctx.mode, NOT_DECLARED["task"]))]
            return
        self.results = self._probe(ctx, final=False)

    def _probe(self, ctx: Context, final: bool) -> list[CheckRecord] | None:
        dim = ctx.causal_dim
        assert dim is not None
        moved = seq_first.batch_first(ctx)
        if moved is not None:  # (time, batch, ...): probed batch-first, where time is dim 1
            ctx, dim = moved[0], 1
        if dim < 1:
            return [result(NAME, "skip", f"causal_dim={dim} is the batch dim; use the time dim (e.g. 1)")]
        n = batch_size(ctx.batch)
        if n is None:
            return [result(NAME, "skip", "could not find the batch size")]
        with preserved(ctx.model, ctx.device):
            ctx.model.eval()
            p = probe.run(ctx, n)
            if isinstance(p, str):
                return [result(NAME, "skip", f"could not probe: {p}")]
            n = p.n  # the probe ran on a slice of the batch
            out = p.output
            if out.dim() <= dim or out.shape[0] != n:
                return [
                    result(NAME, "skip", f"the output {tuple(out.shape)} has no time dim {dim} after the batch dim")
                ]
            length = out.shape[dim]
            w = probe.projection(out)
            signal = False
            causal = [_causal_input(ctx, p, leaf) for leaf in p.leaves]
            for t in sorted({0, length // 2}):
                if t < 0 or t >= length - 1:
                    continue
                s = (out[0].select(dim - 1, t) * w[0].select(dim - 1, t)).sum()
                leaf_g = p.grads(s)
                for leaf, g, own in zip(p.leaves, leaf_g, causal, strict=True):
                    if not own:
                        continue
                    flag, future = future_leak(g, t, dim, length)
                    signal |= flag is not None
                    if flag:
                        return [_sees_the_future(ctx, p, s, (t, dim, length), leaf.label, future)]
            shift = self._target_shift(ctx, p)
        if shift is not None:
            return [shift]
        if not signal:
            return None if not final else [result(NAME, "skip", "the output has no gradient w.r.t. the inputs")]
        shifted = "; targets are shifted" if self.shift_checked else ""
        return [result(NAME, "pass", f"no position depends on later ones along dim {dim}{shifted}")]

    def _target_shift(self, ctx: Context, p: probe.Probe) -> CheckRecord | None:
        """For token models with a cross-entropy-like loss, d loss / d logits is most
        negative at the target id: read the targets off it and compare them with the ids
        the model was fed at the same (or an earlier) position."""
        dim = ctx.causal_dim
        assert dim is not None
        tokens = next(
            (
                leaf.tokens
                for leaf in p.leaves
                if leaf.tokens is not None and leaf.tokens.dim() > dim and _causal_input(ctx, p, leaf)
            ),
            None,
        )
        if tokens is None:
            return None
        detected = ctx.shared.get("causal")
        if ctx.loss_fn is None:  # the loss is computed outside the model: the spy's targets tell
            if detected is None:
                return None
            self.shift_checked = True
            return shift.verdict(NAME, detected.lag, None, "the loss's targets")
        captured: list[torch.Tensor] = []

        def grab(mod: torch.nn.Module, args: Any, out: Any) -> None:
            t = first_tensor(out)
            if t is not None and t.requires_grad and not captured:
                captured.append(t)

        handle = ctx.model.register_forward_hook(grab)
        try:
            loss = ctx.loss_fn(ctx.model, p.batch)
        finally:
            handle.remove()
        if not captured or not isinstance(loss, torch.Tensor) or not loss.requires_grad:
            return None
        logits = captured[0]
        if logits.dim() != tokens.dim() + 1 or logits.shape[:-1] != tokens.shape:
            return None
        (g,) = torch.autograd.grad(loss, [logits], allow_unused=True)
        if g is None:
            return None
        # Exactly one pulled-up class per position is a target; others are ignored (-1).
        target = torch.where((g < 0).sum(dim=-1) == 1, g.argmin(dim=-1), -1)
        t, ids = (x.movedim(dim, -1).reshape(-1, x.shape[dim]) for x in (target, tokens))
        lag = shift.best_lag(t, ids)
        if lag is None:
            return None
        self.shift_checked = True
        return shift.verdict(NAME, lag, shift.scores(t, ids)[lag], "the loss's targets")

    def on_sync(self, ctx: Context, step: int) -> bool:
        # A leak found at initialisation is structural (a missing mask, unshifted targets):
        # training on cannot change the verdict, so stop at the first sync.
        return any(r["status"] == "fail" for r in self.results or [])

    def finish(self, ctx: Context) -> list[CheckRecord]:
        if self.results is None:
            self.results = self._probe(ctx, final=True)
        return self.results or []


def _sees_the_future(
    ctx: Context, p: probe.Probe, s: torch.Tensor, at: tuple[int, int, int], label: str, future: list[int]
) -> CheckRecord:
    """The fail: output position ``t`` depends on later positions of ``label``; a skip when the
    model was detected (not declared) as one that reconstructs its own tokens."""
    t, dim, length = at
    if _reconstructs(ctx):
        return result(
            NAME,
            "skip",
            "a bidirectional model trained to reconstruct its own tokens (not autoregressive): "
            f"{ctx.shared['causal'].why}; set causal-dim = 1 if it is meant to be causal",
        )
    where = p.where(s, lambda g: future_leak(g, t, dim, length)[0], "the future leaks in")
    return result(
        NAME,
        "fail",
        f"the output at position {t} (dim {dim}) depends on {label} at later positions "
        f"{future[:3]}{'...' if len(future) > 3 else ''}: the model sees the future",
        (where + ". " if where else "") + MASK_HINT,
        position=t,
        future_positions=future[:16],
        where=where,
    )


def _causal_input(ctx: Context, p: probe.Probe, leaf: probe.Leaf) -> bool:
    """Whether ``leaf`` is one the model must see causally: every input, unless detection found
    the shifted tokens on a later token input (a decoder's), whose embedding is then the only
    one (the encoder's source is seen whole by design, through cross-attention)."""
    detected = ctx.shared.get("causal")
    if detected is None or detected.key is None or ctx.spec.causal_dim is not None:
        return True
    ids = p.batch.get(detected.key) if isinstance(p.batch, dict) else None
    return (
        leaf.tokens is not None
        and isinstance(ids, torch.Tensor)
        and leaf.tokens.shape == ids.shape
        and torch.equal(leaf.tokens, ids.to(leaf.tokens.device))
    )


def _reconstructs(ctx: Context) -> bool:
    """Detected (not declared) as a token model whose targets are its inputs, unshifted: a
    model that sees the future there is an autoencoder or denoiser, not a broken LM."""
    detected = ctx.shared.get("causal")
    return detected is not None and detected.lag >= 0 and ctx.spec.causal_dim is None
