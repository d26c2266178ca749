"""``report.md``: the Markdown the PR comment, the check-run summary and the job summary are
built from. Readable in five seconds: verdict, reason, checks, curve, then the details.

GitHub caps a comment / check-run summary at 65,535 characters. Rather than cutting the text
at the limit (which can break a table or leave a code fence open), the report is rendered at
decreasing levels of detail until it fits: long cells, the traceback and the config shrink
first, then the least important check rows go (failures are listed first), then the chart."""

from __future__ import annotations

import json
from dataclasses import dataclass

from gate.baseline import render as baseline
from gate.harness.verdict import fmt
from gate.report import md
from gate.report.mermaid import xychart
from gate.report.plot import baseline_losses
from gate.report.series import first_nonfinite, sparkline
from gate.report.untrusted import inline
from gate.result import CheckResult, Result

GITHUB_LIMIT = 65535
HEAD = {"pass": "✅", "fail": "❌", "error": "💥", "not_applicable": "🚫"}
ICON = {"pass": "✅", "fail": "❌", "warn": "⚠️", "skip": "⏭️"}
ORDER = {"fail": 0, "warn": 1, "pass": 2, "skip": 3}  # what a reader needs first


@dataclass(frozen=True)
class Detail:
    """How much of each long part to show."""

    cell: int  # characters per table cell
    rows: int | None  # check rows (None: all)
    traceback: int  # tail characters of the traceback (0: omit)
    config: int  # characters of the config JSON (0: omit)
    chart: bool = True
    reason: int = 2000


LEVELS = (
    Detail(cell=1000, rows=None, traceback=20000, config=20000),
    Detail(cell=400, rows=None, traceback=6000, config=6000),
    Detail(cell=250, rows=60, traceback=2500, config=2500, reason=800),
    Detail(cell=150, rows=20, traceback=1000, config=0, reason=500),
    Detail(cell=100, rows=8, traceback=0, config=0, chart=False, reason=300),
)


def render_markdown(result: Result, *, max_chars: int = GITHUB_LIMIT, image_url: str | None = None) -> str:
    for level in LEVELS:
        text = _render(result, level, image_url)
        if len(text) <= max_chars:
            return text
    # Not even the smallest level fits (a tiny max_chars): headline and reason, cut plainly
    # (there is no table or fence left to break).
    text = f"{_headline(result)}\n\n{md.clip(result.reason, 300)}\n"
    return text if len(text) <= max_chars else text[: max(0, max_chars - 1)] + "…"


def _render(result: Result, d: Detail, image_url: str | None) -> str:
    parts = [_headline(result), inline(md.clip(md.sentence(result.reason), d.reason), starts_block=True)]
    if result.error is not None:
        parts.append(f"**Error:** {md.code(result.error.type, 200)}: {md.esc(md.clip(result.error.message, d.cell))}")
    parts.append(_config_changes(result.config_changes, d))
    # A regression against the base branch leads (a passing run's reader stops at the reason);
    # "no change" and the rest follow the checks.
    compared = baseline.markdown(result)
    lead = result.baseline is not None and result.baseline.status == "regression"
    parts += [compared, _checks(result.checks, d)] if lead else [_checks(result.checks, d), compared]
    parts.append(_curve(result, d, image_url))
    parts.append(_facts(result))
    if result.error is not None and result.error.traceback and d.traceback:
        parts.append(_traceback(result.error.traceback, d.traceback))
    if result.config:
        parts.append(_config(result.config, d.config))
    return "\n\n".join(p for p in parts if p) + "\n"


def _config_changes(changes: list[str], d: Detail) -> str:
    """Reviewers must see a PR that edits its own gate (docs/security.md, config-source)."""
    if not changes:
        return ""
    shown = changes if d.rows is None else changes[: d.rows]
    more = f"\n- … and {len(changes) - len(shown)} more" if len(changes) > len(shown) else ""
    lines = "\n".join(f"- {inline(md.clip(c, d.cell), starts_block=True)}" for c in shown)
    return (
        "⚠️ **This pull request changes the gate's config:** this run used the base branch's values; "
        f"the new ones apply once it is merged.\n\n{lines}{more}"
    )


def _headline(result: Result) -> str:
    name = "" if result.name == "overfit-gate" else f" · {md.esc(result.name)}"
    return f"## {HEAD[result.verdict]} overfit-gate: {result.verdict}{name}"


def _checks(checks: list[CheckResult], d: Detail) -> str:
    if not checks:
        return "### Checks\n\n_No checks ran._"
    ordered = sorted(checks, key=lambda c: ORDER[c.status])
    shown = ordered if d.rows is None else ordered[: d.rows]
    hints = any(c.hint for c in shown)  # an all-empty Hint column is just noise
    rows = ["| | Check | Result |" + (" Hint |" if hints else ""), "|---|---|---|" + ("---|" if hints else "")]
    for c in shown:
        hint = f" {md.cell(c.hint, d.cell)} |" if hints else ""
        rows.append(f"| {ICON[c.status]} | {md.code(c.name, 80, table=True)} | {md.cell(c.message, d.cell)} |{hint}")
    counts = {s: sum(c.status == s for c in checks) for s in ORDER}
    tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    out = f"### Checks ({tally})\n\n" + "\n".join(rows)
    hidden = ordered[len(shown) :]
    if hidden:
        kinds = ", ".join(f"{n} {s}" for s in ORDER if (n := sum(c.status == s for c in hidden)))
        out += (
            f"\n\n_… and {len(hidden)} more checks ({kinds}) not shown here; all are in `junit.xml` and `result.json`._"
        )
    return out


def _curve(result: Result, d: Detail, image_url: str | None) -> str:
    losses = result.losses
    if not losses:
        return ""
    out = ["### Loss curve"]
    if image_url:
        out.append(f"![loss curve]({image_url})")
    base = baseline_losses(result)
    pair = baseline.chart_pair(result) if d.chart else None  # the base branch's run, when compared
    chart = (xychart(*pair) if pair else xychart(losses, base)) if d.chart else None
    if chart:
        out.append("```mermaid\n" + chart + "\n```")
    facts = [
        f"first **{fmt(result.initial_loss)}**",
        f"best **{fmt(result.best_loss)}**" + (f" @ step {result.best_step}" if result.best_step is not None else ""),
        f"final **{fmt(result.final_loss)}**",
    ]
    if result.target is not None:
        reached = f", reached @ step {result.target_step}" if result.target_step is not None else ", not reached"
        facts.append(f"target {fmt(result.target)}{reached}")
    if result.floor:
        facts.append(f"floor {fmt(result.floor)}")
    bad = first_nonfinite(losses)
    if bad is not None:
        facts.append(f"**non-finite from step {bad}**")
    out.append(f"`{sparkline(losses)}` " + " · ".join(facts))
    if pair and chart and chart.count("line [") == 2 and result.baseline is not None:
        second = md.esc(baseline.title(result.baseline))
        out.append(f"The chart's second line: {second} (a run that stopped earlier is held at its last value).")
    if base:
        note = " (the chart's second line)" if chart and not pair and chart.count("line [") == 2 else ""
        out.append(
            f"Inputs replaced (`input_dependence`){note}: `{sparkline(base)}` "
            f"first {fmt(base[0])} · final {fmt(base[-1])}"
        )
    return "\n\n".join(out)


def _facts(result: Result) -> str:
    budget = result.config.get("steps")
    steps = f"{result.steps} / {budget}" if budget else str(result.steps)
    cols = {
        "Steps": steps,
        "Time": f"{result.duration_s:.1f} s",
        "Device": result.device or "n/a",
        "torch": result.torch_version or "n/a",
        "Mode": result.mode,
    }
    if result.pinning:
        cols["Pinning"] = result.pinning
    if result.seed is not None:
        cols["Seed"] = str(result.seed)
    table = (
        "| "
        + " | ".join(cols)
        + " |\n|"
        + "---|" * len(cols)
        + "\n| "
        + " | ".join(md.cell(v, 200) for v in cols.values())
        + " |"
    )
    what = ""
    if result.entrypoint:
        what = f"Entry point: {md.code(result.entrypoint, 300)}"
    elif result.command:
        what = f"Command: {md.code(' '.join(result.command), 300)}"
    version = f"overfit-gate {result.gate_version}" if result.gate_version else ""
    tail = " · ".join(p for p in (what, version) if p)
    notes = "".join(f"\n\n_Note: {md.cell(n, 300)}_" for n in result.notes)
    return "### Run\n\n" + table + (f"\n\n{tail}" if tail else "") + notes


def _traceback(tb: str, limit: int) -> str:
    text = tb.rstrip()
    note = ""
    if len(text) > limit:
        cut = text[-limit:]
        cut = cut[cut.find("\n") + 1 :] if "\n" in cut else cut  # start on a whole line
        note = f"\n\n_Traceback cut to its last {len(cut):,} of {len(text):,} characters; the full one is in `result.json`._"
        text = cut
    return f"<details><summary>Traceback</summary>\n\n{md.fence(text, 'text')}{note}\n\n</details>"


def _config(config: dict[str, object], limit: int) -> str:
    shown = {k: v for k, v in config.items() if v not in (None, [], "", {})}
    text = json.dumps(shown, indent=2, default=str)
    if not limit:
        body = "_Omitted to fit GitHub's size limit; it is in `result.json`._"
    elif len(text) > limit:
        body = (
            md.fence(text[:limit].rsplit("\n", 1)[0] + "\n…", "json")
            + "\n\n_Cut to fit; the full config is in `result.json`._"
        )
    else:
        body = md.fence(text, "json")
    return f"<details><summary>Resolved config</summary>\n\n{body}\n\n</details>"
