"""Compare two run summaries: like with like only, then three kinds of regression.

- steps to target more than ``regression-factor`` x the base's (and at least
  ``MIN_EXTRA_STEPS`` more: on a 6-step baseline one extra step is not a 2x slowdown);
- a check that passed on the base and warns or fails now;
- a first loss that moved by more than ``first-loss-tolerance`` of the base's distance to the
  floor (an init or loss-scale change).

Pure: no I/O, no torch, no GitHub. The thresholds' defaults are justified in
``benchmarks/RESULTS.md`` (steps-to-target spread over 10 seeds) and ``docs/baseline.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gate.baseline.model import Finding, Policy, RunSummary, Status

# A slowdown must also be this many steps in absolute terms (see the module docstring).
MIN_EXTRA_STEPS = 10
COMPARABLE_HEAD = ("pass", "fail")  # an error (or a verdict this version does not know) has no curve to compare


@dataclass(frozen=True)
class Outcome:
    status: Status
    message: str
    findings: list[Finding] = field(default_factory=list)


def possessive(label: str) -> str:
    return "the base run's" if label == "base" else f"{label}'s"


def differences(head: RunSummary, base: RunSummary, label: str = "base") -> list[str]:
    """Why the two runs cannot be compared; empty when they can."""
    out = []
    if base.verdict != "pass":
        out.append(f"{possessive(label)} run did not pass (verdict {base.verdict!r})")
    if head.verdict not in COMPARABLE_HEAD:
        out.append(f"this run has no comparable outcome (verdict {head.verdict!r})")
    hf, bf = head.fingerprint, base.fingerprint
    for key in ("name", "seed", "steps", "target", "device", "torch"):
        h, b = getattr(hf, key), getattr(bf, key)
        if h != b:
            what = {"name": "gate name", "steps": "step budget"}.get(key, key)
            out.append(f"{what} {_show(h)} here vs {_show(b)} on {label}")
    return out


def _show(value: object) -> str:
    return "unset" if value in (None, "") else str(value)


def _ratio(head: int, base: int) -> float:
    return head / max(base, 1)


def steps_finding(head: RunSummary, base: RunSummary, policy: Policy, label: str) -> tuple[str, Finding | None]:
    """The steps sentence (always), and a finding when it is a regression."""
    b = base.target_step
    if b is None:  # cannot happen for a passing base; kept total for odd summaries
        return "", None
    h = head.target_step
    if h is None and head.steps <= b:
        # Stopped (a failing check, NaN) before the base had even got there: nothing to time.
        return f"stopped after {head.steps} steps, before {possessive(label)} {b} steps to the target", None
    if h is None:
        text = f"does not reach the target in {head.steps} steps; {possessive(label)} run reached it in {b}"
        return text, Finding(kind="steps", message=text, head=None, base=b)
    ratio = _ratio(h, b)
    text = f"reaches the target in {h} steps, {ratio:.1f}× {possessive(label)} {b}"
    if ratio > policy.regression_factor and h - b >= MIN_EXTRA_STEPS:
        return text, Finding(kind="steps", message=text, head=h, base=b)
    return text, None


def check_findings(head: RunSummary, base: RunSummary, label: str) -> list[Finding]:
    out = []
    for name, status in head.checks.items():
        if base.checks.get(name) == "pass" and status in ("warn", "fail"):
            verb = "warns" if status == "warn" else "fails"
            text = f"check `{name}` passed on {label} and {verb} now"
            out.append(Finding(kind="check", message=text, head=status, base="pass"))
    return out


def first_loss_finding(head: RunSummary, base: RunSummary, policy: Policy, label: str) -> Finding | None:
    h, b = head.first_loss, base.first_loss
    if h is None or b is None:
        return None
    scale = abs(b - (base.floor or 0.0)) or abs(b) or 1.0
    moved = (h - b) / scale
    if abs(moved) <= policy.first_loss_tolerance:
        return None
    text = f"the first loss moved from {b:.4g} on {label} to {h:.4g} ({moved:+.0%} of its distance to the floor)"
    return Finding(kind="first_loss", message=text, head=h, base=b)


def compare(head: RunSummary, base: RunSummary, policy: Policy, label: str = "base") -> Outcome:
    problems = differences(head, base, label)
    if problems:
        return Outcome("not_comparable", "baseline not comparable: " + "; ".join(problems))
    sentence, slow = steps_finding(head, base, policy, label)
    first = first_loss_finding(head, base, policy, label)
    findings = [f for f in (slow, *check_findings(head, base, label), first) if f is not None]
    if findings:
        return Outcome("regression", f"regression against {label}: " + "; ".join(f.message for f in findings), findings)
    return Outcome("no_change", f"no change against {label}" + (f": {sentence}" if sentence else ""))
