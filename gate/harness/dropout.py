"""Dropout in overfit mode. Overfitting one batch is the recipe's sanity test with
regularization off (Karpathy: "turn off regularization"); dropout noise keeps the loss above a
1 % target, so the gate turns it off by default: every functional dropout call (``nn.Dropout*``
modules call them, so does ``nn.MultiheadAttention``) becomes the identity, and
``scaled_dot_product_attention`` gets ``dropout_p=0``. ``keep-dropout = true`` leaves them
alone; either way the highest active dropout probability seen is recorded for the report.

Not covered: dropout inside fused RNN kernels (``nn.LSTM(dropout=...)``), which never goes
through these functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch.nn import functional as F

# name -> the default of its ``training`` argument (alpha dropouts default to False)
FUNCS = {
    "dropout": True,
    "dropout1d": True,
    "dropout2d": True,
    "dropout3d": True,
    "alpha_dropout": False,
    "feature_alpha_dropout": False,
}
SDPA = "scaled_dot_product_attention"
SDPA_P = 4  # positional index of dropout_p: (query, key, value, attn_mask, dropout_p, ...)


class DropoutSwitch:
    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self.max_p = 0.0  # highest dropout probability seen in training calls
        self._originals: dict[str, Callable[..., Any]] = {}

    def install(self, replace: Callable[[Any, str, Any], Any] | None = None) -> DropoutSwitch:
        """Wrap the functions; ``replace(owner, name, value)`` (a Patcher's) records the undo."""
        setter = replace or (lambda owner, name, value: setattr(owner, name, value))
        for name, default in FUNCS.items():
            fn = getattr(F, name, None)
            if fn is not None:
                self._originals[name] = fn
                setter(F, name, self._wrap(fn, default))
        if hasattr(F, SDPA):
            self._originals[SDPA] = getattr(F, SDPA)
            setter(F, SDPA, self._wrap_sdpa(getattr(F, SDPA)))
        return self

    def remove(self) -> None:
        for name, fn in self._originals.items():
            setattr(F, name, fn)
        self._originals = {}

    @property
    def note(self) -> str:
        if self.max_p <= 0:
            return ""
        if self.keep:
            return f"dropout was kept on (keep-dropout = true; p up to {self.max_p:g})"
        return (
            f"dropout was turned off for the overfit run (p up to {self.max_p:g} in the model); "
            "set keep-dropout = true to keep it"
        )

    def _wrap(self, fn: Callable[..., Any], default_training: bool) -> Callable[..., Any]:
        def dropout(input: Any, *args: Any, **kwargs: Any) -> Any:
            p = float(args[0] if args else kwargs.get("p", 0.5))
            training = bool(args[1] if len(args) > 1 else kwargs.get("training", default_training))
            if not training or p <= 0:
                return fn(input, *args, **kwargs)
            self.max_p = max(self.max_p, p)
            # Eval semantics, exactly as the model in .eval() would have them.
            return fn(input, *args, **kwargs) if self.keep else fn(input, p, False)

        return dropout

    def _wrap_sdpa(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def sdpa(*args: Any, **kwargs: Any) -> Any:
            if len(args) > SDPA_P:
                p = float(args[SDPA_P])
                if p > 0:
                    self.max_p = max(self.max_p, p)
                    if not self.keep:
                        args = (*args[:SDPA_P], 0.0, *args[SDPA_P + 1 :])
            elif float(kwargs.get("dropout_p", 0.0)) > 0:
                self.max_p = max(self.max_p, float(kwargs["dropout_p"]))
                if not self.keep:
                    kwargs["dropout_p"] = 0.0
            return fn(*args, **kwargs)

        return sdpa
