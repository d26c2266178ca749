"""Which token a language model is scored against: the lag between its targets and its
token inputs (``target[t] == tokens[t - lag]``). -1 (the next token) is right; 0 or a
positive lag scores a token the model already sees (it can copy); -2 or less predicts
further ahead than the model is built for ("labels shifted twice": an HF causal LM shifts
``labels`` itself, and the script shifted them too)."""

from __future__ import annotations

import torch

from gate.harness.check_api import result
from gate.harness.contract import CheckRecord

LAGS = range(-3, 4)
MATCH = 0.9  # fraction of valid targets that must match at the best lag
CLEAR = 0.5  # ... while the next best lag matches at most this (constant sequences match everywhere)
SHIFT_HINT = (
    "shift the targets by one: inputs = tokens[:, :-1], targets = tokens[:, 1:] (the model sees "
    "tokens up to t and predicts token t+1)"
)
TWICE_HINT = (
    "the targets are shifted more than once: a Hugging Face causal LM shifts `labels` inside the model, so pass "
    "labels = input_ids unshifted; a custom model should use targets = tokens[:, 1:] against inputs = tokens[:, :-1]"
)


def match(target: torch.Tensor, tokens: torch.Tensor, lag: int) -> float | None:
    """Fraction of valid (non-negative) targets with ``target[:, t] == tokens[:, t - lag]``."""
    n = tokens.shape[1]
    if abs(lag) >= n:
        return None
    a = target[:, max(lag, 0) : n + min(lag, 0)]
    b = tokens[:, max(-lag, 0) : n - max(lag, 0)]
    valid = a >= 0
    count = int(valid.sum())
    return float(((a == b) & valid).sum()) / count if count else None


def scores(target: torch.Tensor, tokens: torch.Tensor) -> dict[int, float]:
    return {lag: s for lag in LAGS if (s := match(target, tokens, lag)) is not None}


def best_lag(target: torch.Tensor, tokens: torch.Tensor) -> int | None:
    """The lag nearly every target matches at, when exactly one lag does."""
    seen = scores(target, tokens)
    ranked = sorted(seen, key=lambda k: -seen[k])
    if not ranked or seen[ranked[0]] < MATCH:
        return None
    second = seen[ranked[1]] if len(ranked) > 1 else 0.0
    return ranked[0] if second <= CLEAR else None


def verdict(name: str, lag: int, share: float | None, source: str) -> CheckRecord | None:
    """A failing result for a wrong lag, None for the right one (-1)."""
    of = f" ({share:.0%} of targets)" if share is not None else ""
    if lag == -1:
        return None
    if lag >= 0:
        which = "the same position" if lag == 0 else f"{lag} position(s) earlier"
        return result(
            name,
            "fail",
            f"{source} score position t against the token the model is fed at {which}{of}, not the next one: "
            "it can copy instead of predict",
            SHIFT_HINT,
            lag=lag,
        )
    return result(
        name,
        "fail",
        f"{source} score position t against token t+{-lag}{of}, not t+1: the targets are shifted {-lag} times",
        TWICE_HINT,
        lag=lag,
    )
